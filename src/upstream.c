/* upstream.c — backend connections: connect, send, parse the response, stream its body,
 * keep the connection for the next request. */
#include "upstream.h"

#include <llhttp.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "header_reader.h"
#include "log.h"
#include "strmap.h"

enum conn_state { C_CONNECTING, C_WAITING, C_BODY, C_IDLE, C_CLOSING };

typedef struct upstream_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_connect_t connect_req;
    uv_write_t write_req;
    eg_upstream_pool *pool;
    struct upstream_host *host;  /* the backend it connects to (its idle list) */
    llhttp_t parser;
    enum conn_state state;
    eg_upstream_call *call;
    bool reused;
    bool got_bytes;
    bool skip_interim;           /* a 1xx answer is being skipped */
    bool head_paused;
    eg_header_reader headers;    /* the response's, in the call's arena */
    int pending_error;           /* reported from the timer, never synchronously */
    int max_idle;
    int64_t max_body, body_seen; /* a body past max_body breaks off */
    /* the body stream */
    eg_body_stream stream;
    eg_body_sink *sink;
    eg_buf pre_body;             /* body bytes that came before anyone wanted them */
    bool body_done, body_error, read_paused, sink_paused;
    bool writing;                /* write_req in flight: it points into the caller's arena */
    struct upstream_conn *next_idle;
    int closing_handles;
} upstream_conn;

/* One backend address of a pool: its idle connections. Made on first use and kept while the
 * pool lives, so a request costs one map lookup, and parking or taking a connection none. */
typedef struct upstream_host {
    char *key;
    upstream_conn *idle;         /* through next_idle */
    size_t nidle;
} upstream_host;

struct eg_upstream_pool {
    uv_loop_t *loop;
    eg_strmap idle;              /* key -> upstream_host* */
    size_t idle_count;
    size_t live;
    bool closing;
    char read_buf[64 * 1024];    /* shared: bytes are consumed before the next read */
};

static llhttp_settings_t settings;
static void conn_close(upstream_conn *c);
static void conn_send(upstream_conn *c);
static void start_reading(upstream_conn *c);

eg_upstream_pool *eg_upstream_pool_new(uv_loop_t *loop)
{
    eg_upstream_pool *p = calloc(1, sizeof *p);
    p->loop = loop;
    eg_strmap_init(&p->idle);
    return p;
}

void eg_upstream_pool_free(eg_upstream_pool *p)
{
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&p->idle, &i, &slot);) {
        upstream_host *h = slot->value;
        free(h->key);
        free(h);
    }
    eg_strmap_free(&p->idle);
    free(p);
}

void eg_upstream_pool_close(eg_upstream_pool *p)
{
    p->closing = true;
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&p->idle, &i, &slot);) {
        upstream_host *h = slot->value;
        for (upstream_conn *c = h->idle, *next; c; c = next) {
            next = c->next_idle;
            c->next_idle = NULL;
            c->state = C_CLOSING;
            conn_close(c);
        }
        h->idle = NULL;
        h->nidle = 0;
    }
    p->idle_count = 0;
}

static void idle_remove(upstream_conn *c)
{
    upstream_host *h = c->host;
    if (h->idle == c) {
        h->idle = c->next_idle;
    } else {
        for (upstream_conn *it = h->idle; it; it = it->next_idle)
            if (it->next_idle == c) {
                it->next_idle = c->next_idle;
                break;
            }
    }
    c->next_idle = NULL;
    h->nidle--;
    c->pool->idle_count--;
}

static upstream_host *host_of(eg_upstream_pool *p, const char *key)
{
    size_t n = strlen(key);
    upstream_host *h = eg_strmap_get(&p->idle, key, n);
    if (!h) {
        h = calloc(1, sizeof *h);
        h->key = strdup(key);
        eg_strmap_put(&p->idle, key, n, h);
    }
    return h;
}

/* ---- closing ---- */

static void on_closed(uv_handle_t *h)
{
    upstream_conn *c = h->data;
    if (--c->closing_handles > 0)
        return;
    eg_upstream_pool *p = c->pool;
    eg_header_reader_free(&c->headers);
    eg_buf_free(&c->pre_body);
    free(c);
    p->live--;
}

