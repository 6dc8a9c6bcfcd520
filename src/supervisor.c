/* supervisor.c — validate, store, build and publish objects. */
#include "supervisor.h"
#include "custom_data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "listen.h"
#include "log.h"
#include "lua_vm.h"
#include "object.h"
#include "worker.h"

#define OBJECT_PREFIX "/objects/"

void eg_submit_result_free(eg_submit_result *r) { eg_strv_free(r->warnings, r->nwarnings); }

static void entry_free(eg_object_entry *e)
{
    if (!e)
        return;
    free(e->name);
    free(e->kind);
    eg_node_free(e->spec);
    free(e->created_at);
    eg_pipeline_unref(e->pipeline);
    eg_server_obj_unref(e->server);
    eg_globalfilter_unref(e->globalfilter);
    free(e->owner);
    free(e->generated.items); /* the entries themselves belong to the objects map */
    free(e->error);
    free(e);
}

static char *now_rfc3339(void)
{
    char buf[40];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return strdup(buf);
}

/* ---- publishing ---- */

/* Versions get their statistics sets when first published: one place, whatever built them
 * (an API call, a filter-dir reload, a generated backendPool pipeline). */
static void bind_stats(eg_supervisor *s, eg_object_entry *e)
{
    const eg_bind_ctx ctx = { &s->stats, &s->health };
    if (e->pipeline && !e->pipeline->stats)
        eg_pipeline_bind(e->pipeline, &ctx);
    if (e->server && !e->server->stats) {
        size_t n = strlen(e->name) + 16;
        char *key = malloc(n);
        snprintf(key, n, "HTTPServer/%s", e->name);
        eg_stat_labels labels = { "httpserver", { "name" }, { e->name } };
        e->server->stats = eg_stats_acquire(&s->stats, key, &labels, true);
        free(key);
    }
    if (e->globalfilter) {
        eg_pipeline *stages[] = { e->globalfilter->before, e->globalfilter->after };
        for (size_t i = 0; i < 2; i++)
            if (stages[i] && !stages[i]->stats)
                eg_pipeline_bind(stages[i], &ctx);
    }
}

/* A snapshot of every built object (sharing their versions). */
static eg_snapshot *snapshot_of(eg_supervisor *s)
{
    s->generation++;
    /* All workers share one snapshot, held by each of them. */
    eg_snapshot *snap = eg_snapshot_new(NULL, s->nworkers, s->generation);
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&s->objects, &i, &slot);) {
        eg_object_entry *e = slot->value;
        bind_stats(s, e);
        if (e->pipeline) {
            eg_pipeline_ref(e->pipeline);
            eg_snapshot_put_pipeline(snap, e->name, e->pipeline);
        }
        if (e->server) {
            eg_server_obj_ref(e->server);
            eg_snapshot_put_server(snap, e->name, e->server);
        }
        if (e->globalfilter) {
            eg_globalfilter_ref(e->globalfilter);
            eg_snapshot_put_globalfilter(snap, e->name, e->globalfilter);
        }
    }
    snap->custom_data = eg_custom_data_current(s->custom_data);
    return snap;
}

static void publish(eg_supervisor *s)
{
    if (!s->workers)
        return;
    eg_snapshot *snap = snapshot_of(s);
    for (int i = 0; i < s->nworkers; i++)
        eg_worker_publish(s->workers[i], snap);
}

/* Is any current server (other than `except`) listening on this key? */
static bool listen_key_in_use(eg_supervisor *s, const char *key, const eg_object_entry *except)
{
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&s->objects, &i, &slot);) {
        const eg_object_entry *e = slot->value;
        if (e != except && e->server && strcmp(e->server->listen_key, key) == 0)
            return true;
    }
    return false;
}

static void release_listen(eg_supervisor *s, const eg_server_obj *o)
{
    if (!o || listen_key_in_use(s, o->listen_key, NULL))
        return;
    eg_listen_release(s->master_fd, o->spec->address, o->spec->port);
}

/* ---- building ---- */

