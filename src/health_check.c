/* health_check.c — active health checks of Proxy pool servers; see health_check.h. */
#define _GNU_SOURCE
#define PCRE2_CODE_UNIT_WIDTH 8
#include "health_check.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arena.h"
#include "buf.h"
#include "log.h"
#include "request_matcher.h"
#include "upstream.h"

#define BODY_KEEP (64 * 1024)   /* what a body match looks at */

typedef struct {
    char *name, *value;
    pcre2_code *re;              /* type regexp */
} header_match;

struct eg_health_spec {
    int64_t interval_ms, timeout_ms;
    int64_t fails, passes, port;
    char *uri, *method, *body, *username, *password;
    char **header_names, **header_values;
    size_t nheaders;
    int64_t (*codes)[2];
    size_t ncodes;
    header_match *match_headers;
    size_t nmatch_headers;
    char *body_value;
    pcre2_code *body_re;         /* body type regexp; else contains */
};

/* ---- the spec ---- */

/* Go's url.Parse refuses control characters and malformed %-escapes. */
static bool uri_valid(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return false;
        if (*p == '%' && !(isxdigit(p[1]) && isxdigit(p[2])))
            return false;
    }
    return true;
}

static pcre2_code *compile(eg_dec *d, const char *field, const char *what, const char *pattern)
{
    char err[300];
    if (!eg_regexp_check(pattern, err, sizeof err)) {
        eg_dec_fail(d, field, "invalid match %s regex: %s (%s)", what, pattern, err);
        return NULL;
    }
    int code;
    PCRE2_SIZE off;
    return pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code,
                         &off, NULL);
}

static void spec_free(eg_health_spec *s)
{
    if (!s)
        return;
    free(s->uri), free(s->method), free(s->body), free(s->username), free(s->password);
    for (size_t i = 0; i < s->nheaders; i++)
        free(s->header_names[i]), free(s->header_values[i]);
    free(s->header_names), free(s->header_values);
    free(s->codes);
    for (size_t i = 0; i < s->nmatch_headers; i++) {
        free(s->match_headers[i].name), free(s->match_headers[i].value);
        pcre2_code_free(s->match_headers[i].re);
    }
    free(s->match_headers);
    free(s->body_value);
    pcre2_code_free(s->body_re);
    free(s);
}

/* match.headers[i]: {name, value, type exact|regexp}. */
static void decode_match_header(eg_dec *d, const eg_node *n, header_match *h)
{
    char *type = NULL;
    if (n->type != EG_NODE_MAP) {
        eg_dec_fail(d, NULL, "must be an object");
        return;
    }
    eg_dec_string(d, n, "name", &h->name, false);
    eg_dec_string(d, n, "value", &h->value, false);
    eg_dec_string(d, n, "type", &type, false);
    eg_dec_check_unknown(d, n);
    if (eg_dec_ok(d) && (!h->name || !h->name[0]))
        eg_dec_fail(d, "name", "empty match header name");
    else if (eg_dec_ok(d) && type && type[0] && strcmp(type, "exact") && strcmp(type, "regexp"))
        eg_dec_fail(d, "type", "invalid match header type: %s (exact or regexp)", type);
    else if (eg_dec_ok(d) && type && !strcmp(type, "regexp"))
        h->re = compile(d, "value", "header", h->value ? h->value : "");
    free(type);
}

