/* access_log.c — destinations, per-worker buffers, and the line for each request. */
#include "access_log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "access_log_format.h"
#include "log.h"
#include "pipeline.h"
#include "snapshot.h"

#define FLUSH_AT (32 * 1024)
#define MAX_SINKS 4096

/* ---- the process-wide table of destinations ---- */

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static char *table[MAX_SINKS];      /* [0]: the default, NULL when it is off */
static size_t table_len = 1;
static atomic_uint reopen_generation;

static pthread_once_t default_format_once = PTHREAD_ONCE_INIT;
static eg_access_log_format *default_format;

static void compile_default_format(void) { default_format = eg_access_log_format_compile(NULL, NULL, 0); }

void eg_access_log_set_default(const char *target)
{
    pthread_mutex_lock(&table_lock);
    free(table[0]);
    table[0] = target ? strdup(target) : NULL;
    pthread_mutex_unlock(&table_lock);
}

int eg_access_log_sink_id(const char *target)
{
    int id = -1;
    pthread_mutex_lock(&table_lock);
    for (size_t i = 1; i < table_len; i++)
        if (strcmp(table[i], target) == 0) {
            id = (int)i;
            break;
        }
    if (id < 0 && table_len < MAX_SINKS && (table[table_len] = strdup(target)))
        id = (int)table_len++;
    pthread_mutex_unlock(&table_lock);
    return id;
}

void eg_access_log_reopen_all(void) { atomic_fetch_add(&reopen_generation, 1); }

/* The target of a sink id, copied (NULL when off or unknown). */
static char *sink_target(size_t id)
{
    pthread_mutex_lock(&table_lock);
    char *t = id < table_len && table[id] ? strdup(table[id]) : NULL;
    pthread_mutex_unlock(&table_lock);
    return t;
}

/* ---- a worker's sinks ---- */

static void on_flush_timer(uv_timer_t *t) { eg_access_log_flush(t->data); }

void eg_access_log_init(eg_access_log *l, uv_loop_t *loop)
{
    memset(l, 0, sizeof *l);
    l->enabled = true;
    l->generation = atomic_load(&reopen_generation);
    uv_timer_init(loop, &l->flush_timer);
    l->flush_timer.data = l;
    /* At most a second of lines waits in a buffer; the timer does not keep the loop up. */
    uv_timer_start(&l->flush_timer, on_flush_timer, 1000, 1000);
    uv_unref((uv_handle_t *)&l->flush_timer);
    l->timer_live = true;
}

static void sink_open(eg_access_sink *s, size_t id)
{
    char *target = sink_target(id);
    if (!target) {
        s->fd = -1;
        return;
    }
    if (strcmp(target, "stdout") == 0 || strcmp(target, "-") == 0) {
        s->fd = STDOUT_FILENO;
    } else if (strcmp(target, "stderr") == 0) {
        s->fd = STDERR_FILENO;
    } else {
        s->fd = open(target, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (s->fd < 0 && !s->failing)
            eg_error("access log %s: %s; its lines are dropped until it can be opened (SIGHUP retries)", target,
                     strerror(errno));
        s->failing = s->fd < 0;
    }
    struct stat st;
    s->is_pipe = s->fd >= 0 && fstat(s->fd, &st) == 0 && !S_ISREG(st.st_mode);
    free(target);
}

static void sink_close(eg_access_sink *s)
{
    if (s->fd > STDERR_FILENO)
        close(s->fd);
    s->fd = -1;
}

/* The sink for an id, opened on its first line (or after a reopen). NULL when off. */
static eg_access_sink *sink_get(eg_access_log *l, int id)
{
    if (id < 0)
        return NULL;
    if ((size_t)id >= l->nsinks) {
        size_t n = (size_t)id + 1;
        eg_access_sink *s = realloc(l->sinks, n * sizeof *s);
        if (!s)
            return NULL;
        for (size_t i = l->nsinks; i < n; i++) {
            memset(&s[i], 0, sizeof s[i]);
            s[i].fd = -2; /* never opened */
        }
        l->sinks = s;
        l->nsinks = n;
    }
    eg_access_sink *s = &l->sinks[id];
    if (s->fd == -2)
        sink_open(s, (size_t)id);
    return s->fd >= 0 ? s : NULL;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static uint64_t count_lines(const char *p, size_t n)
{
    uint64_t c = 0;
    for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))); p++)
        c++;
    return c;
}

