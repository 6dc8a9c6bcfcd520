/* admin_api.c — Easegress's admin REST API (/apis/v2, with /apis/v1 as an alias) on the
 * main thread's loop, answering synchronously. */
#define _GNU_SOURCE
#include "admin_api.h"
#include "admin_dashboard.h"

#include "admin_meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "buf.h"
#include "custom_data.h"
#include "log.h"
#include "object.h"
#include "pipeline.h"
#include "prometheus.h"

#define VERSION_TEXT "Easegress-C 0.1.0 (Easegress v2 API)"

typedef struct {
    eg_arena *arena;
    eg_response resp;
    bool yaml;
} reply;

static bool wants_yaml(const eg_request *req)
{
    const eg_header *h = eg_headers_find(&req->headers, "Accept", 6);
    return h && memmem(h->value, h->value_len, "yaml", 4);
}

static void send_node(reply *rp, int status, const eg_node *n)
{
    size_t len;
    char *text = rp->yaml ? eg_node_to_yaml(n, &len) : eg_node_to_json(n, false, &len);
    eg_response_set(rp->arena, &rp->resp, status, rp->yaml ? "text/x-yaml" : "application/json", text, len);
    free(text);
}

static void send_error(reply *rp, int status, const char *message)
{
    eg_node *n = eg_node_new(EG_NODE_MAP);
    eg_node_map_set(n, "code", eg_node_new_int(status));
    eg_node_map_set(n, "message", eg_node_new_str(message));
    bool yaml = rp->yaml;
    rp->yaml = false; /* errors are always JSON */
    send_node(rp, status, n);
    rp->yaml = yaml;
    eg_node_free(n);
}

static void send_text(reply *rp, int status, const char *text)
{
    eg_response_set(rp->arena, &rp->resp, status, "text/plain; charset=utf-8", text, strlen(text));
}

