/* admin_meta.c — see admin_meta.h. */
#define _GNU_SOURCE
#include "admin_meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "node.h"
#include "object.h"
#include "pipeline.h"
#include "router.h"

/* The API entries this server serves, for GET /apis/v2 (Easegress's "admin" group). */
static const struct {
    const char *path, *method;
} api_entries[] = {
    {"", "GET"},
    {"/healthz", "GET"},
    {"/about", "GET"},
    {"/object-kinds", "GET"},
    {"/object-api-resources", "GET"},
    {"/objects", "POST"},
    {"/objects", "GET"},
    {"/objects", "DELETE"},
    {"/objects/{name}", "GET"},
    {"/objects/{name}", "PUT"},
    {"/objects/{name}", "DELETE"},
    {"/objects-yaml/{kind}/{name}", "GET"},
    {"/status/objects", "GET"},
    {"/status/objects/{name}", "GET"},
    {"/status/members", "GET"},
    {"/metrics", "GET"},
    {"/customdatakinds", "GET"},
    {"/customdatakinds", "POST"},
    {"/customdatakinds", "PUT"},
    {"/customdatakinds", "DELETE"},
    {"/customdatakinds/{name}", "GET"},
    {"/customdatakinds/{name}", "DELETE"},
    {"/customdata/{kind}", "GET"},
    {"/customdata/{kind}", "POST"},
    {"/customdata/{kind}", "PUT"},
    {"/customdata/{kind}", "DELETE"},
    {"/customdata/{kind}/{id}", "GET"},
    {"/customdata/{kind}/{id}", "DELETE"},
    {"/customdata/{kind}/items", "POST"},
    {"/metadata/objects/pipeline/filters", "GET"},
    {"/metadata/objects/pipeline/filters/{kind}/description", "GET"},
    {"/metadata/objects/pipeline/filters/{kind}/schema", "GET"},
    {"/metadata/objects/pipeline/filters/{kind}/results", "GET"},
    {"/logs", "GET"},
    {"/logs/level", "GET"},
    {"/logs/level/{level}", "PUT"},
};

static void set_node(eg_arena *arena, eg_response *resp, const eg_node *n, bool yaml)
{
    size_t len;
    char *text = yaml ? eg_node_to_yaml(n, &len) : eg_node_to_json(n, false, &len);
    eg_response_set(arena, resp, 200, yaml ? "text/x-yaml" : "application/json", text, len);
    free(text);
}

static void api_list(eg_arena *arena, eg_response *resp, bool yaml)
{
    eg_node *entries = eg_node_new(EG_NODE_SEQ);
    for (size_t i = 0; i < sizeof api_entries / sizeof api_entries[0]; i++) {
        eg_node *e = eg_node_new(EG_NODE_MAP);
        eg_node_map_set(e, "path", eg_node_new_str(api_entries[i].path));
        eg_node_map_set(e, "method", eg_node_new_str(api_entries[i].method));
        eg_node_seq_push(entries, e);
    }
    eg_node *group = eg_node_new(EG_NODE_MAP);
    eg_node_map_set(group, "Group", eg_node_new_str("admin"));
    eg_node_map_set(group, "Entries", entries);
    eg_node *groups = eg_node_new(EG_NODE_SEQ);
    eg_node_seq_push(groups, group);
    set_node(arena, resp, groups, yaml);
    eg_node_free(groups);
}