static void sink_flush(eg_access_sink *s)
{
    if (!s->buf.len)
        return;
    const char *p = s->buf.data;
    size_t left = s->buf.len;
    bool ok = s->fd >= 0;
    while (ok && left) {
        size_t n = left;
        /* Another worker (or the process log) writes to the same pipe: pieces of at most
         * PIPE_BUF bytes, cut after a newline, are written whole. */
        if (s->is_pipe && n > PIPE_BUF) {
            n = PIPE_BUF;
            while (n > 0 && p[n - 1] != '\n')
                n--;
            if (!n) { /* one line longer than PIPE_BUF: at least keep it in one write */
                const char *nl = memchr(p + PIPE_BUF, '\n', left - PIPE_BUF);
                n = nl ? (size_t)(nl - p) + 1 : left;
            }
        }
        ok = write_all(s->fd, p, n);
        if (ok) {
            p += n;
            left -= n;
        }
    }
    if (!ok) {
        s->dropped += count_lines(p, left);
        if (!s->failing)
            eg_error("access log: write failed (%s); %llu lines dropped so far", strerror(errno),
                     (unsigned long long)s->dropped);
        s->failing = true;
    } else {
        s->failing = false;
    }
    s->buf.len = 0;
}

static void reopen(eg_access_log *l)
{
    for (size_t i = 0; i < l->nsinks; i++) {
        eg_access_sink *s = &l->sinks[i];
        if (s->fd == -2)
            continue;
        sink_flush(s); /* lines logged before the signal go to the file they were meant for */
        sink_close(s);
        sink_open(s, i);
    }
}

void eg_access_log_check_reopen(eg_access_log *l)
{
    unsigned g = atomic_load(&reopen_generation);
    if (g == l->generation)
        return;
    l->generation = g;
    reopen(l);
}

void eg_access_log_flush(eg_access_log *l)
{
    eg_access_log_check_reopen(l);
    for (size_t i = 0; i < l->nsinks; i++)
        sink_flush(&l->sinks[i]);
}

void eg_access_log_close(eg_access_log *l)
{
    if (!l->enabled)
        return;
    for (size_t i = 0; i < l->nsinks; i++) {
        sink_flush(&l->sinks[i]);
        sink_close(&l->sinks[i]);
        eg_buf_free(&l->sinks[i].buf);
    }
    free(l->sinks);
    l->sinks = NULL;
    l->nsinks = 0;
    if (l->timer_live && !uv_is_closing((uv_handle_t *)&l->flush_timer))
        uv_close((uv_handle_t *)&l->flush_timer, NULL);
    l->timer_live = false;
    l->enabled = false;
}

/* ---- a request's line ---- */

static uint64_t clock_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}


/* Request line and headers as received, when the connection did not count them. */
void eg_access_log_request(eg_access_log *l, const eg_exchange *x, int status, uint64_t resp_body_bytes)
{
    if (!l->enabled)
        return;
    const eg_httpserver_spec *spec = x->server_spec;
    eg_access_sink *sink = sink_get(l, spec ? spec->access_log_sink : 0);
    if (!sink)
        return;
    const eg_access_log_format *fmt = spec ? spec->access_log : NULL;
    if (!fmt) {
        pthread_once(&default_format_once, compile_default_format);
        fmt = default_format;
        if (!fmt)
            return;
    }
    const eg_request *r = x->ns[0].req;
    const eg_response *resp = x->ns[0].resp;
    uint64_t now = clock_ns(CLOCK_MONOTONIC);
    uint64_t dur = now > x->start_ns ? now - x->start_ns : 0;
    /* Easegress's pipeline tag names the pipeline the route chose ("" when none ran). */
    const eg_pipeline *p = x->main_pipeline ? x->main_pipeline : x->pipeline;
    char tags[300];
    size_t tags_len = 0;
    if (p) {
        size_t nl = strlen(p->name);
        if (nl > sizeof tags - 11)
            nl = sizeof tags - 11;
        memcpy(tags, "pipeline: ", 10);
        memcpy(tags + 10, p->name, nl);
        tags_len = 10 + nl;
    }
    eg_access_record rec = {
        .start_unix_ns = (int64_t)(clock_ns(CLOCK_REALTIME) - dur),
        .server = x->server_name,
        .peer_ip = r->peer_ip,
        .peer_port = r->peer_port,
        .real_ip = r->client_ip,
        .method = r->method ? r->method : "-",
        .path = r->target_path ? r->target_path : r->path,
        .query = r->target_path ? r->target_query : r->query,
        .proto_major = r->version_major,
        .proto_minor = r->version_minor,
        .status = status,
        .duration_ns = dur,
        .req_size = eg_request_size(r),
        .resp_size = (resp ? resp->head_bytes : 0) + resp_body_bytes,
        .tags = tags,
        .tags_len = tags_len,
        .req_headers = &r->headers,
        .resp_headers = resp ? &resp->headers : NULL,
    };
    eg_access_log_format_render(fmt, &rec, &sink->buf);
    if (sink->buf.len >= FLUSH_AT)
        sink_flush(sink);
}