static void add_warnings(reply *rp, const eg_submit_result *r)
{
    for (size_t i = 0; i < r->nwarnings; i++) {
        eg_buf b = { 0 };
        eg_buf_appends(&b, "299 - \"");
        for (const char *p = r->warnings[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                eg_buf_append(&b, "\\", 1);
            if (*p != '\r' && *p != '\n')
                eg_buf_append(&b, p, 1);
        }
        eg_buf_appends(&b, "\"");
        eg_headers_add(rp->arena, &rp->resp.headers, "Warning", 7, b.data, b.len);
        eg_buf_free(&b);
    }
}

static void add_revision(reply *rp, int64_t rev)
{
    char v[32];
    snprintf(v, sizeof v, "%lld", (long long)rev);
    eg_headers_sets(rp->arena, &rp->resp.headers, "X-Config-Version", v);
}

/* ---- objects ---- */

static eg_node *parse_body(reply *rp, const eg_request *req)
{
    if (!req->body_len) {
        send_error(rp, 400, "empty body: send one object as YAML or JSON");
        return NULL;
    }
    char err[512];
    eg_node **docs = NULL;
    int n = eg_yaml_parse_docs(req->body, req->body_len, &docs, err, sizeof err);
    if (n < 0) {
        char msg[600];
        snprintf(msg, sizeof msg, "invalid YAML or JSON: %s", err);
        send_error(rp, 400, msg);
        return NULL;
    }
    if (n != 1) {
        eg_node_free_docs(docs, n);
        send_error(rp, 400, n == 0 ? "empty body: send one object" : "send one object per request");
        return NULL;
    }
    eg_node *obj = docs[0];
    free(docs);
    return obj;
}

static void objects_submit(eg_admin_api *api, reply *rp, const eg_request *req, bool create, const char *name)
{
    eg_node *obj = parse_body(rp, req);
    if (!obj)
        return;
    eg_submit_result r;
    eg_supervisor_apply(api->supervisor, obj, create, name, &r);
    eg_node_free(obj);
    add_warnings(rp, &r);
    if (r.status >= 300) {
        send_error(rp, r.status, r.message);
    } else {
        add_revision(rp, r.revision);
        eg_response_set(rp->arena, &rp->resp, r.status, NULL, NULL, 0);
    }
    eg_submit_result_free(&r);
}

static eg_node *object_with_meta(const eg_object_entry *e)
{
    eg_node *n = eg_node_clone(e->spec);
    return n;
}

static void objects_list(eg_admin_api *api, reply *rp)
{
    size_t n;
    eg_object_entry **v = eg_supervisor_list(api->supervisor, &n);
    eg_node *list = eg_node_new(EG_NODE_SEQ);
    for (size_t i = 0; i < n; i++)
        eg_node_seq_push(list, object_with_meta(v[i]));
    free(v);
    send_node(rp, 200, list);
    eg_node_free(list);
}

/* all-namespaces: {"default": [...]}; another namespace: an empty list. */
static void objects_list_namespaces(eg_admin_api *api, reply *rp, bool all)
{
    if (!all) {
        eg_node *empty = eg_node_new(EG_NODE_SEQ);
        send_node(rp, 200, empty);
        eg_node_free(empty);
        return;
    }
    size_t n;
    eg_object_entry **v = eg_supervisor_list(api->supervisor, &n);
    eg_node *list = eg_node_new(EG_NODE_SEQ);
    for (size_t i = 0; i < n; i++)
        eg_node_seq_push(list, object_with_meta(v[i]));
    free(v);
    eg_node *m = eg_node_new(EG_NODE_MAP);
    eg_node_map_set(m, "default", list);
    send_node(rp, 200, m);
    eg_node_free(m);
}

static void objects_delete_all(eg_admin_api *api, reply *rp)
{
    size_t n;
    eg_object_entry **v = eg_supervisor_list(api->supervisor, &n);
    char **names = malloc(sizeof *names * (n + 1));
    for (size_t i = 0; i < n; i++)
        names[i] = strdup(v[i]->name);
    free(v);
    int64_t rev = 0;
    for (size_t i = 0; i < n; i++) {
        eg_submit_result r;
        eg_supervisor_delete(api->supervisor, names[i], &r);
        if (r.revision)
            rev = r.revision;
        eg_submit_result_free(&r);
        free(names[i]);
    }
    free(names);
    if (rev)
        add_revision(rp, rev);
    eg_response_set(rp->arena, &rp->resp, 200, NULL, NULL, 0);
}

static void status_of(eg_admin_api *api, reply *rp, const char *name)
{
    if (name) {
        eg_object_entry *e = eg_supervisor_get(api->supervisor, name);
        if (!e) {
            char msg[300];
            snprintf(msg, sizeof msg, "not found object %s", name);
            send_error(rp, 404, msg);
            return;
        }
        eg_node *m = eg_node_new(EG_NODE_MAP);
        eg_node_map_set(m, api->member_name, eg_supervisor_status(api->supervisor, e));
        send_node(rp, 200, m);
        eg_node_free(m);
        return;
    }
    size_t n;
    eg_object_entry **v = eg_supervisor_list(api->supervisor, &n);
    eg_node *all = eg_node_new(EG_NODE_MAP);
    for (size_t i = 0; i < n; i++) {
        eg_node *m = eg_node_new(EG_NODE_MAP);
        eg_node_map_set(m, api->member_name, eg_supervisor_status(api->supervisor, v[i]));
        eg_node_map_set(all, v[i]->name, m);
    }
    free(v);
    send_node(rp, 200, all);
    eg_node_free(all);
}

static void format_time(time_t t, char *buf, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void members(eg_admin_api *api, reply *rp)
{
    char start[40], beat[40];
    format_time(api->start_time, start, sizeof start);
    format_time(api->last_heartbeat ? api->last_heartbeat : api->start_time, beat, sizeof beat);
    eg_node *opts = eg_node_new(EG_NODE_MAP);
    eg_node_map_set(opts, "Name", eg_node_new_str(api->member_name));
    eg_node_map_set(opts, "ClusterName", eg_node_new_str(api->cluster_name));
    eg_node_map_set(opts, "ClusterRole", eg_node_new_str("primary"));
    eg_node_map_set(opts, "APIAddr", eg_node_new_str(api->api_addr));
    eg_node_map_set(opts, "DataDir", eg_node_new_str(api->data_dir));
    eg_node_map_set(opts, "Workers", eg_node_new_int(api->supervisor->nworkers));
    eg_node *etcd = eg_node_new(EG_NODE_MAP);
    eg_node_map_set(etcd, "id", eg_node_new_str(api->member_name));
    eg_node_map_set(etcd, "startTime", eg_node_new_str(start));
    eg_node_map_set(etcd, "state", eg_node_new_str("Leader"));
    eg_node *m = eg_node_new(EG_NODE_MAP);
    eg_node_map_set(m, "options", opts);
    eg_node_map_set(m, "lastHeartbeatTime", eg_node_new_str(beat));
    eg_node_map_set(m, "health", eg_node_new_str(api->health[0] ? api->health : "healthy"));
    eg_node_map_set(m, "etcd", etcd);
    eg_node_map_set(m, "version", eg_node_new_str(VERSION_TEXT));
    eg_node *list = eg_node_new(EG_NODE_SEQ);
    eg_node_seq_push(list, m);
    send_node(rp, 200, list);
    eg_node_free(list);
}

static void object_kinds(reply *rp, bool resources)
{
    size_t n;
    const eg_object_kind *k = eg_object_kinds(&n);
    eg_node *list = eg_node_new(EG_NODE_SEQ);
    for (size_t i = 0; i < n; i++) {
        if (!resources) {
            eg_node_seq_push(list, eg_node_new_str(k[i].kind));
            continue;
        }
        eg_node *r = eg_node_new(EG_NODE_MAP);
        eg_node_map_set(r, "kind", eg_node_new_str(k[i].kind));
        eg_node_map_set(r, "name", eg_node_new_str(k[i].plural));
        eg_node *aliases = eg_node_new(EG_NODE_SEQ);
        for (size_t j = 0; j < 4 && k[i].aliases[j]; j++)
            eg_node_seq_push(aliases, eg_node_new_str(k[i].aliases[j]));
        eg_node_map_set(r, "aliases", aliases);
        eg_node_map_set(r, "category", eg_node_new_str(k[i].category));
        eg_node_seq_push(list, r);
    }
    send_node(rp, 200, list);
    eg_node_free(list);
}

static void filter_kinds(reply *rp)
{
    size_t n;
    const eg_filter_kind *const *k = eg_filter_kinds(&n);
    eg_node *list = eg_node_new(EG_NODE_SEQ);
    for (size_t i = 0; i < n; i++)
        eg_node_seq_push(list, eg_node_new_str(k[i]->name));
    send_node(rp, 200, list);
    eg_node_free(list);
}

/* /metadata/objects/pipeline/filters/{kind}/results: what jumpIf may route on. */
static void filter_results(reply *rp, const char *kind)
{
    const eg_filter_kind *k = eg_filter_kind_find(kind);
    if (!k) {
        char msg[400];
        snprintf(msg, sizeof msg, "filter kind %s not found", kind);
        send_error(rp, 404, msg);
        return;
    }
    eg_node *list = eg_node_new(EG_NODE_SEQ);
    for (const char *const *r = k->results; r && *r; r++)
        eg_node_seq_push(list, eg_node_new_str(*r));
    send_node(rp, 200, list);
    eg_node_free(list);
}

/* ---- dispatch ---- */

static void send_metrics(eg_admin_api *api, reply *rp)
{
    size_t len;
    char *text = eg_prometheus_render(api->supervisor, api->cluster_name, api->member_name, &len);
    eg_response_set(rp->arena, &rp->resp, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

static bool query_has(const eg_request *req, const char *kv)
{
    if (!req->query)
        return false;
    size_t n = strlen(kv);
    for (const char *p = req->query; p && *p;) {
        if (strncmp(p, kv, n) == 0 && (p[n] == 0 || p[n] == '&'))
            return true;
        p = strchr(p, '&');
        if (p)
            p++;
    }
    return false;
}

/* ?namespace=NS and ?all-namespaces=true (Easegress's parseNamespaces). Every object here
 * lives in the "default" namespace. Returns false after answering a conflicting pair. */
static bool namespaces_of(reply *rp, const eg_request *req, bool *all, bool *other)
{
    char ns[256] = "";
    *all = query_has(req, "all-namespaces=true") || query_has(req, "all-namespaces=1");
    for (const char *p = req->query; p && *p;) {
        size_t len = strcspn(p, "&");
        if (len > 10 && strncmp(p, "namespace=", 10) == 0)
            snprintf(ns, sizeof ns, "%.*s", (int)(len - 10), p + 10);
        p = p[len] ? p + len + 1 : NULL;
    }
    if (*all && *ns) {
        send_error(rp, 400, "conflict query params, can't set all-namespaces and namespace at the same time");
        return false;
    }
    *other = *ns && strcmp(ns, "default") != 0;
    return true;
}

/* /customdatakinds and /customdata (custom_data.c answers; this only sends). */
static bool custom_data(eg_admin_api *api, reply *rp, const eg_request *req, const char *path)
{
    eg_custom_data_reply r;
    if (!eg_custom_data_api(api->supervisor->custom_data, req->method, path, req->body, req->body_len, &r))
        return false;
    if (r.status >= 400) {
        send_error(rp, r.status, r.message);
    } else {
        if (r.body)
            send_node(rp, r.status, r.body);
        else
            eg_response_set(rp->arena, &rp->resp, r.status, NULL, NULL, 0);
        if (r.revision)
            add_revision(rp, r.revision);
        if (r.location[0])
            eg_headers_sets(rp->arena, &rp->resp.headers, "Location", r.location);
    }
    eg_node_free(r.body);
    return true;
}

static void route(eg_admin_api *api, reply *rp, const eg_request *req)
{
    const char *path = req->path;
    const char *m = req->method;
    if (eg_admin_dashboard_route(rp->arena, &rp->resp, req))
        return;   /* /dashboard: the web UI's files */
    if (!strcmp(path, "/metrics") && (!strcmp(m, "GET") || !strcmp(m, "HEAD"))) {
        send_metrics(api, rp);   /* where Prometheus looks by default */
        return;
    }
    if (strncmp(path, "/apis/v2", 8) == 0 || strncmp(path, "/apis/v1", 8) == 0)
        path += 8;
    else {
        send_error(rp, 404, "not found: the admin API lives under /apis/v2");
        return;
    }
    bool get = !strcmp(m, "GET") || !strcmp(m, "HEAD");
    char name[300] = "";
    char meta_err[300];
    int meta = eg_admin_meta_handle(m, path, rp->yaml, rp->arena, &rp->resp, meta_err, sizeof meta_err);
    if (meta >= 0) {
        if (meta > 0)
            send_error(rp, meta, meta_err);
    } else if (!strcmp(path, "/healthz") && get) {
        eg_response_set(rp->arena, &rp->resp, 200, NULL, NULL, 0);
    } else if (!strcmp(path, "/about") && get) {
        send_text(rp, 200, VERSION_TEXT "\n");
    } else if (!strcmp(path, "/metrics") && get) {
        send_metrics(api, rp);
    } else if (!strcmp(path, "/object-kinds") && get) {
        object_kinds(rp, false);
    } else if (!strcmp(path, "/object-api-resources") && get) {
        object_kinds(rp, true);
    } else if (!strcmp(path, "/metadata/objects/pipeline/filters") && get) {
        filter_kinds(rp);
    } else if (sscanf(path, "/metadata/objects/pipeline/filters/%299[^/]/results", name) == 1 && get &&
               strlen(path) == strlen("/metadata/objects/pipeline/filters//results") + strlen(name)) {
        filter_results(rp, name);
    } else if (!strcmp(path, "/objects")) {
        bool all_ns, other_ns;
        if (get && !namespaces_of(rp, req, &all_ns, &other_ns))
            return;
        if (get && (all_ns || other_ns))
            objects_list_namespaces(api, rp, all_ns);
        else if (get)
            objects_list(api, rp);
        else if (!strcmp(m, "POST"))
            objects_submit(api, rp, req, true, NULL);
        else if (!strcmp(m, "DELETE") && query_has(req, "all=true"))
            objects_delete_all(api, rp);
        else
            send_error(rp, 405, "method not allowed");
    } else if (sscanf(path, "/objects/%299[^/]", name) == 1 && strlen(path) == 9 + strlen(name)) {
        eg_object_entry *e = eg_supervisor_get(api->supervisor, name);
        bool all_ns, other_ns;
        if (get && !namespaces_of(rp, req, &all_ns, &other_ns))
            return;
        if (get && other_ns)
            e = NULL; /* no other namespace holds objects */
        if (get) {
            if (!e) {
                char msg[400];
                snprintf(msg, sizeof msg, "not found object %s", name);
                send_error(rp, 404, msg);
            } else {
                eg_node *n = object_with_meta(e);
                send_node(rp, 200, n);
                eg_node_free(n);
            }
        } else if (!strcmp(m, "PUT")) {
            objects_submit(api, rp, req, false, name);
        } else if (!strcmp(m, "DELETE")) {
            eg_submit_result r;
            eg_supervisor_delete(api->supervisor, name, &r);
            if (r.status >= 300)
                send_error(rp, r.status, r.message);
            else {
                add_revision(rp, r.revision);
                eg_response_set(rp->arena, &rp->resp, 200, NULL, NULL, 0);
            }
            eg_submit_result_free(&r);
        } else {
            send_error(rp, 405, "method not allowed");
        }
    } else if (!strcmp(path, "/status/objects") && get) {
        status_of(api, rp, NULL);
    } else if (sscanf(path, "/status/objects/%299[^/]", name) == 1 && get) {
        status_of(api, rp, name);
    } else if (!strcmp(path, "/status/members") && get) {
        members(api, rp);
    } else if (!strncmp(path, "/logs", 5) && (path[5] == '\0' || path[5] == '/')) {
        char err[200];
        int st = eg_admin_logs_handle(api->logs, m, path, req->query, rp->arena, &rp->resp, err, sizeof err);
        if (st != 0)
            send_error(rp, st < 0 ? 404 : st, st < 0 ? "not found" : err);
    } else if (custom_data(api, rp, req, path)) {
        /* answered */
    } else {
        send_error(rp, 404, "not found");
    }
}

static int64_t body_limit(void *ud, const eg_request *req)
{
    (void)ud;
    (void)req;
    return 16 * 1024 * 1024;
}

static void handle(void *ud, eg_http1_conn *conn, eg_request *req, eg_arena *arena)
{
    eg_admin_api *api = ud;
    reply *rp = eg_arena_alloc(arena, sizeof *rp);
    memset(rp, 0, sizeof *rp);
    rp->arena = arena;
    rp->yaml = wants_yaml(req);
    eg_http1_set_pending(conn, rp);
    route(api, rp, req);
    eg_debug("admin: %s %s -> %d", req->method, req->path, rp->resp.status);
    eg_http1_respond(conn, &rp->resp);
}

static void finished(void *ud, void *pending, int error, uint64_t bytes)
{
    (void)error;
    (void)bytes;
    eg_admin_api *api = ud;
    reply *rp = pending;
    eg_arena_pool_put(&api->arenas, rp->arena);
}

static const eg_http1_hooks admin_hooks = {
    .body_limit = body_limit,
    .handle = handle,
    .abort = NULL,
    .finished = finished,
};

static void on_connection(uv_stream_t *s, int status)
{
    eg_admin_api *api = s->data;
    if (status == 0)
        eg_http1_accept(&api->http, s);
}

int eg_admin_api_start(eg_admin_api *api, uv_loop_t *loop, int fd)
{
    api->http.loop = loop;
    api->http.hooks = &admin_hooks;
    api->http.ud = api;
    eg_http1_finisher_init(&api->finisher, loop);
    api->http.finisher = &api->finisher;
    api->http.arenas = &api->arenas;
    api->http.read_buf = api->read_buf;
    api->http.read_buf_size = sizeof api->read_buf;
    api->http.config = (eg_http1_config){
        .max_head_size = 64 * 1024,
        .header_timeout_ms = 30000,
        .idle_timeout_ms = 60000,
        .body_timeout_ms = 60000,
        .keep_alive = true,
        .scheme = "http",
    };
    uv_tcp_init(loop, &api->tcp);
    api->tcp.data = api;
    int rc = uv_tcp_open(&api->tcp, fd);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&api->tcp, 128, on_connection);
    if (rc == 0 && !(api->logs = eg_admin_logs_start(loop)))
        rc = UV_ENOMEM;
    return rc;
}

void eg_admin_api_stop(eg_admin_api *api)
{
    uv_close((uv_handle_t *)&api->tcp, NULL);
    eg_http1_server_close_all(&api->http);
    eg_http1_finisher_close(&api->finisher);
    eg_arena_pool_free(&api->arenas);
    eg_admin_logs_stop(api->logs); /* after close_all: that aborted the follows */
    api->logs = NULL;
}
