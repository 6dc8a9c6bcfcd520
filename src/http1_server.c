/* http1_server.c — one HTTP/1.1 server connection: read, parse, hand over, write. */
#include "http1_server.h"

#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "buf.h"
#include "header_reader.h"
#include "log.h"

enum conn_state {
    ST_IDLE,      /* keep-alive: waiting for the first byte of a request */
    ST_HEAD,      /* reading request line and headers */
    ST_BODY,      /* reading the body */
    ST_HANDLING,  /* the hooks have the request */
    ST_WRITING,   /* response head sent, body going out */
    ST_CLOSING,
};

struct eg_http1_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    /* Timeouts move on every request; the timer only when one comes sooner than it is set
     * for. When it fires early it sets itself again for what is left. */
    uint64_t deadline;           /* loop time the connection times out at; 0: none */
    uint64_t timer_due;          /* loop time the timer fires at; 0: not set */
    eg_http1_server *srv;
    llhttp_t parser;
    enum conn_state state;

    /* the request being read */
    eg_arena *arena;
    eg_request *req;
    eg_buf url, body;
    eg_header_reader headers;    /* lines built in the arena */
    size_t head_bytes;
    int64_t body_limit;
    int error_status;            /* set by a callback that rejected the request */
    uint8_t head_scan;           /* CR/LF state for the bare-LF and obs-fold checks */
    bool head_started;           /* a byte of the request line seen (not an empty line) */
    bool head_done_scan;
    bool expect_continue;

    eg_buf unparsed;             /* bytes after a complete request (pipelining) */
    bool paused_reading;

    /* the response */
    void *pending;
    bool close_after;
    bool head_request;
    bool chunked_out;
    eg_body_stream *stream;
    eg_body_sink sink;
    uint64_t body_bytes;
    bool stream_paused;
    int writes_in_flight;
    bool response_done;          /* last byte queued */
    eg_buf out;                  /* response bytes not queued yet: a head waits for the
                                  * first body bytes so both go out in one write */
    bool finish_on_drain;        /* the body ended with nothing left to queue */
    bool draining;
    int closing_handles;
    char peer_ip[48];
    uint16_t peer_port;
    eg_http1_conn *prev, *next;  /* in srv->conns */
    bool finish_queued;
    eg_http1_conn *finish_next;  /* in srv->finisher */
};

typedef struct {
    uv_write_t req;
    eg_http1_conn *conn;
    bool last;
    char data[];
} write_req;

static llhttp_settings_t parser_settings;
static void conn_close(eg_http1_conn *c);
static void process_input(eg_http1_conn *c, const char *data, size_t len);
static void finish_response(eg_http1_conn *c, int error);
static void queue_write(eg_http1_conn *c, const char *a, size_t alen, const char *b, size_t blen, const char *z, size_t zlen, bool last);
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* ---- time ---- */

