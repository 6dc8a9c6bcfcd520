/* snapshot.h — the configuration the workers serve: every object's current version.
 *
 * The supervisor publishes a new snapshot per change; it shares the versions of every
 * object that did not change (they are reference-counted). Each worker adopts the newest
 * snapshot on its own loop and pins it for each request it starts; a worker's in-flight
 * count lives in its own cache line of the snapshot, touched only by that worker. When a
 * worker has moved on and its last request on the old snapshot ends, it releases its hold;
 * the last hold frees the snapshot (quiescent-state reclamation, no per-request atomics). */
#ifndef EG_SNAPSHOT_H
#define EG_SNAPSHOT_H

#include <stdatomic.h>
#include <stdint.h>
#include "pipeline.h"
#include "router.h"
#include "strmap.h"

typedef struct eg_server_obj {
    atomic_int refs;
    eg_httpserver_spec *spec;
    char listen_key[300];      /* "address|port": a worker keeps its listener while equal */
    int *fds;                  /* one listening socket per worker (owned) */
    int nfds;
    struct eg_stat_set *stats; /* kept across versions of the server (by name) */
} eg_server_obj;

/* A GlobalFilter version: pipelines run before and after the routed one (reference/
 * easegress-spec.md §1.4). */
typedef struct eg_globalfilter {
    atomic_int refs;
    eg_pipeline *before;       /* may be NULL */
    eg_pipeline *after;        /* may be NULL */
    bool fallthrough_before;   /* run the pipeline even when `before` ended the flow */
    bool fallthrough_pipeline; /* run `after` even when the pipeline ended the flow */
} eg_globalfilter;

void eg_globalfilter_ref(eg_globalfilter *g);
void eg_globalfilter_unref(eg_globalfilter *g);

typedef struct {
    _Alignas(64) long inflight;
    bool retired;
} eg_snapshot_slot;

typedef struct eg_snapshot {
    atomic_int holders;
    uint64_t generation;
    eg_strmap servers;         /* name -> eg_server_obj* */
    eg_strmap pipelines;       /* name -> eg_pipeline* */
    eg_strmap globalfilters;   /* name -> eg_globalfilter* */
    struct eg_custom_data_set *custom_data;   /* custom_data.h: one reference, or NULL */
    int nworkers;
    eg_snapshot_slot slots[];
} eg_snapshot;

/* A copy of `prev` (or empty) sharing its versions; holders = nworkers. */
eg_snapshot *eg_snapshot_new(const eg_snapshot *prev, int nworkers, uint64_t generation);
/* Replace or remove an entry; the snapshot takes over the caller's reference. */
void eg_snapshot_put_pipeline(eg_snapshot *s, const char *name, eg_pipeline *p);
void eg_snapshot_put_server(eg_snapshot *s, const char *name, eg_server_obj *o);
void eg_snapshot_put_globalfilter(eg_snapshot *s, const char *name, eg_globalfilter *g);
/* One worker (or the publisher on its behalf) lets go; the last one frees. */
void eg_snapshot_release(eg_snapshot *s);
/* Free a snapshot no worker ever saw (holders ignored). */
void eg_snapshot_discard(eg_snapshot *s);

eg_server_obj *eg_server_obj_new(eg_httpserver_spec *spec);
void eg_server_obj_ref(eg_server_obj *o);
void eg_server_obj_unref(eg_server_obj *o);

#endif
