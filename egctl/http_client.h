/* http_client.h — one blocking HTTP/1.1 exchange over TCP, plain or TLS (OpenSSL).
 *
 * egctl sends a handful of small requests per run, so a connection per request
 * ("Connection: close") keeps this simple; every wait is bounded by a timeout.
 */
#ifndef EGCTL_HTTP_CLIENT_H
#define EGCTL_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

typedef struct {
    int status;
    char *body;          /* NUL-terminated (not counted in body_len); never NULL on success */
    size_t body_len;
    char **warnings;     /* warn-text of every Warning header value, unquoted */
    size_t nwarnings;
} egctl_http_resp;

typedef enum {
    EGCTL_HTTP_OK = 0,
    EGCTL_HTTP_ECONNECT = -1,   /* could not resolve or connect: err has the reason */
    EGCTL_HTTP_EIO = -2,        /* connected, but the exchange failed: err has the reason */
    EGCTL_HTTP_ETLS = -3,       /* the TLS handshake failed: err has the reason */
    EGCTL_HTTP_ENEEDTLS = -4,   /* a plain request reached a server that speaks TLS only
                                 * (it answered with a TLS record, or with the 400 that Go
                                 * and nginx send to plain HTTP on an HTTPS port); the
                                 * request was not processed, so it may be sent again over
                                 * TLS (Easegress's "retry with https on demand") */
} egctl_http_rc;

typedef struct {
    const char *host;           /* name or address, IPv6 without brackets */
    int port;
    const char *method;
    const char *path;           /* origin form, already escaped */
    const char *content_type;   /* NULL: no body */
    const char *body;
    size_t body_len;
    int connect_timeout_ms;
    int io_timeout_ms;          /* per read/write wait; 0: wait as long as it takes */
    const char *authorization;  /* Authorization header value, NULL for none */
    /* When set, the body of a 2xx answer is handed over piece by piece as it arrives
     * instead of being collected (resp->body stays empty); non-zero from it stops. */
    int (*on_body)(void *ud, const char *data, size_t len);
    void *on_body_ud;
    /* Non-NULL: speak TLS with this context. The server certificate must name `host`
     * (as a DNS name, or as an IP address when host is one) unless the context does not
     * verify; SNI is sent for names. */
    SSL_CTX *tls;
} egctl_http_req;

egctl_http_rc egctl_http_do(const egctl_http_req *req, egctl_http_resp *resp,
                            char *err, size_t errlen);
void egctl_http_resp_free(egctl_http_resp *resp);

/* Split a Warning header value into its warn-texts (exposed for testing). Each text is
 * appended to *v (malloc'd). A value that is not in RFC 7234 form is kept whole. */
int egctl_http_parse_warning(const char *value, size_t len, char ***v, size_t *n);

/* Whether the first bytes a server sent in answer to plain HTTP are a TLS record (a TLS
 * server's alert or handshake), i.e. not HTTP at all (exposed for testing). */
bool egctl_http_is_tls_record(const unsigned char *p, size_t n);

/* Whether an answer to plain HTTP is an HTTPS server's refusal of it: a 400 with Go's
 * "Client sent an HTTP request to an HTTPS server" (what Easegress's egctl looks for) or
 * nginx's "The plain HTTP request was sent to HTTPS port" (exposed for testing). */
bool egctl_http_is_https_refusal(int status, const char *body, size_t len);

#endif