const char *eg_http_date(char buf[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

/* ---- timers ---- */

static void on_timeout(uv_timer_t *t)
{
    eg_http1_conn *c = t->data;
    c->timer_due = 0;
    if (!c->deadline)
        return;
    uint64_t now = uv_now(c->srv->loop);
    if (now < c->deadline) {
        c->timer_due = c->deadline;
        uv_timer_start(&c->timer, on_timeout, c->deadline - now, 0);
        return;
    }
    if (c->state == ST_HEAD || c->state == ST_BODY)
        eg_debug("http1: closing %s: request read timed out", c->peer_ip);
    conn_close(c);
}

/* The connection times out `ms` from now (0: not at all). */
static void arm_timer(eg_http1_conn *c, uint64_t ms)
{
    if (!ms) {
        c->deadline = 0;
        return;
    }
    c->deadline = uv_now(c->srv->loop) + ms;
    if (!c->timer_due || c->timer_due > c->deadline) {
        c->timer_due = c->deadline;
        uv_timer_start(&c->timer, on_timeout, ms, 0);
    }
}

/* ---- responses ended from the loop ---- */

static void on_finisher_idle(uv_idle_t *h)
{
    eg_http1_finisher *f = h->data;
    while (f->head) {
        eg_http1_conn *c = f->head;
        f->head = c->finish_next;
        if (!f->head)
            f->tail = NULL;
        c->finish_next = NULL;
        c->finish_queued = false;
        finish_response(c, 0);
    }
    uv_idle_stop(&f->idle);
}

void eg_http1_finisher_init(eg_http1_finisher *f, uv_loop_t *loop)
{
    *f = (eg_http1_finisher){ 0 };
    uv_idle_init(loop, &f->idle);
    f->idle.data = f;
}

void eg_http1_finisher_close(eg_http1_finisher *f)
{
    if (!uv_is_closing((uv_handle_t *)&f->idle))
        uv_close((uv_handle_t *)&f->idle, NULL);
}

static void finisher_add(eg_http1_conn *c)
{
    eg_http1_finisher *f = c->srv->finisher;
    if (c->finish_queued || uv_is_closing((uv_handle_t *)&f->idle))
        return;
    c->finish_queued = true;
    if (f->tail)
        f->tail->finish_next = c;
    else
        f->head = c;
    f->tail = c;
    uv_idle_start(&f->idle, on_finisher_idle);
}

static void finisher_remove(eg_http1_conn *c)
{
    if (!c->finish_queued)
        return;
    eg_http1_finisher *f = c->srv->finisher;
    eg_http1_conn **link = &f->head, *prev = NULL;
    while (*link && *link != c) {
        prev = *link;
        link = &(*link)->finish_next;
    }
    if (*link) {
        *link = c->finish_next;
        if (f->tail == c)
            f->tail = prev;
    }
    c->finish_next = NULL;
    c->finish_queued = false;
}

/* ---- request parsing ---- */

static eg_http1_conn *conn_of(llhttp_t *p) { return p->data; }

static int count_head(eg_http1_conn *c, size_t n, int status)
{
    c->head_bytes += n;
    if (c->head_bytes > c->srv->config.max_head_size) {
        c->error_status = status;
        return -1;
    }
    return 0;
}

static void start_request(eg_http1_conn *c)
{
    c->arena = eg_arena_pool_get(c->srv->arenas);
    c->req = eg_arena_alloc(c->arena, sizeof *c->req);
    memset(c->req, 0, sizeof *c->req);
    memcpy(c->req->peer_ip, c->peer_ip, sizeof c->req->peer_ip);
    memcpy(c->req->client_ip, c->peer_ip, sizeof c->req->client_ip);
    c->req->peer_port = c->peer_port;
    eg_header_reader_begin(&c->headers);
    c->url.len = c->body.len = 0;
    c->head_bytes = 0;
    c->body_limit = -1;
    c->error_status = 0;
    c->head_scan = 0;
    c->head_started = false;
    c->head_done_scan = false;
    c->expect_continue = false;
    c->close_after = false;
    c->head_request = false;
    c->body_bytes = 0;
    c->response_done = false;
    c->pending = NULL;
}

static int on_message_begin(llhttp_t *p)
{
    eg_http1_conn *c = conn_of(p);
    if (!c->arena)
        start_request(c);
    c->state = ST_HEAD;
    arm_timer(c, c->srv->config.header_timeout_ms);
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    eg_http1_conn *c = conn_of(p);
    if (c->url.len + len > 8192) {
        c->error_status = 414;
        return -1;
    }
    if (count_head(c, len, 414))
        return -1;
    eg_buf_append(&c->url, at, len);
    return 0;
}

static int on_header_piece(llhttp_t *p, const char *at, size_t len)
{
    eg_http1_conn *c = conn_of(p);
    if (count_head(c, len, 431))
        return -1;
    eg_header_reader_piece(&c->headers, at, len);
    return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
    eg_http1_conn *c = conn_of(p);
    eg_header_reader_name_done(&c->headers, c->arena);
    return 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    eg_http1_conn *c = conn_of(p);
    eg_header_reader_value_done(&c->headers, c->arena);
    return 0;
}

static bool header_has_token(const eg_header *h, const char *tok)
{
    size_t tl = strlen(tok);
    const char *v = h->value, *end = h->value + h->value_len;
    while (v < end) {
        while (v < end && (*v == ' ' || *v == ',' || *v == '\t'))
            v++;
        const char *s = v;
        while (v < end && *v != ',')
            v++;
        const char *e = v;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if ((size_t)(e - s) == tl && strncasecmp(s, tok, tl) == 0)
            return true;
    }
    return false;
}

static int on_headers_complete(llhttp_t *p)
{
    eg_http1_conn *c = conn_of(p);
    eg_request *r = c->req;
    r->version_major = p->http_major;
    r->version_minor = p->http_minor;
    r->method = eg_arena_strndup(c->arena, llhttp_method_name(p->method), strlen(llhttp_method_name(p->method)));
    r->headers = c->headers.headers;
    r->scheme = c->srv->config.scheme ? c->srv->config.scheme : "http";

    /* The request target: origin-form only (absolute-form is for proxies we are not). */
    const char *u = c->url.data ? c->url.data : "";
    size_t ulen = c->url.len;
    if (p->method == HTTP_CONNECT || ulen == 0 || (u[0] != '/' && !(ulen == 1 && u[0] == '*'))) {
        c->error_status = 400;
        return -1;
    }
    const char *q = memchr(u, '?', ulen);
    const char *frag = memchr(u, '#', ulen);
    if (frag) {
        c->error_status = 400;
        return -1;
    }
    r->path = eg_arena_strndup(c->arena, u, q ? (size_t)(q - u) : ulen);
    r->query = q ? eg_arena_strndup(c->arena, q + 1, ulen - (size_t)(q - u) - 1) : NULL;
    r->target_path = r->path;
    r->target_query = r->query;
    /* "METHOD SP target SP HTTP/x.y CRLF", "name: value CRLF" each, the empty line. */
    r->head_bytes = strlen(r->method) + 1 + ulen + 1 + 8 + 2 + 2;
    for (size_t i = 0; i < r->headers.count; i++)
        r->head_bytes += r->headers.items[i].name_len + 2 + r->headers.items[i].value_len + 2;

    /* Host: exactly one, required on HTTP/1.1 (RFC 9112 §3.2). */
    const eg_header *host = NULL;
    for (size_t i = 0; i < r->headers.count; i++) {
        const eg_header *h = &r->headers.items[i];
        if (h->name_len == 4 && strncasecmp(h->name, "Host", 4) == 0) {
            if (host) {
                c->error_status = 400;
                return -1;
            }
            host = h;
        } else if (h->name_len == 6 && strncasecmp(h->name, "Expect", 6) == 0) {
            if (h->value_len == 12 && strncasecmp(h->value, "100-continue", 12) == 0)
                c->expect_continue = r->version_major == 1 && r->version_minor >= 1;
        }
    }
    if (!host && r->version_major == 1 && r->version_minor >= 1) {
        c->error_status = 400;
        return -1;
    }
    r->host = host ? eg_arena_strndup(c->arena, host->value, host->value_len) : "";
    for (size_t i = 0; i < r->headers.count; i++) {
        const eg_header *h = &r->headers.items[i];
        if (h->name_len == 10 && strncasecmp(h->name, "Connection", 10) == 0 && header_has_token(h, "close"))
            c->close_after = true;
    }
    if (!llhttp_should_keep_alive(p) || !c->srv->config.keep_alive)
        c->close_after = true;
    c->head_request = p->method == HTTP_HEAD;

    bool has_body = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0);
    c->body_limit = has_body && c->srv->hooks->body_limit ? c->srv->hooks->body_limit(c->srv->ud, r) : -1;
    if (has_body && c->body_limit >= 0 && (p->flags & F_CONTENT_LENGTH) && p->content_length > (uint64_t)c->body_limit) {
        c->error_status = 413;
        return -1;
    }
    if (has_body && c->expect_continue) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        queue_write(c, cont, sizeof cont - 1, NULL, 0, NULL, 0, false);
    }
    if (has_body) {
        c->state = ST_BODY;
        arm_timer(c, c->srv->config.body_timeout_ms);
    }
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    eg_http1_conn *c = conn_of(p);
    if (c->body_limit >= 0 && c->body.len + len > (uint64_t)c->body_limit) {
        c->error_status = 413;
        return -1;
    }
    eg_buf_append(&c->body, at, len);
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    eg_http1_conn *c = conn_of(p);
    c->state = ST_HANDLING;
    return HPE_PAUSED;
}