/* Sockets for a server version: the old version's when it listened on the same address. */
static int attach_sockets(eg_supervisor *s, eg_server_obj *o, const eg_object_entry *old, char *err, size_t errlen)
{
    o->fds = malloc(sizeof(int) * (size_t)s->nworkers);
    o->nfds = s->nworkers;
    if (old && old->server && strcmp(old->server->listen_key, o->listen_key) == 0) {
        for (int i = 0; i < s->nworkers; i++)
            o->fds[i] = dup(old->server->fds[i]);
        return 0;
    }
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&s->objects, &i, &slot);) {
        const eg_object_entry *e = slot->value;
        if (e != old && e->server && strcmp(e->server->listen_key, o->listen_key) == 0) {
            snprintf(err, errlen, "port %u is already used by HTTPServer %s", o->spec->port, e->name);
            return -1;
        }
    }
    if (eg_listen_group(s->master_fd, o->spec->address, o->spec->port, s->nworkers, o->fds, err, errlen) < 0) {
        for (int i = 0; i < s->nworkers; i++)
            o->fds[i] = -1;
        return -1;
    }
    return 0;
}

/* One of a GlobalFilter's pipelines: the embedded spec, named after the object. */
static eg_pipeline *build_embedded_pipeline(eg_dec *d, const eg_node *obj, const char *field, const char *gf_name)
{
    const eg_node *spec = eg_dec_map(d, obj, field, false);
    if (!spec || !eg_dec_ok(d))
        return NULL;
    eg_node *copy = eg_node_clone(spec);
    char name[600];
    snprintf(name, sizeof name, "%s/%s", gf_name, field);
    eg_node_map_set(copy, "name", eg_node_new_str(name));
    eg_node_map_set(copy, "kind", eg_node_new_str("Pipeline"));
    eg_dec_enter(d, field);
    eg_pipeline *p = eg_pipeline_build(d, copy);
    eg_dec_leave(d);
    eg_node_free(copy);
    return p;
}

static eg_globalfilter *build_globalfilter(eg_dec *d, const eg_node *obj)
{
    eg_object_mark_meta(obj);
    const char *name = eg_node_str(obj, "name");
    eg_globalfilter *g = calloc(1, sizeof *g);
    atomic_init(&g->refs, 1);
    g->before = build_embedded_pipeline(d, obj, "beforePipeline", name);
    g->after = build_embedded_pipeline(d, obj, "afterPipeline", name);
    const eg_node *ft = eg_dec_map(d, obj, "fallthrough", false);
    if (ft) {
        eg_dec_enter(d, "fallthrough");
        eg_dec_bool(d, ft, "beforePipeline", &g->fallthrough_before, false);
        eg_dec_bool(d, ft, "pipeline", &g->fallthrough_pipeline, false);
        eg_dec_check_unknown(d, ft);
        eg_dec_leave(d);
    }
    eg_dec_check_unknown(d, obj);
    if (!eg_dec_ok(d)) {
        eg_globalfilter_unref(g);
        return NULL;
    }
    return g;
}

/* A path with `backendPool` instead of `backend` gets a Pipeline of its own, as Easegress
 * generates it: GENERATED-<server>-<rule>-<path>, one Proxy filter named `proxy`. It is not
 * stored: the HTTPServer is, and it makes them again whenever it is built. */
static bool build_generated(eg_supervisor *s, eg_dec *d, const eg_httpserver_spec *spec, const char *server,
                            eg_object_entry *e)
{
    size_t n = eg_router_path_count(spec->router);
    for (size_t i = 0; i < n && eg_dec_ok(d); i++) {
        const eg_route_path *rp = eg_router_path_at(spec->router, i);
        if (!rp->backend_pool)
            continue;
        eg_dec_enter(d, "rules");
        eg_dec_enter_index(d, rp->rule_index);
        eg_dec_enter(d, "paths");
        eg_dec_enter_index(d, rp->path_index);
        const eg_object_entry *other = eg_strmap_get(&s->objects, rp->backend, strlen(rp->backend));
        if (other && !(other->owner && strcmp(other->owner, server) == 0)) {
            eg_dec_fail(d, "backendPool", "the generated pipeline's name %s is taken by another object", rp->backend);
        } else {
            eg_node *pl = eg_node_new(EG_NODE_MAP);
            eg_node_map_set(pl, "name", eg_node_new_str(rp->backend));
            eg_node_map_set(pl, "kind", eg_node_new_str("Pipeline"));
            eg_node *proxy = eg_node_new(EG_NODE_MAP);
            eg_node_map_set(proxy, "name", eg_node_new_str("proxy"));
            eg_node_map_set(proxy, "kind", eg_node_new_str("Proxy"));
            eg_node *pools = eg_node_new(EG_NODE_SEQ);
            eg_node_seq_push(pools, eg_node_clone(rp->backend_pool));
            eg_node_map_set(proxy, "pools", pools);
            eg_node *filters = eg_node_new(EG_NODE_SEQ);
            eg_node_seq_push(filters, proxy);
            eg_node_map_set(pl, "filters", filters);
            eg_dec_enter(d, "backendPool");
            eg_pipeline *p = eg_pipeline_build(d, pl);
            eg_dec_leave(d);
            if (p && eg_dec_ok(d)) {
                eg_object_entry *g = calloc(1, sizeof *g);
                g->name = strdup(rp->backend);
                g->kind = strdup("Pipeline");
                g->spec = pl;
                g->pipeline = p;
                g->owner = strdup(server);
                g->created_at = now_rfc3339();
                e->generated.items = realloc(e->generated.items, (e->generated.count + 1) * sizeof *e->generated.items);
                e->generated.items[e->generated.count++] = g;
            } else {
                eg_pipeline_unref(p);
                eg_node_free(pl);
            }
        }
        for (int k = 0; k < 4; k++)
            eg_dec_leave(d);
    }
    return eg_dec_ok(d);
}

