/* worker.c — the worker thread: adopting snapshots, listeners, shutdown. */
#include "worker.h"

#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <unistd.h>
#include "gateway.h"
#include "log.h"
#include "lua_vm.h"
#include "route_cache.h"
#include "tracing.h"

struct eg_listener {
    eg_listener *next;
    eg_worker *w;
    char *server_name;
    char listen_key[300];
    uv_tcp_t tcp;
    eg_http1_server http;
    long max_conns;
    bool closed;
};

/* ---- listeners ---- */

static void listener_maybe_free(eg_listener *l)
{
    if (l->closed && l->http.open_conns == 0) {
        eg_route_cache_free(((eg_gateway_ud *)l->http.ud)->route_cache);
        free(l->http.ud);
        free(l->server_name);
        free(l);
    }
}

static void on_conn_closed(void *ud)
{
    eg_listener *l = ((eg_gateway_ud *)ud)->listener;
    listener_maybe_free(l);
}

static void on_listener_closed(uv_handle_t *h)
{
    eg_listener *l = h->data;
    l->closed = true;
    listener_maybe_free(l);
}

static void on_connection(uv_stream_t *s, int status)
{
    eg_listener *l = s->data;
    if (status < 0)
        return;
    if (l->max_conns > 0 && (long)l->http.open_conns >= l->max_conns) {
        /* Over maxConnections: take it off the queue and close it at once. */
        uv_tcp_t *t = malloc(sizeof *t);
        uv_tcp_init(s->loop, t);
        if (uv_accept(s, (uv_stream_t *)t) == 0)
            eg_debug("worker %d: %s: maxConnections reached", l->w->id, l->server_name);
        uv_close((uv_handle_t *)t, (uv_close_cb)free);
        return;
    }
    eg_http1_accept(&l->http, s);
}

static void listener_configure(eg_listener *l, const eg_server_obj *o)
{
    const eg_httpserver_spec *spec = o->spec;
    l->http.config.max_head_size = 32 * 1024;
    l->http.config.header_timeout_ms = 10000;
    l->http.config.idle_timeout_ms = spec->keep_alive_timeout_ms > 0 ? (uint64_t)spec->keep_alive_timeout_ms : 60000;
    l->http.config.body_timeout_ms = 60000;
    l->http.config.keep_alive = spec->keep_alive;
    l->http.config.scheme = "http";
    /* maxConnections is per server; each worker takes its share. */
    long per = spec->max_connections ? ((long)spec->max_connections + l->w->nworkers - 1) / l->w->nworkers : 0;
    l->max_conns = per;
}

static eg_listener *listener_open(eg_worker *w, const char *name, const eg_server_obj *o)
{
    if (w->id >= o->nfds || o->fds[w->id] < 0)
        return NULL;
    int fd = dup(o->fds[w->id]);
    if (fd < 0) {
        eg_error("worker %d: dup listener for %s failed", w->id, name);
        return NULL;
    }
    eg_listener *l = calloc(1, sizeof *l);
    l->w = w;
    l->server_name = strdup(name);
    snprintf(l->listen_key, sizeof l->listen_key, "%s", o->listen_key);
    uv_tcp_init(&w->loop, &l->tcp);
    l->tcp.data = l;
    int rc = uv_tcp_open(&l->tcp, fd);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&l->tcp, 4096, on_connection);
    if (rc < 0) {
        eg_error("worker %d: listen for %s failed: %s", w->id, name, uv_strerror(rc));
        uv_close((uv_handle_t *)&l->tcp, on_listener_closed);
        return NULL;
    }
    l->http.loop = &w->loop;
    l->http.hooks = &eg_gateway_hooks;
    eg_gateway_ud *ud = calloc(1, sizeof *ud);
    ud->worker = w;
    ud->listener = l;
    ud->server_name = l->server_name;
    l->http.ud = ud;
    l->http.read_buf = w->read_buf;
    l->http.finisher = &w->finisher;
    l->http.arenas = &w->arenas;
    l->http.read_buf_size = sizeof w->read_buf;
    l->http.on_conn_closed = on_conn_closed;
    listener_configure(l, o);
    return l;
}

static void listener_close(eg_listener *l)
{
    eg_http1_server_drain(&l->http);
    uv_close((uv_handle_t *)&l->tcp, on_listener_closed);
}

