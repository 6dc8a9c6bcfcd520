/* fuzz_http1.c — libFuzzer target for the HTTP/1.1 server connection (http1_server.c).
 *
 * The real connection code serves one end of a socketpair on a libuv loop (through
 * eg_http1_serve_fd); the input is written into the other end in one to three pieces, with
 * the loop run in between, and the connection is then closed and the loop run dry. The hooks
 * answer every request with a fixed 200 (or 204/304/404) whose body is bytes or a trivial
 * eg_body_stream, answered at once or from a timer, so pipelining, streaming, aborts and
 * close-while-busy all happen.
 *
 * Input: byte 0 and byte 1 are flags (see below), byte 2 a split point; the rest is what the
 * client sends. Checked properties, beyond the sanitizers:
 *  - every request handed over has a method, an origin-form target and a Host string;
 *  - a deferred request gets exactly one of finished() / abort(), never both, never twice;
 *  - what the server writes back parses as a sequence of HTTP/1.1 responses;
 *  - after close_all the loop runs dry: no handle, connection or timer is left behind.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <llhttp.h>
#include <uv.h>

#include "http1_server.h"

/* byte 0 */
#define F_MODE        0x03 /* 0 bytes now, 1 stream now, 2 bytes later, 3 stream later */
#define F_MIX         0x04 /* the mode changes with each request on the connection */
#define F_STREAM_FAIL 0x08 /* a stream breaks off instead of ending */
#define F_HALF_CLOSE  0x10 /* the client shuts down its sending side after the input */
#define F_NO_KEEPALIVE 0x20
#define F_KNOWN_LEN   0x40 /* a stream announces its length */
#define F_SMALL       0x80 /* small head and body limits */
/* byte 1: bits 0-1 status, bits 2-3 stream chunks, bits 4-7 the first split point */

static uv_loop_t loop;
static eg_http1_server srv;
static eg_http1_finisher finisher;
static eg_arena_pool arenas;
static char read_buf[64 * 1024];
static uint8_t flags, flags2;
static unsigned long progress; /* anything happened: a hook ran, bytes moved */
static unsigned nrequests;
static int live_pending;       /* deferred requests not yet finished or aborted */
/* Whether each handed-over request was HEAD, in order: a response to HEAD has no body
 * whatever its Content-Length says, and only the client knows which ones those are. */
static bool head_fifo[4096];
static unsigned head_in, head_out;

/* ---- a trivial body stream: a few chunks, now or one per loop turn ---- */

typedef struct {
    eg_body_stream base;
    eg_body_sink *sink;
    uv_timer_t timer;
    int left;
    bool async, fail, paused, pushing, done, closing;
} fz_stream;

static const char chunk[] = "0123456789abcdef";
#define CHUNK_LEN (sizeof chunk - 1)

static void stream_closed(uv_handle_t *h) { free(h->data); }

static void stream_release(fz_stream *s)
{
    if (s->closing)
        return;
    s->closing = true;
    uv_close((uv_handle_t *)&s->timer, stream_closed);
}

static void stream_push(fz_stream *s, int max)
{
    s->pushing = true;
    while (!s->done && !s->paused && s->left > 0 && max-- > 0) {
        s->left--;
        progress++;
        if (!s->sink->write(s->sink, chunk, CHUNK_LEN))
            s->paused = true; /* abort() may have come from inside write: done is then set */
    }
    if (!s->done && s->left == 0) {
        s->done = true;
        s->sink->end(s->sink, s->fail);
    }
    s->pushing = false;
    if (s->done)
        stream_release(s);
}

static void stream_tick(uv_timer_t *t)
{
    fz_stream *s = t->data;
    stream_push(s, 1);
    if (!s->done && !s->paused)
        uv_timer_start(&s->timer, stream_tick, 0, 0);
}

static void stream_attach(eg_body_stream *bs, eg_body_sink *sink)
{
    fz_stream *s = (fz_stream *)bs;
    s->sink = sink;
    if (s->async)
        uv_timer_start(&s->timer, stream_tick, 0, 0);
    else
        stream_push(s, 1 << 20);
}

static void stream_resume(eg_body_stream *bs)
{
    fz_stream *s = (fz_stream *)bs;
    s->paused = false;
    if (s->async)
        uv_timer_start(&s->timer, stream_tick, 0, 0);
    else
        stream_push(s, 1 << 20);
}

