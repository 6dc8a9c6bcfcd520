/* custom_data.h — Easegress's custom data: kinds ({name, idField, jsonSchema}) and their
 * items (free-form JSON objects identified by the kind's idField, "name" by default),
 * stored durably and published to the workers.
 *
 * The main thread owns an eg_custom_data: it serves the admin API's /customdatakinds and
 * /customdata paths, validates items against their kind's JSON Schema (json_schema.h),
 * writes every change to the store before answering, and then builds a new immutable
 * eg_custom_data_set (kinds that did not change are shared) and asks for it to be published.
 * The supervisor attaches the current set to each snapshot, so a worker reads the set of the
 * snapshot its request pinned, with no locks.
 *
 * Store layout: /customdatakinds/<kind> -> the kind as JSON; /customdata/<kind>/<id> -> the
 * item as JSON. Kind names follow the object-name rule; ids may not hold '/'. */
#ifndef EG_CUSTOM_DATA_H
#define EG_CUSTOM_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "node.h"
#include "store.h"

/* ---- the published, read-only view (any thread) ---- */
typedef struct eg_custom_data_set eg_custom_data_set;

void eg_custom_data_set_ref(eg_custom_data_set *s);
void eg_custom_data_set_unref(eg_custom_data_set *s);
/* An item as JSON text (NUL-terminated, *len set), or NULL. */
const char *eg_custom_data_set_get(const eg_custom_data_set *s, const char *kind, size_t kind_len,
                                   const char *id, size_t id_len, size_t *len);
/* Grows with every published change: a reader can key its caches on it. */
uint64_t eg_custom_data_set_version(const eg_custom_data_set *s);

/* ---- the main thread's manager ---- */
typedef struct eg_custom_data eg_custom_data;

/* Load what the store holds. NULL (err set) when the store cannot be read. */
eg_custom_data *eg_custom_data_open(eg_store *store, char *err, size_t errlen);
void eg_custom_data_free(eg_custom_data *cd);
/* Called after each change, once the new set is current. */
void eg_custom_data_on_change(eg_custom_data *cd, void (*fn)(void *ud), void *ud);
/* A new reference to the current set. */
eg_custom_data_set *eg_custom_data_current(eg_custom_data *cd);

typedef struct {
    int status;                /* HTTP status */
    eg_node *body;             /* to send as JSON/YAML (caller frees), or NULL */
    char message[1024];        /* the error when status >= 400 */
    char location[1100];       /* Location for a 201, or "" */
    int64_t revision;          /* the store revision after a change, 0 when none */
} eg_custom_data_reply;

/* Serve an admin API request whose path (after /apis/v2) starts with /customdatakinds or
 * /customdata. Returns false for any other path (reply untouched). */
bool eg_custom_data_api(eg_custom_data *cd, const char *method, const char *path, const char *body,
                        size_t body_len, eg_custom_data_reply *reply);

#endif
