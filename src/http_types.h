/* http_types.h — the request/response vocabulary shared by parsers, router, filters. */
#ifndef EG_HTTP_TYPES_H
#define EG_HTTP_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

/* A header as it was received or as a filter set it. name/value point into memory owned by
 * the request (its arena); they are not NUL-terminated unless the owner says so. */
typedef struct {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} eg_header;

typedef struct {
    eg_header *items;
    size_t count;
    size_t cap;
} eg_headers;

/* First header with this name (ASCII case-insensitive), or NULL. */
static inline const eg_header *eg_headers_find(const eg_headers *h, const char *name, size_t name_len)
{
    for (size_t i = 0; i < h->count; i++)
        if (h->items[i].name_len == name_len && strncasecmp(h->items[i].name, name, name_len) == 0)
            return &h->items[i];
    return NULL;
}

#endif
