/* trace_export.c — finished spans to collectors: OTLP/HTTP with JSON encoding, and Zipkin
 * v2 JSON, batched per worker and sent on the worker's own loop through its upstream pools.
 *
 * A worker keeps one sink per (HTTPServer, exporter, spec version). A span is serialised
 * into its sink's queue when its request ends (so nothing in the queue points into a request
 * or a spec version); the queue is sent when it holds maxExportBatchSize spans or when
 * batchTimeout has passed since the first one queued, one POST at a time per sink (as
 * OpenTelemetry's batch span processor exports). Over maxQueueSize a span is dropped and
 * counted. A new version of the HTTPServer gets a new sink; the old one sends what it holds,
 * then is freed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "buf.h"
#include "log.h"
#include "tracing.h"
#include "upstream.h"
#include "worker.h"

static _Atomic uint64_t spans_exported, spans_dropped, batches_failed;

void eg_trace_counters_get(eg_trace_counters *out)
{
    out->spans_exported = atomic_load(&spans_exported);
    out->spans_dropped = atomic_load(&spans_dropped);
    out->batches_failed = atomic_load(&batches_failed);
}

typedef struct sink sink;
typedef struct export_post export_post;

struct eg_trace_exporters {
    uv_loop_t *loop;
    eg_upstream_pool *upstreams;
    sink *sinks;
    export_post *posts;          /* in flight (or draining their response) */
    eg_buf scratch;              /* one span's JSON, reused */
    bool stopping;
};

struct sink {
    sink *next;
    eg_trace_exporters *owner;
    char *server_name;
    uint64_t spec_uid;
    eg_trace_export_kind kind;
    bool retired;                /* a newer version exists: free once empty */
    /* what a batch needs, copied from the spec */
    char *host, *host_header, *path, *pool_key;
    uint16_t port;
    bool gzip;
    int64_t max_queue, max_batch, batch_timeout_ms, export_timeout_ms;
    int64_t attr_value_limit, attr_count_limit;
    char *prefix, *suffix;       /* the JSON around the spans of a batch */
    char *resource_tags;         /* zipkin: resource attributes as tag members, or "" */
    char *service_name;          /* zipkin localEndpoint */
    struct sockaddr_storage addr;
    bool resolved, resolving;
    uv_getaddrinfo_t gai;
    /* the queue: serialised spans back to back, each ending at ends[i] */
    eg_buf queue;
    size_t *ends;
    size_t count, ends_cap;
    uv_timer_t timer;
    bool timer_on, inflight, dropping;
};

struct export_post {
    eg_upstream_call call;
    export_post *next;
    eg_trace_exporters *owner;
    sink *sink;                  /* NULL once it has reported back */
    size_t nspans;
    eg_arena arena;              /* response headers */
    eg_buf head, body;
    eg_body_sink drain;
    eg_body_stream *stream;
};

/* ---- JSON ---------------------------------------------------------------------------------- */
/* Serialising is on every sampled request's path: no printf, and small appends inline. */

