/* http_client.c — a small blocking HTTP/1.1 client (see http_client.h).
 *
 * The socket stays non-blocking and every wait goes through poll() with a deadline, so a
 * silent or half-dead admin API can never hang egctl; over TLS the same loop waits for
 * whatever OpenSSL asks for (SSL_ERROR_WANT_READ/WRITE). The response body is framed by
 * Content-Length, chunked transfer coding, or the end of the connection, in that order
 * of precedence as RFC 9112 §6.3 has it (chunked wins over Content-Length).
 */
#define _GNU_SOURCE
#include "http_client.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADER_BYTES (1u << 20)
#define MAX_BODY_BYTES ((size_t)1 << 30)

typedef struct {
    char *data;
    size_t len, cap;
} sbuf;

static int sbuf_reserve(sbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

static int sbuf_add(sbuf *b, const void *p, size_t n)
{
    if (sbuf_reserve(b, n) != 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for `events` on fd until the deadline. 1 ready, 0 timed out, -1 error (errno). */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? -1 : r;
    }
}

static int connect_one(const struct addrinfo *ai, int timeout_ms, int *err_out)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
    if (fd < 0) {
        *err_out = errno;
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS && errno != EINTR) {
            *err_out = errno;
            close(fd);
            return -1;
        }
        int r = wait_fd(fd, POLLOUT, now_ms() + timeout_ms);
        if (r <= 0) {
            *err_out = r == 0 ? ETIMEDOUT : errno;
            close(fd);
            return -1;
        }
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            *err_out = soerr ? soerr : errno;
            close(fd);
            return -1;
        }
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* latency only */
    return fd;
}

/* Try every address of host:port in order; the last failure is reported. */
static int connect_host(const char *host, int port, int timeout_ms, char *err, size_t errlen)
{
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "%s", gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
        return -1;
    }
    int fd = -1, last = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
        fd = connect_one(ai, timeout_ms, &last);
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "%s", strerror(last));
    return fd;
}

/* A connection: the socket, and the TLS session on it when there is one. */
typedef struct {
    int fd;
    SSL *ssl;
} conn;

/* OpenSSL writes to the socket with write(), which raises SIGPIPE when the server has
 * gone; egctl must get an error instead (plain sends use MSG_NOSIGNAL). The disposition
 * is switched around each OpenSSL call only, so that writing to a closed stdout pipe
 * still ends egctl quietly, as it does without TLS. */
static void sigpipe_ignore(struct sigaction *old)
{
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, old);
}

static void sigpipe_restore(const struct sigaction *old)
{
    sigaction(SIGPIPE, old, NULL);
}

/* The most recent OpenSSL error as text, for messages. */
static const char *ssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "unknown error";
}

/* One attempt to move bytes. >0 moved, 0 end of stream (reading), -1 failed (err set,
 * prefixed with `what`), -2 must wait for *want (POLLIN/POLLOUT) first. */
static ssize_t conn_io(conn *c, bool writing, void *buf, size_t n, short *want,
                       const char *what, char *err, size_t errlen)
{
    if (!c->ssl) {
        for (;;) {
            ssize_t r = writing ? send(c->fd, buf, n, MSG_NOSIGNAL) : recv(c->fd, buf, n, 0);
            if (r >= 0)
                return r;
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                *want = writing ? POLLOUT : POLLIN;
                return -2;
            }
            snprintf(err, errlen, "%s: %s", what, strerror(errno));
            return -1;
        }
    }
    int len = n > INT32_MAX ? INT32_MAX : (int)n;
    struct sigaction old;
    sigpipe_ignore(&old);
    ERR_clear_error();
    errno = 0;
    int r = writing ? SSL_write(c->ssl, buf, len) : SSL_read(c->ssl, buf, len);
    int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, r);
    int saved_errno = errno;
    sigpipe_restore(&old);
    switch (e) {
    case SSL_ERROR_NONE:
        return r;
    case SSL_ERROR_WANT_READ:
        *want = POLLIN;
        return -2;
    case SSL_ERROR_WANT_WRITE:
        *want = POLLOUT;
        return -2;
    case SSL_ERROR_ZERO_RETURN:
        if (!writing)
            return 0;
        snprintf(err, errlen, "%s: the server closed the TLS session", what);
        return -1;
    case SSL_ERROR_SYSCALL:
        if (!writing && saved_errno == 0)
            return 0; /* closed without close_notify: the framing decides */
        snprintf(err, errlen, "%s: %s", what,
                 saved_errno ? strerror(saved_errno) : "connection closed");
        return -1;
    default:
        snprintf(err, errlen, "%s: TLS error: %s", what, ssl_reason());
        return -1;
    }
}

