/* health_check.h — active health checks of a Proxy pool's servers (the pool's `healthCheck`,
 * reference/easegress-spec.md §3).
 *
 * The probes run on the server's main loop, once per server whatever the number of workers;
 * each checked server has a health flag the workers read (a relaxed atomic load) when they
 * choose a server. A target is named by pipeline, filter, pool, server and check spec, so a
 * new version of an unchanged Proxy keeps its servers' health. */
#ifndef EG_HEALTH_CHECK_H
#define EG_HEALTH_CHECK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>
#include "node.h"
#include "strmap.h"

typedef struct eg_health_spec eg_health_spec;

/* Check a pool's `healthCheck` map as Easegress does, or with `legacy` the deprecated
 * loadBalance.healthCheck (whose `path` is the `uri`); false with the error in d. */
bool eg_health_spec_check(eg_dec *d, const eg_node *n, bool legacy);

typedef struct eg_health_target eg_health_target;

typedef struct eg_health_checker {
    uv_loop_t *loop;                 /* NULL: checks are off (specs, tests without a loop) */
    struct eg_upstream_pool *conns;
    eg_strmap targets;               /* key -> eg_health_target* (one reference each) */
} eg_health_checker;

void eg_health_checker_init(eg_health_checker *c, uv_loop_t *loop);
/* At shutdown, after every Proxy has gone: stop every probe and close the targets; run the
 * loop to let the handles close, then free. */
void eg_health_checker_close(eg_health_checker *c);
void eg_health_checker_free(eg_health_checker *c);
/* Forget targets no Proxy uses any more (main thread, periodically). */
void eg_health_checker_sweep(eg_health_checker *c);

/* The target for one server (made and started on first use); the caller owns a reference.
 * `host`/`port` address the probe, `host_header` is the server's Host. */
eg_health_target *eg_health_acquire(eg_health_checker *c, const char *key, const eg_node *spec,
                                    const struct sockaddr *addr, const char *host_header);
void eg_health_target_unref(eg_health_target *t);   /* any thread */
bool eg_health_ok(const eg_health_target *t);        /* any thread; NULL is healthy */
/* Main thread: consecutive failures and successes, for status. */
void eg_health_target_status(const eg_health_target *t, eg_node *into);

#endif
