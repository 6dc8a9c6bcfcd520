/* tracing.h — distributed tracing for HTTPServers (Easegress's `tracing` spec).
 *
 * Three parts:
 *  - the spec (tracing_spec.c): decoded and validated when the HTTPServer is submitted;
 *  - the per-request trace (tracing.c): the W3C traceparent (or B3) of the client request
 *    parsed or a new trace started, the sampling decision, a server span for the request and
 *    a client span per backend call, the header injected into backend requests;
 *  - export (trace_export.c): finished spans serialised (OTLP/HTTP JSON, Zipkin v2 JSON),
 *    batched per worker and POSTed asynchronously on the worker's loop.
 *
 * An unsampled request still carries ids (so the backend sees a well-formed traceparent with
 * the sampled flag off) but records nothing: no span is kept, no string is formatted.
 */
#ifndef EG_TRACING_H
#define EG_TRACING_H

#include <stdbool.h>
#include <stdint.h>
#include "arena.h"
#include "message.h"
#include "node.h"

/* ---- the spec ---------------------------------------------------------------------------- */

typedef enum { EG_TRACE_HEADERS_W3C, EG_TRACE_HEADERS_B3 } eg_trace_header_format;
typedef enum { EG_TRACE_EXPORT_OTLP, EG_TRACE_EXPORT_ZIPKIN } eg_trace_export_kind;

typedef struct {
    eg_trace_export_kind kind;
    char *host;                  /* name or IP literal, no brackets */
    uint16_t port;
    char *host_header;           /* "host[:port]" for the Host header */
    char *path;                  /* request target, e.g. "/v1/traces" */
    bool gzip;                   /* otlp compression: gzip */
} eg_trace_exporter_spec;

#define EG_TRACE_MAX_EXPORTERS 2

typedef struct eg_tracing_spec {
    uint64_t uid;                /* unique per decoded spec: exporters notice a new version */
    char *service_name;
    char **attr_keys, **attr_values; /* `attributes` (or the deprecated `tags`), key-sorted */
    size_t nattrs;
    double sample_rate;          /* 0..1, default 1 */
    uint64_t sample_bound;       /* root sampling: trace id's low 63 bits below this */
    int64_t attr_value_limit;    /* spanLimits.attributeValueLengthLimit, < 0: none */
    int64_t attr_count_limit;    /* spanLimits.attributeCountLimit, < 0: none */
    int64_t max_queue;           /* batchLimits.maxQueueSize (spans per worker) */
    int64_t max_batch;           /* batchLimits.maxExportBatchSize */
    int64_t batch_timeout_ms;    /* batchLimits.batchTimeout */
    int64_t export_timeout_ms;   /* batchLimits.exportTimeout */
    eg_trace_header_format header_format;
    eg_trace_exporter_spec exporters[EG_TRACE_MAX_EXPORTERS];
    size_t nexporters;
} eg_tracing_spec;

/* Decode the `tracing` map of an HTTPServer (errors name tracing.<field>). NULL on error. */
eg_tracing_spec *eg_tracing_spec_decode(eg_dec *d, const eg_node *map);
void eg_tracing_spec_free(eg_tracing_spec *s);

/* ---- ids and headers (pure functions, unit-tested) ---------------------------------------- */

typedef struct {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    bool sampled;
    bool has_sampled;            /* B3 may carry ids with no sampling decision */
} eg_trace_parent;

/* W3C traceparent: "00-<32 hex>-<16 hex>-<2 hex>" (lower-case; zero ids and version ff
 * refused; a future version may append "-..."). */
bool eg_traceparent_parse(const char *v, size_t len, eg_trace_parent *out);
/* B3 single header "traceid-spanid[-sampled[-parentspanid]]" (64- or 128-bit trace id). */
bool eg_b3_single_parse(const char *v, size_t len, eg_trace_parent *out);
/* 2*n lower-case hex digits of b, NUL-terminated. */
void eg_trace_hex(const uint8_t *b, size_t n, char *out);
/* OTel's TraceIdRatioBased threshold for a rate, and the decision for a trace id. */
uint64_t eg_trace_sample_bound(double rate);
bool eg_trace_id_sampled(const uint8_t trace_id[16], uint64_t bound);
/* Random ids from a per-thread generator (never all zero). */
void eg_trace_random_id(uint8_t *out, size_t n);