static void decode_match(eg_dec *d, const eg_node *m, eg_health_spec *s)
{
    eg_dec_enter(d, "match");
    const eg_node *codes = eg_dec_seq(d, m, "statusCodes", false);
    for (size_t i = 0; codes && eg_dec_ok(d) && i < codes->count; i++) {
        const eg_node *r = codes->items[i];
        eg_dec_enter(d, "statusCodes");
        eg_dec_enter_index(d, i);
        if (r->type != EG_NODE_SEQ || r->count != 2 || r->items[0]->type != EG_NODE_INT ||
            r->items[1]->type != EG_NODE_INT) {
            eg_dec_fail(d, NULL, "invalid status code range: must be [low, high]");
        } else if (r->items[0]->v.i > r->items[1]->v.i) {
            eg_dec_fail(d, NULL, "invalid status code range: [%lld, %lld]", (long long)r->items[0]->v.i,
                        (long long)r->items[1]->v.i);
        } else {
            s->codes = realloc(s->codes, (s->ncodes + 1) * sizeof *s->codes);
            s->codes[s->ncodes][0] = r->items[0]->v.i;
            s->codes[s->ncodes][1] = r->items[1]->v.i;
            s->ncodes++;
        }
        eg_dec_leave(d);
        eg_dec_leave(d);
    }
    const eg_node *hs = eg_dec_seq(d, m, "headers", false);
    for (size_t i = 0; hs && eg_dec_ok(d) && i < hs->count; i++) {
        eg_dec_enter(d, "headers");
        eg_dec_enter_index(d, i);
        s->match_headers = realloc(s->match_headers, (s->nmatch_headers + 1) * sizeof *s->match_headers);
        header_match *h = &s->match_headers[s->nmatch_headers++];
        memset(h, 0, sizeof *h);
        decode_match_header(d, hs->items[i], h);
        eg_dec_leave(d);
        eg_dec_leave(d);
    }
    const eg_node *body = eg_dec_map(d, m, "body", false);
    if (body && eg_dec_ok(d)) {
        char *type = NULL;
        eg_dec_enter(d, "body");
        eg_dec_string(d, body, "value", &s->body_value, false);
        eg_dec_string(d, body, "type", &type, false);
        eg_dec_check_unknown(d, body);
        if (eg_dec_ok(d) && type && type[0] && strcmp(type, "contains") && strcmp(type, "regexp"))
            eg_dec_fail(d, "type", "invalid match body type: %s (contains or regexp)", type);
        else if (eg_dec_ok(d) && type && !strcmp(type, "regexp"))
            s->body_re = compile(d, "value", "body", s->body_value ? s->body_value : "");
        eg_dec_leave(d);
        free(type);
    }
    eg_dec_check_unknown(d, m);
    eg_dec_leave(d);
}

/* Easegress's ProxyHealthCheckSpec, or with `legacy` the deprecated loadBalance.healthCheck
 * (interval, path, timeout, fails, passes only). */
static eg_health_spec *spec_decode(eg_dec *d, const eg_node *n, bool legacy)
{
    static const char *const counts[] = { "fails", "passes" };
    eg_health_spec *s = calloc(1, sizeof *s);
    eg_dec_duration_ms(d, n, "interval", &s->interval_ms, false);
    eg_dec_duration_ms(d, n, "timeout", &s->timeout_ms, false);
    int64_t *count_fields[] = { &s->fails, &s->passes };
    for (size_t i = 0; i < 2; i++) {
        *count_fields[i] = 1;
        if (eg_dec_int(d, n, counts[i], count_fields[i], false) && *count_fields[i] < 1)
            eg_dec_fail(d, counts[i], "must be at least 1, got %lld", (long long)*count_fields[i]);
    }
    eg_dec_string(d, n, "path", &s->uri, false);
    if (!legacy) {
        char *uri = NULL;
        if (eg_dec_int(d, n, "port", &s->port, false) && (s->port < 0 || s->port > 65535))
            eg_dec_fail(d, "port", "invalid port: %lld", (long long)s->port);
        if (eg_dec_string(d, n, "uri", &uri, false) && uri && !uri_valid(uri))
            eg_dec_fail(d, "uri", "invalid URI \"%s\"", uri);
        if (uri) {
            free(s->uri);
            s->uri = uri;
        }
        if (eg_dec_string(d, n, "method", &s->method, false) && s->method && s->method[0] &&
            !eg_http_method_valid(s->method))
            eg_dec_fail(d, "method", "invalid method: %s", s->method);
        const eg_node *hs = eg_dec_map(d, n, "headers", false);
        for (size_t i = 0; hs && eg_dec_ok(d) && i < hs->count; i++) {
            eg_dec_enter(d, "headers");
            if (hs->items[i]->type != EG_NODE_STRING) {
                eg_dec_fail(d, hs->keys[i], "expected a string");
            } else {
                hs->items[i]->used = true;
                s->header_names = realloc(s->header_names, (s->nheaders + 1) * sizeof *s->header_names);
                s->header_values = realloc(s->header_values, (s->nheaders + 1) * sizeof *s->header_values);
                s->header_names[s->nheaders] = strdup(hs->keys[i]);
                s->header_values[s->nheaders] = strdup(hs->items[i]->text);
                s->nheaders++;
            }
            eg_dec_leave(d);
        }
        eg_dec_string(d, n, "body", &s->body, false);
        eg_dec_string(d, n, "username", &s->username, false);
        eg_dec_string(d, n, "password", &s->password, false);
        bool has_user = s->username && s->username[0], has_password = s->password && s->password[0];
        if (eg_dec_ok(d) && has_user != has_password)
            eg_dec_fail(d, has_user ? "password" : "username", has_user ? "empty password" : "empty username");
        const eg_node *m = eg_dec_map(d, n, "match", false);
        if (m && eg_dec_ok(d))
            decode_match(d, m, s);
    }
    eg_dec_check_unknown(d, n);
    if (!eg_dec_ok(d)) {
        spec_free(s);
        return NULL;
    }
    /* Easegress's defaults for a missing or zero interval and timeout. */
    if (s->interval_ms <= 0)
        s->interval_ms = 60000;
    if (s->timeout_ms <= 0)
        s->timeout_ms = 3000;
    return s;
}