static void conn_close(upstream_conn *c)
{
    if (c->closing_handles)
        return;
    if (c->state == C_IDLE)
        idle_remove(c);
    c->state = C_CLOSING;
    c->closing_handles = 2;
    uv_close((uv_handle_t *)&c->timer, on_closed);
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

/* ---- reporting to the caller ---- */

static void fail_call(upstream_conn *c, eg_upstream_error err, const char *detail)
{
    eg_upstream_call *call = c->call;
    c->call = NULL;
    conn_close(c);
    if (!call)
        return;
    call->conn = NULL;
    /* A reused connection the backend had already closed: nothing was processed, so the
     * request can go again on a fresh connection. */
    if (c->reused && !c->got_bytes && !call->retried && err == EG_UPSTREAM_RESET && !c->pool->closing) {
        call->retried = true;
        eg_debug("upstream %s: reused connection was closed, retrying", call->pool_key);
        eg_upstream_start(c->pool, call);
        return;
    }
    call->on_error(call, err, detail);
}

static void on_deferred_error(uv_timer_t *t)
{
    upstream_conn *c = t->data;
    fail_call(c, (eg_upstream_error)c->pending_error, "connect failed");
}

static void on_timeout(uv_timer_t *t)
{
    upstream_conn *c = t->data;
    fail_call(c, EG_UPSTREAM_TIMEOUT, "timeout");
}

/* No pool timeout, or a longer one: a backend that never answers the SYN must not hold
 * the request for ever. */
#define CONNECT_TIMEOUT_MS 30000

static void on_connect_timeout(uv_timer_t *t)
{
    upstream_conn *c = t->data;
    fail_call(c, EG_UPSTREAM_CONNECT_FAILED, "connect timeout");
}

/* ---- the body stream ---- */

static void finish_body(upstream_conn *c)
{
    eg_body_sink *sink = c->sink;
    c->sink = NULL;
    /* A backend may answer before it has read the whole request: while our write is still
     * in flight the connection is not reusable (the next uv_write would reuse write_req, and
     * the pending bytes live in an arena freed when this exchange ends); closing it cancels
     * the write. */
    bool reusable = !c->body_error && !c->writing && llhttp_should_keep_alive(&c->parser) && !c->pool->closing;
    if (sink)
        sink->end(sink, c->body_error ? 1 : 0);
    if (c->state == C_CLOSING)
        return;
    eg_upstream_pool *p = c->pool;
    upstream_host *h = c->host;
    c->call = NULL;
    if (!reusable || (int)h->nidle >= c->max_idle) {
        conn_close(c);
        return;
    }
    c->state = C_IDLE;
    c->reused = true;
    c->got_bytes = false;
    c->body_done = false;
    c->pre_body.len = 0;
    c->next_idle = h->idle;
    h->idle = c;
    h->nidle++;
    p->idle_count++;
    uv_timer_stop(&c->timer);
    if (c->read_paused) {
        c->read_paused = false;
        start_reading(c);
    }
}

static void stream_attach(eg_body_stream *s, eg_body_sink *sink)
{
    upstream_conn *c = (upstream_conn *)((char *)s - offsetof(upstream_conn, stream));
    c->sink = sink;
    if (c->pre_body.len) {
        bool more = sink->write(sink, c->pre_body.data, c->pre_body.len);
        c->pre_body.len = 0;
        if (!more)
            c->sink_paused = true;
    }
    if (c->body_done || c->body_error) {
        finish_body(c);
        return;
    }
    if (c->read_paused && !c->sink_paused) {
        c->read_paused = false;
        start_reading(c);
    }
}

static void stream_resume(eg_body_stream *s)
{
    upstream_conn *c = (upstream_conn *)((char *)s - offsetof(upstream_conn, stream));
    c->sink_paused = false;
    if (c->read_paused && c->state == C_BODY && !c->body_done) {
        c->read_paused = false;
        start_reading(c);
    }
}

static void stream_abort(eg_body_stream *s)
{
    upstream_conn *c = (upstream_conn *)((char *)s - offsetof(upstream_conn, stream));
    c->sink = NULL;
    c->call = NULL;
    conn_close(c);
}

/* ---- response parsing ---- */

static int on_message_begin(llhttp_t *p)
{
    upstream_conn *c = p->data;
    eg_header_reader_begin(&c->headers);
    return 0;
}

static int on_header_piece(llhttp_t *p, const char *at, size_t len)
{
    upstream_conn *c = p->data;
    if (c->headers.bytes + len > 64 * 1024)
        return -1;
    eg_header_reader_piece(&c->headers, at, len);
    return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
    upstream_conn *c = p->data;
    eg_header_reader_name_done(&c->headers, c->call ? c->call->arena : NULL);
    return 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    upstream_conn *c = p->data;
    eg_header_reader_value_done(&c->headers, c->call ? c->call->arena : NULL);
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    upstream_conn *c = p->data;
    int status = p->status_code;
    if (status >= 100 && status < 200 && status != 101) {
        c->skip_interim = true;
        return 0;
    }
    c->head_paused = true;
    /* Pause so the caller hears of the head outside the parser. A HEAD answer has no body:
     * skipping it completes the message at once, which pauses in on_message_complete. */
    return c->call && c->call->head_method ? 1 : HPE_PAUSED;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    upstream_conn *c = p->data;
    if (c->state == C_CLOSING)
        return -1;
    c->body_seen += (int64_t)len;
    if (c->max_body > 0 && c->body_seen > c->max_body) {
        eg_warn("upstream %s: response body over %lld bytes (serverMaxBodySize): cut off", c->host->key,
                (long long)c->max_body);
        return -1; /* the parse error ends the body as broken */
    }
    if (c->sink) {
        if (!c->sink->write(c->sink, at, len))
            c->sink_paused = true;
    } else {
        eg_buf_append(&c->pre_body, at, len);
    }
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    upstream_conn *c = p->data;
    if (c->skip_interim) {
        c->skip_interim = false;
        return 0;
    }
    c->body_done = true;
    return HPE_PAUSED;
}

static void init_settings(void)
{
    llhttp_settings_init(&settings);
    settings.on_message_begin = on_message_begin;
    settings.on_header_field = on_header_piece;
    settings.on_header_value = on_header_piece;
    settings.on_header_field_complete = on_header_field_complete;
    settings.on_header_value_complete = on_header_value_complete;
    settings.on_headers_complete = on_headers_complete;
    settings.on_body = on_body;
    settings.on_message_complete = on_message_complete;
}

/* A backend that stops sending in the middle of a body (while we are reading, not while
 * the client is slow to take it) must not hold the exchange for ever. */
#define BODY_STALL_MS 60000

static void on_body_stall(uv_timer_t *t)
{
    upstream_conn *c = t->data;
    if (c->state != C_BODY || c->body_done)
        return;
    eg_debug("upstream %s: body stalled for %d ms", c->host->key, BODY_STALL_MS);
    c->body_error = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    if (c->sink) {
        eg_body_sink *sink = c->sink;
        c->sink = NULL;
        sink->end(sink, 1);
        conn_close(c);
    }
}

static void deliver_head(upstream_conn *c)
{
    eg_upstream_call *call = c->call;
    c->state = C_BODY;
    /* The call's timeout is over; read_cb sets the stall timer if the body is still to come
     * after the bytes at hand (mostly it is not: no timer set and cleared per response). */
    uv_timer_stop(&c->timer);
    int64_t len = -1;
    if (call->head_method || c->parser.status_code == 204 || c->parser.status_code == 304)
        len = 0;
    else if (c->parser.flags & F_CONTENT_LENGTH)
        len = (int64_t)c->parser.content_length;
    c->stream.attach = stream_attach;
    c->stream.resume = stream_resume;
    c->stream.abort = stream_abort;
    call->conn = NULL;
    c->call = NULL; /* from here the caller only knows the stream */
    call->on_response(call, c->parser.status_code, &c->headers.headers, len, &c->stream);
}

static void feed(upstream_conn *c, const char *data, size_t len)
{
    while (len > 0 && c->state != C_CLOSING) {
        llhttp_errno_t err = llhttp_execute(&c->parser, data, len);
        eg_header_reader_keep(&c->headers);
        if (err == HPE_OK)
            return;
        if (err != HPE_PAUSED) {
            if (c->state == C_WAITING) {
                fail_call(c, EG_UPSTREAM_BAD_RESPONSE, llhttp_get_error_reason(&c->parser));
            } else {
                c->body_error = true;
                finish_body(c);
                conn_close(c);
            }
            return;
        }
        const char *pos = llhttp_get_error_pos(&c->parser);
        size_t used = pos ? (size_t)(pos - data) : len;
        data += used;
        len -= used;
        llhttp_resume(&c->parser);
        if (c->head_paused) {
            c->head_paused = false;
            deliver_head(c);
            /* A body-less answer (to HEAD) can be taken whole inside deliver_head: the
             * connection is then closed or back in the pool, with no call to parse for.
             * Bytes after that complete response put the backend out of step. */
            if (c->state != C_BODY) {
                if (c->state == C_IDLE && len)
                    conn_close(c);
                return;
            }
        }
        if (c->body_done) {
            if (len)
                c->body_error = true; /* bytes after a complete response: not reusable */
            /* Without a sink yet, attach() finishes the body. Reading goes on: a
             * complete response leaves nothing to read, and stopping and restarting the
             * watcher would cost two syscalls per request. */
            if (c->sink)
                finish_body(c);
            if (len)
                conn_close(c);
            return;
        }
    }
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    upstream_conn *c = h->data;
    buf->base = c->pool->read_buf;
    buf->len = sizeof c->pool->read_buf;
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    upstream_conn *c = s->data;
    if (n > 0) {
        if (c->state == C_IDLE) {
            conn_close(c); /* an idle backend must not talk */
        } else {
            c->got_bytes = true;
            feed(c, buf->base, (size_t)n);
            if (c->state == C_BODY && c->sink_paused && !c->read_paused) {
                uv_read_stop(s);
                c->read_paused = true;
            } else if (c->state == C_BODY && !c->sink && c->pre_body.len > 64 * 1024 && !c->read_paused) {
                uv_read_stop(s);
                c->read_paused = true;
            }
            if (c->state == C_BODY && !c->read_paused)
                uv_timer_start(&c->timer, on_body_stall, BODY_STALL_MS, 0);
            else if (c->state == C_BODY)
                uv_timer_stop(&c->timer);
        }
    } else if (n < 0) {
        if (c->state == C_IDLE || c->state == C_CLOSING) {
            conn_close(c);
        } else if (c->state == C_WAITING) {
            fail_call(c, EG_UPSTREAM_RESET, uv_strerror((int)n));
        } else if (c->state == C_BODY) {
            if (n == UV_EOF && llhttp_message_needs_eof(&c->parser) && llhttp_finish(&c->parser) == HPE_OK) {
                c->body_done = true;
                /* a close-delimited body: the connection cannot be reused */
                c->body_error = false;
            } else {
                c->body_error = true;
            }
            uv_read_stop(s);
            if (c->sink) {
                bool broken = c->body_error;
                eg_body_sink *sink = c->sink;
                c->sink = NULL;
                sink->end(sink, broken ? 1 : 0);
                conn_close(c);
            }
            /* else: attach() will deliver the end (or the error) */
        }
    }
}

static void start_reading(upstream_conn *c) { uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb); }