/* ---- a request's trace --------------------------------------------------------------------- */

typedef struct eg_trace eg_trace;
typedef struct eg_client_span eg_client_span;

struct eg_trace {
    const eg_tracing_spec *spec;  /* the HTTPServer version the request is pinned to */
    const char *server_name;
    uint8_t trace_id[16];
    uint8_t span_id[8];           /* the server span */
    uint8_t parent_id[8];         /* the client's span, when it sent one */
    bool has_parent;
    bool sampled;
    bool ended;
    const char *tracestate;       /* the client's, passed on (arena), or NULL */
    size_t tracestate_len;
    uint64_t start_ns;            /* unix time */
    /* sampled only: what the server span reports */
    const char *method, *target, *path, *host, *user_agent, *pipeline;
    char client_ip[48];
    eg_client_span *clients, **clients_tail;
};

struct eg_client_span {
    eg_client_span *next;
    eg_trace *trace;
    uint8_t span_id[8];
    const char *name;
    const char *method;
    const char *url;              /* the backend URL of the call */
    const char *peer_host;
    uint16_t peer_port;
    uint64_t start_ns, end_ns;
    int status;                   /* 0: no response */
    int resend_count;
    const char *error;            /* why the call failed, or NULL */
    bool ended;
};

/* Start the request's trace from the client request's headers (per spec->header_format).
 * Allocates from the arena (never malloc). */
eg_trace *eg_trace_begin(eg_arena *a, const eg_tracing_spec *spec, const char *server_name,
                         const eg_request *req);
/* The route the request matched (its pipeline name), for the server span. */
void eg_trace_set_pipeline(eg_trace *t, const char *pipeline);
/* End the server span with the status sent (499: the client went away) and hand the
 * request's spans to the worker's exporters. Client spans still open end as aborted. */
struct eg_worker;
void eg_trace_end(eg_trace *t, struct eg_worker *w, int status);

/* A backend call: fills span_id (always) and returns the span to end, or NULL when the
 * trace is not sampled. name and method must live as long as the request; host, target and
 * query are copied (into the backend URL) when the span is recorded. */
eg_client_span *eg_trace_client_begin(eg_trace *t, eg_arena *a, const char *name, const char *method,
                                      const char *scheme, const char *host, uint16_t port,
                                      const char *target, const char *query, uint8_t span_id[8]);
/* status > 0: the backend answered; else error says why not. */
void eg_client_span_end(eg_client_span *cs, int status, int resend_count, const char *error);

/* Headers carrying trace context: the ones a backend request must not pass on from the
 * client (traceparent, or b3 / X-B3-*), since the gateway puts its own. */
bool eg_trace_is_context_header(const eg_trace *t, const char *name, size_t len);
/* The header line(s) to put in a backend request for the call with span_id, CRLF-terminated
 * ("traceparent: 00-...-01\r\n" or "b3: ...\r\n"). Returns the length (< EG_TRACE_HEADER_MAX). */
#define EG_TRACE_HEADER_MAX 128
size_t eg_trace_format_header(const eg_trace *t, const uint8_t span_id[8], char *out);
/* The header's name and value alone (for eg.http.request's header table). */
const char *eg_trace_header_name(const eg_trace *t);
size_t eg_trace_format_value(const eg_trace *t, const uint8_t span_id[8], char *out);

/* ---- export (trace_export.c) ------------------------------------------------------------- */

typedef struct eg_trace_exporters eg_trace_exporters;
/* Queue the finished spans of a trace on the worker's exporters (created on first use). */
void eg_trace_export(struct eg_worker *w, const eg_trace *t, int status, uint64_t end_ns);
/* Worker stopping: send what is queued now and stop the batch timers. */
void eg_trace_exporters_stop(eg_trace_exporters *e);
/* After the worker's loop has ended. */
void eg_trace_exporters_free(eg_trace_exporters *e);

/* Process-wide counters (summed over workers), for logs and tests. */
typedef struct {
    uint64_t spans_exported, spans_dropped, batches_failed;
} eg_trace_counters;
void eg_trace_counters_get(eg_trace_counters *out);

#endif
