/* tracing.c — a request's trace: the incoming context, the sampling decision, the server span
 * and the client spans of its backend calls, and the context header sent to backends.
 *
 * Sampling follows OpenTelemetry's ParentBased(TraceIdRatioBased(sampleRate)): a request
 * that carries a parent keeps the parent's decision, a new trace is sampled when the low 63
 * bits of its trace id fall below rate * 2^63 (so every OTel SDK agrees on the same id).
 * sampleRate 0 is the operator's off switch: nothing is recorded even under a sampled parent.
 * (Easegress itself ignores incoming context and samples every request afresh.)
 */
#define _GNU_SOURCE
#include "tracing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

/* ---- ids ----------------------------------------------------------------------------------- */

/* xoshiro256** per thread, seeded from the kernel: ids need to be unique, not secret. */
static _Thread_local uint64_t rng[4];
static _Thread_local bool rng_seeded;

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(void)
{
    if (!rng_seeded) {
        if (getrandom(rng, sizeof rng, 0) != (ssize_t)sizeof rng) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            rng[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32);
            rng[1] = (uint64_t)(uintptr_t)&ts;
            rng[2] = 0x9e3779b97f4a7c15u;
            rng[3] = 0xbf58476d1ce4e5b9u;
        }
        rng_seeded = true;
    }
    uint64_t r = rotl(rng[1] * 5, 7) * 9, t = rng[1] << 17;
    rng[2] ^= rng[0];
    rng[3] ^= rng[1];
    rng[1] ^= rng[2];
    rng[0] ^= rng[3];
    rng[2] ^= t;
    rng[3] = rotl(rng[3], 45);
    return r;
}

static bool all_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

void eg_trace_random_id(uint8_t *out, size_t n)
{
    do {
        for (size_t i = 0; i < n; i += 8) {
            uint64_t r = rng_next();
            size_t k = n - i < 8 ? n - i : 8;
            memcpy(out + i, &r, k);
        }
    } while (all_zero(out, n));
}

uint64_t eg_trace_sample_bound(double rate)
{
    if (rate >= 1)
        return UINT64_MAX;
    if (rate <= 0)
        return 0;
    return (uint64_t)(rate * 9223372036854775808.0); /* rate * 2^63 */
}

bool eg_trace_id_sampled(const uint8_t trace_id[16], uint64_t bound)
{
    if (bound == UINT64_MAX)
        return true;
    uint64_t x = 0;
    for (int i = 8; i < 16; i++)
        x = x << 8 | trace_id[i];
    return (x >> 1) < bound;
}

static const char hexdig[] = "0123456789abcdef";

void eg_trace_hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdig[b[i] >> 4];
        out[2 * i + 1] = hexdig[b[i] & 15];
    }
    out[2 * n] = 0;
}

static int hexval(char c, bool upper_ok)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (upper_ok && c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* n bytes from 2n hex digits. */
static bool unhex(const char *s, uint8_t *out, size_t n, bool upper_ok)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i], upper_ok), lo = hexval(s[2 * i + 1], upper_ok);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* ---- header parsing -------------------------------------------------------------------------- */

