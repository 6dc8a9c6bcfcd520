#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>
#include "access_log.h"
#include "admin_api.h"
#include "filter_watch.h"
#include "listen.h"
#include "log.h"
#include "lua_vm.h"
#include "proxy.h"
#include "shared_dict.h"
#include "store.h"
#include "supervisor.h"
#include "worker.h"

typedef struct {
    uv_loop_t loop;
    uv_signal_t sigterm, sigint, sighup;
    eg_supervisor supervisor;
    eg_admin_api api;
    const eg_options *opts;
    bool stopping;
    bool master;
    uv_timer_t watchdog;
    uv_timer_t stats_tick;            /* advances the request meters (m1, m5, m15) */
    uint64_t last_beats[256];
    uint64_t last_beat_at[256];       /* ms when each worker's count last moved */
    eg_filter_watch *watches[16];
} server;

static void on_stats_tick(uv_timer_t *t)
{
    server *s = t->data;
    eg_stats_tick(&s->supervisor.stats);
    eg_health_checker_sweep(&s->supervisor.health);
}

static void on_filter_dir_change(void *ud, const char *dir) { eg_supervisor_reload_filter_dir(ud, dir); }

static void on_signal(uv_signal_t *h, int signum)
{
    server *s = h->data;
    if (signum == SIGHUP) {
        /* Reopen the access log files (logrotate); configuration lives in the store. */
        eg_info("SIGHUP: reopening the access log files");
        eg_access_log_reopen_all();
        for (int i = 0; s->supervisor.workers && i < s->supervisor.nworkers; i++)
            eg_worker_wake(s->supervisor.workers[i]);
        return;
    }
    if (s->stopping) {
        eg_warn("second signal: exiting at once");
        _exit(255);
    }
    s->stopping = true;
    /* Draining blocks this loop: a second signal must still end the process. */
    signal(SIGTERM, SIG_DFL);
    if (!s->master)
        signal(SIGINT, SIG_DFL);
    eg_info("signal %d: shutting down (draining up to %us)", signum, s->opts->drain_seconds);
    eg_admin_api_stop(&s->api);
    uv_close((uv_handle_t *)&s->watchdog, NULL);
    uv_close((uv_handle_t *)&s->stats_tick, NULL);
    for (int i = 0; i < 16; i++)
        if (s->watches[i])
            eg_filter_watch_stop(s->watches[i]);
    eg_supervisor_stop(&s->supervisor, (uint64_t)s->opts->drain_seconds * 1000);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sighup, NULL);
}

/* The default access log destination, checked once here so a bad path is reported at start
 * (the workers open their own descriptors, and reopen them on SIGHUP). */