static void init_settings(void)
{
    llhttp_settings_init(&parser_settings);
    parser_settings.on_message_begin = on_message_begin;
    parser_settings.on_url = on_url;
    parser_settings.on_header_field = on_header_piece;
    parser_settings.on_header_value = on_header_piece;
    parser_settings.on_header_field_complete = on_header_field_complete;
    parser_settings.on_header_value_complete = on_header_value_complete;
    parser_settings.on_headers_complete = on_headers_complete;
    parser_settings.on_body = on_body;
    parser_settings.on_message_complete = on_message_complete;
}

/* ---- writing ---- */

static void after_write(uv_write_t *w, int status)
{
    write_req *wr = (write_req *)w;
    eg_http1_conn *c = wr->conn;
    bool last = wr->last;
    free(wr);
    c->writes_in_flight--;
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (c->stream && c->stream_paused && c->tcp.write_queue_size < 64 * 1024) {
        c->stream_paused = false;
        c->stream->resume(c->stream);
    }
    if (last || (c->finish_on_drain && c->writes_in_flight == 0)) {
        c->finish_on_drain = false;
        finish_response(c, 0);
    } else if (c->state == ST_CLOSING && c->writes_in_flight == 0) {
        conn_close(c);
    }
}


/* Queue up to three pieces (copied unless written at once). `last` marks the final write
 * of a response. */