static void stream_abort(eg_body_stream *bs)
{
    fz_stream *s = (fz_stream *)bs;
    if (s->done)
        abort(); /* aborted after it ended (or twice) */
    s->done = true;
    progress++;
    uv_timer_stop(&s->timer);
    if (!s->pushing)
        stream_release(s);
}

static fz_stream *stream_new(bool async)
{
    fz_stream *s = calloc(1, sizeof *s);
    s->base.attach = stream_attach;
    s->base.resume = stream_resume;
    s->base.abort = stream_abort;
    uv_timer_init(&loop, &s->timer);
    s->timer.data = s;
    s->left = (flags2 >> 2) & 3;
    s->async = async;
    s->fail = flags & F_STREAM_FAIL;
    return s;
}

/* ---- the response ---- */

static void respond(eg_http1_conn *c, eg_arena *a, bool stream, bool async)
{
    static const int statuses[] = { 200, 204, 304, 404 };
    eg_response resp = { 0 };
    resp.status = statuses[flags2 & 3];
    eg_headers_sets(a, &resp.headers, "Content-Type", "text/plain");
    eg_headers_sets(a, &resp.headers, "X-Fuzz", "1");
    if (stream) {
        fz_stream *s = stream_new(async);
        resp.stream = &s->base;
        resp.content_length = flags & F_KNOWN_LEN ? (int64_t)(s->left * CHUNK_LEN) : -1;
    } else {
        resp.body = "hello\n";
        resp.body_len = 6;
    }
    eg_http1_respond(c, &resp);
}

/* A request answered from a timer: the connection's pending object. */
typedef struct {
    eg_http1_conn *conn;
    eg_arena *arena;
    uv_timer_t timer;
    bool stream;
    bool ended; /* finished or aborted */
} deferred;

static void deferred_closed(uv_handle_t *h) { free(h->data); }

static void deferred_end(deferred *d)
{
    if (d->ended)
        abort(); /* finished/abort twice, or both */
    d->ended = true;
    live_pending--;
    progress++;
    uv_timer_stop(&d->timer);
    eg_arena_pool_put(&arenas, d->arena);
    uv_close((uv_handle_t *)&d->timer, deferred_closed);
}

static void deferred_fire(uv_timer_t *t)
{
    deferred *d = t->data;
    progress++;
    respond(d->conn, d->arena, d->stream, true); /* may end d (a failed write): it stays allocated until closed */
}

/* ---- hooks ---- */

static int64_t hook_body_limit(void *ud, const eg_request *req)
{
    (void)ud;
    (void)req;
    progress++;
    return flags & F_SMALL ? 16 : -1;
}

static void check_request(const eg_request *r)
{
    if (!r->method || !r->path || !r->host || !r->scheme)
        abort();
    if (r->path[0] != '/' && strcmp(r->path, "*") != 0)
        abort();
    size_t sum = strlen(r->method) + strlen(r->path) + strlen(r->host) + (r->query ? strlen(r->query) : 0);
    for (size_t i = 0; i < r->headers.count; i++) {
        const eg_header *h = &r->headers.items[i];
        if (!h->name_len)
            abort();
        for (size_t j = 0; j < h->name_len; j++)
            sum += (unsigned char)h->name[j];
        for (size_t j = 0; j < h->value_len; j++)
            sum += (unsigned char)h->value[j];
    }
    if (r->body_len && (!r->body || r->body[r->body_len] != 0))
        abort();
    progress += sum & 1; /* keep the reads */
}

