/* admin_logs.c — /logs, /logs/level (see admin_logs.h).
 *
 * A follow is a response body stream. Worker threads log at any time; the ring calls our
 * listener under its lock, which only sends a uv_async wake-up to the main loop (and only
 * while somebody follows). On the main loop each follower copies the lines past its own
 * position into its connection, pausing with the connection's back-pressure. The client
 * going away aborts the stream (its EOF ends the connection: until_client_leaves). */
#define _GNU_SOURCE
#include "admin_logs.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "buf.h"
#include "log.h"

#define DEFAULT_TAIL 500        /* Easegress's default */
#define READ_CHUNK (64 * 1024)

typedef struct follower follower;

struct eg_admin_logs {
    uv_async_t wake;
    atomic_int nfollowers;     /* read by logging threads: no wake-ups while nobody follows */
    follower *followers;
};

struct follower {
    eg_body_stream stream;     /* first: the stream pointer is the follower */
    eg_admin_logs *owner;
    eg_body_sink *sink;
    uint64_t pos;              /* the next ring byte to send */
    bool paused;               /* the sink asked to wait for resume() */
    bool pumping;              /* inside pump(): an abort then only marks it dead */
    bool dead;
    follower *prev, *next;
};

static void on_ring_line(void *ud)
{
    eg_admin_logs *l = ud;
    if (atomic_load_explicit(&l->nfollowers, memory_order_relaxed) > 0)
        uv_async_send(&l->wake);
}

static void follower_unlink_free(follower *f)
{
    eg_admin_logs *l = f->owner;
    if (f->sink) { /* attached: it is in the list */
        if (f->prev)
            f->prev->next = f->next;
        else
            l->followers = f->next;
        if (f->next)
            f->next->prev = f->prev;
        atomic_fetch_sub(&l->nfollowers, 1);
    }
    free(f);
}

/* Send what the ring holds past f->pos. The sink's write may close the connection, which
 * aborts this stream: then f is freed here, once the loop is out of it. */
static void pump(follower *f)
{
    char buf[READ_CHUNK];
    f->pumping = true;
    while (!f->dead && !f->paused) {
        size_t n = eg_log_ring_read(&f->pos, buf, sizeof buf);
        if (n == 0)
            break;
        if (!f->sink->write(f->sink, buf, n))
            f->paused = true;
    }
    f->pumping = false;
    if (f->dead)
        follower_unlink_free(f);
}

static void on_wake(uv_async_t *h)
{
    eg_admin_logs *l = h->data;
    for (follower *f = l->followers, *next; f; f = next) {
        next = f->next; /* pump may free f, never another follower */
        if (!f->paused)
            pump(f);
    }
}

static void stream_attach(eg_body_stream *s, eg_body_sink *sink)
{
    follower *f = (follower *)s;
    eg_admin_logs *l = f->owner;
    f->sink = sink;
    f->next = l->followers;
    if (l->followers)
        l->followers->prev = f;
    l->followers = f;
    atomic_fetch_add(&l->nfollowers, 1);
    pump(f);
}

static void stream_resume(eg_body_stream *s)
{
    follower *f = (follower *)s;
    f->paused = false;
    if (!f->pumping)
        pump(f);
}

static void stream_abort(eg_body_stream *s)
{
    follower *f = (follower *)s;
    f->dead = true;
    if (!f->pumping)
        follower_unlink_free(f);
}

eg_admin_logs *eg_admin_logs_start(uv_loop_t *loop)
{
    eg_admin_logs *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    if (uv_async_init(loop, &l->wake, on_wake) != 0) {
        free(l);
        return NULL;
    }
    l->wake.data = l;
    eg_log_ring_set_listener(on_ring_line, l);
    return l;
}

static void on_closed(uv_handle_t *h) { free(h->data); }

void eg_admin_logs_stop(eg_admin_logs *l)
{
    if (!l)
        return;
    eg_log_ring_set_listener(NULL, NULL); /* returns once no logging thread is inside it */
    uv_close((uv_handle_t *)&l->wake, on_closed);
}

