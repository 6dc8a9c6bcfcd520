/* access_log.h — where access-log lines go: destinations ("sinks") and each worker's buffers.
 *
 * A destination is a file path, "stdout" or "stderr". Destinations are registered once,
 * process-wide, when an HTTPServer spec names one (its `accessLogOutput`), and get a small
 * id the spec keeps; id 0 is the default destination (--access-log), which servers without
 * `accessLogOutput` use. Each worker opens its own descriptor per destination (O_APPEND: the
 * workers' writes of whole lines do not interleave in a file) and buffers its lines: they are
 * written when the buffer passes 32 KiB, every second, when the worker stops, and before the
 * file is reopened. eg_access_log_reopen_all() (SIGHUP) makes every worker write out what it
 * holds and reopen its files on its next wake, so logrotate can rename a file away. */
#ifndef EG_ACCESS_LOG_H
#define EG_ACCESS_LOG_H

#include <stdint.h>
#include <uv.h>
#include "buf.h"
#include "exchange.h"

#define EG_ACCESS_LOG_OFF (-1) /* a server's sink id: no access log */

typedef struct {
    int fd;                 /* -1: not open */
    bool is_pipe;           /* not a regular file: written in PIPE_BUF pieces */
    bool failing;           /* the last open or write failed (logged once) */
    eg_buf buf;
    uint64_t dropped;       /* lines lost to write errors */
} eg_access_sink;

typedef struct {
    eg_access_sink *sinks;  /* indexed by sink id */
    size_t nsinks;
    unsigned generation;    /* of the last reopen this worker has done */
    uv_timer_t flush_timer;
    bool timer_live;
    bool enabled;
} eg_access_log;

/* Process-wide, before the workers start: the default destination (NULL: none). */
void eg_access_log_set_default(const char *target);
/* The id of a destination ("stdout", "stderr" or a path), registered on first use; -1 when
 * the table is full. Thread-safe. */
int eg_access_log_sink_id(const char *target);
/* Ask every worker to reopen its files (the caller wakes the workers). */
void eg_access_log_reopen_all(void);

void eg_access_log_init(eg_access_log *l, uv_loop_t *loop);
/* One line for a request of an HTTPServer (x->server_name, in x->snap), by its format to its
 * destination. resp_body_bytes: what went out of the body. */
void eg_access_log_request(eg_access_log *l, const eg_exchange *x, int status, uint64_t resp_body_bytes);
/* Write out what is buffered; reopen first if a reopen was asked for since the last one. */
void eg_access_log_flush(eg_access_log *l);
/* On the worker's loop after a wake: reopen if asked (buffers are written first). */
void eg_access_log_check_reopen(eg_access_log *l);
/* Flush, close the files, free the buffers. The flush timer may already be closed (a
 * uv_walk at shutdown). */
void eg_access_log_close(eg_access_log *l);

#endif
