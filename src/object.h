/* object.h — what every object shares: meta fields, names, and the object kinds. */
#ifndef EG_OBJECT_H
#define EG_OBJECT_H

#include <stdbool.h>
#include "node.h"

typedef struct {
    const char *kind;
    const char *plural;
    const char *aliases[4];
    const char *category;
} eg_object_kind;

/* The kinds this server can create, in start order (pipelines before traffic gates). */
const eg_object_kind *eg_object_kinds(size_t *n);
const eg_object_kind *eg_object_kind_find(const char *kind);

/* name: ^[\p{L}0-9\-_\.~]{1,253}$ (non-ASCII letters are accepted as UTF-8). */
bool eg_object_name_valid(const char *name);
/* Mark name, kind, version, labels, createdAt as consumed so they are not "unknown". */
void eg_object_mark_meta(const eg_node *obj);

#endif