/* The raw value of `key` in a query string (NULL when absent), copied into out. */
static const char *query_value(const char *query, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len >= klen && strncmp(p, key, klen) == 0 && (len == klen || p[klen] == '=')) {
            size_t vlen = len > klen ? len - klen - 1 : 0;
            if (vlen >= outlen)
                vlen = outlen - 1;
            memcpy(out, p + klen + 1 > p + len ? p + len : p + klen + 1, vlen);
            out[vlen] = '\0';
            return out;
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

/* Go's strconv.ParseBool spellings. */
static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
    static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
    for (size_t i = 0; i < 6; i++) {
        if (!strcmp(s, yes[i]))
            return *out = true, 0;
        if (!strcmp(s, no[i]))
            return *out = false, 0;
    }
    return -1;
}

static int get_logs(eg_admin_logs *l, const char *query, eg_arena *arena, eg_response *resp,
                    char *err, size_t errlen)
{
    char v[64];
    long tail = DEFAULT_TAIL;
    if (query_value(query, "tail", v, sizeof v) && *v) {
        char *end;
        errno = 0;
        tail = strtol(v, &end, 10);
        if (*end || errno || end == v) {
            snprintf(err, errlen, "invalid tail %s: want a number of lines (-1: all)", v);
            return 400;
        }
        if (tail < -1) {
            snprintf(err, errlen, "invalid tail %ld, tail should not less than -1", tail);
            return 400;
        }
    }
    bool follow = false;
    if (query_value(query, "follow", v, sizeof v) && *v && parse_bool(v, &follow) != 0) {
        snprintf(err, errlen, "invalid follow %s: want true or false", v);
        return 400;
    }
    uint64_t start = eg_log_ring_tail(tail);
    if (!follow) {
        eg_buf b = { 0 };
        char buf[READ_CHUNK];
        size_t n;
        while ((n = eg_log_ring_read(&start, buf, sizeof buf)) > 0)
            eg_buf_append(&b, buf, n);
        eg_response_set(arena, resp, 200, "text/plain; charset=utf-8", b.data ? b.data : "", b.len);
        eg_buf_free(&b);
        return 0;
    }
    follower *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return 500;
    }
    f->owner = l;
    f->pos = start;
    f->stream.attach = stream_attach;
    f->stream.resume = stream_resume;
    f->stream.abort = stream_abort;
    f->stream.until_client_leaves = true;
    eg_response_set(arena, resp, 200, "text/plain; charset=utf-8", NULL, 0);
    resp->stream = &f->stream;
    resp->content_length = -1;
    return 0;
}

int eg_admin_logs_handle(eg_admin_logs *l, const char *method, const char *path, const char *query,
                         eg_arena *arena, eg_response *resp, char *err, size_t errlen)
{
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (!strcmp(path, "/logs")) {
        if (!get) {
            snprintf(err, errlen, "method not allowed");
            return 405;
        }
        return get_logs(l, query, arena, resp, err, errlen);
    }
    if (!strcmp(path, "/logs/level")) {
        if (!get) {
            snprintf(err, errlen, "method not allowed");
            return 405;
        }
        const char *name = eg_log_level_name(eg_log_get_level());
        eg_response_set(arena, resp, 200, "text/plain; charset=utf-8", name, strlen(name));
        return 0;
    }
    if (!strncmp(path, "/logs/level/", 12)) {
        if (strcmp(method, "PUT") != 0) {
            snprintf(err, errlen, "method not allowed");
            return 405;
        }
        const char *level = path + 12;
        int to;
        if (!strcasecmp(level, "debug"))
            to = EG_LOG_DEBUG;
        else if (!strcasecmp(level, "info"))
            to = EG_LOG_INFO;
        else {
            snprintf(err, errlen, "invalid level %.64s, only support to set log level to info or debug", level);
            return 400;
        }
        eg_log_set_level(to);
        eg_log(EG_LOG_INFO, "log level set to %s through the admin API", eg_log_level_name(to));
        eg_response_set(arena, resp, 200, NULL, NULL, 0);
        return 0;
    }
    return -1;
}
