#include "access_log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "pipeline.h"

#define FLUSH_AT (32 * 1024)

static void on_flush_timer(uv_timer_t *t) { eg_access_log_flush(t->data); }

void eg_access_log_init(eg_access_log *l, uv_loop_t *loop, int fd)
{
    memset(l, 0, sizeof *l);
    l->fd = fd;
    if (fd < 0)
        return;
    uv_timer_init(loop, &l->flush_timer);
    l->flush_timer.data = l;
    /* At most a second of lines waits in the buffer; the timer does not keep the loop up. */
    uv_timer_start(&l->flush_timer, on_flush_timer, 1000, 1000);
    uv_unref((uv_handle_t *)&l->flush_timer);
    l->timer_live = true;
}

void eg_access_log_flush(eg_access_log *l)
{
    size_t off = 0;
    while (l->fd >= 0 && off < l->buf.len) {
        ssize_t n = write(l->fd, l->buf.data + off, l->buf.len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    l->buf.len = 0;
}

/* Go's time.Duration String() for the small values requests take. */
static void format_duration(char *out, size_t len, uint64_t ns)
{
    if (ns < 1000)
        snprintf(out, len, "%lluns", (unsigned long long)ns);
    else if (ns < 1000000)
        snprintf(out, len, "%.3gµs", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(out, len, "%.6gms", (double)ns / 1e6);
    else
        snprintf(out, len, "%.6gs", (double)ns / 1e9);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void eg_access_log_request(eg_access_log *l, const eg_exchange *x, int status, uint64_t resp_bytes)
{
    if (l->fd < 0)
        return;
    const eg_request *r = x->ns[0].req;
    char when[40], dur[32];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S%z", &tm);
    format_duration(dur, sizeof dur, now_ns() - x->start_ns);
    size_t rx = r->body_len;
    for (size_t i = 0; i < r->headers.count; i++)
        rx += r->headers.items[i].name_len + r->headers.items[i].value_len + 4;
    eg_buf_printf(&l->buf, "[%s] [%s %s %s %s%s%s HTTP/%d.%d %d] [%s rx:%zuB tx:%lluB] [pipeline: %s]\n", when,
                  r->peer_ip, r->client_ip, r->method ? r->method : "-", r->path ? r->path : "-",
                  r->query ? "?" : "", r->query ? r->query : "", r->version_major, r->version_minor, status, dur, rx,
                  (unsigned long long)resp_bytes, x->pipeline ? x->pipeline->name : "-");
    if (l->buf.len >= FLUSH_AT)
        eg_access_log_flush(l);
}

void eg_access_log_close(eg_access_log *l)
{
    eg_access_log_flush(l);
    eg_buf_free(&l->buf);
    if (l->timer_live) {
        uv_close((uv_handle_t *)&l->flush_timer, NULL);
        l->timer_live = false;
    }
}