static int send_all(conn *c, const char *p, size_t n, int timeout_ms, char *err, size_t errlen)
{
    int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : INT64_MAX;
    while (n > 0) {
        short want = 0;
        ssize_t w = conn_io(c, true, (void *)p, n, &want, "sending the request", err, errlen);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            if (timeout_ms > 0) /* progress: the timeout is per wait */
                deadline = now_ms() + timeout_ms;
            continue;
        }
        if (w == -2) {
            int r = wait_fd(c->fd, want, deadline);
            if (r > 0)
                continue;
            snprintf(err, errlen, "sending the request: %s", r == 0 ? "timed out" : strerror(errno));
            return -1;
        }
        if (w == 0)
            snprintf(err, errlen, "sending the request: connection closed");
        return -1;
    }
    return 0;
}

/* The TLS handshake on a connected socket, with the server's identity checked against
 * `host` as Go's crypto/tls does (an IP address against the certificate's IP SANs, a
 * name against its DNS names). */
static int tls_handshake(conn *c, SSL_CTX *ctx, const char *host, int timeout_ms, char *err,
                         size_t errlen)
{
    ERR_clear_error();
    c->ssl = SSL_new(ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) {
        snprintf(err, errlen, "TLS setup failed: %s", ssl_reason());
        return -1;
    }
    unsigned char addr[16];
    bool is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
    if (SSL_get_verify_mode(c->ssl) != SSL_VERIFY_NONE) {
        int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host)
                       : SSL_set1_host(c->ssl, host);
        if (ok != 1) {
            snprintf(err, errlen, "TLS setup failed: cannot verify against host %s", host);
            return -1;
        }
    }
    if (!is_ip && SSL_set_tlsext_host_name(c->ssl, host) != 1) { /* SNI: names only */
        snprintf(err, errlen, "TLS setup failed: %s", ssl_reason());
        return -1;
    }
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        struct sigaction old;
        sigpipe_ignore(&old);
        ERR_clear_error();
        errno = 0;
        int r = SSL_connect(c->ssl);
        int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, r);
        int saved_errno = errno;
        sigpipe_restore(&old);
        if (e == SSL_ERROR_NONE)
            return 0;
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int w = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
            if (w > 0)
                continue;
            snprintf(err, errlen, "TLS handshake failed: %s", w == 0 ? "timed out" : strerror(errno));
            return -1;
        }
        long vr = SSL_get_verify_result(c->ssl);
        if (vr != X509_V_OK)
            snprintf(err, errlen, "certificate verify failed: %s",
                     X509_verify_cert_error_string(vr));
        else if (e == SSL_ERROR_SYSCALL)
            snprintf(err, errlen, "TLS handshake failed: %s",
                     saved_errno ? strerror(saved_errno)
                                 : "the server closed the connection (does it speak TLS?)");
        else
            snprintf(err, errlen, "TLS handshake failed: %s", ssl_reason());
        return -1;
    }
}

/* The receiving side: bytes read but not yet consumed are data[pos..len). */
typedef struct {
    conn *c;
    int timeout_ms;
    sbuf in;
    size_t pos;
    bool eof;
    char *err;
    size_t errlen;
    int (*on_body)(void *ud, const char *data, size_t len); /* set: body goes there */
    void *on_body_ud;
} reader;