/* ---- sending ---- */

static void on_written(uv_write_t *w, int status)
{
    upstream_conn *c = w->data;
    c->writing = false;
    if (status < 0 && c->state == C_WAITING)
        fail_call(c, EG_UPSTREAM_RESET, uv_strerror(status));
}

static void conn_send(upstream_conn *c)
{
    eg_upstream_call *call = c->call;
    c->state = C_WAITING;
    c->max_idle = call->max_idle;
    c->max_body = call->max_body;
    c->body_seen = 0;
    c->got_bytes = false;
    c->body_done = c->body_error = false;
    c->sink_paused = false;
    if (call->timeout_ms)
        uv_timer_start(&c->timer, on_timeout, call->timeout_ms, 0);
    else
        uv_timer_stop(&c->timer);
    uv_buf_t bufs[2] = { call->head, uv_buf_init((char *)call->body, (unsigned)call->body_len) };
    unsigned nbufs = call->body_len ? 2 : 1;
    size_t total = call->head.len + call->body_len;
    /* Most requests fit the socket buffer: write them at once. uv_write alone would arm and
     * disarm the POLLOUT watcher, an epoll_ctl per request. */
    int n = uv_try_write((uv_stream_t *)&c->tcp, bufs, nbufs);
    if (n == (int)total) {
        c->writing = false;
        if (c->read_paused || !c->reused) {
            c->read_paused = false;
            start_reading(c);
        }
        return;
    }
    if (n > 0) { /* the rest goes through uv_write */
        size_t done = (size_t)n;
        if (done >= bufs[0].len) {
            done -= bufs[0].len;
            bufs[0] = uv_buf_init(bufs[1].base + done, (unsigned)(bufs[1].len - done));
            nbufs = 1;
        } else {
            bufs[0].base += done;
            bufs[0].len -= done;
        }
    } else if (n != UV_EAGAIN) {
        c->pending_error = EG_UPSTREAM_RESET;
        uv_timer_start(&c->timer, on_deferred_error, 0, 0);
        return;
    }
    c->write_req.data = c;
    int rc = uv_write(&c->write_req, (uv_stream_t *)&c->tcp, bufs, nbufs, on_written);
    c->writing = rc == 0;
    if (rc < 0) {
        c->pending_error = EG_UPSTREAM_RESET;
        uv_timer_start(&c->timer, on_deferred_error, 0, 0);
        return;
    }
    if (c->read_paused || !c->reused) {
        c->read_paused = false;
        start_reading(c);
    }
}