/* Make the listeners match the snapshot's HTTPServers. */
static void reconcile_listeners(eg_worker *w, const eg_snapshot *s, bool stopping)
{
    eg_listener *keep = NULL;
    for (eg_listener *l = w->listeners, *next; l; l = next) {
        next = l->next;
        eg_server_obj *o = stopping ? NULL : eg_strmap_get(&s->servers, l->server_name, strlen(l->server_name));
        if (o && strcmp(o->listen_key, l->listen_key) == 0) {
            listener_configure(l, o);
            l->next = keep;
            keep = l;
        } else {
            listener_close(l);
        }
    }
    w->listeners = keep;
    if (stopping)
        return;
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&s->servers, &i, &slot);) {
        bool have = false;
        for (eg_listener *l = w->listeners; l && !have; l = l->next)
            have = strcmp(l->server_name, slot->key) == 0;
        if (have)
            continue;
        eg_listener *l = listener_open(w, slot->key, slot->value);
        if (l) {
            l->next = w->listeners;
            w->listeners = l;
        }
    }
}

/* ---- snapshots ---- */

eg_snapshot *eg_worker_pin(eg_worker *w)
{
    if (!w->snap)
        return NULL;
    eg_snapshot *s = w->snap;
    s->slots[w->id].inflight++;
    return s;
}

void eg_worker_unpin(eg_worker *w, eg_snapshot *s)
{
    if (!s)
        return;
    if (--s->slots[w->id].inflight == 0 && s->slots[w->id].retired) {
        for (size_t i = 0; i < w->nretired; i++)
            if (w->retired[i] == s) {
                w->retired[i] = w->retired[--w->nretired];
                break;
            }
        if (w->lua)
            eg_lua_vm_forget(w->lua, s, w->snap);
        eg_snapshot_release(s);
    }
}

static void adopt(eg_worker *w, eg_snapshot *s)
{
    eg_snapshot *old = w->snap;
    w->snap = s;
    reconcile_listeners(w, s, false);
    if (!old)
        return;
    old->slots[w->id].retired = true;
    if (old->slots[w->id].inflight == 0) {
        if (w->lua)
            eg_lua_vm_forget(w->lua, old, s);
        eg_snapshot_release(old);
        return;
    }
    if (w->nretired == w->retired_cap) {
        w->retired_cap = w->retired_cap ? w->retired_cap * 2 : 4;
        w->retired = realloc(w->retired, w->retired_cap * sizeof *w->retired);
    }
    w->retired[w->nretired++] = old;
}

void *eg_worker_state(eg_worker *w, const char *key, size_t size)
{
    size_t len = strlen(key);
    void *st = eg_strmap_get(&w->lb_states, key, len);
    if (!st) {
        st = calloc(1, size);
        eg_strmap_put(&w->lb_states, key, len, st);
    }
    return st;
}

/* ---- thread ---- */

static void on_close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void on_drain_timeout(uv_timer_t *t)
{
    eg_worker *w = t->data;
    eg_warn("worker %d: drain time over, closing remaining connections", w->id);
    uv_walk(&w->loop, on_close_walk, NULL);
}

static void on_wake(uv_async_t *a)
{
    eg_worker *w = a->data;
    pthread_mutex_lock(&w->lock);
    eg_snapshot *s = w->next_snap;
    w->next_snap = NULL;
    bool stopping = w->stopping;
    pthread_mutex_unlock(&w->lock);
    if (s)
        adopt(w, s);
    eg_access_log_check_reopen(&w->access_log);
    if (stopping && !w->stopped) {
        w->stopped = true;
        reconcile_listeners(w, w->snap, true);
        eg_upstream_pool_close(w->upstreams);
        if (w->lua)
            eg_lua_stop_timers(w->lua);
        uv_close((uv_handle_t *)&w->wake, NULL);
        eg_access_log_flush(&w->access_log);
        eg_trace_exporters_stop(w->trace_exporters);
        uv_timer_init(&w->loop, &w->drain_timer);
        w->drain_timer.data = w;
        uv_timer_start(&w->drain_timer, on_drain_timeout, w->drain_ms, 0);
        uv_unref((uv_handle_t *)&w->drain_timer);
    }
}

/* A loop stuck in a callback (a filter in an endless loop) stops beating; the main thread's
 * watchdog notices. */
