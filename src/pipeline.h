/* pipeline.h — a Pipeline object version: its filters and its compiled flow, and the flow
 * runner that takes one exchange through it (a small state machine; filters may suspend). */
#ifndef EG_PIPELINE_H
#define EG_PIPELINE_H

#include <stdatomic.h>
#include <stdint.h>
#include "exchange.h"
#include "node.h"

struct eg_stats_registry;
struct eg_stat_set;
struct eg_health_checker;

/* What a version is bound to when it is published (the supervisor's). */
typedef struct eg_bind_ctx {
    struct eg_stats_registry *stats;
    struct eg_health_checker *health;
} eg_bind_ctx;

typedef enum { EG_FILTER_DONE, EG_FILTER_PENDING } eg_filter_status;

/* A filter kind implemented in C or (through lua_filter.c) in Lua. */
typedef struct eg_filter_kind {
    const char *name;
    const char *const *results;    /* NULL-terminated: what jumpIf may route on */
    /* Build an immutable instance from the filter's spec map (main thread). NULL on error
     * (reported through d). `pipeline` is the owning pipeline's name. */
    void *(*create)(eg_dec *d, const eg_node *spec, const char *pipeline);
    void (*destroy)(void *inst);
    /* Run on a worker. DONE: *result set ("" = go on). PENDING: the filter calls
     * eg_flow_resume(x, result) later, exactly once, unless the exchange is aborted first
     * (then x->on_abort, which the filter set, is called instead). */
    eg_filter_status (*handle)(void *inst, eg_exchange *x, const char **result);
    bool is_lua;
    /* Results that depend on the instance (inline Lua declares its own); NULL = `results`. */
    const char *const *(*instance_results)(const void *inst);
    /* Optional, main thread: take what the instance shares with the server (statistics
     * sets, health checks) after create, before the version is published; and describe
     * its state in the pipeline's status. */
    void (*bind)(void *inst, const struct eg_bind_ctx *ctx);
    eg_node *(*status)(void *inst);
    /* For the admin API's filter metadata: one line on what it does, and the JSON Schema of
     * its spec derived from its declared schema (NULL when it declares none). */
    const char *description;
    const char *schema_json;
} eg_filter_kind;

const eg_filter_kind *eg_filter_kind_find(const char *name);
/* Register a kind (main thread, before workers start or under the supervisor). */
void eg_filter_kind_register(const eg_filter_kind *kind);
/* NULL-terminated list of registered kinds. */
const eg_filter_kind *const *eg_filter_kinds(size_t *n);

typedef struct {
    char *name;
    const eg_filter_kind *kind;
    void *inst;
} eg_filter;

typedef struct {
    char *result;
    size_t target;        /* node index; == nnodes means END */
} eg_jump;

typedef struct {
    size_t filter;        /* index into filters; SIZE_MAX for END */
    char *alias;
    char *ns;             /* namespace, "DEFAULT" when not given */
    eg_jump *jumps;
    size_t njumps;
} eg_flow_node;

typedef struct eg_pipeline {
    atomic_int refs;
    uint64_t version_id;  /* unique per built version */
    char *name;
    eg_filter *filters;
    size_t nfilters;
    eg_flow_node *nodes;
    size_t nnodes;
    eg_node *data;        /* the `data` field, for templates */
    bool has_lua;
    struct eg_stat_set *stats;   /* requests routed here; NULL until bound */
} eg_pipeline;

eg_pipeline *eg_pipeline_build(eg_dec *d, const eg_node *obj);
/* Bind the pipeline and its filters (main thread, before publishing). */
void eg_pipeline_bind(eg_pipeline *p, const eg_bind_ctx *ctx);
void eg_pipeline_ref(eg_pipeline *p);
void eg_pipeline_unref(eg_pipeline *p);

/* Run the exchange's pipeline from the start; x->flow_done(x) is called at the end. */
void eg_flow_start(eg_exchange *x);
void eg_flow_resume(eg_exchange *x, const char *result);

#endif