bool eg_health_spec_check(eg_dec *d, const eg_node *n, bool legacy)
{
    eg_health_spec *s = spec_decode(d, n, legacy);
    spec_free(s);
    return s != NULL;
}

/* ---- targets ---- */

struct eg_health_target {
    atomic_int refs;
    _Atomic bool healthy;
    /* Main thread only: */
    eg_health_checker *checker;
    char *key;
    eg_health_spec *spec;
    struct sockaddr_storage addr;
    char pool_key[80];
    char *host_header;
    uv_timer_t timer;
    int fails_in_row, passes_in_row;
    struct probe *probe;         /* in flight, or NULL */
};

typedef struct probe {
    eg_upstream_call call;
    eg_health_target *target;
    eg_arena arena;
    eg_buf head;
    eg_buf body;
    eg_body_sink sink;
    eg_body_stream *stream;
    int status;
    eg_headers headers;
} probe;

static bool status_ok(const eg_health_spec *s, int status)
{
    if (!s->ncodes)
        return status >= 200 && status < 400;
    for (size_t i = 0; i < s->ncodes; i++)
        if (status >= s->codes[i][0] && status <= s->codes[i][1])
            return true;
    return false;
}

static bool re_matches(pcre2_code *re, const char *s, size_t len)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

static bool headers_ok(const eg_health_spec *s, const eg_headers *h)
{
    for (size_t i = 0; i < s->nmatch_headers; i++) {
        const header_match *m = &s->match_headers[i];
        const eg_header *got = eg_headers_find(h, m->name, strlen(m->name));
        const char *v = got ? got->value : "";
        size_t vlen = got ? got->value_len : 0;
        if (m->re ? !re_matches(m->re, v, vlen)
                  : !(vlen == strlen(m->value ? m->value : "") && !memcmp(v, m->value ? m->value : "", vlen)))
            return false;
    }
    return true;
}

static bool body_ok(const eg_health_spec *s, const eg_buf *b)
{
    if (!s->body_value || !*s->body_value)
        return true;
    const char *data = b->data ? b->data : "";
    if (s->body_re)
        return re_matches(s->body_re, data, b->len);
    return memmem(data, b->len, s->body_value, strlen(s->body_value)) != NULL;
}

static void probe_free(probe *p)
{
    eg_buf_free(&p->head);
    eg_buf_free(&p->body);
    eg_arena_free(&p->arena);
    free(p);
}

static void verdict(eg_health_target *t, bool ok, const char *why)
{
    const eg_health_spec *s = t->spec;
    if (ok) {
        t->fails_in_row = 0;
        t->passes_in_row++;
        if (!atomic_load(&t->healthy) && t->passes_in_row >= s->passes) {
            atomic_store(&t->healthy, true);
            eg_info("health check %s: healthy again", t->key);
        }
    } else {
        t->passes_in_row = 0;
        t->fails_in_row++;
        if (atomic_load(&t->healthy) && t->fails_in_row >= s->fails) {
            atomic_store(&t->healthy, false);
            eg_warn("health check %s: unhealthy (%s)", t->key, why);
        }
    }
}

static void target_free(eg_health_target *t)
{
    spec_free(t->spec);
    free(t->host_header);
    free(t->key);
    free(t);
}

