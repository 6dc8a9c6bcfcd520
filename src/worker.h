/* worker.h — a worker thread: one libuv loop, one LuaJIT VM, its listeners, its backend
 * connection pools, and the snapshot it currently serves. Nothing here is shared with other
 * threads except the hand-over slot for the next snapshot (mutex + uv_async). */
#ifndef EG_WORKER_H
#define EG_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <uv.h>
#include "access_log.h"
#include "http1_server.h"
#include "snapshot.h"
#include "strmap.h"
#include "upstream.h"

struct lua_State;
typedef struct eg_listener eg_listener;

typedef struct eg_worker {
    int id;
    int nworkers;
    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t wake;

    pthread_mutex_t lock;        /* guards next_snap and stopping */
    eg_snapshot *next_snap;
    bool stopping;

    eg_snapshot *snap;           /* what new requests use */
    eg_snapshot **retired;       /* earlier snapshots with requests still in flight */
    size_t nretired, retired_cap;

    eg_listener *listeners;
    eg_upstream_pool *upstreams;
    eg_strmap lb_states;         /* "pipeline/filter/pool" -> eg_lb_state*: kept across updates */
    char read_buf[64 * 1024];
    eg_http1_finisher finisher;  /* for every listener's connections */
    eg_arena_pool arenas;        /* every request's arena, taken and given back */
    struct eg_lua_vm *lua;
    uint64_t requests;
    bool stopped;
    bool inline_mode;            /* driven by its caller (specs), may block */
    uint64_t drain_ms;
    /* The watchdog's view: a timer on this loop counts beats; a loop stuck in a callback
     * stops beating. */
    _Atomic uint64_t beats;
    uv_timer_t heartbeat;
    eg_access_log access_log;
    uv_timer_t drain_timer;
    struct eg_trace_exporters *trace_exporters; /* tracing: created on the first span */
} eg_worker;

eg_worker *eg_worker_start(int id, int nworkers, eg_snapshot *initial, const char *init_script);
/* A worker without a thread or snapshot, driven by its caller (busted specs). */
eg_worker *eg_worker_new_inline(void);
void eg_worker_free_inline(eg_worker *w);
/* Hand a snapshot to the worker (main thread); the worker takes one holder reference. */
void eg_worker_publish(eg_worker *w, eg_snapshot *s);
/* Wake the worker's loop (main thread): it then does what was asked of it, such as
 * reopening its access log files. */
void eg_worker_wake(eg_worker *w);
/* Stop accepting, finish in-flight requests (up to drain_ms), then end the thread. */
void eg_worker_stop(eg_worker *w, uint64_t drain_ms);
void eg_worker_join_free(eg_worker *w);

/* The worker's heartbeat count (advances twice a second while its loop turns). */
uint64_t eg_worker_beats(eg_worker *w);

/* For requests: pin the current snapshot, and unpin it when the request ends. */
eg_snapshot *eg_worker_pin(eg_worker *w);
void eg_worker_unpin(eg_worker *w, eg_snapshot *s);

/* Runtime state kept by key across object versions. */
void *eg_worker_state(eg_worker *w, const char *key, size_t size);

#endif