static void drop_generated(eg_supervisor *s, eg_object_entry *e)
{
    for (size_t i = 0; e && i < e->generated.count; i++) {
        eg_object_entry *g = e->generated.items[i];
        if (eg_strmap_get(&s->objects, g->name, strlen(g->name)) == g)
            eg_strmap_del(&s->objects, g->name, strlen(g->name));
        entry_free(g);
    }
    if (e) {
        free(e->generated.items);
        e->generated.items = NULL;
        e->generated.count = 0;
    }
}

static void install_generated(eg_supervisor *s, eg_object_entry *e)
{
    for (size_t i = 0; i < e->generated.count; i++) {
        eg_object_entry *g = e->generated.items[i];
        eg_strmap_put(&s->objects, g->name, strlen(g->name), g);
    }
}

/* Build a version of `obj` into `e` (pipeline or server); error text into r. */
static bool build(eg_supervisor *s, const eg_node *obj, const char *kind, eg_object_entry *e,
                  const eg_object_entry *old, eg_submit_result *r)
{
    eg_dec d;
    eg_dec_init(&d, s->strict);
    bool ok = false;
    if (strcmp(kind, "Pipeline") == 0) {
        e->pipeline = eg_pipeline_build(&d, obj);
        ok = e->pipeline != NULL && eg_dec_ok(&d);
    } else if (strcmp(kind, "HTTPServer") == 0) {
        eg_httpserver_spec *spec = eg_httpserver_spec_decode(&d, obj);
        /* Accepting these would serve plain HTTP where the user asked for TLS. */
        if (spec && eg_dec_ok(&d) && (spec->https || spec->http3))
            eg_dec_fail(&d, spec->https ? "https" : "http3", "TLS is not implemented yet: this server would serve plain HTTP");
        if (spec && eg_dec_ok(&d))
            build_generated(s, &d, spec, eg_node_str(obj, "name"), e);
        if (spec && eg_dec_ok(&d)) {
            eg_server_obj *o = eg_server_obj_new(spec);
            char err[512];
            if (attach_sockets(s, o, old, err, sizeof err) < 0) {
                eg_dec_fail(&d, NULL, "%s", err);
                eg_server_obj_unref(o);
            } else {
                e->server = o;
                ok = true;
            }
        } else if (spec) {
            eg_httpserver_spec_free(spec);
        }
    } else if (strcmp(kind, "GlobalFilter") == 0) {
        e->globalfilter = build_globalfilter(&d, obj);
        ok = e->globalfilter != NULL && eg_dec_ok(&d);
    } else {
        eg_dec_fail(&d, NULL, "kind %s not found", kind);
    }
    if (!ok) {
        r->status = 400;
        snprintf(r->message, sizeof r->message, "%s", d.error ? d.error : "invalid object");
        eg_pipeline_unref(e->pipeline);
        e->pipeline = NULL;
        for (size_t i = 0; i < e->generated.count; i++)
            entry_free(e->generated.items[i]);
        free(e->generated.items);
        e->generated.items = NULL;
        e->generated.count = 0;
    }
    r->warnings = d.warnings;
    r->nwarnings = d.nwarnings;
    d.warnings = NULL;
    d.nwarnings = 0;
    eg_dec_free(&d);
    return ok;
}

