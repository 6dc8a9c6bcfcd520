/* access_log_format.h — an HTTPServer's `accessLogFormat`, compiled once when the spec is
 * decoded and rendered once per request without printf.
 *
 * Two kinds of format:
 *  - an Easegress template: literal text with {{Var}} (or Go's {{.Var}}) for Time,
 *    RemoteAddr, RealIP, Method, URI, Proto, StatusCode, Duration, ReqSize, RespSize,
 *    ReqHeaders, RespHeaders, Tags; an unknown variable or any other template action is a
 *    compile error. The default is Easegress's:
 *    [{{Time}}] [{{RemoteAddr}} {{RealIP}} {{Method}} {{URI}} {{Proto}} {{StatusCode}}] [{{Duration}} rx:{{ReqSize}}B tx:{{RespSize}}B] [{{Tags}}]
 *  - `json` (ours): one JSON object per line with every field above, the server's name and
 *    the headers as objects of value arrays.
 */
#ifndef EG_ACCESS_LOG_FORMAT_H
#define EG_ACCESS_LOG_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "http_types.h"

typedef struct eg_access_log_format eg_access_log_format;

/* What one line says about a request. Strings may be NULL (rendered empty). */
typedef struct {
    int64_t start_unix_ns;         /* wall clock when the request started */
    const char *server;            /* the HTTPServer's name */
    const char *peer_ip;
    uint16_t peer_port;
    const char *real_ip;
    const char *method;
    const char *path, *query;      /* the request target as received; query NULL = none */
    int proto_major, proto_minor;
    int status;
    uint64_t duration_ns;
    uint64_t req_size, resp_size;
    const char *tags;
    size_t tags_len;
    const eg_headers *req_headers; /* NULL = none */
    const eg_headers *resp_headers;
} eg_access_record;

/* NULL or "" gives Easegress's default template; "json" the JSON-lines format. Returns NULL
 * with a message in err ("unknown variable {{Foo}} ...") when the template is invalid. */
eg_access_log_format *eg_access_log_format_compile(const char *src, char *err, size_t errlen);
void eg_access_log_format_free(eg_access_log_format *f);
bool eg_access_log_format_is_json(const eg_access_log_format *f);

/* Append one line (ending in '\n') for rec to out. */
void eg_access_log_format_render(const eg_access_log_format *f, const eg_access_record *rec, eg_buf *out);

/* Go's time.Duration.String() ("850ns", "1.5µs", "12.345678ms", "2m3.5s", "1h0m0s"). */
void eg_append_go_duration(eg_buf *out, uint64_t ns);

#endif
