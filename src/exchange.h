/* exchange.h — one request's journey through a pipeline: its context (namespaces with their
 * request and response), the flow position, and what an async filter needs to come back.
 * Owned by the worker that accepted it; everything inside lives in `arena`. */
#ifndef EG_EXCHANGE_H
#define EG_EXCHANGE_H

#include <stdbool.h>
#include <stdint.h>
#include "arena.h"
#include "buf.h"
#include "message.h"
#include "set_headers.h"

struct eg_worker;
struct eg_pipeline;
struct eg_globalfilter;
struct eg_snapshot;
struct eg_http1_conn;
struct lua_State;
struct eg_stat_set;
struct eg_httpserver_spec;

typedef struct {
    const char *name;
    eg_request *req;
    eg_response *resp;
} eg_namespace;

typedef struct eg_exchange eg_exchange;
struct eg_exchange {
    eg_arena *arena;
    struct eg_worker *worker;
    struct eg_http1_conn *conn;      /* NULL once the client has gone */
    struct eg_snapshot *snap;        /* pinned for the whole request */
    const struct eg_pipeline *pipeline;
    const char *server_name;
    const eg_route_captures *captures; /* a RadixTree match's {param}s (arena), or NULL */

    eg_namespace *ns;
    size_t nns, ns_cap;
    size_t cur;                      /* active namespace index */

    size_t node;                     /* flow position */
    bool flow_ended;                 /* the flow stopped early (END, an unmapped result) */
    /* A GlobalFilter around the routed pipeline: which of its stages runs. */
    const struct eg_globalfilter *gf;
    const struct eg_pipeline *main_pipeline;
    int gf_stage;                    /* 0 before, 1 the routed pipeline, 2 after */
    const char *result;              /* last filter result */
    bool aborted;                    /* the client went away */

    /* Set by a filter while it is pending: called if the client goes away meanwhile. */
    void (*on_abort)(eg_exchange *x);
    void *abort_ud;

    void (*flow_done)(eg_exchange *x);
    int lua_ref;                     /* the request's coroutine in the worker VM, 0 = none */
    bool lua_fresh;                  /* its next resume starts this request's ctx */
    /* What Lua holds for this exchange: a userdata pointing here, cleared when the exchange
     * ends, so a ctx kept past its request (by a timer, say) errors instead of crashing. */
    struct eg_exchange **lua_handle;
    int lua_handle_ref;
    bool lua_parked;                 /* it sits at the runner's "done" yield (reusable) */
    void *lua_waits;                 /* eg_lua_wait list: what its coroutines wait for */
    eg_buf tags;                     /* "pipeline(name): f1(result,dur)->f2(dur)" */
    void *owner;                     /* who started it, when not a connection (specs) */
    struct lua_State *block_L;       /* a blocking wait outside a request (spec runner) */
    int block_nresults;
    bool block_done;
    bool background;                 /* a timer or init run: no client, no pipeline */
    eg_buf *trace;                   /* specs: "alias=result;" per node run, when set */
    uint64_t start_ns, filter_start_ns;
    const struct eg_httpserver_spec *server_spec;  /* the server version that took it */
    struct eg_stat_set *server_stats;          /* its statistics */
    const struct eg_pipeline *routed;          /* the pipeline its route named */
    struct eg_trace *tracing;        /* when the HTTPServer traces (tracing.h), else NULL */
};

/* Namespace by name, created (with an empty request and response) when absent. */
eg_namespace *eg_exchange_namespace(eg_exchange *x, const char *name);
static inline eg_request *eg_x_req(eg_exchange *x) { return x->ns[x->cur].req; }
static inline eg_response *eg_x_resp(eg_exchange *x) { return x->ns[x->cur].resp; }

#endif