static int64_t store_object(eg_supervisor *s, const char *name, const eg_node *obj, eg_submit_result *r)
{
    char key[512];
    snprintf(key, sizeof key, OBJECT_PREFIX "%s", name);
    size_t len;
    char *json = eg_node_to_json(obj, false, &len);
    int64_t rev = 0;
    int rc = eg_store_put(s->store, key, json, len, &rev);
    free(json);
    if (rc < 0) {
        r->status = 500;
        snprintf(r->message, sizeof r->message, "store: %s", strerror(-rc));
        return -1;
    }
    return rev;
}

void eg_supervisor_apply(eg_supervisor *s, const eg_node *obj, bool create, const char *url_name, eg_submit_result *r)
{
    memset(r, 0, sizeof *r);
    if (!obj || obj->type != EG_NODE_MAP) {
        r->status = 400;
        snprintf(r->message, sizeof r->message, "an object must be a map with kind and name");
        return;
    }
    const char *name = eg_node_str(obj, "name");
    const char *kind = eg_node_str(obj, "kind");
    if (!name || !eg_object_name_valid(name)) {
        r->status = 400;
        snprintf(r->message, sizeof r->message, name ? "name: invalid name \"%s\"" : "name: required", name);
        return;
    }
    if (!kind || !*kind) {
        r->status = 400;
        snprintf(r->message, sizeof r->message, "kind: required");
        return;
    }
    if (!eg_object_kind_find(kind)) {
        r->status = 400;
        snprintf(r->message, sizeof r->message, "kind %s not found", kind);
        return;
    }
    if (url_name && strcmp(url_name, name) != 0) {
        r->status = 400;
        snprintf(r->message, sizeof r->message, "name in the URL (%s) and in the object (%s) differ", url_name, name);
        return;
    }
    eg_object_entry *old = eg_strmap_get(&s->objects, name, strlen(name));
    if (create && old) {
        r->status = 409;
        snprintf(r->message, sizeof r->message, "conflict name: %s", name);
        return;
    }
    if (!create && !old) {
        r->status = 404;
        snprintf(r->message, sizeof r->message, "not found object %s", name);
        return;
    }
    if (old && old->owner) {
        r->status = 400;
        snprintf(r->message, sizeof r->message, "%s is generated for a backendPool of HTTPServer %s: change that instead",
                 name, old->owner);
        return;
    }
    if (old && strcmp(old->kind, kind) != 0) {
        r->status = 400;
        snprintf(r->message, sizeof r->message, "kind is %s, not %s: delete the object first", old->kind, kind);
        return;
    }
    eg_object_entry *e = calloc(1, sizeof *e);
    if (!build(s, obj, kind, e, old, r)) {
        entry_free(e);
        return;
    }
    /* Acknowledged means durable: store first, then serve. */
    e->spec = eg_node_clone(obj);
    e->name = strdup(name);
    e->kind = strdup(kind);
    const char *created = eg_node_str(obj, "createdAt");
    e->created_at = old ? strdup(old->created_at) : created ? strdup(created) : now_rfc3339();
    eg_node_map_set(e->spec, "createdAt", eg_node_new_str(e->created_at));
    int64_t rev = store_object(s, name, e->spec, r);
    if (rev < 0) {
        entry_free(e);
        return;
    }
    e->revision = rev;
    r->revision = rev;
    drop_generated(s, old);
    eg_strmap_put(&s->objects, name, strlen(name), e);
    install_generated(s, e);
    publish(s);
    if (old) {
        if (old->server && (!e->server || strcmp(old->server->listen_key, e->server->listen_key) != 0))
            release_listen(s, old->server);
        entry_free(old);
    }
    r->status = create ? 201 : 200;
    eg_info("%s %s %s (revision %lld)", create ? "created" : "updated", kind, name, (long long)rev);
}

void eg_supervisor_delete(eg_supervisor *s, const char *name, eg_submit_result *r)
{
    memset(r, 0, sizeof *r);
    eg_object_entry *e = eg_strmap_get(&s->objects, name, strlen(name));
    if (!e) {
        r->status = 404;
        snprintf(r->message, sizeof r->message, "not found object %s", name);
        return;
    }
    if (e->owner) {
        r->status = 400;
        snprintf(r->message, sizeof r->message, "%s is generated for a backendPool of HTTPServer %s: delete or change that instead",
                 name, e->owner);
        return;
    }
    char key[512];
    snprintf(key, sizeof key, OBJECT_PREFIX "%s", name);
    int rc = eg_store_delete(s->store, key, &r->revision);
    if (rc < 0 && rc != -ENOENT) {
        r->status = 500;
        snprintf(r->message, sizeof r->message, "store: %s", strerror(-rc));
        return;
    }
    eg_strmap_del(&s->objects, name, strlen(name));
    drop_generated(s, e);
    publish(s);
    if (e->server)
        release_listen(s, e->server);
    eg_info("deleted %s %s", e->kind, name);
    entry_free(e);
    r->status = 200;
}