static void queue_write(eg_http1_conn *c, const char *a, size_t alen, const char *b, size_t blen, const char *z, size_t zlen, bool last)
{
    size_t total = alen + blen + zlen, skip = 0;
    if (c->writes_in_flight == 0 && total) {
        /* Written at once, nothing to copy, and no POLLOUT watcher armed and disarmed
         * (an epoll_ctl per response with uv_write alone). */
        uv_buf_t bufs[3];
        unsigned n = 0;
        if (alen)
            bufs[n++] = uv_buf_init((char *)a, (unsigned)alen);
        if (blen)
            bufs[n++] = uv_buf_init((char *)b, (unsigned)blen);
        if (zlen)
            bufs[n++] = uv_buf_init((char *)z, (unsigned)zlen);
        int w = uv_try_write((uv_stream_t *)&c->tcp, bufs, n);
        if (w == (int)total) {
            /* Finish from the loop, not from inside whoever is answering. */
            if (last)
                finisher_add(c);
            return;
        }
        if (w < 0 && w != UV_EAGAIN) {
            if (last)
                finish_response(c, 1);
            else
                conn_close(c);
            return;
        }
        skip = w > 0 ? (size_t)w : 0;
    }
    write_req *wr = malloc(sizeof *wr + total);
    if (!wr)
        abort();
    wr->conn = c;
    wr->last = last;
    memcpy(wr->data, a, alen);
    if (blen)
        memcpy(wr->data + alen, b, blen);
    if (zlen)
        memcpy(wr->data + alen + blen, z, zlen);
    uv_buf_t buf = uv_buf_init(wr->data + skip, (unsigned)(total - skip));
    c->writes_in_flight++;
    if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, &buf, 1, after_write) < 0) {
        c->writes_in_flight--;
        free(wr);
        if (last)
            finish_response(c, 1);
        else
            conn_close(c);
    }
}

static bool status_has_body(int status) { return !(status < 200 || status == 204 || status == 304); }

/* Room for the head but its headers: status line, Date, Content-Length or
 * Transfer-Encoding, Connection, the blank line. */
#define HEAD_FIXED_ROOM 256

