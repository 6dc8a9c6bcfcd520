#include "object.h"

#include <string.h>
#include <strings.h>

static const eg_object_kind kinds[] = {
    { "Pipeline", "pipelines", { "pipeline", "pl", NULL }, "Pipeline" },
    { "HTTPServer", "httpservers", { "httpserver", "hs", NULL }, "TrafficGate" },
    { "GlobalFilter", "globalfilters", { "globalfilter", "gf", NULL }, "BusinessController" },
};

const eg_object_kind *eg_object_kinds(size_t *n)
{
    *n = sizeof kinds / sizeof kinds[0];
    return kinds;
}

const eg_object_kind *eg_object_kind_find(const char *kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return &kinds[i];
    return NULL;
}

bool eg_object_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 253)
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p >= 0x80)
            continue; /* part of a UTF-8 letter */
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.' || *p == '~'))
            return false;
    }
    return true;
}

void eg_object_mark_meta(const eg_node *obj)
{
    static const char *const meta[] = { "name", "kind", "version", "labels", "createdAt", "mtime" };
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++) {
        eg_node *v = eg_node_get(obj, meta[i]);
        if (v)
            v->used = true;
    }
}