static bool pipeline_uses_dir(const eg_node *spec, const char *dir)
{
    const eg_node *filters = eg_node_get(spec, "filters");
    for (size_t i = 0; filters && filters->type == EG_NODE_SEQ && i < filters->count; i++) {
        const char *kind = eg_node_str(filters->items[i], "kind");
        if (kind && eg_lua_kind_from_dir(kind, dir))
            return true;
    }
    return false;
}

void eg_supervisor_reload_filter_dir(eg_supervisor *s, const char *dir)
{
    char *broken = eg_lua_rescan_dir(dir);
    if (broken)
        eg_error("filters that do not load (the previous code keeps serving):\n%s", broken);
    bool changed = false;
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&s->objects, &i, &slot);) {
        eg_object_entry *e = slot->value;
        if (strcmp(e->kind, "Pipeline") != 0 || !pipeline_uses_dir(e->spec, dir))
            continue;
        eg_dec d;
        eg_dec_init(&d, s->strict);
        eg_pipeline *p = eg_pipeline_build(&d, e->spec);
        free(e->error);
        e->error = NULL;
        if (p && eg_dec_ok(&d)) {
            eg_pipeline_unref(e->pipeline);
            e->pipeline = p;
            changed = true;
            eg_info("pipeline %s reloaded with the new filter code", e->name);
        } else {
            eg_pipeline_unref(p);
            size_t n = strlen(d.error ? d.error : "") + 128;
            e->error = malloc(n);
            snprintf(e->error, n, "filter reload failed, the previous version keeps serving: %s",
                     d.error ? d.error : "invalid pipeline");
            eg_error("pipeline %s: %s", e->name, e->error);
        }
        eg_dec_free(&d);
    }
    free(broken);
    if (changed)
        publish(s);
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp((*(eg_object_entry *const *)a)->name, (*(eg_object_entry *const *)b)->name);
}

eg_object_entry **eg_supervisor_list(eg_supervisor *s, size_t *n)
{
    eg_object_entry **v = malloc(sizeof *v * (s->objects.count + 1));
    *n = 0;
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&s->objects, &i, &slot);)
        v[(*n)++] = slot->value;
    qsort(v, *n, sizeof *v, cmp_entry);
    return v;
}

eg_object_entry *eg_supervisor_get(eg_supervisor *s, const char *name)
{
    return eg_strmap_get(&s->objects, name, strlen(name));
}

eg_node *eg_supervisor_status(eg_supervisor *s, const eg_object_entry *e)
{
    (void)s;
    eg_node *st = eg_node_new(EG_NODE_MAP);
    eg_node_map_set(st, "name", eg_node_new_str(e->name));
    bool running = e->pipeline || e->server || e->globalfilter;
    eg_node_map_set(st, "health", eg_node_new_str(running ? "ready" : "failed"));
    if (!strcmp(e->kind, "HTTPServer")) {
        eg_node_map_set(st, "state", eg_node_new_str(running ? "running" : "failed"));
        if (e->server)
            eg_node_map_set(st, "port", eg_node_new_int(e->server->spec->port));
        if (e->server && e->server->stats)
            eg_stat_set_status(e->server->stats, st);
    }
    if (!strcmp(e->kind, "Pipeline") && e->pipeline) {
        const eg_pipeline *p = e->pipeline;
        eg_node *filters = eg_node_new(EG_NODE_MAP);
        for (size_t i = 0; i < p->nfilters; i++) {
            const eg_filter *f = &p->filters[i];
            eg_node *fs = f->kind->status && f->inst ? f->kind->status(f->inst) : eg_node_new(EG_NODE_MAP);
            eg_node_map_set(fs, "kind", eg_node_new_str(f->kind->name));
            eg_node_map_set(filters, f->name, fs);
        }
        eg_node_map_set(st, "filters", filters);
        if (p->stats) {
            eg_node *stat = eg_node_new(EG_NODE_MAP);
            eg_stat_set_status(p->stats, stat);
            eg_node_map_set(st, "stat", stat);
        }
    }
    if (e->error)
        eg_node_map_set(st, "error", eg_node_new_str(e->error));
    char *ts = now_rfc3339();
    eg_node_map_set(st, "timestamp", eg_node_new_str(ts));
    free(ts);
    return st;
}