static void build_head(eg_http1_conn *c, const eg_response *resp, eg_buf *out, bool *chunked)
{
    int status = resp->status ? resp->status : 503;
    const char *reason = eg_status_reason(status);
    size_t room = HEAD_FIXED_ROOM + strlen(reason);
    for (size_t i = 0; i < resp->headers.count; i++)
        room += resp->headers.items[i].name_len + resp->headers.items[i].value_len + 4;
    eg_buf_reserve(out, room);

    char line[13] = { 'H', 'T', 'T', 'P', '/', '1', '.', '1', ' ', (char)('0' + status / 100 % 10),
                      (char)('0' + status / 10 % 10), (char)('0' + status % 10), ' ' };
    eg_buf_put(out, line, sizeof line);
    eg_buf_put(out, reason, strlen(reason));
    eg_buf_put(out, "\r\n", 2);
    bool have_date = false;
    for (size_t i = 0; i < resp->headers.count; i++) {
        const eg_header *h = &resp->headers.items[i];
        if (eg_is_hop_header(h->name, h->name_len, NULL) ||
            (h->name_len == 14 && strncasecmp(h->name, "Content-Length", 14) == 0))
            continue;
        if (h->name_len == 4 && strncasecmp(h->name, "Date", 4) == 0)
            have_date = true;
        /* CR/LF in a value would split the response: filters cannot smuggle through us. */
        if (memchr(h->value, '\r', h->value_len) || memchr(h->value, '\n', h->value_len) ||
            memchr(h->name, '\r', h->name_len) || memchr(h->name, '\n', h->name_len))
            continue;
        eg_buf_put(out, h->name, h->name_len);
        eg_buf_put(out, ": ", 2);
        eg_buf_put(out, h->value, h->value_len);
        eg_buf_put(out, "\r\n", 2);
    }
    if (!have_date) {
        time_t now = time(NULL);
        if (now != c->srv->date_sec) {
            c->srv->date_sec = now;
            eg_http_date(c->srv->date);
        }
        eg_buf_put(out, "Date: ", 6);
        eg_buf_put(out, c->srv->date, strlen(c->srv->date));
        eg_buf_put(out, "\r\n", 2);
    }
    *chunked = false;
    if (status_has_body(status)) {
        if (resp->stream && resp->content_length < 0) {
            if (c->req->version_minor >= 1 && c->req->version_major == 1) {
                static const char te[] = "Transfer-Encoding: chunked\r\n";
                eg_buf_put(out, te, sizeof te - 1);
                *chunked = true;
            } else {
                c->close_after = true; /* HTTP/1.0: the body ends with the connection */
            }
        } else {
            eg_buf_put(out, "Content-Length: ", 16);
            eg_buf_append_u64(out, (unsigned long long)(resp->stream ? resp->content_length : (int64_t)resp->body_len));
            eg_buf_put(out, "\r\n", 2);
        }
    }
    static const char close_[] = "Connection: close\r\n", keep[] = "Connection: keep-alive\r\n";
    if (c->close_after || c->draining)
        eg_buf_put(out, close_, sizeof close_ - 1);
    else if (c->req->version_major == 1 && c->req->version_minor == 0)
        eg_buf_put(out, keep, sizeof keep - 1);
    eg_buf_put(out, "\r\n", 2);
}

static bool sink_write(eg_body_sink *sink, const char *data, size_t len)
{
    eg_http1_conn *c = (eg_http1_conn *)((char *)sink - offsetof(eg_http1_conn, sink));
    if (c->state == ST_CLOSING || !len)
        return true;
    c->body_bytes += len;
    if (c->head_request)
        return true;
    if (c->chunked_out) {
        char pre[24];
        int n = snprintf(pre, sizeof pre, "%zx\r\n", len);
        eg_buf_append(&c->out, pre, (size_t)n);
        queue_write(c, c->out.data, c->out.len, data, len, "\r\n", 2, false);
    } else {
        queue_write(c, c->out.data ? c->out.data : "", c->out.len, data, len, NULL, 0, false);
    }
    c->out.len = 0;
    if (c->tcp.write_queue_size > 256 * 1024) {
        c->stream_paused = true;
        return false;
    }
    return true;
}

static void sink_end(eg_body_sink *sink, int error)
{
    eg_http1_conn *c = (eg_http1_conn *)((char *)sink - offsetof(eg_http1_conn, sink));
    c->stream = NULL;
    if (c->state == ST_CLOSING)
        return;
    if (error) {
        /* The body broke off: the client must see an incomplete message, never a
         * well-formed short one, so the connection goes without a terminating chunk. */
        c->close_after = true;
        finish_response(c, error);
        return;
    }
    if (c->chunked_out && !c->head_request)
        eg_buf_append(&c->out, "0\r\n\r\n", 5);
    if (c->out.len) {
        queue_write(c, c->out.data, c->out.len, NULL, 0, NULL, 0, true);
        c->out.len = 0;
    } else if (c->writes_in_flight) {
        c->finish_on_drain = true; /* no empty write just to learn the others are done */
    } else {
        finish_response(c, 0);
    }
}