static void timer_closed(uv_handle_t *h)
{
    target_free(h->data);
}

/* A probe ended: judge it, unless its target is going away. */
static void probe_done(probe *p, bool ok, const char *why)
{
    eg_health_target *t = p->target;
    t->probe = NULL;
    verdict(t, ok, why);
    probe_free(p);
}

static bool on_body(eg_body_sink *sink, const char *data, size_t len)
{
    probe *p = (probe *)((char *)sink - offsetof(probe, sink));
    if (p->body.len < BODY_KEEP)
        eg_buf_append(&p->body, data, len < BODY_KEEP - p->body.len ? len : BODY_KEEP - p->body.len);
    return true;
}

static void on_body_end(eg_body_sink *sink, int error)
{
    probe *p = (probe *)((char *)sink - offsetof(probe, sink));
    const eg_health_spec *s = p->target->spec;
    char why[64];
    snprintf(why, sizeof why, "status %d", p->status);
    if (error)
        probe_done(p, false, "the response body broke off");
    else if (!status_ok(s, p->status))
        probe_done(p, false, why);
    else if (!headers_ok(s, &p->headers))
        probe_done(p, false, "headers do not match");
    else if (!body_ok(s, &p->body))
        probe_done(p, false, "body does not match");
    else
        probe_done(p, true, NULL);
}

static void on_response(eg_upstream_call *c, int status, eg_headers *headers, int64_t len, eg_body_stream *body)
{
    (void)len;
    probe *p = (probe *)c;
    p->status = status;
    p->headers = *headers;
    p->stream = body;
    p->sink.write = on_body;
    p->sink.end = on_body_end;
    body->attach(body, &p->sink);
}

static void on_error(eg_upstream_call *c, eg_upstream_error err, const char *detail)
{
    (void)err;
    probe_done((probe *)c, false, detail ? detail : "no response");
}

static void send_probe(eg_health_target *t)
{
    const eg_health_spec *s = t->spec;
    probe *p = calloc(1, sizeof *p);
    p->target = t;
    eg_arena_init(&p->arena, 4096);
    eg_buf_printf(&p->head, "%s %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Easegress-C health check\r\n",
                  s->method && *s->method ? s->method : "GET", s->uri && *s->uri == '/' ? "" : "/",
                  s->uri ? s->uri : "", t->host_header);
    if (s->username || s->password) {
        char plain[512], coded[700];
        int n = snprintf(plain, sizeof plain, "%s:%s", s->username ? s->username : "", s->password ? s->password : "");
        if (n > 0 && (size_t)n < sizeof plain) {
            EVP_EncodeBlock((unsigned char *)coded, (const unsigned char *)plain, n);
            eg_buf_printf(&p->head, "Authorization: Basic %s\r\n", coded);
        }
    }
    for (size_t i = 0; i < s->nheaders; i++)
        eg_buf_printf(&p->head, "%s: %s\r\n", s->header_names[i], s->header_values[i]);
    size_t blen = s->body ? strlen(s->body) : 0;
    if (blen)
        eg_buf_printf(&p->head, "Content-Length: %zu\r\n", blen);
    eg_buf_append(&p->head, "\r\n", 2);
    p->call.addr = (const struct sockaddr *)&t->addr;
    p->call.pool_key = t->pool_key;
    p->call.head = uv_buf_init(p->head.data, (unsigned)p->head.len);
    p->call.body = s->body;
    p->call.body_len = blen;
    p->call.head_method = s->method && !strcmp(s->method, "HEAD");
    p->call.timeout_ms = (uint64_t)s->timeout_ms;
    p->call.max_idle = 0;   /* a probe opens its own connection, as Easegress's checker */
    p->call.arena = &p->arena;
    p->call.on_response = on_response;
    p->call.on_error = on_error;
    t->probe = p;
    eg_upstream_start(t->checker->conns, &p->call);
}

static void on_tick(uv_timer_t *timer)
{
    eg_health_target *t = timer->data;
    if (!t->probe)   /* a slow probe is not overlapped by the next one */
        send_probe(t);
}

