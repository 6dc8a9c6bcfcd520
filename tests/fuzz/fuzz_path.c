/* fuzz_path.c — libFuzzer target: eg_path_normalize and eg_router_match on a fixed table.
 *
 * Input: byte 0 picks the method and client IP; the rest is "host\ntarget\nheader-value"
 * (missing parts are empty). Checked properties, beyond the sanitizers:
 *  - a normalised path starts with '/', holds no NUL, no empty, "." or ".." segment, and is
 *    no longer than its input; normalising it again (with '%' escaped) gives it back;
 *  - a route match returns one of the statuses the router documents, a path only with 0,
 *    and a rewritten path only made of pchar, '/' and %XX escapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

static const char table[] =
    "name: fuzz\nport: 80\n"
    "ipFilter: {blockIPs: [192.168.0.0/16]}\n"
    "rules:\n"
    "- host: a.com\n"
    "  ipFilter: {blockIPs: [10.0.0.0/8]}\n"
    "  paths:\n"
    "  - {path: /exact, rewriteTarget: /new, backend: e}\n"
    "  - {pathPrefix: /api/, rewriteTarget: /v2/, methods: [GET, POST], backend: p}\n"
    "- hosts: [{value: \"*.b.com\"}, {value: \"^c[0-9]\", isRegexp: true}]\n"
    "  paths:\n"
    "  - {pathRegexp: \"^/u/([^/]*)/(?P<rest>.*)$\", rewriteTarget: \"/users/${1}/$rest/$1x$$\", backend: r}\n"
    "  - {pathRegexp: \"a*\", rewriteTarget: \"[$0]\", headers: [{key: X-A, regexp: \"^(a|b)+$\"}], backend: empty}\n"
    "- paths:\n"
    "  - {path: /q, queries: [{key: q, values: [\"1\"]}, {key: r, regexp: \".\"}], matchAllQuery: true, backend: q}\n"
    "  - {pathPrefix: /admin, ipFilter: {allowIPs: [10.0.0.0/8]}, backend: admin}\n"
    "  - {pathPrefix: /, backend: all, methods: [GET]}\n";

static eg_router *router;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    eg_node *n = eg_yaml_parse(table, sizeof table - 1, err, sizeof err);
    if (!n) {
        fprintf(stderr, "fuzz_path: table: %s\n", err);
        abort();
    }
    eg_dec d;
    eg_dec_init(&d, true);
    eg_httpserver_spec *s = eg_httpserver_spec_decode(&d, n);
    if (!s) {
        fprintf(stderr, "fuzz_path: table: %s\n", d.error);
        abort();
    }
    router = s->router;   /* kept for the process's life; the spec shell is released */
    s->router = NULL;
    eg_httpserver_spec_free(s);
    eg_dec_free(&d);
    eg_node_free(n);
    return 0;
}

static void check_normalized(const char *in, size_t len)
{
    char *out = malloc(len + 1);
    if (!out)
        return;
    long n = eg_path_normalize(in, len, out);
    if (n < 0) {
        free(out);
        return;
    }
    size_t on = (size_t)n;
    if (on > len || out[0] != '/' || out[on] != '\0' || memchr(out, '\0', on))
        abort();
    for (size_t i = 0; i < on; i++) {
        if (out[i] != '/')
            continue;
        size_t j = i + 1;
        while (j < on && out[j] != '/')
            j++;
        size_t seg = j - i - 1;
        if (j < on && seg == 0)
            abort();   /* "//" */
        if ((seg == 1 && out[i + 1] == '.') || (seg == 2 && out[i + 1] == '.' && out[i + 2] == '.'))
            abort();   /* "." or ".." left */
    }
    /* idempotent once '%' is escaped back */
    char *esc = malloc(3 * on + 1), *again = malloc(3 * on + 1);
    if (esc && again) {
        size_t e = 0;
        for (size_t i = 0; i < on; i++) {
            if (out[i] == '%') {
                memcpy(esc + e, "%25", 3);
                e += 3;
            } else {
                esc[e++] = out[i];
            }
        }
        long m = eg_path_normalize(esc, e, again);
        if (m != n || memcmp(again, out, on) != 0)
            abort();
    }
    free(esc);
    free(again);
    free(out);
}

static int hexdigit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static void check_match(const char *method, const char *host, size_t hl, const char *target, size_t tl,
                        const char *ip, const char *hv, size_t hvl)
{
    const char *q = memchr(target, '?', tl);
    eg_header h = {"X-A", 3, hv, hvl};
    eg_headers hs = {&h, 1, 1};
    eg_route_request req = {
        .method = method, .method_len = strlen(method),
        .host = host, .host_len = hl,
        .path = target, .path_len = q ? (size_t)(q - target) : tl,
        .query = q ? q + 1 : NULL, .query_len = q ? tl - (size_t)(q - target) - 1 : 0,
        .headers = &hs,
        .client_ip = ip,
    };
    eg_route_match m;
    int st = eg_router_match(router, &req, &m);
    if (st != m.status)
        abort();
    if (st != 0 && st != 400 && st != 403 && st != 404 && st != 405 && st != 500)
        abort();
    if ((st == 0) != (m.path != NULL))
        abort();
    if (m.rewritten_path) {
        if (st != 0)
            abort();
        for (const char *p = m.rewritten_path; *p; p++) {
            if (*p == '%') {
                if (!hexdigit(p[1]) || !hexdigit(p[2]))
                    abort();
                p += 2;
            } else if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                               "-._~!$&'()*+,;=:@/", *p)) {
                abort();
            }
        }
    }
    eg_route_match_release(&m);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static const char *methods[] = {"GET", "POST", "PUT", "PROPFIND"};
    static const char *ips[] = {"1.2.3.4", "10.0.0.1", "192.168.1.1", "::1", "junk"};
    if (size == 0)
        return 0;
    const char *method = methods[data[0] & 3];
    const char *ip = ips[(data[0] >> 2) % 5];
    const char *s = (const char *)data + 1;
    size_t n = size - 1;

    const char *nl1 = memchr(s, '\n', n);
    const char *host = s, *target = "", *hv = "";
    size_t hl = n, tl = 0, hvl = 0;
    if (nl1) {
        hl = (size_t)(nl1 - s);
        target = nl1 + 1;
        tl = n - hl - 1;
        const char *nl2 = memchr(target, '\n', tl);
        if (nl2) {
            hv = nl2 + 1;
            hvl = tl - (size_t)(nl2 - target) - 1;
            tl = (size_t)(nl2 - target);
        }
    }
    check_normalized(s, n);
    check_normalized(target, tl);
    check_match(method, host, hl, target, tl, ip, hv, hvl);
    return 0;
}