static inline void put(eg_buf *b, const char *s, size_t n)
{
    if (b->cap - b->len < n + 1)
        eg_buf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

#define PUT_LIT(b, lit) put((b), (lit), sizeof(lit) - 1)

/* Bytes that go into a JSON string as they are: printable ASCII but '"' and '\\'. */
static const bool plain_byte[256] = {
    [' '] = 1, ['!'] = 1, ['#' ... '['] = 1, [']' ... '~'] = 1,
};

/* A JSON string, with invalid UTF-8 replaced by U+FFFD, at most `limit` bytes of the value
 * (< 0: all), cut before a character that would not fit whole. */
static void json_str(eg_buf *b, const char *s, size_t len, int64_t limit)
{
    if (limit >= 0 && len > (size_t)limit) {
        len = (size_t)limit;
        while (len && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
    put(b, "\"", 1);
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && plain_byte[(unsigned char)s[j]])
            j++;
        if (j > i) {
            put(b, s + i, j - i);
            i = j;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            put(b, e, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            put(b, e, 6);
            i++;
        } else {
            unsigned cp;
            size_t n = eg_utf8_decode((const unsigned char *)s + i, len - i, &cp);
            if (n) {
                put(b, s + i, n);
                i += n;
            } else {
                PUT_LIT(b, "\xef\xbf\xbd");
                i++;
            }
        }
    }
    put(b, "\"", 1);
}

static void json_cstr(eg_buf *b, const char *s) { json_str(b, s, strlen(s), -1); }

/* Attributes of one span, honouring spanLimits: OTLP's [{key, value:{stringValue|intValue}}]
 * or Zipkin's {"key":"value"} members. */
typedef struct {
    eg_buf *b;
    const sink *s;
    int64_t n;
    bool after_member;           /* zipkin: members precede the first attribute */
    bool user_keys;              /* keys from the spec (escaped); else our own literals */
} attrs;

static void attr_key(attrs *a, const char *key)
{
    if (a->user_keys) {
        json_cstr(a->b, key);
        return;
    }
    put(a->b, "\"", 1);
    put(a->b, key, strlen(key));
    put(a->b, "\"", 1);
}

static bool attr_room(attrs *a)
{
    if (a->s->attr_count_limit >= 0 && a->n >= a->s->attr_count_limit)
        return false;
    if (a->n++ || a->after_member)
        put(a->b, ",", 1);
    return true;
}

static void attr_str(attrs *a, const char *key, const char *v)
{
    if (!v || !attr_room(a))
        return;
    eg_buf *b = a->b;
    if (a->s->kind == EG_TRACE_EXPORT_OTLP) {
        PUT_LIT(b, "{\"key\":");
        attr_key(a, key);
        PUT_LIT(b, ",\"value\":{\"stringValue\":");
        json_str(b, v, strlen(v), a->s->attr_value_limit);
        PUT_LIT(b, "}}");
    } else {
        attr_key(a, key);
        PUT_LIT(b, ":");
        json_str(b, v, strlen(v), a->s->attr_value_limit);
    }
}

/* Integer attributes (statuses, ports, counts) are never negative. */
static void attr_int(attrs *a, const char *key, unsigned long long v)
{
    if (!attr_room(a))
        return;
    eg_buf *b = a->b;
    if (a->s->kind == EG_TRACE_EXPORT_OTLP) {
        PUT_LIT(b, "{\"key\":");
        attr_key(a, key);
        PUT_LIT(b, ",\"value\":{\"intValue\":\"");
        eg_buf_append_u64(b, v);
        PUT_LIT(b, "\"}}");
    } else {
        attr_key(a, key);
        PUT_LIT(b, ":\"");
        eg_buf_append_u64(b, v);
        PUT_LIT(b, "\"");
    }
}

/* One span. kind: 2 server, 3 client (OTLP's SpanKind). */
typedef struct {
    const uint8_t *span_id, *parent_id;
    const char *name;
    int kind;
    uint64_t start_ns, end_ns;
    bool error;
    const char *error_message;
} span_head;

/* "name":"<hex>", (serialisation is on every sampled request's path: no printf) */
static void hex_member(eg_buf *b, const char *name, const uint8_t *id, size_t n)
{
    char hex[33];
    eg_trace_hex(id, n, hex);
    PUT_LIT(b, "\"");
    put(b, name, strlen(name));
    PUT_LIT(b, "\":\"");
    put(b, hex, 2 * n);
    PUT_LIT(b, "\",");
}

static void span_open(eg_buf *b, const sink *s, const eg_trace *t, const span_head *h)
{
    if (s->kind == EG_TRACE_EXPORT_OTLP) {
        PUT_LIT(b, "{");
        hex_member(b, "traceId", t->trace_id, 16);
        hex_member(b, "spanId", h->span_id, 8);
        if (h->parent_id)
            hex_member(b, "parentSpanId", h->parent_id, 8);
        if (t->tracestate) {
            PUT_LIT(b, "\"traceState\":");
            json_str(b, t->tracestate, t->tracestate_len, -1);
            PUT_LIT(b, ",");
        }
        PUT_LIT(b, "\"name\":");
        json_cstr(b, h->name);
        eg_buf_appends(b, h->kind == 2 ? ",\"kind\":2,\"startTimeUnixNano\":\"" : ",\"kind\":3,\"startTimeUnixNano\":\"");
        eg_buf_append_u64(b, h->start_ns);
        PUT_LIT(b, "\",\"endTimeUnixNano\":\"");
        eg_buf_append_u64(b, h->end_ns);
        eg_buf_appends(b, h->error ? "\",\"status\":{\"code\":2" : "\",\"status\":{\"code\":0");
        if (h->error && h->error_message) {
            PUT_LIT(b, ",\"message\":");
            json_cstr(b, h->error_message);
        }
        PUT_LIT(b, "},\"attributes\":[");
    } else {
        PUT_LIT(b, "{");
        hex_member(b, "traceId", t->trace_id, 16);
        hex_member(b, "id", h->span_id, 8);
        if (h->parent_id)
            hex_member(b, "parentId", h->parent_id, 8);
        PUT_LIT(b, "\"name\":");
        json_cstr(b, h->name);
        uint64_t us = h->start_ns / 1000, dur = (h->end_ns - h->start_ns) / 1000;
        eg_buf_printf(b, ",\"kind\":\"%s\",\"timestamp\":%llu,\"duration\":%llu,\"localEndpoint\":{\"serviceName\":",
                      h->kind == 2 ? "SERVER" : "CLIENT", (unsigned long long)us, (unsigned long long)(dur ? dur : 1));
        json_cstr(b, s->service_name);
        PUT_LIT(b, "},\"tags\":{");
        eg_buf_appends(b, s->resource_tags);
        if (h->error) {
            if (*s->resource_tags)
                PUT_LIT(b, ",");
            PUT_LIT(b, "\"error\":");
            json_cstr(b, h->error_message ? h->error_message : "");
        }
    }
}

static void span_close(eg_buf *b, const sink *s)
{
    eg_buf_appends(b, s->kind == EG_TRACE_EXPORT_OTLP ? "]}" : "}}");
}

static void server_span(eg_buf *b, const sink *s, const eg_trace *t, int status, uint64_t end_ns)
{
    char msg[16] = "";
    if (status >= 500)
        snprintf(msg, sizeof msg, "HTTP %d", status);
    span_head h = { .span_id = t->span_id, .parent_id = t->has_parent ? t->parent_id : NULL, .name = t->server_name,
                    .kind = 2, .start_ns = t->start_ns, .end_ns = end_ns, .error = status >= 500,
                    .error_message = msg };
    span_open(b, s, t, &h);
    /* Zipkin's tags may already hold the resource's and the error. */
    attrs a = { b, s, 0, b->data[b->len - 1] != '{' && b->data[b->len - 1] != '[', false };
    attr_str(&a, "http.request.method", t->method);
    attr_str(&a, "url.path", t->path);
    const char *q = strchr(t->target, '?');
    if (q)
        attr_str(&a, "url.query", q + 1);
    attr_str(&a, "url.scheme", "http");
    attr_str(&a, "server.address", t->host);
    attr_str(&a, "client.address", t->client_ip);
    attr_str(&a, "user_agent.original", t->user_agent);
    attr_int(&a, "http.response.status_code", status);
    attr_str(&a, "easegress.server", t->server_name);
    attr_str(&a, "easegress.pipeline", t->pipeline);
    span_close(b, s);
}

static void client_span(eg_buf *b, const sink *s, const eg_trace *t, const eg_client_span *cs)
{
    char msg[16];
    const char *why = cs->error;
    if (!why && cs->status >= 400) {
        snprintf(msg, sizeof msg, "HTTP %d", cs->status);
        why = msg;
    }
    span_head h = { .span_id = cs->span_id, .parent_id = t->span_id, .name = cs->name, .kind = 3,
                    .start_ns = cs->start_ns, .end_ns = cs->end_ns, .error = why != NULL, .error_message = why };
    span_open(b, s, t, &h);
    attrs a = { b, s, 0, b->data[b->len - 1] != '{' && b->data[b->len - 1] != '[', false };
    attr_str(&a, "http.request.method", cs->method);
    attr_str(&a, "url.full", cs->url);
    attr_str(&a, "server.address", cs->peer_host);
    attr_int(&a, "server.port", cs->peer_port);
    if (cs->status)
        attr_int(&a, "http.response.status_code", cs->status);
    if (cs->resend_count)
        attr_int(&a, "http.request.resend_count", cs->resend_count);
    if (cs->error)
        attr_str(&a, "error.type", cs->error);
    span_close(b, s);
}

/* ---- sinks --------------------------------------------------------------------------------- */

static void sink_send(sink *s);

static void on_sink_closed(uv_handle_t *h)
{
    sink *s = h->data;
    eg_buf_free(&s->queue);
    free(s->ends);
    free(s->server_name);
    free(s->host);
    free(s->host_header);
    free(s->path);
    free(s->pool_key);
    free(s->prefix);
    free(s->suffix);
    free(s->resource_tags);
    free(s->service_name);
    free(s);
}

/* A retired sink with nothing left to do goes away (never while the worker stops: the loop's
 * final walk closes the handles then, and eg_trace_exporters_free frees the rest). */
static void sink_maybe_free(sink *s)
{
    eg_trace_exporters *e = s->owner;
    if (!s->retired || s->count || s->inflight || s->resolving || e->stopping)
        return;
    for (sink **pp = &e->sinks; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    uv_close((uv_handle_t *)&s->timer, on_sink_closed);
}

static void on_batch_timer(uv_timer_t *t)
{
    sink *s = t->data;
    s->timer_on = false;
    if (s->count && !s->inflight)
        sink_send(s);
}

/* After a span is queued or a POST is done: send now, or make sure the timer will. */
static void sink_schedule(sink *s)
{
    if (s->inflight || s->resolving || !s->count)
        return;
    if ((int64_t)s->count >= s->max_batch || s->owner->stopping || s->retired) {
        if (s->timer_on) {
            uv_timer_stop(&s->timer);
            s->timer_on = false;
        }
        sink_send(s);
        return;
    }
    if (!s->timer_on) {
        uv_timer_start(&s->timer, on_batch_timer, (uint64_t)s->batch_timeout_ms, 0);
        s->timer_on = true;
    }
}

static void resource_json(sink *s, const eg_tracing_spec *spec)
{
    eg_buf b = { 0 };
    attrs a = { &b, s, 0, false, true };
    /* The resource is not subject to span limits. */
    int64_t count = s->attr_count_limit, value = s->attr_value_limit;
    s->attr_count_limit = s->attr_value_limit = -1;
    if (s->kind == EG_TRACE_EXPORT_OTLP) {
        eg_buf_appends(&b, "{\"resourceSpans\":[{\"resource\":{\"attributes\":[");
        attr_str(&a, "service.name", spec->service_name);
        attr_str(&a, "telemetry.sdk.name", "easegress-c");
        attr_str(&a, "telemetry.sdk.language", "c");
        for (size_t i = 0; i < spec->nattrs; i++)
            attr_str(&a, spec->attr_keys[i], spec->attr_values[i]);
        eg_buf_appends(&b, "]},\"scopeSpans\":[{\"scope\":{\"name\":\"easegress-c\"},\"spans\":[");
        s->prefix = eg_buf_steal(&b, NULL);
        s->suffix = strdup("]}]}]}");
        s->resource_tags = strdup("");
    } else {
        for (size_t i = 0; i < spec->nattrs; i++)
            attr_str(&a, spec->attr_keys[i], spec->attr_values[i]);
        s->resource_tags = b.len ? eg_buf_steal(&b, NULL) : strdup("");
        eg_buf_free(&b);
        s->prefix = strdup("[");
        s->suffix = strdup("]");
    }
    s->attr_count_limit = count;
    s->attr_value_limit = value;
}

static sink *sink_new(eg_trace_exporters *e, const eg_trace *t, size_t ei)
{
    const eg_tracing_spec *spec = t->spec;
    const eg_trace_exporter_spec *x = &spec->exporters[ei];
    sink *s = calloc(1, sizeof *s);
    s->owner = e;
    s->server_name = strdup(t->server_name);
    s->spec_uid = spec->uid;
    s->kind = x->kind;
    s->host = strdup(x->host);
    s->host_header = strdup(x->host_header);
    s->path = strdup(x->path);
    s->port = x->port;
    s->gzip = x->gzip;
    size_t kl = strlen(x->host) + 8;
    s->pool_key = malloc(kl);
    snprintf(s->pool_key, kl, "%s:%u", x->host, x->port);
    s->max_queue = spec->max_queue;
    s->max_batch = spec->max_batch;
    s->batch_timeout_ms = spec->batch_timeout_ms;
    s->export_timeout_ms = spec->export_timeout_ms;
    s->attr_count_limit = spec->attr_count_limit;
    s->attr_value_limit = spec->attr_value_limit;
    s->service_name = strdup(spec->service_name);
    resource_json(s, spec);
    struct sockaddr_in *sin = (struct sockaddr_in *)&s->addr;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&s->addr;
    if (inet_pton(AF_INET, s->host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(s->port);
        s->resolved = true;
    } else if (inet_pton(AF_INET6, s->host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(s->port);
        s->resolved = true;
    }
    uv_timer_init(e->loop, &s->timer);
    s->timer.data = s;
    /* Older versions of this server's exporter of the same kind retire; a span from an older
     * version than one already seen gets a sink that is retired from the start. */
    for (sink *o = e->sinks; o; o = o->next) {
        if (o->kind != s->kind || strcmp(o->server_name, s->server_name) != 0)
            continue;
        if (o->spec_uid < s->spec_uid)
            o->retired = true;
        else
            s->retired = true;
    }
    s->next = e->sinks;
    e->sinks = s;
    for (sink *o = s->next, *next; o; o = next) {
        next = o->next;
        if (o->retired) {
            sink_schedule(o);
            sink_maybe_free(o);
        }
    }
    return s;
}

static sink *sink_find(eg_trace_exporters *e, const eg_trace *t, size_t ei)
{
    eg_trace_export_kind kind = t->spec->exporters[ei].kind;
    for (sink *s = e->sinks; s; s = s->next)
        if (s->spec_uid == t->spec->uid && s->kind == kind)
            return s;
    return sink_new(e, t, ei);
}

static void sink_push(sink *s, eg_buf *scratch)
{
    if ((int64_t)s->count >= s->max_queue) {
        atomic_fetch_add(&spans_dropped, 1);
        if (!s->dropping)
            eg_warn("tracing %s: export queue full (maxQueueSize %lld): dropping spans", s->server_name,
                    (long long)s->max_queue);
        s->dropping = true;
        return;
    }
    if (s->count == s->ends_cap) {
        s->ends_cap = s->ends_cap ? s->ends_cap * 2 : 64;
        s->ends = realloc(s->ends, s->ends_cap * sizeof *s->ends);
    }
    if (s->count)
        put(&s->queue, ",", 1);
    put(&s->queue, scratch->data, scratch->len);
    s->ends[s->count++] = s->queue.len;
}

void eg_trace_export(struct eg_worker *w, const eg_trace *t, int status, uint64_t end_ns)
{
    eg_trace_exporters *e = w->trace_exporters;
    if (!e) {
        e = calloc(1, sizeof *e);
        e->loop = &w->loop;
        e->upstreams = w->upstreams;
        w->trace_exporters = e;
    }
    eg_buf *scratch = &e->scratch;
    for (size_t i = 0; i < t->spec->nexporters; i++) {
        sink *s = sink_find(e, t, i);
        scratch->len = 0;
        server_span(scratch, s, t, status, end_ns);
        sink_push(s, scratch);
        for (const eg_client_span *cs = t->clients; cs; cs = cs->next) {
            scratch->len = 0;
            client_span(scratch, s, t, cs);
            sink_push(s, scratch);
        }
        sink_schedule(s);
    }
}

/* ---- sending ------------------------------------------------------------------------------- */

static void post_free(export_post *p)
{
    eg_trace_exporters *e = p->owner;
    for (export_post **pp = &e->posts; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    eg_arena_free(&p->arena);
    eg_buf_free(&p->head);
    eg_buf_free(&p->body);
    free(p);
}

/* The POST has its answer (or has failed): the sink may send its next batch. */
static void post_report(export_post *p, bool ok, const char *why)
{
    sink *s = p->sink;
    p->sink = NULL;
    if (!s)
        return;
    s->inflight = false;
    if (ok) {
        atomic_fetch_add(&spans_exported, p->nspans);
        s->dropping = false;
    } else {
        atomic_fetch_add(&batches_failed, 1);
        eg_warn("tracing %s: export of %zu spans to %s%s failed: %s", s->server_name, p->nspans, s->host_header,
                s->path, why);
    }
    sink_schedule(s);
    sink_maybe_free(s);
}

static bool drain_write(eg_body_sink *d, const char *data, size_t len)
{
    (void)d, (void)data, (void)len;
    return true;
}

static void drain_end(eg_body_sink *d, int error)
{
    (void)error;
    export_post *p = (export_post *)((char *)d - offsetof(export_post, drain));
    p->stream = NULL;
    post_free(p);
}

static void on_post_response(eg_upstream_call *call, int status, eg_headers *headers, int64_t len, eg_body_stream *body)
{
    export_post *p = (export_post *)call;
    (void)headers, (void)len;
    char why[32];
    snprintf(why, sizeof why, "HTTP %d", status);
    post_report(p, status >= 200 && status < 300, why);
    p->stream = body;
    p->drain.write = drain_write;
    p->drain.end = drain_end;
    body->attach(body, &p->drain); /* frees p when the body is done */
}

static void on_post_error(eg_upstream_call *call, eg_upstream_error err, const char *detail)
{
    export_post *p = (export_post *)call;
    post_report(p, false, err == EG_UPSTREAM_TIMEOUT ? "timeout (exportTimeout)" : detail ? detail : "failed");
    post_free(p);
}

static bool gzip_buf(const char *in, size_t len, eg_buf *out)
{
    z_stream z = { 0 };
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    size_t bound = deflateBound(&z, (uLong)len);
    eg_buf_reserve(out, bound);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out->data + out->len;
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    out->len += bound - z.avail_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    sink *s = req->data;
    s->resolving = false;
    if (status == 0 && res) {
        memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
        s->resolved = true;
    } else {
        /* This batch is lost; the next one tries the name again. */
        atomic_fetch_add(&batches_failed, 1);
        atomic_fetch_add(&spans_dropped, s->count);
        eg_warn("tracing %s: cannot resolve %s: %s", s->server_name, s->host,
                status == UV_ECANCELED ? "cancelled" : uv_strerror(status));
        s->count = 0;
        s->queue.len = 0;
    }
    uv_freeaddrinfo(res);
    sink_schedule(s);
    sink_maybe_free(s);
}

static void sink_send(sink *s)
{
    eg_trace_exporters *e = s->owner;
    if (!s->resolved) {
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
        char port[8];
        snprintf(port, sizeof port, "%u", s->port);
        s->gai.data = s;
        if (uv_getaddrinfo(e->loop, &s->gai, on_resolved, s->host, port, &hints) == 0)
            s->resolving = true;
        else
            eg_warn("tracing %s: cannot resolve %s", s->server_name, s->host);
        return;
    }
    size_t n = (int64_t)s->count > s->max_batch ? (size_t)s->max_batch : s->count;
    size_t cut = s->ends[n - 1];
    export_post *p = calloc(1, sizeof *p);
    p->owner = e;
    p->sink = s;
    p->nspans = n;
    eg_arena_init(&p->arena, 1024);
    eg_buf json = { 0 };
    eg_buf_reserve(&json, strlen(s->prefix) + cut + strlen(s->suffix));
    eg_buf_appends(&json, s->prefix);
    eg_buf_append(&json, s->queue.data, cut);
    eg_buf_appends(&json, s->suffix);
    /* What is left moves to the front (past the comma that followed the batch). */
    size_t skip = n < s->count ? cut + 1 : cut;
    memmove(s->queue.data, s->queue.data + skip, s->queue.len - skip);
    s->queue.len -= skip;
    for (size_t i = n; i < s->count; i++)
        s->ends[i - n] = s->ends[i] - skip;
    s->count -= n;
    bool gz = s->gzip && gzip_buf(json.data, json.len, &p->body);
    if (gz)
        eg_buf_free(&json);
    else
        p->body = json;
    eg_buf_printf(&p->head,
                  "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: easegress-c\r\nContent-Type: application/json\r\n"
                  "%sContent-Length: %zu\r\n\r\n",
                  s->path, s->host_header, gz ? "Content-Encoding: gzip\r\n" : "", p->body.len);
    p->call.addr = (const struct sockaddr *)&s->addr;
    p->call.pool_key = s->pool_key;
    p->call.head = uv_buf_init(p->head.data, (unsigned)p->head.len);
    p->call.body = p->body.data;
    p->call.body_len = p->body.len;
    /* At shutdown a collector that does not answer must not hold the worker for long. */
    int64_t timeout = e->stopping && s->export_timeout_ms > 2000 ? 2000 : s->export_timeout_ms;
    p->call.timeout_ms = (uint64_t)timeout;
    p->call.max_idle = 2;
    p->call.max_body = 1 << 20;
    p->call.arena = &p->arena;
    p->call.on_response = on_post_response;
    p->call.on_error = on_post_error;
    p->next = e->posts;
    e->posts = p;
    s->inflight = true;
    eg_upstream_start(e->upstreams, &p->call);
}

/* ---- worker life --------------------------------------------------------------------------- */

void eg_trace_exporters_stop(eg_trace_exporters *e)
{
    if (!e)
        return;
    e->stopping = true;
    for (sink *s = e->sinks; s; s = s->next) {
        if (s->timer_on) {
            uv_timer_stop(&s->timer);
            s->timer_on = false;
        }
        sink_schedule(s);
    }
}

void eg_trace_exporters_free(eg_trace_exporters *e)
{
    if (!e)
        return;
    /* The loop has ended: nothing calls back any more. */
    while (e->posts) {
        export_post *p = e->posts;
        e->posts = p->next;
        eg_arena_free(&p->arena);
        eg_buf_free(&p->head);
        eg_buf_free(&p->body);
        free(p);
    }
    while (e->sinks) {
        sink *s = e->sinks;
        e->sinks = s->next;
        if (s->count)
            atomic_fetch_add(&spans_dropped, s->count);
        on_sink_closed((uv_handle_t *)&s->timer);
    }
    eg_buf_free(&e->scratch);
    free(e);
}
