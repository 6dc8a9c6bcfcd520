/* access_log_format.c — compiling `accessLogFormat` and rendering access-log lines.
 *
 * Easegress turns {{Name}} into {{.Name}} and runs Go's text/template over a struct; a name
 * the struct lacks fails only when a request is logged. Here the template is split once into
 * literal runs and variable ids, every name is checked at compile time, and rendering is a
 * walk over that list appending bytes (integers, durations and the time by hand: this runs
 * for every request). */
#include "access_log_format.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "node.h"

/* A line is made of many small pieces: the common case (room in the buffer) stays inline,
 * and the line is NUL-terminated once, at its end. */
static inline void put(eg_buf *out, const void *p, size_t n)
{
    if (out->len + n + 1 > out->cap)
        eg_buf_reserve(out, n);
    if (n)
        memcpy(out->data + out->len, p, n);
    out->len += n;
}

static inline void put_str(eg_buf *out, const char *s) { put(out, s, strlen(s)); }

static void put_u64(eg_buf *out, uint64_t v)
{
    char tmp[20];
    size_t n = sizeof tmp;
    do {
        tmp[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(out, tmp + n, sizeof tmp - n);
}

static void terminate(eg_buf *out)
{
    eg_buf_reserve(out, 0);
    out->data[out->len] = 0;
}

/* RFC 9110 token bytes (header names). */
static const bool TOKEN[256] = {
    ['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true, ['!'] = true, ['#'] = true,
    ['$'] = true, ['%'] = true, ['&'] = true, ['\''] = true, ['*'] = true, ['+'] = true, ['-'] = true,
    ['.'] = true, ['^'] = true, ['_'] = true, ['`'] = true, ['|'] = true, ['~'] = true,
};

/* Bytes a JSON string cannot hold as they are (non-ASCII is checked for valid UTF-8). */
static const bool JSON_SPECIAL[256] = {
    [0x00 ... 0x1f] = true, ['"'] = true, ['\\'] = true, [0x80 ... 0xff] = true,
};

#define DEFAULT_FORMAT                                                                                  \
    "[{{Time}}] [{{RemoteAddr}} {{RealIP}} {{Method}} {{URI}} {{Proto}} {{StatusCode}}] [{{Duration}} " \
    "rx:{{ReqSize}}B tx:{{RespSize}}B] [{{Tags}}]"

enum var {
    V_TEXT, /* a literal run */
    V_TIME,
    V_REMOTE_ADDR,
    V_REAL_IP,
    V_METHOD,
    V_URI,
    V_PROTO,
    V_STATUS_CODE,
    V_DURATION,
    V_REQ_SIZE,
    V_RESP_SIZE,
    V_REQ_HEADERS,
    V_RESP_HEADERS,
    V_TAGS,
};

static const char *const VAR_NAMES[] = {
    [V_TIME] = "Time",           [V_REMOTE_ADDR] = "RemoteAddr", [V_REAL_IP] = "RealIP",
    [V_METHOD] = "Method",       [V_URI] = "URI",                [V_PROTO] = "Proto",
    [V_STATUS_CODE] = "StatusCode", [V_DURATION] = "Duration",   [V_REQ_SIZE] = "ReqSize",
    [V_RESP_SIZE] = "RespSize",  [V_REQ_HEADERS] = "ReqHeaders", [V_RESP_HEADERS] = "RespHeaders",
    [V_TAGS] = "Tags",
};
#define NVARS (sizeof VAR_NAMES / sizeof VAR_NAMES[0])

typedef struct {
    enum var var;
    size_t off, len; /* V_TEXT: the run in f->text */
} segment;

struct eg_access_log_format {
    bool json;
    char *text;
    segment *segs;
    size_t nsegs;
};

static bool add_segment(eg_access_log_format *f, size_t *cap, enum var v, size_t off, size_t len)
{
    if (v == V_TEXT && !len)
        return true;
    if (f->nsegs == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        segment *s = realloc(f->segs, ncap * sizeof *s);
        if (!s)
            return false;
        f->segs = s;
        *cap = ncap;
    }
    f->segs[f->nsegs++] = (segment){ v, off, len };
    return true;
}

static void set_err(char *err, size_t errlen, const char *a, const char *b, size_t blen, const char *c)
{
    if (!err || !errlen)
        return;
    size_t n = 0;
    for (const char *p = a; *p && n + 1 < errlen; p++)
        err[n++] = *p;
    for (size_t i = 0; i < blen && n + 1 < errlen; i++)
        err[n++] = b[i];
    for (const char *p = c; *p && n + 1 < errlen; p++)
        err[n++] = *p;
    err[n] = 0;
}

eg_access_log_format *eg_access_log_format_compile(const char *src, char *err, size_t errlen)
{
    eg_access_log_format *f = calloc(1, sizeof *f);
    if (!f) {
        set_err(err, errlen, "out of memory", "", 0, "");
        return NULL;
    }
    if (src && strcmp(src, "json") == 0) {
        f->json = true;
        return f;
    }
    if (!src || !*src)
        src = DEFAULT_FORMAT;
    size_t n = strlen(src), cap = 0, lit = 0, i = 0;
    f->text = strdup(src);
    if (!f->text)
        goto oom;
    while (i < n) {
        if (src[i] != '{' || i + 1 >= n || src[i + 1] != '{') {
            i++;
            continue;
        }
        const char *close = strstr(src + i + 2, "}}");
        if (!close) {
            set_err(err, errlen, "unclosed {{ at \"", src + i, strnlen(src + i, 20), "\"");
            goto fail;
        }
        const char *name = src + i + 2;
        size_t nlen = (size_t)(close - name);
        if (nlen && name[0] == '.') { /* Go's own spelling of a field works in Easegress too */
            name++;
            nlen--;
        }
        enum var v = V_TEXT;
        for (size_t k = 1; k < NVARS; k++)
            if (strlen(VAR_NAMES[k]) == nlen && memcmp(VAR_NAMES[k], name, nlen) == 0)
                v = (enum var)k;
        if (v == V_TEXT) {
            set_err(err, errlen, "unknown variable {{", src + i + 2, (size_t)(close - src - i - 2),
                    "}} (known: Time, RemoteAddr, RealIP, Method, URI, Proto, StatusCode, Duration, ReqSize, "
                    "RespSize, ReqHeaders, RespHeaders, Tags)");
            goto fail;
        }
        if (!add_segment(f, &cap, V_TEXT, lit, i - lit) || !add_segment(f, &cap, v, 0, 0))
            goto oom;
        i = (size_t)(close - src) + 2;
        lit = i;
    }
    if (!add_segment(f, &cap, V_TEXT, lit, n - lit))
        goto oom;
    return f;
oom:
    set_err(err, errlen, "out of memory", "", 0, "");
fail:
    eg_access_log_format_free(f);
    return NULL;
}

void eg_access_log_format_free(eg_access_log_format *f)
{
    if (!f)
        return;
    free(f->text);
    free(f->segs);
    free(f);
}

bool eg_access_log_format_is_json(const eg_access_log_format *f) { return f->json; }

/* ---- values ---- */

static void append_str(eg_buf *out, const char *s)
{
    if (s)
        put_str(out, s);
}

/* Go's fmtFrac: v's last `prec` digits as a fraction, trailing zeros dropped. */
static void append_frac(eg_buf *out, uint64_t frac, int prec)
{
    char digits[9];
    int last = -1;
    for (int i = prec - 1; i >= 0; i--) {
        digits[i] = (char)('0' + frac % 10);
        frac /= 10;
        if (last < 0 && digits[i] != '0')
            last = i;
    }
    if (last < 0)
        return;
    put(out, ".", 1);
    put(out, digits, (size_t)last + 1);
}

static void append_duration(eg_buf *out, uint64_t ns)
{
    if (ns == 0) {
        put(out, "0s", 2);
        return;
    }
    if (ns < 1000) {
        put_u64(out, ns);
        put(out, "ns", 2);
        return;
    }
    if (ns < 1000000) {
        put_u64(out, ns / 1000);
        append_frac(out, ns % 1000, 3);
        put_str(out, "\xc2\xb5s"); /* µs, as Go writes it */
        return;
    }
    if (ns < 1000000000) {
        put_u64(out, ns / 1000000);
        append_frac(out, ns % 1000000, 6);
        put(out, "ms", 2);
        return;
    }
    uint64_t secs = ns / 1000000000;
    if (secs >= 3600) {
        put_u64(out, secs / 3600);
        put(out, "h", 1);
    }
    if (secs >= 60) {
        put_u64(out, secs / 60 % 60);
        put(out, "m", 1);
    }
    put_u64(out, secs % 60);
    append_frac(out, ns % 1000000000, 9);
    put(out, "s", 1);
}

void eg_append_go_duration(eg_buf *out, uint64_t ns)
{
    append_duration(out, ns);
    terminate(out);
}

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

/* RFC 3339 with milliseconds in local time, as Easegress's fasttime.RFC3339Milli
 * ("2006-01-02T15:04:05.000Z07:00"). The part down to the second is made once a second. */
static void append_time(eg_buf *out, int64_t unix_ns)
{
    static _Thread_local struct {
        time_t sec;
        bool valid;
        char head[19];   /* 2006-01-02T15:04:05 */
        char zone[6];    /* Z or +hh:mm */
        size_t zone_len;
    } cache;
    time_t sec = (time_t)(unix_ns / 1000000000);
    if (!cache.valid || cache.sec != sec) {
        struct tm tm;
        localtime_r(&sec, &tm);
        char *h = cache.head;
        int year = tm.tm_year + 1900;
        put2(h, year / 100);
        put2(h + 2, year % 100);
        h[4] = '-';
        put2(h + 5, tm.tm_mon + 1);
        h[7] = '-';
        put2(h + 8, tm.tm_mday);
        h[10] = 'T';
        put2(h + 11, tm.tm_hour);
        h[13] = ':';
        put2(h + 14, tm.tm_min);
        h[16] = ':';
        put2(h + 17, tm.tm_sec);
        long off = tm.tm_gmtoff;
        if (off == 0) {
            cache.zone[0] = 'Z';
            cache.zone_len = 1;
        } else {
            cache.zone[0] = off < 0 ? '-' : '+';
            if (off < 0)
                off = -off;
            put2(cache.zone + 1, (int)(off / 3600));
            cache.zone[3] = ':';
            put2(cache.zone + 4, (int)(off / 60 % 60));
            cache.zone_len = 6;
        }
        cache.sec = sec;
        cache.valid = true;
    }
    char ms[4] = { '.', 0, 0, 0 };
    int m = (int)(unix_ns / 1000000 % 1000);
    ms[1] = (char)('0' + m / 100);
    put2(ms + 2, m % 100);
    put(out, cache.head, sizeof cache.head);
    put(out, ms, 4);
    put(out, cache.zone, cache.zone_len);
}

/* Go's net/http RemoteAddr: "ip:port", "[v6]:port". */
static void append_remote_addr(eg_buf *out, const eg_access_record *r)
{
    const char *ip = r->peer_ip ? r->peer_ip : "";
    bool v6 = strchr(ip, ':') != NULL;
    if (v6)
        put(out, "[", 1);
    put_str(out, ip);
    if (v6)
        put(out, "]", 1);
    put(out, ":", 1);
    put_u64(out, r->peer_port);
}

static void append_uri(eg_buf *out, const eg_access_record *r)
{
    append_str(out, r->path);
    if (r->query) {
        put(out, "?", 1);
        put_str(out, r->query);
    }
}

static void append_proto(eg_buf *out, const eg_access_record *r)
{
    char p[8] = { 'H', 'T', 'T', 'P', '/', (char)('0' + r->proto_major % 10), '.', (char)('0' + r->proto_minor % 10) };
    put(out, p, sizeof p);
}

/* Go's textproto.CanonicalMIMEHeaderKey: "content-type" -> "Content-Type". A name with a
 * byte outside the token set is left as it is: false, and nothing was appended. */
static bool put_canonical_name(eg_buf *out, const char *name, size_t len)
{
    eg_buf_reserve(out, len);
    char *p = out->data + out->len;
    bool upper = true;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!TOKEN[c])
            return false;
        if (upper && c >= 'a' && c <= 'z')
            c = (unsigned char)(c - 32);
        else if (!upper && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        p[i] = (char)c;
        upper = c == '-';
    }
    out->len += len;
    return true;
}

static void append_canonical_name(eg_buf *out, const char *name, size_t len)
{
    if (!put_canonical_name(out, name, len))
        put(out, name, len);
}

static bool same_name(const eg_header *a, const eg_header *b)
{
    return a->name_len == b->name_len && strncasecmp(a->name, b->name, a->name_len) == 0;
}

/* Is h the first header of its name (so its group is printed here)? */
static bool first_of_name(const eg_headers *hs, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (same_name(&hs->items[j], &hs->items[i]))
            return false;
    return true;
}

static bool is_host(const eg_header *h) { return h->name_len == 4 && strncasecmp(h->name, "Host", 4) == 0; }

/* Easegress's printHeader over a Go http.Header: "Key: [v1 v2], Key2: [v]". Go keeps Host
 * out of a request's Header map, so skip_host drops it the same way. */
static void append_headers_text(eg_buf *out, const eg_headers *hs, bool skip_host)
{
    if (!hs)
        return;
    bool any = false;
    for (size_t i = 0; i < hs->count; i++) {
        const eg_header *h = &hs->items[i];
        if ((skip_host && is_host(h)) || !first_of_name(hs, i))
            continue;
        if (any)
            put(out, ", ", 2);
        any = true;
        append_canonical_name(out, h->name, h->name_len);
        put(out, ": [", 3);
        bool first = true;
        for (size_t j = i; j < hs->count; j++) {
            if (!same_name(&hs->items[j], h))
                continue;
            if (!first)
                put(out, " ", 1);
            first = false;
            put(out, hs->items[j].value, hs->items[j].value_len);
        }
        put(out, "]", 1);
    }
}

static void append_tags(eg_buf *out, const eg_access_record *r)
{
    if (r->tags)
        put(out, r->tags, r->tags_len);
}

static void render_template(const eg_access_log_format *f, const eg_access_record *r, eg_buf *out)
{
    for (size_t i = 0; i < f->nsegs; i++) {
        const segment *s = &f->segs[i];
        switch (s->var) {
        case V_TEXT: put(out, f->text + s->off, s->len); break;
        case V_TIME: append_time(out, r->start_unix_ns); break;
        case V_REMOTE_ADDR: append_remote_addr(out, r); break;
        case V_REAL_IP: append_str(out, r->real_ip); break;
        case V_METHOD: append_str(out, r->method); break;
        case V_URI: append_uri(out, r); break;
        case V_PROTO: append_proto(out, r); break;
        case V_STATUS_CODE: put_u64(out, (unsigned)r->status); break;
        case V_DURATION: append_duration(out, r->duration_ns); break;
        case V_REQ_SIZE: put_u64(out, r->req_size); break;
        case V_RESP_SIZE: put_u64(out, r->resp_size); break;
        case V_REQ_HEADERS: append_headers_text(out, r->req_headers, true); break;
        case V_RESP_HEADERS: append_headers_text(out, r->resp_headers, false); break;
        case V_TAGS: append_tags(out, r); break;
        }
    }
    put(out, "\n", 1);
}

/* ---- JSON ---- */

static const char HEX[] = "0123456789abcdef";

/* A JSON string: quotes, backslashes and control characters escaped, invalid UTF-8
 * replaced by U+FFFD, so any bytes a client sends still make one valid line. */
static void json_escape(eg_buf *out, const char *s, size_t len)
{
    eg_buf_reserve(out, len + 2);
    size_t run = 0; /* start of the pending run of bytes that need no escape */
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if (!JSON_SPECIAL[c]) {
            i++;
            continue;
        }
        unsigned cp;
        size_t adv = c < 0x80 ? 1 : eg_utf8_decode((const unsigned char *)s + i, len - i, &cp);
        if (c >= 0x80 && adv) {
            i += adv;
            continue;
        }
        put(out, s + run, i - run);
        switch (c) {
        case '"': put(out, "\\\"", 2); break;
        case '\\': put(out, "\\\\", 2); break;
        case '\n': put(out, "\\n", 2); break;
        case '\r': put(out, "\\r", 2); break;
        case '\t': put(out, "\\t", 2); break;
        default:
            if (c < 0x20) {
                char u[6] = { '\\', 'u', '0', '0', HEX[c >> 4], HEX[c & 15] };
                put(out, u, 6);
            } else {
                put(out, "\\ufffd", 6); /* a byte that starts no valid sequence */
            }
        }
        i++;
        run = i;
    }
    put(out, s + run, len - run);
}

static void json_str(eg_buf *out, const char *s, size_t len)
{
    put(out, "\"", 1);
    json_escape(out, s, len);
    put(out, "\"", 1);
}

static void json_cstr(eg_buf *out, const char *s) { json_str(out, s ? s : "", s ? strlen(s) : 0); }

#define JSON_KEY(out, k) put(out, ",\"" k "\":", sizeof(",\"" k "\":") - 1)

/* Headers as {"Name":["v1","v2"]}, names canonical, same names grouped. */
static void json_headers(eg_buf *out, const eg_headers *hs)
{
    put(out, "{", 1);
    bool any = false;
    for (size_t i = 0; hs && i < hs->count; i++) {
        const eg_header *h = &hs->items[i];
        if (!first_of_name(hs, i))
            continue;
        if (any)
            put(out, ",", 1);
        any = true;
        put(out, "\"", 1);
        if (!put_canonical_name(out, h->name, h->name_len))
            json_escape(out, h->name, h->name_len);
        put(out, "\"", 1);
        put(out, ":[", 2);
        bool first = true;
        for (size_t j = i; j < hs->count; j++) {
            if (!same_name(&hs->items[j], h))
                continue;
            if (!first)
                put(out, ",", 1);
            first = false;
            json_str(out, hs->items[j].value, hs->items[j].value_len);
        }
        put(out, "]", 1);
    }
    put(out, "}", 1);
}

static void render_json(const eg_access_record *r, eg_buf *out)
{
    put(out, "{\"time\":\"", 9);
    append_time(out, r->start_unix_ns);
    put(out, "\"", 1);
    JSON_KEY(out, "server");
    json_cstr(out, r->server);
    JSON_KEY(out, "remoteAddr"); /* made of address characters only */
    put(out, "\"", 1);
    append_remote_addr(out, r);
    put(out, "\"", 1);
    JSON_KEY(out, "realIP");
    json_cstr(out, r->real_ip);
    JSON_KEY(out, "method");
    json_cstr(out, r->method);
    JSON_KEY(out, "uri");
    put(out, "\"", 1);
    if (r->path)
        json_escape(out, r->path, strlen(r->path));
    if (r->query) {
        put(out, "?", 1);
        json_escape(out, r->query, strlen(r->query));
    }
    put(out, "\"", 1);
    JSON_KEY(out, "proto");
    put(out, "\"", 1);
    append_proto(out, r);
    put(out, "\"", 1);
    JSON_KEY(out, "statusCode");
    put_u64(out, (unsigned)r->status);
    JSON_KEY(out, "duration");
    put(out, "\"", 1);
    append_duration(out, r->duration_ns);
    put(out, "\"", 1);
    JSON_KEY(out, "durationMs"); /* milliseconds with three decimals, for machines */
    put_u64(out, r->duration_ns / 1000000);
    char frac[4] = { '.', (char)('0' + r->duration_ns / 100000 % 10), (char)('0' + r->duration_ns / 10000 % 10),
                     (char)('0' + r->duration_ns / 1000 % 10) };
    put(out, frac, 4);
    JSON_KEY(out, "reqSize");
    put_u64(out, r->req_size);
    JSON_KEY(out, "respSize");
    put_u64(out, r->resp_size);
    JSON_KEY(out, "tags");
    json_str(out, r->tags ? r->tags : "", r->tags ? r->tags_len : 0);
    JSON_KEY(out, "reqHeaders");
    json_headers(out, r->req_headers);
    JSON_KEY(out, "respHeaders");
    json_headers(out, r->resp_headers);
    put(out, "}\n", 2);
}

void eg_access_log_format_render(const eg_access_log_format *f, const eg_access_record *rec, eg_buf *out)
{
    if (f->json)
        render_json(rec, out);
    else
        render_template(f, rec, out);
    terminate(out);
}
