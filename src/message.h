/* message.h — requests and responses as filters see them, and response body streams.
 *
 * Everything here that a request allocates lives in its exchange's arena. A response body is
 * either bytes (`body`) or a stream (`stream`, e.g. an upstream connection still reading):
 * the stream is attached to the client connection when the flow has ended, so later filters
 * can still change status and headers before anything is sent. */
#ifndef EG_MESSAGE_H
#define EG_MESSAGE_H

#include <stdbool.h>
#include <stdint.h>
#include "arena.h"
#include "http_types.h"

typedef struct eg_body_sink eg_body_sink;
typedef struct eg_body_stream eg_body_stream;

/* Where a stream pushes its bytes. write() returns false when the sink wants the stream to
 * pause; the sink calls eg_body_stream_resume() once it has drained. */
struct eg_body_sink {
    bool (*write)(eg_body_sink *sink, const char *data, size_t len);
    void (*end)(eg_body_sink *sink, int error); /* error != 0: the body broke off */
};

struct eg_body_stream {
    void (*attach)(eg_body_stream *s, eg_body_sink *sink); /* start pushing */
    void (*resume)(eg_body_stream *s);
    void (*abort)(eg_body_stream *s);                      /* nobody wants the rest */
    /* An endless stream (a log follow): the client's EOF means it is gone, so the connection
     * closes then instead of finishing the response first. */
    bool until_client_leaves;
};

typedef struct {
    char *method;
    char *path;            /* raw, escaped, as received (or as rewritten) */
    char *query;           /* raw query without '?', NULL when absent */
    char *host;            /* Host header value ("" when none) */
    int version_major, version_minor;
    const char *scheme;    /* "http" / "https" */
    eg_headers headers;
    char *body;
    size_t body_len;
    char client_ip[48];
    char peer_ip[48];
    uint16_t peer_port;
    /* As received, for the access log: path and query stay valid (in the arena) when a
     * rewrite or a filter replaces `path`/`query`; head_bytes is the request line and
     * headers as they came on the wire (CRLFs included). */
    const char *target_path, *target_query;
    size_t head_bytes;
} eg_request;

typedef struct {
    int status;            /* 0 = no response yet */
    eg_headers headers;
    char *body;
    size_t body_len;
    eg_body_stream *stream;
    int64_t content_length; /* with a stream: -1 unknown */
    size_t head_bytes;      /* set when the head is written: status line and headers */
} eg_response;

/* Header edits; names and values are copied into the arena. */
void eg_headers_add(eg_arena *a, eg_headers *h, const char *name, size_t nlen, const char *value, size_t vlen);
/* Add a header whose strings already live in `a` (or longer): kept as they are, not copied. */
void eg_headers_add_kept(eg_arena *a, eg_headers *h, const eg_header *header);
void eg_headers_set(eg_arena *a, eg_headers *h, const char *name, size_t nlen, const char *value, size_t vlen);
void eg_headers_del(eg_headers *h, const char *name, size_t nlen);
static inline void eg_headers_sets(eg_arena *a, eg_headers *h, const char *name, const char *value)
{
    eg_headers_set(a, h, name, strlen(name), value, strlen(value));
}

/* A fresh response for an error: status and text body, and none of the headers a backend
 * or filter had put there. */
void eg_response_error(eg_arena *a, eg_response *r, int status, const char *body);
/* Set a whole response from bytes (copied into the arena); drops any stream. */
void eg_response_set(eg_arena *a, eg_response *r, int status, const char *content_type, const char *body, size_t len);

const char *eg_status_reason(int status);
/* Is this a hop-by-hop header (RFC 9110 §7.6.1), including the ones the message's
 * `Connection` headers name? Pass eg_connection_options(headers) (computed once per
 * message): NULL, the common case, when Connection names no header (only close or
 * keep-alive, which are hop-by-hop anyway), and no scan is made per header. */
bool eg_is_hop_header(const char *name, size_t len, const eg_headers *with_connection);
const eg_headers *eg_connection_options(const eg_headers *h);
/* A request's size as statistics and the access log count it: its head as received (or,
 * for one a filter built, as it would be written) plus its body. */
uint64_t eg_request_size(const eg_request *r);

#endif
