/* supervisor.h — the main thread's view of configuration: objects as stored, their built
 * versions, and publishing snapshots to the workers. Used only from the main thread. */
#ifndef EG_SUPERVISOR_H
#define EG_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include "node.h"
#include "snapshot.h"
#include "health_check.h"
#include "stats.h"
#include "store.h"
#include "strmap.h"

struct eg_worker;

typedef struct eg_object_entry {
    char *name;
    char *kind;
    eg_node *spec;             /* the object as submitted (normalised) */
    char *created_at;          /* RFC 3339 */
    int64_t revision;
    eg_pipeline *pipeline;     /* built version (one reference), or NULL */
    eg_server_obj *server;
    eg_globalfilter *globalfilter;
    char *owner;               /* set on a Pipeline an HTTPServer generated for a backendPool */
    struct eg_object_entry_list {
        struct eg_object_entry **items;
        size_t count;
    } generated;               /* on an HTTPServer: the Pipelines of its backendPools */
    char *error;               /* why it is not running, if it is not */
} eg_object_entry;

typedef struct {
    eg_store *store;
    int master_fd;
    int nworkers;
    struct eg_worker **workers;
    eg_strmap objects;         /* name -> eg_object_entry* */
    uint64_t generation;
    bool strict;
    const char *init_script;   /* run in every worker's VM at start (--init-script) */
    eg_stats_registry stats;   /* request statistics of every object, by name */
    eg_health_checker health;  /* Proxy pools' health checks (no loop: none) */
    struct eg_custom_data *custom_data;   /* custom kinds and items (custom_data.h) */
} eg_supervisor;

/* A submit-time answer: 0 or an HTTP status, a message, and warnings. */
typedef struct {
    int status;
    char message[1024];
    char **warnings;
    size_t nwarnings;
    int64_t revision;
} eg_submit_result;

void eg_submit_result_free(eg_submit_result *r);

int eg_supervisor_init(eg_supervisor *s, eg_store *store, int master_fd, int nworkers, bool strict);
/* Build every stored object and start the workers on the result. */
void eg_supervisor_start(eg_supervisor *s);
void eg_supervisor_stop(eg_supervisor *s, uint64_t drain_ms);
void eg_supervisor_free(eg_supervisor *s);

/* create: 409 if it exists; update: 404 if it does not. `obj` stays the caller's. */
void eg_supervisor_apply(eg_supervisor *s, const eg_node *obj, bool create, const char *url_name, eg_submit_result *r);
void eg_supervisor_delete(eg_supervisor *s, const char *name, eg_submit_result *r);
/* A filter directory changed: re-read it and rebuild the pipelines using its kinds. A
 * pipeline whose new build fails keeps its running version and reports the error. */
void eg_supervisor_reload_filter_dir(eg_supervisor *s, const char *dir);
/* Sorted by name. */
eg_object_entry **eg_supervisor_list(eg_supervisor *s, size_t *n);
eg_object_entry *eg_supervisor_get(eg_supervisor *s, const char *name);
/* The object's status document (caller frees). */
eg_node *eg_supervisor_status(eg_supervisor *s, const eg_object_entry *e);

#endif