void eg_http1_set_pending(eg_http1_conn *c, void *pending) { c->pending = pending; }

void eg_http1_respond(eg_http1_conn *c, eg_response *resp)
{
    if (c->state != ST_HANDLING)
        return;
    c->state = ST_WRITING;
    c->out.len = 0;
    build_head(c, resp, &c->out, &c->chunked_out);
    resp->head_bytes = c->out.len;
    bool body_allowed = status_has_body(resp->status ? resp->status : 503) && !c->head_request;
    if (resp->stream) {
        c->stream = resp->stream;
        resp->stream = NULL;
        if (!body_allowed) {
            eg_body_stream *s = c->stream;
            c->stream = NULL;
            s->abort(s);
            queue_write(c, c->out.data, c->out.len, NULL, 0, NULL, 0, true);
            c->out.len = 0;
            return;
        }
        c->sink.write = sink_write;
        c->sink.end = sink_end;
        if (c->stream->until_client_leaves) {
            /* It may be long before its first byte: the client gets the head now. */
            queue_write(c, c->out.data, c->out.len, NULL, 0, NULL, 0, false);
            c->out.len = 0;
            if (!c->stream) /* the write failed: the connection closed and aborted it */
                return;
        }
        c->stream->attach(c->stream, &c->sink);
        return;
    }
    c->body_bytes = body_allowed ? resp->body_len : 0;
    queue_write(c, c->out.data, c->out.len, resp->body, body_allowed ? resp->body_len : 0, NULL, 0, true);
    c->out.len = 0;
}

/* The response is out (or failed): release the request, then serve the next one. */
static void finish_response(eg_http1_conn *c, int error)
{
    if (c->stream) {
        eg_body_stream *s = c->stream;
        c->stream = NULL;
        s->abort(s);
    }
    void *pending = c->pending;
    c->pending = NULL;
    eg_arena *arena = c->arena;
    c->arena = NULL;
    c->req = NULL;
    if (c->srv->hooks->finished && pending)
        c->srv->hooks->finished(c->srv->ud, pending, error, c->body_bytes);
    else if (arena)
        eg_arena_pool_put(c->srv->arenas, arena);
    if (error || c->close_after || c->draining || c->state == ST_CLOSING) {
        c->state = ST_CLOSING;
        if (c->writes_in_flight == 0)
            conn_close(c);
        else
            uv_read_stop((uv_stream_t *)&c->tcp);
        return;
    }
    c->state = ST_IDLE;
    llhttp_resume(&c->parser);
    arm_timer(c, c->srv->config.idle_timeout_ms);
    if (c->unparsed.len) {
        eg_buf rest = c->unparsed;
        c->unparsed = (eg_buf){ 0 };
        process_input(c, rest.data, rest.len);
        eg_buf_free(&rest);
    }
    /* Reading stopped while this connection was busy: start again unless the buffered input
     * made it busy once more. It may be inside the next request's head or body by now. */
    if (c->paused_reading && (c->state == ST_IDLE || c->state == ST_HEAD || c->state == ST_BODY)) {
        c->paused_reading = false;
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
    }
}

/* An error answer from the connection itself, then close. */
static void respond_error(eg_http1_conn *c, int status)
{
    if (!c->arena)
        start_request(c);
    if (!c->req->method) {
        c->req->method = "GET";
        c->req->version_major = 1;
        c->req->version_minor = 1;
    }
    c->close_after = true;
    c->state = ST_HANDLING;
    eg_response resp = { 0 };
    char body[64];
    int n = snprintf(body, sizeof body, "%d %s\n", status, eg_status_reason(status));
    resp.status = status;
    resp.body = body;
    resp.body_len = (size_t)n;
    eg_headers_sets(c->arena, &resp.headers, "Content-Type", "text/plain; charset=utf-8");
    eg_http1_respond(c, &resp);
}