static void set_default_access_log(const eg_options *o)
{
    if (o->disable_access_log) {
        eg_access_log_set_default(NULL);
        return;
    }
    if (strcmp(o->access_log, "-") && strcmp(o->access_log, "stdout") && strcmp(o->access_log, "stderr")) {
        int fd = open(o->access_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
            eg_error("access log %s: %s; its lines are dropped until it can be opened (SIGHUP retries)",
                     o->access_log, strerror(errno));
        else
            close(fd);
    }
    eg_access_log_set_default(o->access_log);
}

/* Every second: is each worker still turning its loop? The answer is the member's health
 * and heartbeat in the admin API. A worker that has not been back to its poll for the
 * watchdog timeout is stuck (say, a filter in an endless loop): nothing but a new process
 * frees it. The master restarts the server with the same sockets. */
static void on_watchdog(uv_timer_t *t)
{
    server *s = t->data;
    if (s->stopping || !s->supervisor.workers)
        return;
    uint64_t now = uv_hrtime() / 1000000;
    bool all_beating = true;
    s->api.health[0] = 0;
    for (int i = 0; i < s->supervisor.nworkers && i < 256; i++) {
        uint64_t beats = eg_worker_beats(s->supervisor.workers[i]);
        if (beats != s->last_beats[i] || !s->last_beat_at[i]) {
            s->last_beats[i] = beats;
            s->last_beat_at[i] = now;
            continue;
        }
        uint64_t busy = now - s->last_beat_at[i];
        /* The heartbeat timer fires twice a second: a worker quiet for two seconds is busy. */
        if (busy >= 2000) {
            all_beating = false;
            snprintf(s->api.health, sizeof s->api.health, "unhealthy: worker %d busy for %llu ms", i,
                     (unsigned long long)busy);
        }
        if (s->opts->watchdog_seconds && busy > (uint64_t)s->opts->watchdog_seconds * 1000) {
            eg_error("watchdog: worker %d has been busy for %llu ms without a break (a filter in an endless "
                     "loop?); restarting the server process",
                     i, (unsigned long long)busy);
            _exit(70); /* no core file, no cleanup: the worker cannot be joined */
        }
    }
    if (all_beating)
        s->api.last_heartbeat = time(NULL);
}

static void register_filter_kinds(const eg_options *o)
{
    eg_filter_kind_register(&eg_proxy_kind);
    eg_lua_register_kinds(o->filter_dirs, o->nfilter_dirs);
}

int eg_server_run(const eg_options *o, int master_fd)
{
    signal(SIGPIPE, SIG_IGN);
    server *s = calloc(1, sizeof *s);
    s->opts = o;
    s->master = master_fd >= 0;
    uv_loop_init(&s->loop);
    eg_lua_set_memory_limit((size_t)o->lua_memory_mb << 20);
    register_filter_kinds(o);
    /* Before any worker (or the supervisor's VM) can look a dictionary up. */
    if (eg_shared_dicts_start(o->shared_dicts, o->nshared_dicts) < 0)
        return 1;

    char err[512];
    eg_store *store = eg_store_open_file(o->data_dir, err, sizeof err);
    if (!store) {
        eg_error("cannot open the store in %s: %s", o->data_dir, err);
        return 1;
    }
    int api_fd;
    if (eg_listen_group(master_fd, o->api_host, (uint16_t)o->api_port, 1, &api_fd, err, sizeof err) < 0) {
        eg_error("admin API: %s", err);
        eg_store_close(store);
        return 1;
    }
    if (eg_supervisor_init(&s->supervisor, store, master_fd, o->workers, o->strict) != 0) {
        eg_supervisor_free(&s->supervisor);
        eg_store_close(store);
        return 1;
    }
    eg_health_checker_init(&s->supervisor.health, &s->loop);
    set_default_access_log(o);
    s->supervisor.init_script = o->init_script;
    eg_supervisor_start(&s->supervisor);
    uv_timer_init(&s->loop, &s->watchdog);
    s->watchdog.data = s;
    uv_timer_start(&s->watchdog, on_watchdog, 1000, 1000);
    uv_unref((uv_handle_t *)&s->watchdog);
    uv_timer_init(&s->loop, &s->stats_tick);
    s->stats_tick.data = s;
    uv_timer_start(&s->stats_tick, on_stats_tick, EG_STATS_TICK_MS, EG_STATS_TICK_MS);
    uv_unref((uv_handle_t *)&s->stats_tick);
    for (int i = 0; i < o->nfilter_dirs && i < 16; i++)
        s->watches[i] = eg_filter_watch_start(&s->loop, o->filter_dirs[i], on_filter_dir_change, &s->supervisor);

    s->api.supervisor = &s->supervisor;
    s->api.member_name = o->name;
    s->api.cluster_name = o->cluster_name;
    s->api.api_addr = o->api_addr;
    s->api.data_dir = o->data_dir;
    s->api.start_time = time(NULL);
    int rc = eg_admin_api_start(&s->api, &s->loop, api_fd);
    if (rc < 0) {
        eg_error("admin API on %s: %s", o->api_addr, uv_strerror(rc));
        return 1;
    }
    uv_signal_init(&s->loop, &s->sigterm);
    uv_signal_init(&s->loop, &s->sigint);
    uv_signal_init(&s->loop, &s->sighup);
    s->sigterm.data = s->sigint.data = s->sighup.data = s;
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    /* Ctrl-C reaches the whole process group; with a master, it is the master that turns
     * it into our SIGTERM, so a second signal means "now". */
    if (master_fd < 0)
        uv_signal_start(&s->sigint, on_signal, SIGINT);
    else
        signal(SIGINT, SIG_IGN);
    uv_signal_start(&s->sighup, on_signal, SIGHUP);
    eg_info("easegress-server %s ready: admin API on %s, %d workers, data in %s", o->name, o->api_addr, o->workers, o->data_dir);

    uv_run(&s->loop, UV_RUN_DEFAULT);

    eg_supervisor_free(&s->supervisor);
    uv_run(&s->loop, UV_RUN_DEFAULT);   /* the health checks' handles close */
    eg_health_checker_free(&s->supervisor.health);
    eg_store_close(store);
    eg_lua_kinds_free();
    uv_loop_close(&s->loop);
    free(s);
    eg_info("stopped");
    return 0;
}
