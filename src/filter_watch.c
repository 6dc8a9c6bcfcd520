#include "filter_watch.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "log.h"

struct eg_filter_watch {
    uv_fs_event_t event;
    uv_timer_t timer;            /* periodic scan, and the short debounce after an event */
    char *dir;
    uint64_t signature;
    eg_filter_watch_cb cb;
    void *ud;
    int open_handles;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

/* Order-independent: a sum of per-file hashes. */
static uint64_t dir_signature(const char *dir)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return 0;
    uint64_t sig = 0;
    struct dirent *de;
    while ((de = readdir(dh))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".lua") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        uint64_t h = 1469598103934665603ull;
        for (const char *p = de->d_name; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ull;
        h = mix(h, (uint64_t)st.st_size);
        h = mix(h, (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec);
        h = mix(h, (uint64_t)st.st_ino);
        sig += h;
    }
    closedir(dh);
    return sig;
}

static void check(eg_filter_watch *w)
{
    uint64_t sig = dir_signature(w->dir);
    if (sig == w->signature)
        return;
    w->signature = sig;
    eg_info("filter directory %s changed: reloading", w->dir);
    w->cb(w->ud, w->dir);
}

static void on_tick(uv_timer_t *t)
{
    eg_filter_watch *w = t->data;
    check(w);
    uv_timer_start(&w->timer, on_tick, 1000, 0);
}

static void on_event(uv_fs_event_t *ev, const char *name, int events, int status)
{
    (void)name;
    (void)events;
    (void)status;
    eg_filter_watch *w = ev->data;
    /* Editors write in several steps: look once things have settled a little. */
    uv_timer_start(&w->timer, on_tick, 50, 0);
}

eg_filter_watch *eg_filter_watch_start(uv_loop_t *loop, const char *dir, eg_filter_watch_cb cb, void *ud)
{
    eg_filter_watch *w = calloc(1, sizeof *w);
    w->dir = strdup(dir);
    w->cb = cb;
    w->ud = ud;
    w->signature = dir_signature(dir);
    uv_timer_init(loop, &w->timer);
    w->timer.data = w;
    uv_timer_start(&w->timer, on_tick, 1000, 0);
    w->open_handles = 1;
    uv_fs_event_init(loop, &w->event);
    w->event.data = w;
    w->open_handles++;
    int rc = uv_fs_event_start(&w->event, on_event, dir, 0);
    if (rc < 0)
        eg_warn("filter directory %s: no change events (%s); scanning every second", dir, uv_strerror(rc));
    return w;
}

static void on_closed(uv_handle_t *h)
{
    eg_filter_watch *w = h->data;
    if (--w->open_handles == 0) {
        free(w->dir);
        free(w);
    }
}

void eg_filter_watch_stop(eg_filter_watch *w)
{
    uv_close((uv_handle_t *)&w->timer, on_closed);
    uv_close((uv_handle_t *)&w->event, on_closed);
}