/* ---- life cycle ---- */

/* Custom data changed: the workers get it with a new snapshot. */
static void custom_data_changed(void *ud)
{
    publish(ud);
}

int eg_supervisor_init(eg_supervisor *s, eg_store *store, int master_fd, int nworkers, bool strict)
{
    memset(s, 0, sizeof *s);
    s->store = store;
    s->master_fd = master_fd;
    s->nworkers = nworkers;
    s->strict = strict;
    eg_strmap_init(&s->objects);
    eg_stats_registry_init(&s->stats, nworkers);
    char err[256];
    s->custom_data = eg_custom_data_open(store, err, sizeof err);
    if (!s->custom_data) {
        eg_error("custom data: %s", err);
        return -1;
    }
    eg_custom_data_on_change(s->custom_data, custom_data_changed, s);
    return 0;
}

static int kind_order(const char *kind)
{
    size_t n;
    const eg_object_kind *k = eg_object_kinds(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(k[i].kind, kind) == 0)
            return (int)i;
    return (int)n;
}

/* Load what was acknowledged. An object that no longer builds (a port taken meanwhile, a
 * backend name that changed meaning) stays stored and reports its error in status. */
static void load_objects(eg_supervisor *s)
{
    eg_kv *kvs = NULL;
    size_t n = 0;
    if (eg_store_list(s->store, OBJECT_PREFIX, &kvs, &n) < 0)
        return;
    size_t nkinds;
    eg_object_kinds(&nkinds);
    for (size_t pass = 0; pass <= nkinds; pass++) {
        for (size_t i = 0; i < n; i++) {
            char err[300];
            eg_node *obj = eg_yaml_parse(kvs[i].value, kvs[i].value_len, err, sizeof err);
            const char *name = obj ? eg_node_str(obj, "name") : NULL;
            const char *kind = obj ? eg_node_str(obj, "kind") : NULL;
            if (!name || !kind) {
                if (pass == 0)
                    eg_error("store: %s is not a valid object, skipped", kvs[i].key);
                eg_node_free(obj);
                continue;
            }
            if ((size_t)kind_order(kind) != pass) {
                eg_node_free(obj);
                continue;
            }
            eg_object_entry *e = calloc(1, sizeof *e);
            eg_submit_result r = { 0 };
            if (!build(s, obj, kind, e, NULL, &r)) {
                e->error = strdup(r.message);
                eg_error("object %s (%s) does not build: %s", name, kind, r.message);
            }
            eg_submit_result_free(&r);
            e->name = strdup(name);
            e->kind = strdup(kind);
            e->spec = obj;
            const char *created = eg_node_str(obj, "createdAt");
            e->created_at = created ? strdup(created) : now_rfc3339();
            e->revision = kvs[i].mod_revision;
            eg_strmap_put(&s->objects, name, strlen(name), e);
            install_generated(s, e);
        }
    }
    eg_kv_free_all(kvs, n);
    eg_info("loaded %zu objects (store revision %lld)", s->objects.count, (long long)eg_store_revision(s->store));
}

void eg_supervisor_start(eg_supervisor *s)
{
    load_objects(s);
    s->workers = calloc((size_t)s->nworkers, sizeof *s->workers);
    eg_snapshot *snap = snapshot_of(s);
    for (int i = 0; i < s->nworkers; i++)
        s->workers[i] = eg_worker_start(i, s->nworkers, snap, s->init_script);
}

void eg_supervisor_stop(eg_supervisor *s, uint64_t drain_ms)
{
    if (!s->workers)
        return;
    for (int i = 0; i < s->nworkers; i++)
        eg_worker_stop(s->workers[i], drain_ms);
    for (int i = 0; i < s->nworkers; i++)
        eg_worker_join_free(s->workers[i]);
    free(s->workers);
    s->workers = NULL;
}

void eg_supervisor_free(eg_supervisor *s)
{
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&s->objects, &i, &slot);)
        entry_free(slot->value);
    eg_strmap_free(&s->objects);
    eg_stats_registry_free(&s->stats);
    eg_health_checker_close(&s->health);
    eg_custom_data_free(s->custom_data);
    s->custom_data = NULL;
}