/* RFC 9112 §2.2 allows a bare LF as a line end and §5.2 obsolete line folding; a proxy
 * that accepts either while its backend reads them differently is a smuggling vector, so
 * the request head must use CRLF only and no continuation lines. */
static bool head_is_malformed(eg_http1_conn *c, const char *data, size_t len)
{
    for (size_t i = 0; i < len && !c->head_done_scan; i++) {
        if (c->head_scan == 0 && c->head_started) {
            /* Mid-line: only the next LF (and the byte before it) matter; skip to it. */
            const char *nl = memchr(data + i, '\n', len - i);
            if (!nl) {
                c->head_scan = data[len - 1] == '\r' ? 1 : 0;
                return false;
            }
            size_t j = (size_t)(nl - data);
            if (j > i)
                c->head_scan = data[j - 1] == '\r' ? 1 : 0;
            i = j;
        }
        char ch = data[i];
        bool line_start = (c->head_scan >> 1) == 1;
        if (ch == '\n') {
            if (!(c->head_scan & 1))
                return true;
            if (!c->head_started) {
                /* an empty line before the request line (RFC 9112 §2.2, llhttp skips it):
                 * not the end of the head, which has not begun */
                c->head_scan = 0;
                continue;
            }
            /* count consecutive CRLFs: two end the head */
            c->head_scan = (uint8_t)(((c->head_scan >> 1) + 1) << 1);
            if ((c->head_scan >> 1) >= 2)
                c->head_done_scan = true;
        } else if (ch == '\r') {
            c->head_scan |= 1;
        } else {
            if (line_start && (ch == ' ' || ch == '\t'))
                return true;
            c->head_scan = 0;
            c->head_started = true;
        }
    }
    return false;
}

static void dispatch(eg_http1_conn *c)
{
    eg_request *r = c->req;
    if (c->body.len) {
        r->body = eg_arena_alloc(c->arena, c->body.len + 1);
        memcpy(r->body, c->body.data, c->body.len);
        r->body[c->body.len] = 0;
        r->body_len = c->body.len;
    }
    if (c->body.cap > 64 * 1024)
        eg_buf_free(&c->body);
    arm_timer(c, 0);
    eg_arena *arena = c->arena;
    c->srv->hooks->handle(c->srv->ud, c, r, arena);
}

static void process_input(eg_http1_conn *c, const char *data, size_t len)
{
    while (len > 0 && c->state != ST_CLOSING) {
        if (c->state == ST_HANDLING || c->state == ST_WRITING) {
            if (c->unparsed.len + len > 64 * 1024) {
                uv_read_stop((uv_stream_t *)&c->tcp);
                c->paused_reading = true;
            }
            eg_buf_append(&c->unparsed, data, len);
            return;
        }
        if (c->state == ST_IDLE && !c->arena)
            start_request(c);
        if ((c->state == ST_IDLE || c->state == ST_HEAD) && head_is_malformed(c, data, len)) {
            respond_error(c, 400);
            return;
        }
        llhttp_errno_t err = llhttp_execute(&c->parser, data, len);
        eg_header_reader_keep(&c->headers);
        if (err == HPE_OK)
            return;
        if (err == HPE_PAUSED) {
            const char *pos = llhttp_get_error_pos(&c->parser);
            size_t used = pos ? (size_t)(pos - data) : len;
            data += used;
            len -= used;
            dispatch(c);
            continue;
        }
        int status = c->error_status ? c->error_status : 400;
        eg_debug("http1: bad request (%d): %s", status, llhttp_get_error_reason(&c->parser));
        respond_error(c, status);
        return;
    }
}

/* ---- connection lifecycle ---- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    eg_http1_conn *c = h->data;
    buf->base = c->srv->read_buf;
    buf->len = c->srv->read_buf_size;
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    eg_http1_conn *c = s->data;
    if (n > 0) {
        process_input(c, buf->base, (size_t)n);
        return;
    }
    if (n == 0)
        return;
    /* EOF or error: a request half-read is dropped; one being handled is aborted. */
    if (c->state == ST_HANDLING || c->state == ST_WRITING) {
        if (n == UV_EOF && c->state == ST_WRITING && !(c->stream && c->stream->until_client_leaves)) {
            c->close_after = true;
            uv_read_stop(s);
            return;
        }
    }
    conn_close(c);
}