bool eg_traceparent_parse(const char *v, size_t len, eg_trace_parent *out)
{
    /* Surrounding whitespace is tolerated (a header value as some clients send it). */
    while (len && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    if (len < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-')
        return false;
    uint8_t version, flags;
    if (!unhex(v, &version, 1, false) || version == 0xff)
        return false;
    /* Version 00 is exactly 55 characters; a later version may append "-" and more. */
    if (version == 0 ? len != 55 : (len > 55 && v[55] != '-'))
        return false;
    if (!unhex(v + 3, out->trace_id, 16, false) || !unhex(v + 36, out->span_id, 8, false) ||
        !unhex(v + 53, &flags, 1, false))
        return false;
    if (all_zero(out->trace_id, 16) || all_zero(out->span_id, 8))
        return false;
    out->sampled = flags & 1;
    out->has_sampled = true;
    return true;
}

/* A B3 trace id: 16 or 32 hex digits; a 64-bit one is left-padded with zeros. */
static bool b3_trace_id(const char *s, size_t n, uint8_t out[16])
{
    memset(out, 0, 16);
    if (n == 32)
        return unhex(s, out, 16, true) && !all_zero(out, 16);
    if (n == 16)
        return unhex(s, out + 8, 8, true) && !all_zero(out, 16);
    return false;
}

static bool b3_sampled(const char *s, size_t n, eg_trace_parent *out)
{
    if (n == 1 && (*s == '1' || *s == 'd'))
        out->sampled = true;
    else if (n == 1 && *s == '0')
        out->sampled = false;
    else if (n == 4 && strncasecmp(s, "true", 4) == 0)
        out->sampled = true;
    else if (n == 5 && strncasecmp(s, "false", 5) == 0)
        out->sampled = false;
    else
        return false;
    out->has_sampled = true;
    return true;
}

bool eg_b3_single_parse(const char *v, size_t len, eg_trace_parent *out)
{
    const char *end = v + len;
    const char *d1 = memchr(v, '-', len);
    if (!d1)
        return false;
    if (!b3_trace_id(v, (size_t)(d1 - v), out->trace_id))
        return false;
    const char *sp = d1 + 1;
    const char *d2 = memchr(sp, '-', (size_t)(end - sp));
    size_t sl = (size_t)((d2 ? d2 : end) - sp);
    if (sl != 16 || !unhex(sp, out->span_id, 8, true) || all_zero(out->span_id, 8))
        return false;
    out->has_sampled = false;
    if (d2) {
        const char *sm = d2 + 1;
        const char *d3 = memchr(sm, '-', (size_t)(end - sm));
        if (!b3_sampled(sm, (size_t)((d3 ? d3 : end) - sm), out))
            return false;
        if (d3 && (size_t)(end - d3 - 1) != 16)
            return false; /* the parent span id, unused but checked */
    }
    return true;
}

static const eg_header *find(const eg_request *req, const char *name)
{
    return eg_headers_find(&req->headers, name, strlen(name));
}

/* B3, single header first, then the multi-header form; "b3: 0" is a bare "do not sample". */
static bool extract_b3(const eg_request *req, eg_trace_parent *p, bool *deny)
{
    const eg_header *h = find(req, "b3");
    if (h) {
        if (h->value_len == 1 && h->value[0] == '0') {
            *deny = true;
            return false;
        }
        return eg_b3_single_parse(h->value, h->value_len, p);
    }
    const eg_header *tid = find(req, "X-B3-TraceId"), *sid = find(req, "X-B3-SpanId");
    const eg_header *smp = find(req, "X-B3-Sampled"), *flags = find(req, "X-B3-Flags");
    p->has_sampled = false;
    if (flags && flags->value_len == 1 && flags->value[0] == '1') {
        p->sampled = p->has_sampled = true;
    } else if (smp && !b3_sampled(smp->value, smp->value_len, p)) {
        return false;
    }
    if (!tid || !sid) {
        if (p->has_sampled && !p->sampled)
            *deny = true;
        return false;
    }
    return b3_trace_id(tid->value, tid->value_len, p->trace_id) && sid->value_len == 16 &&
           unhex(sid->value, p->span_id, 8, true) && !all_zero(p->span_id, 8);
}

/* ---- the request's trace ------------------------------------------------------------------- */

static uint64_t unix_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *header_value(eg_arena *a, const eg_request *req, const char *name)
{
    const eg_header *h = find(req, name);
    return h ? eg_arena_strndup(a, h->value, h->value_len) : NULL;
}

eg_trace *eg_trace_begin(eg_arena *a, const eg_tracing_spec *spec, const char *server_name, const eg_request *req)
{
    eg_trace *t = eg_arena_alloc(a, sizeof *t);
    memset(t, 0, sizeof *t);
    t->spec = spec;
    t->server_name = server_name;
    eg_trace_parent p;
    bool deny = false, found;
    if (spec->header_format == EG_TRACE_HEADERS_B3) {
        found = extract_b3(req, &p, &deny);
    } else {
        const eg_header *h = find(req, "traceparent");
        found = h && eg_traceparent_parse(h->value, h->value_len, &p);
        if (found) {
            const eg_header *ts = find(req, "tracestate");
            if (ts && ts->value_len) {
                t->tracestate = ts->value;
                t->tracestate_len = ts->value_len;
            }
        }
    }
    if (found) {
        memcpy(t->trace_id, p.trace_id, 16);
        memcpy(t->parent_id, p.span_id, 8);
        t->has_parent = true;
    } else {
        eg_trace_random_id(t->trace_id, 16);
    }
    eg_trace_random_id(t->span_id, 8);
    if (spec->sample_rate <= 0 || deny)
        t->sampled = false;
    else if (found && p.has_sampled)
        t->sampled = p.sampled;
    else
        t->sampled = eg_trace_id_sampled(t->trace_id, spec->sample_bound);
    if (!t->sampled)
        return t;
    t->start_ns = unix_ns();
    t->method = req->method;
    size_t pl = strlen(req->path), ql = req->query ? strlen(req->query) : 0;
    char *target = eg_arena_alloc(a, pl + ql + 2);
    memcpy(target, req->path, pl);
    if (req->query) {
        target[pl] = '?';
        memcpy(target + pl + 1, req->query, ql + 1);
    } else {
        target[pl] = 0;
    }
    t->target = target;
    t->path = eg_arena_strndup(a, req->path, pl);
    t->host = req->host;
    t->user_agent = header_value(a, req, "User-Agent");
    snprintf(t->client_ip, sizeof t->client_ip, "%s", req->client_ip);
    t->clients_tail = &t->clients;
    return t;
}

void eg_trace_set_pipeline(eg_trace *t, const char *pipeline)
{
    if (t->sampled)
        t->pipeline = pipeline;
}

void eg_trace_end(eg_trace *t, struct eg_worker *w, int status)
{
    if (t->ended)
        return;
    t->ended = true;
    if (!t->sampled)
        return;
    uint64_t end = unix_ns();
    for (eg_client_span *cs = t->clients; cs; cs = cs->next)
        if (!cs->ended) {
            cs->ended = true;
            cs->end_ns = end;
            if (!cs->status && !cs->error)
                cs->error = "aborted";
        }
    eg_trace_export(w, t, status, end);
}

eg_client_span *eg_trace_client_begin(eg_trace *t, eg_arena *a, const char *name, const char *method,
                                      const char *scheme, const char *host, uint16_t port,
                                      const char *target, const char *query, uint8_t span_id[8])
{
    eg_trace_random_id(span_id, 8);
    if (!t->sampled || t->ended)
        return NULL;
    eg_client_span *cs = eg_arena_alloc(a, sizeof *cs);
    memset(cs, 0, sizeof *cs);
    cs->trace = t;
    memcpy(cs->span_id, span_id, 8);
    cs->name = name;
    cs->method = method;
    cs->peer_host = eg_arena_strndup(a, host, strlen(host));
    cs->peer_port = port;
    /* scheme://host:port/target?query, without printf: this is per backend call */
    bool v6 = strchr(host, ':') != NULL;
    size_t sl = strlen(scheme), hl = strlen(host), tl = strlen(target), ql = query ? strlen(query) : 0;
    char *url = eg_arena_alloc(a, sl + hl + tl + ql + 16), *p = url;
    memcpy(p, scheme, sl);
    p += sl;
    memcpy(p, v6 ? "://[" : "://", v6 ? 4 : 3);
    p += v6 ? 4 : 3;
    memcpy(p, host, hl);
    p += hl;
    if (v6)
        *p++ = ']';
    *p++ = ':';
    char digits[6];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + port % 10);
        port /= 10;
    } while (port);
    while (nd)
        *p++ = digits[--nd];
    memcpy(p, target, tl);
    p += tl;
    if (query) {
        *p++ = '?';
        memcpy(p, query, ql);
        p += ql;
    }
    *p = 0;
    cs->url = url;
    cs->start_ns = unix_ns();
    *t->clients_tail = cs;
    t->clients_tail = &cs->next;
    return cs;
}