static void on_connected(uv_connect_t *req, int status)
{
    upstream_conn *c = req->data;
    if (c->state == C_CLOSING)
        return;
    if (status < 0) {
        fail_call(c, EG_UPSTREAM_CONNECT_FAILED, uv_strerror(status));
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    conn_send(c);
}

void eg_upstream_start(eg_upstream_pool *p, eg_upstream_call *call)
{
    static uv_once_t once = UV_ONCE_INIT;
    uv_once(&once, init_settings);
    upstream_host *h = host_of(p, call->pool_key);
    upstream_conn *c = h->idle;
    if (c) {
        idle_remove(c);
        c->call = call;
        call->conn = c;
        llhttp_init(&c->parser, HTTP_RESPONSE, &settings);
        c->parser.data = c;
        conn_send(c);
        return;
    }
    c = calloc(1, sizeof *c);
    c->pool = p;
    p->live++;
    c->host = h;
    c->call = call;
    call->conn = c;
    uv_tcp_init(p->loop, &c->tcp);
    uv_timer_init(p->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    llhttp_init(&c->parser, HTTP_RESPONSE, &settings);
    c->parser.data = c;
    c->state = C_CONNECTING;
    c->connect_req.data = c;
    if (call->timeout_ms && call->timeout_ms <= CONNECT_TIMEOUT_MS)
        uv_timer_start(&c->timer, on_timeout, call->timeout_ms, 0);
    else
        uv_timer_start(&c->timer, on_connect_timeout, CONNECT_TIMEOUT_MS, 0);
    int rc = uv_tcp_connect(&c->connect_req, &c->tcp, call->addr, on_connected);
    if (rc < 0) {
        c->pending_error = EG_UPSTREAM_CONNECT_FAILED;
        uv_timer_start(&c->timer, on_deferred_error, 0, 0);
    }
}

void eg_upstream_cancel(eg_upstream_call *call)
{
    upstream_conn *c = call->conn;
    call->conn = NULL;
    if (c) {
        c->call = NULL;
        conn_close(c);
    }
}
