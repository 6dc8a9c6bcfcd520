/* upstream.h — HTTP/1.1 requests to backends over per-worker keep-alive connection pools.
 *
 * A request is sent whole (head and buffered body); once the response head arrives the
 * caller gets the status and headers, and the connection itself becomes the response body
 * stream (eg_body_stream): it reads on as the client drains and goes back to the idle pool
 * when the body is complete. A reused idle connection that turns out closed before any
 * response byte came is retried once on a fresh connection, transparently. */
#ifndef EG_UPSTREAM_H
#define EG_UPSTREAM_H

#include <netinet/in.h>
#include <stdint.h>
#include <uv.h>
#include "arena.h"
#include "message.h"

typedef struct eg_upstream_pool eg_upstream_pool;
typedef struct eg_upstream_call eg_upstream_call;

typedef enum {
    EG_UPSTREAM_OK,
    EG_UPSTREAM_CONNECT_FAILED,
    EG_UPSTREAM_RESET,       /* the exchange failed after the connection was up */
    EG_UPSTREAM_TIMEOUT,
    EG_UPSTREAM_BAD_RESPONSE,
} eg_upstream_error;

struct eg_upstream_call {
    /* filled by the caller */
    const struct sockaddr *addr;
    const char *pool_key;          /* "host:port": connections are shared per key */
    uv_buf_t head;                 /* request line + headers + CRLF (caller-owned) */
    const char *body;
    size_t body_len;
    bool head_method;              /* HEAD: the response has no body */
    uint64_t timeout_ms;           /* until the response head; 0 = none */
    int max_idle;                  /* idle connections kept for this key */
    int64_t max_body;              /* response body limit in bytes; <= 0 none */
    eg_arena *arena;               /* response headers are copied here */
    void (*on_response)(eg_upstream_call *c, int status, eg_headers *headers, int64_t content_length,
                        eg_body_stream *body);
    void (*on_error)(eg_upstream_call *c, eg_upstream_error err, const char *detail);
    void *ud;
    /* private */
    struct upstream_conn *conn;
    bool retried;
};

eg_upstream_pool *eg_upstream_pool_new(uv_loop_t *loop);
/* Close every idle connection; connections in use close when their exchange ends. */
void eg_upstream_pool_close(eg_upstream_pool *p);
/* Free the pool once its loop has closed every handle. */
void eg_upstream_pool_free(eg_upstream_pool *p);

/* Start the call; the result comes through on_response or on_error (never synchronously). */
void eg_upstream_start(eg_upstream_pool *p, eg_upstream_call *c);
/* The caller no longer wants the result (client gone): no callback will follow. */
void eg_upstream_cancel(eg_upstream_call *c);

#endif