eg_health_target *eg_health_acquire(eg_health_checker *c, const char *key, const eg_node *spec_node,
                                    const struct sockaddr *addr, const char *host_header)
{
    if (!c->loop)
        return NULL;
    eg_health_target *t = eg_strmap_get(&c->targets, key, strlen(key));
    if (t) {
        atomic_fetch_add(&t->refs, 1);
        return t;
    }
    eg_dec d;
    eg_dec_init(&d, false);
    eg_health_spec *s = spec_decode(&d, spec_node, false);
    eg_dec_free(&d);
    if (!s)
        return NULL;   /* validated when the Proxy was built: cannot happen */
    t = calloc(1, sizeof *t);
    atomic_init(&t->refs, 2);   /* the caller's and the checker's */
    atomic_init(&t->healthy, true);
    t->checker = c;
    t->key = strdup(key);
    t->spec = s;
    memcpy(&t->addr, addr, addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    if (s->port) {
        if (addr->sa_family == AF_INET6)
            ((struct sockaddr_in6 *)&t->addr)->sin6_port = htons((uint16_t)s->port);
        else
            ((struct sockaddr_in *)&t->addr)->sin_port = htons((uint16_t)s->port);
    }
    /* Probes never park their connection (max_idle 0): one key serves every target. */
    snprintf(t->pool_key, sizeof t->pool_key, "health-check");
    t->host_header = strdup(host_header);
    uv_timer_init(c->loop, &t->timer);
    t->timer.data = t;
    uv_unref((uv_handle_t *)&t->timer);
    uv_timer_start(&t->timer, on_tick, (uint64_t)s->interval_ms, (uint64_t)s->interval_ms);
    eg_strmap_put(&c->targets, key, strlen(key), t);
    return t;
}

bool eg_health_ok(const eg_health_target *t)
{
    return !t || atomic_load_explicit(&t->healthy, memory_order_relaxed);
}

void eg_health_target_status(const eg_health_target *t, eg_node *into)
{
    eg_node_map_set(into, "healthy", eg_node_new_bool(eg_health_ok(t)));
    if (t) {
        eg_node_map_set(into, "failsInRow", eg_node_new_int(t->fails_in_row));
        eg_node_map_set(into, "passesInRow", eg_node_new_int(t->passes_in_row));
    }
}

/* The checker lets go of a target: stop probing; the memory goes when the probe in flight
 * (if any) and the last user are done. Main thread. */
static void retire(eg_health_target *t)
{
    uv_timer_stop(&t->timer);
    if (t->probe) {
        if (t->probe->stream)   /* past the head: the connection is the body stream */
            t->probe->stream->abort(t->probe->stream);
        else
            eg_upstream_cancel(&t->probe->call);
        probe_free(t->probe);
        t->probe = NULL;
    }
    uv_close((uv_handle_t *)&t->timer, timer_closed);
}

void eg_health_target_unref(eg_health_target *t)
{
    /* The checker's own reference is the last to go (in retire/sweep, main thread), so a
     * worker dropping its reference never frees. */
    if (t)
        atomic_fetch_sub(&t->refs, 1);
}

void eg_health_checker_init(eg_health_checker *c, uv_loop_t *loop)
{
    c->loop = loop;
    c->conns = eg_upstream_pool_new(loop);
    eg_strmap_init(&c->targets);
}

void eg_health_checker_sweep(eg_health_checker *c)
{
    if (!c->loop)
        return;
    eg_health_target **dead = NULL;
    size_t n = 0;
    const eg_strmap_slot *sl;
    for (size_t i = 0; eg_strmap_next(&c->targets, &i, &sl);) {
        eg_health_target *t = sl->value;
        if (atomic_load(&t->refs) == 1) {
            dead = realloc(dead, (n + 1) * sizeof *dead);
            dead[n++] = t;
        }
    }
    for (size_t i = 0; i < n; i++) {
        eg_strmap_del(&c->targets, dead[i]->key, strlen(dead[i]->key));
        retire(dead[i]);
    }
    free(dead);
}

void eg_health_checker_close(eg_health_checker *c)
{
    if (!c->loop)
        return;
    const eg_strmap_slot *sl;
    for (size_t i = 0; eg_strmap_next(&c->targets, &i, &sl);)
        retire(sl->value);
    eg_strmap_free(&c->targets);
    eg_upstream_pool_close(c->conns);
}

void eg_health_checker_free(eg_health_checker *c)
{
    if (c->conns)
        eg_upstream_pool_free(c->conns);
    c->conns = NULL;
    c->loop = NULL;
}
