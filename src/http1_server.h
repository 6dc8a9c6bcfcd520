/* http1_server.h — HTTP/1.1 server connections on llhttp (strict mode).
 *
 * A connection parses one request at a time (pipelined requests wait in its buffer), hands
 * the complete request to its hooks together with the arena that owns it, and writes the
 * response it is given: bytes, or a stream pushed through a sink with back-pressure.
 *
 * Lifecycle of one request (the arena's ownership passes to the hooks at handle()):
 *   handle(conn, req, arena) -> [abort(pending) if the client goes away before respond]
 *   eg_http1_respond(conn, resp) -> finished(pending, error) once written or failed.
 * After abort() the handler must not call respond(); it still owns its arena and gives it
 * back to the server's pool (eg_arena_pool_put on srv->arenas) when it is done. */
#ifndef EG_HTTP1_SERVER_H
#define EG_HTTP1_SERVER_H

#include <stdint.h>
#include <time.h>
#include <uv.h>
#include "message.h"

typedef struct eg_http1_conn eg_http1_conn;

typedef struct {
    /* Headers are in and a body follows: its limit in bytes (-1 = no limit). */
    int64_t (*body_limit)(void *ud, const eg_request *req);
    void (*handle)(void *ud, eg_http1_conn *c, eg_request *req, eg_arena *arena);
    void (*abort)(void *ud, void *pending);
    void (*finished)(void *ud, void *pending, int error, uint64_t body_bytes);
} eg_http1_hooks;

typedef struct {
    size_t max_head_size;         /* request line + headers; over it: 431 (414 for the URL) */
    uint64_t header_timeout_ms;   /* from the first byte of a request to its last header */
    uint64_t idle_timeout_ms;     /* keep-alive wait between requests */
    uint64_t body_timeout_ms;     /* longest pause while reading a body */
    bool keep_alive;
    const char *scheme;
} eg_http1_config;

/* Per thread: ends the responses that went out in one write, from the loop rather than from
 * inside whoever answered (which may still hold the request). An idle handle, active only
 * while a connection waits, so the loop does not sleep in between: no timer per response.
 * One per loop, shared by that loop's servers; eg_http1_finisher_close before the loop's
 * last run. */
typedef struct {
    uv_idle_t idle;
    eg_http1_conn *head, *tail;
} eg_http1_finisher;

void eg_http1_finisher_init(eg_http1_finisher *f, uv_loop_t *loop);
void eg_http1_finisher_close(eg_http1_finisher *f);

/* Per listener (and per thread): what its connections share. */
typedef struct {
    uv_loop_t *loop;
    eg_http1_finisher *finisher;  /* this thread's */
    eg_arena_pool *arenas;        /* this thread's: each request's arena comes from here */
    eg_http1_config config;
    const eg_http1_hooks *hooks;
    void *ud;
    char *read_buf;               /* shared by this thread's connections; data is copied out */
    size_t read_buf_size;
    uint64_t open_conns;
    int *conn_counter;            /* optional: decremented on close (maxConnections) */
    void (*on_conn_closed)(void *ud);
    eg_http1_conn *conns;         /* every open connection (for draining) */
    char date[32];                /* the Date value, made once a second */
    time_t date_sec;
} eg_http1_server;

/* Accept one pending connection from `listener` and start serving it. */
int eg_http1_accept(eg_http1_server *srv, uv_stream_t *listener);
/* Serve an already-connected stream socket: on success the connection owns fd (closes it),
 * on failure the caller keeps it. Tests and the fuzz target drive the real connection code
 * through a socketpair with it. */
int eg_http1_serve_fd(eg_http1_server *srv, int fd);
void eg_http1_respond(eg_http1_conn *c, eg_response *resp);
void eg_http1_set_pending(eg_http1_conn *c, void *pending);
/* Graceful shutdown: idle connections close now, busy ones after their current response
 * (which says `Connection: close`). */
void eg_http1_server_drain(eg_http1_server *srv);
/* Close every connection at once. */
void eg_http1_server_close_all(eg_http1_server *srv);
/* The Date header value for now, cached per second. */
const char *eg_http_date(char buf[32]);

#endif