static void on_heartbeat(uv_timer_t *t)
{
    eg_worker *w = t->data;
    atomic_fetch_add_explicit(&w->beats, 1, memory_order_relaxed);
}

uint64_t eg_worker_beats(eg_worker *w) { return atomic_load_explicit(&w->beats, memory_order_relaxed); }

static void worker_main(void *arg)
{
    eg_worker *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT);
    /* Listeners are closed and connections drained (or the drain time is over). Closing
     * what is left can still end requests (499 lines): the access log closes last. */
    uv_walk(&w->loop, on_close_walk, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    eg_access_log_close(&w->access_log);
}

eg_worker *eg_worker_start(int id, int nworkers, eg_snapshot *initial, const char *init_script)
{
    eg_worker *w = calloc(1, sizeof *w);
    w->id = id;
    w->nworkers = nworkers;
    uv_loop_init(&w->loop);
    pthread_mutex_init(&w->lock, NULL);
    uv_async_init(&w->loop, &w->wake, on_wake);
    w->wake.data = w;
    eg_strmap_init(&w->lb_states);
    w->upstreams = eg_upstream_pool_new(&w->loop);
    w->lua = eg_lua_vm_new(w);
    eg_access_log_init(&w->access_log, &w->loop);
    eg_http1_finisher_init(&w->finisher, &w->loop);
    uv_timer_init(&w->loop, &w->heartbeat);
    w->heartbeat.data = w;
    uv_timer_start(&w->heartbeat, on_heartbeat, 500, 500);
    uv_unref((uv_handle_t *)&w->heartbeat);
    if (w->lua && init_script)
        eg_lua_run_init_script(w->lua, init_script);
    adopt(w, initial);
    if (uv_thread_create(&w->thread, worker_main, w) != 0) {
        eg_error("cannot start worker thread %d", id);
        abort();
    }
    return w;
}

eg_worker *eg_worker_new_inline(void)
{
    eg_worker *w = calloc(1, sizeof *w);
    w->nworkers = 1;
    uv_loop_init(&w->loop);
    pthread_mutex_init(&w->lock, NULL);
    eg_strmap_init(&w->lb_states);
    w->upstreams = eg_upstream_pool_new(&w->loop);
    w->lua = eg_lua_vm_new(w);
    w->inline_mode = true;
    return w;
}

void eg_worker_free_inline(eg_worker *w)
{
    eg_upstream_pool_close(w->upstreams);
    uv_walk(&w->loop, on_close_walk, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    if (w->lua)
        eg_lua_vm_free(w->lua);
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&w->lb_states, &i, &slot);)
        free(slot->value);
    eg_strmap_free(&w->lb_states);
    eg_upstream_pool_free(w->upstreams);
    eg_arena_pool_free(&w->arenas);
    uv_loop_close(&w->loop);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

void eg_worker_publish(eg_worker *w, eg_snapshot *s)
{
    pthread_mutex_lock(&w->lock);
    eg_snapshot *unseen = w->next_snap;
    w->next_snap = s;
    pthread_mutex_unlock(&w->lock);
    /* A snapshot the worker never adopted: let go of it on the worker's behalf. */
    if (unseen)
        eg_snapshot_release(unseen);
    uv_async_send(&w->wake);
}

void eg_worker_wake(eg_worker *w) { uv_async_send(&w->wake); }

void eg_worker_stop(eg_worker *w, uint64_t drain_ms)
{
    pthread_mutex_lock(&w->lock);
    w->drain_ms = drain_ms;
    w->stopping = true;
    pthread_mutex_unlock(&w->lock);
    uv_async_send(&w->wake);
}

void eg_worker_join_free(eg_worker *w)
{
    uv_thread_join(&w->thread);
    if (w->next_snap)
        eg_snapshot_release(w->next_snap);
    for (size_t i = 0; i < w->nretired; i++)
        eg_snapshot_release(w->retired[i]);
    if (w->lua)
        eg_lua_vm_free(w->lua);
    if (w->snap)
        eg_snapshot_release(w->snap);
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&w->lb_states, &i, &slot);)
        free(slot->value);
    eg_strmap_free(&w->lb_states);
    free(w->retired);
    eg_trace_exporters_free(w->trace_exporters);
    eg_upstream_pool_free(w->upstreams);
    eg_arena_pool_free(&w->arenas);
    uv_loop_close(&w->loop);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