static void hook_handle(void *ud, eg_http1_conn *c, eg_request *req, eg_arena *arena)
{
    (void)ud;
    progress++;
    check_request(req);
    head_fifo[head_in++ % 4096] = strcmp(req->method, "HEAD") == 0;
    int mode = flags & F_MODE;
    if (flags & F_MIX)
        mode = (mode + (int)nrequests) & 3;
    nrequests++;
    if (mode < 2) {
        respond(c, arena, mode == 1, false); /* no pending: the connection frees the arena */
        return;
    }
    deferred *d = calloc(1, sizeof *d);
    d->conn = c;
    d->arena = arena;
    d->stream = mode == 3;
    uv_timer_init(&loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(&d->timer, deferred_fire, 0, 0);
    live_pending++;
    eg_http1_set_pending(c, d);
}

static void hook_abort(void *ud, void *pending)
{
    (void)ud;
    deferred_end(pending);
}

static void hook_finished(void *ud, void *pending, int error, uint64_t body_bytes)
{
    (void)ud;
    (void)error;
    (void)body_bytes;
    deferred_end(pending);
}

static const eg_http1_hooks hooks = {
    .body_limit = hook_body_limit,
    .handle = hook_handle,
    .abort = hook_abort,
    .finished = hook_finished,
};

/* ---- the client side: what comes back must parse as responses ---- */

static llhttp_t resp_parser;
static llhttp_settings_t resp_settings;
/* tests/unit/test_http1.c replays inputs through this file and looks at the bytes too */
static void (*client_bytes_hook)(const char *data, size_t len);

static int on_response_headers(llhttp_t *p)
{
    if (p->status_code / 100 == 1)
        return 0; /* interim (100 Continue): the final response follows */
    /* Past the handed-over requests: the connection's own error answer, which is last. */
    if (head_out == head_in)
        return 0;
    return head_fifo[head_out++ % 4096] ? 1 : 0; /* 1: no body */
}

static void client_read(int fd)
{
    char buf[16384];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            return;
        progress++;
        if (client_bytes_hook)
            client_bytes_hook(buf, (size_t)n);
        llhttp_errno_t err = llhttp_execute(&resp_parser, buf, (size_t)n);
        if (err != HPE_OK) {
            fprintf(stderr, "fuzz_http1: the server's output does not parse: %s (%s)\n",
                    llhttp_errno_name(err), llhttp_get_error_reason(&resp_parser));
            abort();
        }
    }
}

static void pump(int cfd)
{
    int idle = 0;
    for (int i = 0; i < 1000 && idle < 3; i++) {
        unsigned long before = progress;
        uv_run(&loop, UV_RUN_NOWAIT);
        client_read(cfd);
        idle = progress == before ? idle + 1 : 0;
    }
}

static void client_send(int cfd, const uint8_t *p, size_t n)
{
    for (int tries = 0; n > 0 && tries < 100; tries++) {
        ssize_t w = write(cfd, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            return; /* the server closed: the rest is not wanted */
        }
        pump(cfd);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    llhttp_settings_init(&resp_settings);
    resp_settings.on_headers_complete = on_response_headers;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    flags = data[0];
    flags2 = data[1];
    size_t split1 = data[2];
    data += 3;
    size -= 3;

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    uv_loop_init(&loop);
    memset(&srv, 0, sizeof srv);
    eg_http1_finisher_init(&finisher, &loop);
    srv.loop = &loop;
    srv.finisher = &finisher;
    srv.arenas = &arenas;
    srv.hooks = &hooks;
    srv.read_buf = read_buf;
    srv.read_buf_size = sizeof read_buf;
    srv.config.max_head_size = flags & F_SMALL ? 256 : 32 * 1024;
    srv.config.header_timeout_ms = 10000;
    srv.config.idle_timeout_ms = 60000;
    srv.config.body_timeout_ms = 60000;
    srv.config.keep_alive = !(flags & F_NO_KEEPALIVE);
    nrequests = 0;
    live_pending = 0;
    head_in = head_out = 0;
    llhttp_init(&resp_parser, HTTP_RESPONSE, &resp_settings);

    if (eg_http1_serve_fd(&srv, sv[0]) < 0)
        abort();
    int cfd = sv[1];

    /* up to three pieces, the loop turning in between */
    size_t p1 = size * (flags2 >> 4) / 16;
    size_t p2 = p1 + (size - p1) * split1 / 256;
    size_t cuts[4] = { 0, p1, p2, size };
    for (int i = 0; i < 3; i++) {
        if (cuts[i + 1] > cuts[i])
            client_send(cfd, data + cuts[i], cuts[i + 1] - cuts[i]);
        pump(cfd);
    }
    if (flags & F_HALF_CLOSE) {
        shutdown(cfd, SHUT_WR);
        pump(cfd);
    }

    eg_http1_server_close_all(&srv);
    eg_http1_finisher_close(&finisher);
    eg_arena_pool_free(&arenas);
    for (int i = 0; i < 100 && uv_loop_alive(&loop); i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    if (uv_loop_alive(&loop) || srv.conns || srv.open_conns || live_pending) {
        fprintf(stderr, "fuzz_http1: left behind: loop alive %d, conns %p, open %lu, pending %d\n",
                uv_loop_alive(&loop), (void *)srv.conns, (unsigned long)srv.open_conns, live_pending);
        abort();
    }
    if (uv_loop_close(&loop) != 0)
        abort();
    close(cfd);
    return 0;
}