/* name and kind, a blank line, then the kind's DefaultSpec, as Easegress writes it. */
static int object_template(const char *kind_arg, const char *name, eg_arena *arena,
                           eg_response *resp, char *err, size_t errlen)
{
    size_t n;
    const eg_object_kind *kinds = eg_object_kinds(&n), *k = NULL;
    for (size_t i = 0; i < n && !k; i++)
        if (strcasecmp(kinds[i].kind, kind_arg) == 0)
            k = &kinds[i];
    if (!k) {
        snprintf(err, errlen, "not found: no object kind %s", kind_arg);
        return 404;
    }
    eg_node *meta = eg_node_new(EG_NODE_MAP);
    eg_node_map_set(meta, "name", eg_node_new_str(name));
    eg_node_map_set(meta, "kind", eg_node_new_str(k->kind));
    eg_node *spec;
    if (strcmp(k->kind, "HTTPServer") == 0) {
        spec = eg_httpserver_default_spec();
    } else if (strcmp(k->kind, "Pipeline") == 0) {
        spec = eg_node_new(EG_NODE_MAP); /* Easegress's Spec{}: an empty flow and filters */
        eg_node_map_set(spec, "flow", eg_node_new(EG_NODE_SEQ));
        eg_node_map_set(spec, "filters", eg_node_new(EG_NODE_SEQ));
    } else {
        spec = eg_node_new(EG_NODE_MAP); /* no defaults */
    }
    size_t mlen, slen;
    char *mtext = eg_node_to_yaml(meta, &mlen);
    char *stext = spec->count ? eg_node_to_yaml(spec, &slen) : strdup("{}\n");
    char *both = NULL;
    int rc = 0;
    if (!mtext || !stext || asprintf(&both, "%s\n%s", mtext, stext) < 0) {
        snprintf(err, errlen, "out of memory");
        rc = 500;
    } else {
        eg_response_set(arena, resp, 200, "text/x-yaml", both, strlen(both));
    }
    free(both);
    free(mtext);
    free(stext);
    eg_node_free(meta);
    eg_node_free(spec);
    return rc;
}

static int filter_meta(const char *kind, const char *what, bool yaml, eg_arena *arena,
                       eg_response *resp, char *err, size_t errlen)
{
    const eg_filter_kind *k = eg_filter_kind_find(kind);
    if (!k) {
        snprintf(err, errlen, "filter kind %s not found", kind);
        return 404;
    }
    if (strcmp(what, "description") == 0) {
        const char *d = k->description ? k->description : "";
        eg_response_set(arena, resp, 200, "text/plain; charset=utf-8", d, strlen(d));
        return 0;
    }
    if (!k->schema_json) {
        snprintf(err, errlen, "filter kind %s declares no schema: its spec is checked by its "
                 "C decoder (see docs/filters/)", kind);
        return 404;
    }
    char perr[256];
    eg_node *schema = eg_yaml_parse(k->schema_json, strlen(k->schema_json), perr, sizeof perr);
    if (!schema) {
        snprintf(err, errlen, "the schema of filter kind %s does not parse: %s", kind, perr);
        return 500;
    }
    set_node(arena, resp, schema, yaml);
    eg_node_free(schema);
    return 0;
}

int eg_admin_meta_handle(const char *method, const char *path, bool yaml, eg_arena *arena,
                         eg_response *resp, char *err, size_t errlen)
{
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    static const char filters_prefix[] = "/metadata/objects/pipeline/filters/";
    if (!strcmp(path, "") || !strcmp(path, "/")) {
        if (!get) {
            snprintf(err, errlen, "method not allowed");
            return 405;
        }
        api_list(arena, resp, yaml);
        return 0;
    }
    if (!strncmp(path, "/objects-yaml/", 14)) {
        const char *kind = path + 14, *slash = strchr(kind, '/');
        if (!slash || !slash[1] || strchr(slash + 1, '/') || slash == kind)
            return -1;
        if (!get) {
            snprintf(err, errlen, "method not allowed");
            return 405;
        }
        char k[128];
        snprintf(k, sizeof k, "%.*s", (int)(slash - kind), kind);
        return object_template(k, slash + 1, arena, resp, err, errlen);
    }
    if (!strncmp(path, filters_prefix, sizeof filters_prefix - 1)) {
        const char *kind = path + sizeof filters_prefix - 1, *slash = strchr(kind, '/');
        if (!slash || slash == kind)
            return -1;
        const char *what = slash + 1;
        if (strcmp(what, "description") != 0 && strcmp(what, "schema") != 0)
            return -1;
        if (!get) {
            snprintf(err, errlen, "method not allowed");
            return 405;
        }
        char k[128];
        snprintf(k, sizeof k, "%.*s", (int)(slash - kind), kind);
        return filter_meta(k, what, yaml, arena, resp, err, errlen);
    }
    return -1;
}