void eg_client_span_end(eg_client_span *cs, int status, int resend_count, const char *error)
{
    if (!cs || cs->ended || cs->trace->ended)
        return;
    cs->ended = true;
    cs->end_ns = unix_ns();
    cs->status = status;
    cs->resend_count = resend_count;
    cs->error = status > 0 ? NULL : error ? error : "failed";
}

/* ---- propagation --------------------------------------------------------------------------- */

bool eg_trace_is_context_header(const eg_trace *t, const char *name, size_t len)
{
    if (t->spec->header_format == EG_TRACE_HEADERS_W3C)
        return len == 11 && strncasecmp(name, "traceparent", 11) == 0;
    if (len == 2)
        return strncasecmp(name, "b3", 2) == 0;
    if (len < 6 || strncasecmp(name, "x-b3-", 5) != 0)
        return false;
    name += 5;
    len -= 5;
    static const char *const b3[] = { "traceid", "spanid", "parentspanid", "sampled", "flags" };
    for (size_t i = 0; i < sizeof b3 / sizeof *b3; i++)
        if (len == strlen(b3[i]) && strncasecmp(name, b3[i], len) == 0)
            return true;
    return false;
}

const char *eg_trace_header_name(const eg_trace *t)
{
    return t->spec->header_format == EG_TRACE_HEADERS_W3C ? "traceparent" : "b3";
}

size_t eg_trace_format_value(const eg_trace *t, const uint8_t span_id[8], char *out)
{
    char *p = out;
    if (t->spec->header_format == EG_TRACE_HEADERS_W3C) {
        memcpy(p, "00-", 3);
        p += 3;
    }
    eg_trace_hex(t->trace_id, 16, p);
    p += 32;
    *p++ = '-';
    eg_trace_hex(span_id, 8, p);
    p += 16;
    *p++ = '-';
    if (t->spec->header_format == EG_TRACE_HEADERS_W3C) {
        memcpy(p, t->sampled ? "01" : "00", 2);
        p += 2;
    } else {
        *p++ = t->sampled ? '1' : '0';
    }
    *p = 0;
    return (size_t)(p - out);
}

size_t eg_trace_format_header(const eg_trace *t, const uint8_t span_id[8], char *out)
{
    const char *name = eg_trace_header_name(t);
    size_t n = strlen(name);
    memcpy(out, name, n);
    memcpy(out + n, ": ", 2);
    n += 2;
    n += eg_trace_format_value(t, span_id, out + n);
    memcpy(out + n, "\r\n", 3);
    return n + 2;
}