static void on_handle_closed(uv_handle_t *h)
{
    eg_http1_conn *c = h->data;
    if (--c->closing_handles > 0)
        return;
    eg_buf_free(&c->url);
    eg_header_reader_free(&c->headers);
    eg_buf_free(&c->body);
    eg_buf_free(&c->unparsed);
    eg_buf_free(&c->out);
    if (c->prev)
        c->prev->next = c->next;
    else
        c->srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->srv->open_conns--;
    if (c->srv->on_conn_closed)
        c->srv->on_conn_closed(c->srv->ud);
    free(c);
}

static void conn_close(eg_http1_conn *c)
{
    if (c->closing_handles)
        return;
    enum conn_state prev = c->state;
    c->state = ST_CLOSING;
    if (c->stream) {
        eg_body_stream *s = c->stream;
        c->stream = NULL;
        s->abort(s);
    }
    if (prev == ST_HANDLING && c->pending) {
        /* The handler still works on it: tell it; it frees its arena itself. */
        void *p = c->pending;
        c->pending = NULL;
        c->arena = NULL;
        if (c->srv->hooks->abort)
            c->srv->hooks->abort(c->srv->ud, p);
    } else if (c->pending || c->arena) {
        void *p = c->pending;
        eg_arena *a = c->arena;
        c->pending = NULL;
        c->arena = NULL;
        if (p && c->srv->hooks->finished)
            c->srv->hooks->finished(c->srv->ud, p, 1, c->body_bytes);
        else if (a)
            eg_arena_pool_put(c->srv->arenas, a);
    }
    finisher_remove(c);
    c->closing_handles = 2;
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

void eg_http1_server_drain(eg_http1_server *srv)
{
    for (eg_http1_conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        c->draining = true;
        if (c->state == ST_IDLE)
            conn_close(c);
    }
}

void eg_http1_server_close_all(eg_http1_server *srv)
{
    for (eg_http1_conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        conn_close(c);
    }
}

static eg_http1_conn *conn_new(eg_http1_server *srv)
{
    static uv_once_t once = UV_ONCE_INIT;
    uv_once(&once, init_settings);
    eg_http1_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->srv = srv;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    uv_tcp_init(srv->loop, &c->tcp);
    c->tcp.data = c;
    uv_timer_init(srv->loop, &c->timer);
    c->timer.data = c;
    srv->open_conns++;
    return c;
}

/* The socket could not be taken over: release the connection through the usual path. */
static int conn_abandon(eg_http1_conn *c, int rc)
{
    c->closing_handles = 2;
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    return rc;
}

static int conn_start(eg_http1_conn *c)
{
    uv_tcp_nodelay(&c->tcp, 1);
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            uv_ip4_name((struct sockaddr_in *)&ss, c->peer_ip, sizeof c->peer_ip);
            c->peer_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, c->peer_ip, sizeof c->peer_ip);
            c->peer_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
        if (strncmp(c->peer_ip, "::ffff:", 7) == 0 && strchr(c->peer_ip, '.'))
            memmove(c->peer_ip, c->peer_ip + 7, strlen(c->peer_ip + 7) + 1);
    }
    llhttp_init(&c->parser, HTTP_REQUEST, &parser_settings);
    c->parser.data = c;
    c->state = ST_IDLE;
    arm_timer(c, c->srv->config.header_timeout_ms);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
    return 0;
}

int eg_http1_accept(eg_http1_server *srv, uv_stream_t *listener)
{
    eg_http1_conn *c = conn_new(srv);
    if (!c)
        return UV_ENOMEM;
    int rc = uv_accept(listener, (uv_stream_t *)&c->tcp);
    return rc < 0 ? conn_abandon(c, rc) : conn_start(c);
}

int eg_http1_serve_fd(eg_http1_server *srv, int fd)
{
    eg_http1_conn *c = conn_new(srv);
    if (!c)
        return UV_ENOMEM;
    int rc = uv_tcp_open(&c->tcp, fd);
    return rc < 0 ? conn_abandon(c, rc) : conn_start(c);
}