/* Body bytes to the caller's callback when streaming, else into out. */
static int emit(reader *r, sbuf *out, const char *data, size_t n)
{
    if (r->on_body) {
        if (r->on_body(r->on_body_ud, data, n) != 0) {
            snprintf(r->err, r->errlen, "writing the response out failed");
            return -1;
        }
        return 0;
    }
    if (out->len + n > MAX_BODY_BYTES) {
        snprintf(r->err, r->errlen, "response body too large");
        return -1;
    }
    if (sbuf_add(out, data, n) != 0) {
        snprintf(r->err, r->errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* Read more bytes. 1 got some, 0 end of stream, -1 error (err set). */
static int fill(reader *r)
{
    if (r->eof)
        return 0;
    if (r->pos > 0 && r->pos == r->in.len) { /* everything consumed: start over */
        r->in.len = r->pos = 0;
    }
    if (sbuf_reserve(&r->in, 16384) != 0) {
        snprintf(r->err, r->errlen, "out of memory");
        return -1;
    }
    int64_t deadline = r->timeout_ms > 0 ? now_ms() + r->timeout_ms : INT64_MAX;
    for (;;) {
        short want = 0;
        ssize_t n = conn_io(r->c, false, r->in.data + r->in.len, r->in.cap - r->in.len - 1,
                            &want, "reading the response", r->err, r->errlen);
        if (n > 0) {
            r->in.len += (size_t)n;
            r->in.data[r->in.len] = '\0';
            return 1;
        }
        if (n == 0) {
            r->eof = true;
            return 0;
        }
        if (n == -2) {
            int w = wait_fd(r->c->fd, want, deadline);
            if (w > 0)
                continue;
            snprintf(r->err, r->errlen, "reading the response: %s",
                     w == 0 ? "timed out" : strerror(errno));
            return -1;
        }
        return -1;
    }
}

/* A line ending in LF (CR before it dropped) starting at r->pos; NULL at EOF or error. */
static char *read_line(reader *r, size_t limit, size_t *len)
{
    for (;;) {
        char *start = r->in.data ? r->in.data + r->pos : NULL;
        char *nl = start ? memchr(start, '\n', r->in.len - r->pos) : NULL;
        if (nl) {
            size_t l = (size_t)(nl - start);
            r->pos += l + 1;
            if (l > 0 && start[l - 1] == '\r')
                l--;
            start[l] = '\0';
            *len = l;
            return start;
        }
        if (r->in.len - r->pos > limit) {
            snprintf(r->err, r->errlen, "malformed response: line too long");
            return NULL;
        }
        int f = fill(r);
        if (f <= 0) {
            if (f == 0)
                snprintf(r->err, r->errlen, "connection closed before the response was complete");
            return NULL;
        }
    }
}

/* Copy n body bytes into out. */
static int read_exact(reader *r, size_t n, sbuf *out)
{
    while (n > 0) {
        size_t avail = r->in.len - r->pos;
        if (avail == 0) {
            int f = fill(r);
            if (f <= 0) {
                if (f == 0)
                    snprintf(r->err, r->errlen, "connection closed before the response was complete");
                return -1;
            }
            continue;
        }
        size_t take = avail < n ? avail : n;
        if (emit(r, out, r->in.data + r->pos, take) != 0)
            return -1;
        r->pos += take;
        n -= take;
    }
    return 0;
}

static int read_chunked(reader *r, sbuf *out)
{
    for (;;) {
        size_t l;
        char *line = read_line(r, 4096, &l);
        if (!line)
            return -1;
        char *end;
        errno = 0;
        unsigned long long size = strtoull(line, &end, 16);
        if (end == line || errno != 0 || (*end && *end != ';' && *end != ' ' && *end != '\t') ||
            size > MAX_BODY_BYTES) {
            snprintf(r->err, r->errlen, "malformed chunked response body");
            return -1;
        }
        if (size == 0)
            break;
        if (read_exact(r, (size_t)size, out) != 0)
            return -1;
        line = read_line(r, 4096, &l);
        if (!line)
            return -1;
        if (l != 0) {
            snprintf(r->err, r->errlen, "malformed chunked response body");
            return -1;
        }
    }
    for (;;) { /* trailer section, ignored, up to the empty line */
        size_t l;
        if (!read_line(r, MAX_HEADER_BYTES, &l))
            return -1;
        if (l == 0)
            return 0;
    }
}

static int read_to_eof(reader *r, sbuf *out)
{
    for (;;) {
        size_t avail = r->in.len - r->pos;
        if (avail) {
            if (emit(r, out, r->in.data + r->pos, avail) != 0)
                return -1;
            r->pos = r->in.len;
        }
        int f = fill(r);
        if (f < 0)
            return -1;
        if (f == 0)
            return 0;
    }
}

static int push_str(char ***v, size_t *n, const char *s, size_t len)
{
    char **nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    *v = nv;
    char *copy = strndup(s, len);
    if (!copy)
        return -1;
    nv[(*n)++] = copy;
    return 0;
}

/* RFC 7234 §5.5: Warning = 1#warning-value; warning-value = warn-code SP warn-agent SP
 * warn-text [SP warn-date]; warn-text and warn-date are quoted-strings. */
int egctl_http_parse_warning(const char *value, size_t len, char ***v, size_t *n)
{
    const char *p = value, *end = value + len;
    size_t first_new = *n;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        if (p >= end)
            return 0;
        const char *q = p;
        if (end - q < 4 || !isdigit((unsigned char)q[0]) || !isdigit((unsigned char)q[1]) ||
            !isdigit((unsigned char)q[2]) || q[3] != ' ')
            goto raw;
        q += 4;
        while (q < end && *q != ' ') /* warn-agent: host[:port] or pseudonym, e.g. "-" */
            q++;
        if (q >= end || *q != ' ' || q + 1 >= end || q[1] != '"')
            goto raw;
        q += 2;
        sbuf text = {0};
        for (; q < end && *q != '"'; q++) {
            if (*q == '\\' && q + 1 < end)
                q++;
            if (sbuf_add(&text, q, 1) != 0) {
                free(text.data);
                return -1;
            }
        }
        if (q >= end) {
            free(text.data);
            goto raw;
        }
        q++; /* closing quote */
        if (q + 1 < end && *q == ' ' && q[1] == '"') { /* warn-date */
            q += 2;
            while (q < end && *q != '"')
                q++;
            if (q < end)
                q++;
        }
        int rc = push_str(v, n, text.data ? text.data : "", text.len);
        free(text.data);
        if (rc != 0)
            return -1;
        p = q;
        continue;
    }
    return 0;

raw:
    /* Not RFC form: report the whole value rather than a fragment of it. */
    while (*n > first_new)
        free((*v)[--*n]);
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    while (len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        len--;
    }
    return push_str(v, n, value, len);
}

bool egctl_http_is_tls_record(const unsigned char *p, size_t n)
{
    /* A record header: content type alert (21) or handshake (22), then the protocol
     * version, whose major byte is 3 for SSL 3.0 up to TLS 1.3. HTTP starts with "HTTP/". */
    if (n < 1 || (p[0] != 21 && p[0] != 22))
        return false;
    return n < 2 || (p[1] == 3 && (n < 3 || p[2] <= 4));
}

bool egctl_http_is_https_refusal(int status, const char *body, size_t len)
{
    static const char *const texts[] = {
        "Client sent an HTTP request to an HTTPS server",  /* Go's net/http */
        "The plain HTTP request was sent to HTTPS port",   /* nginx */
    };
    if (status != 400 || !body)
        return false;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (memmem(body, len, texts[i], strlen(texts[i])))
            return true;
    return false;
}

static bool header_is(const char *line, size_t namelen, const char *name)
{
    return strlen(name) == namelen && strncasecmp(line, name, namelen) == 0;
}

/* Whether a comma-separated header value lists `token`. */
static bool has_token(const char *value, const char *token)
{
    size_t tl = strlen(token);
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if ((size_t)(e - s) == tl && strncasecmp(s, token, tl) == 0)
            return true;
    }
    return false;
}

static int read_response(reader *r, const char *method, egctl_http_resp *resp)
{
    for (;;) {
        size_t l;
        char *line = read_line(r, MAX_HEADER_BYTES, &l);
        if (!line)
            return -1;
        int status;
        char proto[16];
        if (sscanf(line, "%15s %3d", proto, &status) != 2 || strncmp(proto, "HTTP/1.", 7) != 0 ||
            status < 100 || status > 999) {
            snprintf(r->err, r->errlen, "malformed response: not HTTP/1.x (%.60s)", line);
            return -1;
        }
        bool chunked = false, have_len = false;
        unsigned long long content_length = 0;
        size_t header_bytes = 0;
        for (;;) {
            char *h = read_line(r, MAX_HEADER_BYTES, &l);
            if (!h)
                return -1;
            if (l == 0)
                break;
            header_bytes += l;
            if (header_bytes > MAX_HEADER_BYTES) {
                snprintf(r->err, r->errlen, "malformed response: headers too large");
                return -1;
            }
            char *colon = memchr(h, ':', l);
            if (!colon)
                continue; /* tolerate junk lines, as most clients do */
            size_t nlen = (size_t)(colon - h);
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vlen = l - (size_t)(v - h);
            while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                v[--vlen] = '\0';
            if (status >= 200 && header_is(h, nlen, "Warning")) {
                if (egctl_http_parse_warning(v, vlen, &resp->warnings, &resp->nwarnings) != 0) {
                    snprintf(r->err, r->errlen, "out of memory");
                    return -1;
                }
            } else if (header_is(h, nlen, "Transfer-Encoding")) {
                chunked = has_token(v, "chunked");
            } else if (header_is(h, nlen, "Content-Length")) {
                char *e;
                errno = 0;
                unsigned long long cl = strtoull(v, &e, 10);
                if (e == v || *e || errno || (have_len && cl != content_length)) {
                    snprintf(r->err, r->errlen, "malformed response: bad Content-Length");
                    return -1;
                }
                content_length = cl;
                have_len = true;
            }
        }
        if (status < 200) /* 100 Continue and friends: the real answer follows */
            continue;
        resp->status = status;
        if (status < 200 || status > 299)
            r->on_body = NULL; /* an error answer is read whole, to be reported */

        sbuf body = {0};
        int rc = 0;
        if (strcmp(method, "HEAD") == 0 || status == 204 || status == 304)
            rc = 0;
        else if (chunked)
            rc = read_chunked(r, &body);
        else if (have_len) {
            if (content_length > MAX_BODY_BYTES) {
                snprintf(r->err, r->errlen, "response body too large");
                rc = -1;
            } else {
                rc = read_exact(r, (size_t)content_length, &body);
            }
        } else
            rc = read_to_eof(r, &body);
        if (rc == 0 && !body.data && sbuf_reserve(&body, 0) != 0) {
            snprintf(r->err, r->errlen, "out of memory");
            rc = -1;
        }
        if (rc != 0) {
            free(body.data);
            return -1;
        }
        body.data[body.len] = '\0';
        resp->body = body.data;
        resp->body_len = body.len;
        return 0;
    }
}

egctl_http_rc egctl_http_do(const egctl_http_req *req, egctl_http_resp *resp,
                            char *err, size_t errlen)
{
    memset(resp, 0, sizeof *resp);
    conn c = {.fd = connect_host(req->host, req->port, req->connect_timeout_ms, err, errlen)};
    if (c.fd < 0)
        return EGCTL_HTTP_ECONNECT;
    if (req->tls && tls_handshake(&c, req->tls, req->host, req->connect_timeout_ms, err,
                                  errlen) != 0) {
        SSL_free(c.ssl);
        close(c.fd);
        return EGCTL_HTTP_ETLS;
    }

    sbuf out = {0};
    bool v6 = strchr(req->host, ':') != NULL;
    char head[2048];
    int hl = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nUser-Agent: egctl\r\n"
                      "Accept: application/json\r\nConnection: close\r\n",
                      req->method, req->path, v6 ? "[" : "", req->host, v6 ? "]" : "", req->port);
    egctl_http_rc rc = EGCTL_HTTP_EIO;
    if (hl < 0 || (size_t)hl >= sizeof head) {
        snprintf(err, errlen, "request line too long");
        goto done;
    }
    int ok = sbuf_add(&out, head, (size_t)hl);
    if (req->authorization) {
        ok |= sbuf_add(&out, "Authorization: ", 15);
        ok |= sbuf_add(&out, req->authorization, strlen(req->authorization));
        ok |= sbuf_add(&out, "\r\n", 2);
    }
    if (req->content_type) {
        hl = snprintf(head, sizeof head, "Content-Type: %s\r\nContent-Length: %zu\r\n",
                      req->content_type, req->body_len);
        ok |= sbuf_add(&out, head, (size_t)hl);
    }
    ok |= sbuf_add(&out, "\r\n", 2);
    if (req->content_type && req->body_len)
        ok |= sbuf_add(&out, req->body, req->body_len);
    if (ok != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (send_all(&c, out.data, out.len, req->io_timeout_ms, err, errlen) != 0)
        goto done;

    reader r = {.c = &c, .timeout_ms = req->io_timeout_ms, .err = err, .errlen = errlen,
                .on_body = req->on_body, .on_body_ud = req->on_body_ud};
    if (!req->tls) {
        /* A TLS-only server answers plain text with a TLS record, or not at all. */
        int f = fill(&r);
        if (f > 0 && egctl_http_is_tls_record((const unsigned char *)r.in.data, r.in.len)) {
            snprintf(err, errlen, "the server answered plain HTTP with TLS");
            free(r.in.data);
            rc = EGCTL_HTTP_ENEEDTLS;
            goto done;
        }
        if (f < 0) {
            free(r.in.data);
            goto done;
        }
    }
    int rr = read_response(&r, req->method, resp);
    free(r.in.data);
    if (rr != 0) {
        egctl_http_resp_free(resp);
        goto done;
    }
    if (!req->tls && egctl_http_is_https_refusal(resp->status, resp->body, resp->body_len)) {
        snprintf(err, errlen, "the server wants HTTPS (400 to plain HTTP)");
        egctl_http_resp_free(resp);
        rc = EGCTL_HTTP_ENEEDTLS;
        goto done;
    }
    rc = EGCTL_HTTP_OK;
done:
    free(out.data);
    SSL_free(c.ssl);
    close(c.fd);
    return rc;
}

void egctl_http_resp_free(egctl_http_resp *resp)
{
    free(resp->body);
    for (size_t i = 0; i < resp->nwarnings; i++)
        free(resp->warnings[i]);
    free(resp->warnings);
    memset(resp, 0, sizeof *resp);
}
