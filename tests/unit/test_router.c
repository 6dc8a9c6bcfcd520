/* test_router.c — HTTPServer decoding and routing.
 *
 * The key test is test_random_vs_linear: random rule sets (hosts exact/wildcard/regexp,
 * paths exact/prefix/regexp/catch-all, methods, headers, queries, ipFilters) routed through
 * the index and through a naive transcription of Easegress's Ordered router kept in this
 * file; both must agree on every status and every chosen (rule, path).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "router.h"
#include "tracing.h"
#include "unit.h"

/* ---- helpers ---------------------------------------------------------------------------- */

#include "httpserver_fixture.h"

/* The error a document gives (NULL when it decodes). */
static char *error_of(const char *yaml)
{
    loaded l = load(yaml);
    char *e = l.err ? strdup(l.err) : NULL;
    if (!l.err && !l.s)
        e = strdup("(no spec and no error)");
    if (l.err && l.s)
        e = strdup("(spec and error)");
    unload(&l);
    return e;
}

#define CHECK_ERR(yaml, expect) do { \
    char *e_ = error_of(yaml); \
    CHECK_STR(e_, expect); \
    free(e_); } while (0)

/* Route "METHOD host target" where target may hold "?query". */
static int route_full(const eg_router *r, const char *method, const char *host, const char *target,
                      const char *ip, const eg_headers *h, eg_route_match *m)
{
    const char *q = strchr(target, '?');
    eg_route_request req = {
        .method = method, .method_len = strlen(method),
        .host = host, .host_len = strlen(host),
        .path = target, .path_len = q ? (size_t)(q - target) : strlen(target),
        .query = q ? q + 1 : NULL, .query_len = q ? strlen(q + 1) : 0,
        .headers = h,
        .client_ip = ip,
    };
    return eg_router_match(r, &req, m);
}

/* The backend chosen, or "<status>" when none. Static buffer: one call per CHECK. */
static const char *route(const eg_router *r, const char *method, const char *host, const char *target,
                         const char *ip, const eg_headers *h)
{
    static char out[512];
    eg_route_match m;
    int st = route_full(r, method, host, target, ip, h, &m);
    if (st)
        snprintf(out, sizeof out, "%d", st);
    else if (m.rewritten_path)
        snprintf(out, sizeof out, "%s %s", m.path->backend, m.rewritten_path);
    else
        snprintf(out, sizeof out, "%s", m.path->backend);
    eg_route_match_release(&m);
    return out;
}

#define HDR(n, v) {n, sizeof(n) - 1, v, sizeof(v) - 1}

/* ---- decoding --------------------------------------------------------------------------- */

static void test_decode_defaults(void)
{
    loaded l = load("kind: HTTPServer\nname: s1\nport: 8080\n");
    CHECK(l.s && !l.err);
    CHECK_INT(l.nwarnings, 0);
    if (l.s) {
        CHECK_STR(l.s->name, "s1");
        CHECK_INT(l.s->port, 8080);
        CHECK(l.s->address == NULL);
        CHECK(l.s->keep_alive);
        CHECK_INT(l.s->keep_alive_timeout_ms, 60000);
        CHECK_INT(l.s->max_connections, 10240);
        CHECK_INT(l.s->client_max_body_size, 4194304);
        CHECK(!l.s->x_forwarded_for);
        CHECK(!l.s->https && !l.s->http3);
        CHECK_STR(l.s->router_kind, "Ordered");
        CHECK(l.s->access_log_format == NULL);
        CHECK(l.s->router != NULL);
        CHECK_INT(eg_router_path_count(l.s->router), 0);
        CHECK_STR(route(l.s->router, "GET", "x", "/", "1.1.1.1", NULL), "404");
    }
    unload(&l);
}

static void test_decode_all_fields(void)
{
    loaded l = load(
        "kind: HTTPServer\n"
        "name: full\n"
        "version: easegress.megaease.com/v2\n"
        "labels: {a: b}\n"
        "createdAt: 2024-01-01T00:00:00Z\n"
        "port: 10080\n"
        "address: 127.0.0.1\n"
        "keepAlive: false\n"
        "keepAliveTimeout: 1m30s\n"
        "maxConnections: 100\n"
        "https: true\n"
        "http3: true\n"
        "autoCert: false\n"
        "certBase64: Y2VydA==\n"
        "keyBase64: a2V5\n"
        "caCertBase64: Y2E=\n"
        "certs: {site: \"-----BEGIN CERTIFICATE-----\"}\n"
        "keys: {site: \"-----BEGIN PRIVATE KEY-----\"}\n"
        "clientMaxBodySize: -1\n"
        "xForwardedFor: true\n"
        "cacheSize: 1000\n"
        "routerKind: Ordered\n"
        "ipFilter: {blockIPs: [1.2.3.4]}\n"
        "globalFilter: gf\n"
        "tracing: {serviceName: svc, sampleRate: 0.5, exporter: {otlp: {protocol: http, endpoint: \"http://127.0.0.1:4318\"}}}\n"
        "accessLogFormat: \"[{{Time}}]\"\n"
        "trustedProxies: [10.0.0.0/8, \"::1\"]\n"
        "rules:\n"
        "- host: www.example.com\n"
        "  hostRegexp: \"^api\\\\.\"\n"
        "  hosts: [{value: \"*.example.org\"}, {value: \"^x\", isRegexp: true}]\n"
        "  ipFilter: {allowIPs: [10.0.0.0/8], blockByDefault: true}\n"
        "  paths:\n"
        "  - path: /a\n"
        "    pathPrefix: /b\n"
        "    pathRegexp: \"^/c\"\n"
        "    rewriteTarget: /z\n"
        "    methods: [GET, POST]\n"
        "    headers: [{key: X-A, values: [\"1\", \"2\"], regexp: \"^3\"}]\n"
        "    matchAllHeader: true\n"
        "    queries: [{key: q, values: [\"1\"]}]\n"
        "    matchAllQuery: true\n"
        "    ipFilter: {blockIPs: [\"2001:db8::/32\"]}\n"
        "    clientMaxBodySize: 1024\n"
        "    backend: p1\n"
        "    setHeaders: {X-Up: \"$host\", X-Del: \"\", X-Null: null}\n"
        "  - pathPrefix: /\n"
        "    backendPool:\n"
        "      servers: [{url: \"http://127.0.0.1:9095\"}]\n"
        "      loadBalance: {policy: roundRobin}\n");
    CHECK(l.s != NULL);
    if (l.err)
        fprintf(stderr, "  error: %s\n", l.err);
    for (size_t i = 0; i < l.nwarnings; i++)
        fprintf(stderr, "  unexpected warning: %s\n", l.warnings[i]);
    CHECK_INT(l.nwarnings, 0);
    if (l.s) {
        eg_httpserver_spec *s = l.s;
        CHECK_STR(s->address, "127.0.0.1");
        CHECK(!s->keep_alive);
        CHECK_INT(s->keep_alive_timeout_ms, 90000);
        CHECK_INT(s->max_connections, 100);
        CHECK(s->https && s->http3 && !s->auto_cert);
        CHECK_STR(s->cert_base64, "Y2VydA==");
        CHECK_STR(s->key_base64, "a2V5");
        CHECK_STR(s->ca_cert_base64, "Y2E=");
        CHECK(s->certs && s->keys);
        CHECK_INT(s->client_max_body_size, -1);
        CHECK(s->x_forwarded_for);
        CHECK_INT(s->cache_size, 1000);
        CHECK_STR(s->global_filter, "gf");
        CHECK(s->tracing != NULL);
        if (s->tracing)
            CHECK_STR(s->tracing->service_name, "svc");
        CHECK_STR(s->access_log_format, "[{{Time}}]");
        CHECK_INT(s->trusted_proxies.count, 2);
        CHECK_INT(eg_router_path_count(s->router), 2);
        const eg_route_path *p0 = eg_router_path_at(s->router, 0);
        const eg_route_path *p1 = eg_router_path_at(s->router, 1);
        CHECK(eg_router_path_at(s->router, 2) == NULL);
        if (p0 && p1) {
            CHECK_STR(p0->backend, "p1");
            CHECK_INT(p0->client_max_body_size, 1024);
            CHECK(p0->backend_pool == NULL);
            CHECK_INT(p0->nset_headers, 3);
            if (p0->nset_headers == 3) {
                CHECK_STR(p0->set_header_keys[0], "X-Up");
                CHECK_STR(p0->set_header_values[0], "$host");
                CHECK_STR(p0->set_header_keys[1], "X-Del");
                CHECK_STR(p0->set_header_values[1], "");
                CHECK_STR(p0->set_header_values[2], "");
            }
            CHECK_STR(p1->backend, "GENERATED-full-0-1");
            CHECK(p1->backend_pool && eg_node_get(p1->backend_pool, "servers"));
            CHECK_INT(p1->rule_index, 0);
            CHECK_INT(p1->path_index, 1);
            CHECK_INT(p1->client_max_body_size, 0);
        }
    }
    unload(&l);
}

static void test_decode_errors(void)
{
    CHECK_ERR("kind: HTTPServer\nport: 80\n", "name: missing required field");
    CHECK_ERR("name: s\n", "port: missing required field");
    CHECK_ERR("name: s\nport: 0\n", "port: must be between 1 and 65535");
    CHECK_ERR("name: s\nport: 65536\n", "port: must be between 1 and 65535");
    CHECK_ERR("name: s\nport: 80\nmaxConnections: 0\n", "maxConnections: must be between 1 and 4294967295");
    CHECK_ERR("name: s\nport: 80\nkeepAliveTimeout: 5d\n", "keepAliveTimeout: invalid duration \"5d\"");
    CHECK_ERR("name: s\nport: 80\nclientMaxBodySize: -2\n",
              "clientMaxBodySize: must be -1 (stream), 0 (4 MiB) or a size in bytes");
    CHECK_ERR("name: s\nport: 80\nhttp3: true\n", "http3: http3 requires https");
    CHECK_ERR("name: s\nport: 80\nhttps: true\n",
              "https: https needs certBase64/keyBase64, certs/keys or autoCert");
    CHECK_ERR("name: s\nport: 80\nhttps: true\ncerts: {a: x}\nkeys: {b: y}\n",
              "certs.a: has no matching entry in keys");
    CHECK_ERR("name: s\nport: 80\ncertBase64: \"not base64!\"\n", "certBase64: must be base64 encoded");
    CHECK_ERR("name: s\nport: 80\nrouterKind: Fancy\n", "routerKind: must be one of \"\", Ordered, RadixTree");
    CHECK_ERR("name: s\nport: 80\ntrustedProxies: [10.0.0.0/8, x]\n", "trustedProxies[1]: invalid IP or CIDR \"x\"");
    CHECK_ERR("name: s\nport: 80\nipFilter: {allowIPs: [1.2.3.999]}\n", "ipFilter.allowIPs[0]: invalid IP or CIDR \"1.2.3.999\"");
    CHECK_ERR("name: s\nport: 80\nrules: {a: 1}\n", "rules: expected an array, got object");
    CHECK_ERR("name: s\nport: 80\nrules: [{paths: [{path: /a}]}]\n",
              "rules[0].paths[0]: either backend or backendPool must be specified");
    CHECK_ERR("name: s\nport: 80\nrules: [{paths: [{path: /a, backend: b}, {pathPrefix: a, backend: b}]}]\n",
              "rules[0].paths[1].pathPrefix: must start with \"/\"");
    CHECK_ERR("name: s\nport: 80\nrules: [{paths: [{path: a, backend: b}]}]\n",
              "rules[0].paths[0].path: must start with \"/\"");
    CHECK_ERR("name: s\nport: 80\nrules: [{}, {paths: [{rewriteTarget: /x, backend: b}]}]\n",
              "rules[1].paths[0].rewriteTarget: rewriteTarget is specified but path is empty");
    CHECK_ERR("name: s\nport: 80\nrules: [{paths: [{pathRegexp: \"a(\", backend: b}]}]\n",
              "rules[0].paths[0].pathRegexp: invalid regexp \"a(\": missing closing parenthesis (at offset 2)");
    CHECK_ERR("name: s\nport: 80\nrules: [{hostRegexp: \"[\", paths: []}]\n",
              "rules[0].hostRegexp: invalid regexp \"[\": missing terminating ] for character class (at offset 1)");
    CHECK_ERR("name: s\nport: 80\nrules: [{hosts: [{value: a.com}, {value: \"*(\", isRegexp: true}]}]\n",
              "rules[0].hosts[1].value: invalid regexp \"*(\": quantifier does not follow a repeatable item (at offset 0)");
    CHECK_ERR("name: s\nport: 80\nrules: [{hosts: [{isRegexp: true}]}]\n",
              "rules[0].hosts[0].value: missing required field");
    CHECK_ERR("name: s\nport: 80\nrules: [{paths: [{methods: [GET, FOO], backend: b}]}]\n",
              "rules[0].paths[0].methods[1]: unknown HTTP method \"FOO\"");
    CHECK_ERR("name: s\nport: 80\nrules: [{paths: [{methods: [get], backend: b}]}]\n",
              "rules[0].paths[0].methods[0]: unknown HTTP method \"get\"");
    CHECK_ERR("name: s\nport: 80\nrules: [{paths: [{methods: [GET, PUT, GET], backend: b}]}]\n",
              "rules[0].paths[0].methods[2]: duplicate method \"GET\"");
    CHECK_ERR("name: s\nport: 80\nrules: [{paths: [{headers: [{key: X-A}], backend: b}]}]\n",
              "rules[0].paths[0].headers[0]: both of values and regexp are empty for key: X-A");
    CHECK_ERR("name: s\nport: 80\nrules: [{paths: [{queries: [{key: q, values: []}], backend: b}]}]\n",
              "rules[0].paths[0].queries[0]: both of values and regexp are empty for key: q");
    CHECK_ERR("name: s\nport: 80\nrules: [{paths: [{queries: [{key: q, regexp: \"(\"}], backend: b}]}]\n",
              "rules[0].paths[0].queries[0].regexp: invalid regexp \"(\": missing closing parenthesis (at offset 1)");
    CHECK_ERR("name: s\nport: 80\nrules: [{paths: [{headers: [{values: [a]}], backend: b}]}]\n",
              "rules[0].paths[0].headers[0].key: missing required field");
    CHECK_ERR("name: s\nport: 80\nrules: [{paths: [{headers: [{key: k, values: [a, a]}], backend: b}]}]\n",
              "rules[0].paths[0].headers[0].values[1]: duplicate value \"a\"");
    CHECK_ERR("name: s\nport: 80\nrules: [{paths: [{backend: b, clientMaxBodySize: -5}]}]\n",
              "rules[0].paths[0].clientMaxBodySize: must be -1 (stream), 0 (inherit) or a size in bytes");
    CHECK_ERR("name: s\nport: 80\nrules: [{paths: [{backend: b, setHeaders: {X-N: 1}}]}]\n",
              "rules[0].paths[0].setHeaders.X-N: expected a string, got number");
    CHECK_ERR("name: s\nport: 80\nrules: [{ipFilter: {blockIPs: [nope]}, paths: []}]\n",
              "rules[0].ipFilter.blockIPs[0]: invalid IP or CIDR \"nope\"");
    CHECK_ERR("name: s\nport: 80\nrules: [{paths: [{backend: b, ipFilter: {allowIPs: [\"1::/200\"]}}]}]\n",
              "rules[0].paths[0].ipFilter.allowIPs[0]: invalid IP or CIDR \"1::/200\"");
    CHECK_ERR("name: s\nport: 80\nrules: [{paths: [{backend: b, backendPool: [1]}]}]\n",
              "rules[0].paths[0].backendPool: expected an object, got array");
    CHECK_ERR("name: s\nport: 80\nrules: [3]\n", "rules[0]: must be an object");
    /* rewriteTarget with a pathRegexp is fine */
    char *e = error_of("name: s\nport: 80\nrules: [{paths: [{pathRegexp: ^/x, rewriteTarget: /y, backend: b}]}]\n");
    CHECK(e == NULL);
    free(e);
}

static bool has_warning(const loaded *l, const char *w)
{
    for (size_t i = 0; i < l->nwarnings; i++)
        if (strcmp(l->warnings[i], w) == 0)
            return true;
    fprintf(stderr, "  missing warning \"%s\"; have:\n", w);
    for (size_t i = 0; i < l->nwarnings; i++)
        fprintf(stderr, "    %s\n", l->warnings[i]);
    return false;
}

static void test_decode_warnings(void)
{
    loaded l = load(
        "kind: HTTPServer\nname: s\nport: 80\nmaxConnection: 5\n"
        "ipFilter: {blockIP: [1.1.1.1]}\n"
        "rules:\n"
        "- hosst: x\n"
        "  hosts: [{value: a.com, regexp: true}, {value: \"a*b.com\"}]\n"
        "  paths:\n"
        "  - pathPrefix: /\n"
        "    backend: b\n"
        "    header: [{key: a}]\n"
        "    headers: [{key: X, values: [a], valeus: [b]}]\n");
    CHECK(l.s != NULL && l.err == NULL);
    CHECK_INT(l.nwarnings, 7);
    CHECK(has_warning(&l, "unknown field maxConnection"));
    CHECK(has_warning(&l, "unknown field ipFilter.blockIP"));
    CHECK(has_warning(&l, "unknown field rules[0].hosst"));
    CHECK(has_warning(&l, "unknown field rules[0].hosts[0].regexp"));
    CHECK(has_warning(&l, "unknown field rules[0].paths[0].header"));
    CHECK(has_warning(&l, "unknown field rules[0].paths[0].headers[0].valeus"));
    CHECK(has_warning(&l, "rules[0].hosts[1].value: host \"a*b.com\" is not a wildcard (only one "
                          "leading or trailing '*' is); it matches only itself"));
    if (l.s) {
        /* a*b.com is literal */
        eg_header x[] = {HDR("X", "a")};
        eg_headers hx = {x, 1, 1};
        CHECK_STR(route(l.s->router, "GET", "a*b.com", "/", "1.1.1.1", &hx), "b");
        CHECK_STR(route(l.s->router, "GET", "axb.com", "/", "1.1.1.1", &hx), "404");
    }
    unload(&l);

    /* strict mode turns the first unknown field into the error */
    const char *y = "name: s\nport: 80\nfoo: 1\n";
    char perr[128];
    eg_node *n = eg_yaml_parse(y, strlen(y), perr, sizeof perr);
    eg_dec d;
    eg_dec_init(&d, true);
    eg_httpserver_spec *s = eg_httpserver_spec_decode(&d, n);
    CHECK(s == NULL);
    CHECK_STR(d.error, "unknown field foo");
    eg_dec_free(&d);
    eg_node_free(n);
}

/* ---- matching --------------------------------------------------------------------------- */

static void test_hosts(void)
{
    loaded l = load(
        "name: s\nport: 80\nrules:\n"
        "- host: www.example.com\n  paths: [{backend: exact}]\n"
        "- host: \"*.example.com\"\n  paths: [{backend: suffix}]\n"
        "- host: \"api.example.*\"\n  paths: [{backend: prefix}]\n"
        "- hostRegexp: \"^img[0-9]\\\\.\"\n  paths: [{backend: regexp}]\n"
        "- hostRegexp: \"cdn\"\n  paths: [{backend: unanchored}]\n"
        "- hosts: [{value: one.test}, {value: two.test}, {value: one.test}]\n  paths: [{backend: list}]\n"
        "- host: \"*\"\n  paths: [{backend: star}]\n"
        "- host: \"::1\"\n  paths: [{backend: v6}]\n"
        "- host: \"\"\n  hosts: [{value: \"\"}]\n  paths: [{path: /empty, backend: emptyhost}]\n"
        "- paths: [{path: /any, backend: any}]\n");
    CHECK(l.s != NULL);
    if (!l.s) {
        unload(&l);
        return;
    }
    const eg_router *r = l.s->router;
    const char *ip = "1.1.1.1";
    CHECK_STR(route(r, "GET", "www.example.com", "/", ip, NULL), "exact");
    CHECK_STR(route(r, "GET", "www.example.com:8080", "/", ip, NULL), "exact");
    CHECK_STR(route(r, "GET", "a.example.com", "/", ip, NULL), "suffix");
    CHECK_STR(route(r, "GET", "a.b.example.com:443", "/", ip, NULL), "suffix");
    CHECK_STR(route(r, "GET", "*.example.com", "/", ip, NULL), "suffix");
    CHECK_STR(route(r, "GET", "example.com", "/", ip, NULL), "404");
    CHECK_STR(route(r, "GET", "api.example.org", "/", ip, NULL), "prefix");
    CHECK_STR(route(r, "GET", "img1.x", "/", ip, NULL), "regexp");
    CHECK_STR(route(r, "GET", "ximg1.x", "/", ip, NULL), "404");
    CHECK_STR(route(r, "GET", "my.cdn.net", "/", ip, NULL), "unanchored");
    CHECK_STR(route(r, "GET", "two.test", "/", ip, NULL), "list");
    CHECK_STR(route(r, "GET", "one.test:1", "/", ip, NULL), "list");
    CHECK_STR(route(r, "GET", "three.test", "/", ip, NULL), "404");
    CHECK_STR(route(r, "GET", "*", "/", ip, NULL), "star");      /* a lone * is literal */
    CHECK_STR(route(r, "GET", "anything", "/", ip, NULL), "404");
    CHECK_STR(route(r, "GET", "[::1]:80", "/", ip, NULL), "v6");
    CHECK_STR(route(r, "GET", "[::1]", "/", ip, NULL), "404");   /* SplitHostPort fails: kept whole */
    CHECK_STR(route(r, "GET", "", "/empty", ip, NULL), "emptyhost");
    CHECK_STR(route(r, "GET", ":80", "/empty", ip, NULL), "emptyhost");
    CHECK_STR(route(r, "GET", "WWW.EXAMPLE.COM", "/", ip, NULL), "404");   /* Go compares bytes */
    CHECK_STR(route(r, "GET", "zzz", "/any", ip, NULL), "any");
    unload(&l);

    const char *h;
    size_t n;
    eg_host_strip_port("a.com:80", 8, &h, &n);
    CHECK(n == 5 && memcmp(h, "a.com", 5) == 0);
    eg_host_strip_port("a.com:", 6, &h, &n);
    CHECK(n == 5);
    eg_host_strip_port("a:b:c", 5, &h, &n);
    CHECK(n == 5);
    eg_host_strip_port("[::1]:8", 7, &h, &n);
    CHECK(n == 3 && memcmp(h, "::1", 3) == 0);
    eg_host_strip_port("[::1]x:8", 8, &h, &n);
    CHECK(n == 8);
    eg_host_strip_port("a]:8", 4, &h, &n);
    CHECK(n == 4);
    eg_host_strip_port("[a[]:8", 6, &h, &n);
    CHECK(n == 6);
}

static void test_paths_and_order(void)
{
    loaded l = load(
        "name: s\nport: 80\nrules:\n"
        "- paths:\n"
        "  - {path: /exact, backend: e1}\n"
        "  - {pathPrefix: /api/, backend: p1}\n"
        "  - {pathRegexp: \"^/api/v[0-9]+/users$\", backend: r1}\n"
        "  - {path: /or, pathPrefix: /orp, pathRegexp: \"or-re\", backend: or}\n"
        "- host: h.com\n"
        "  paths:\n"
        "  - {pathPrefix: /exact, backend: late}\n"
        "  - {pathPrefix: /ap, backend: p2}\n"
        "- paths:\n"
        "  - {pathPrefix: /api, backend: p3}\n"
        "  - {backend: all}\n");
    CHECK(l.s != NULL);
    if (!l.s) {
        unload(&l);
        return;
    }
    const eg_router *r = l.s->router;
    const char *ip = "1.1.1.1";
    CHECK_STR(route(r, "GET", "h.com", "/exact", ip, NULL), "e1");
    CHECK_STR(route(r, "GET", "h.com", "/exact/x", ip, NULL), "late");
    CHECK_STR(route(r, "GET", "x.com", "/exact/x", ip, NULL), "all");
    CHECK_STR(route(r, "GET", "h.com", "/api/v1/users", ip, NULL), "p1");   /* prefix before regexp */
    CHECK_STR(route(r, "GET", "h.com", "/api", ip, NULL), "p2");
    CHECK_STR(route(r, "GET", "x.com", "/api", ip, NULL), "p3");
    CHECK_STR(route(r, "GET", "x.com", "/apix", ip, NULL), "p3");          /* byte prefix */
    CHECK_STR(route(r, "GET", "x.com", "/or", ip, NULL), "or");
    CHECK_STR(route(r, "GET", "x.com", "/orpheus", ip, NULL), "or");
    CHECK_STR(route(r, "GET", "x.com", "/x/or-re/y", ip, NULL), "or");
    CHECK_STR(route(r, "GET", "x.com", "/o", ip, NULL), "all");
    /* normalisation applies before matching: none of these bypass /api/ */
    CHECK_STR(route(r, "GET", "x.com", "//api//v1", ip, NULL), "p1");
    CHECK_STR(route(r, "GET", "x.com", "/x/../api/", ip, NULL), "p1");
    CHECK_STR(route(r, "GET", "x.com", "/%61pi/", ip, NULL), "p1");
    CHECK_STR(route(r, "GET", "x.com", "/api%2Fv1", ip, NULL), "p1");
    CHECK_STR(route(r, "GET", "x.com", "/exact%2F..%2Fapi/", ip, NULL), "p1");
    CHECK_STR(route(r, "GET", "x.com", "/exact/./", ip, NULL), "all");
    CHECK_STR(route(r, "GET", "x.com", "/./exact", ip, NULL), "e1");
    CHECK_STR(route(r, "GET", "x.com", "/..", ip, NULL), "400");
    CHECK_STR(route(r, "GET", "x.com", "/%00", ip, NULL), "400");
    CHECK_STR(route(r, "GET", "x.com", "/%G0", ip, NULL), "400");
    CHECK_STR(route(r, "GET", "x.com", "*", ip, NULL), "400");
    unload(&l);
}

static void test_status_codes(void)
{
    loaded l = load(
        "name: s\nport: 80\nrules:\n"
        "- paths:\n"
        "  - {path: /m, methods: [POST], backend: p1}\n"
        "  - {path: /h, headers: [{key: X-A, values: [\"1\"]}], backend: p2}\n"
        "  - {path: /q, queries: [{key: a, regexp: \"^[0-9]+$\"}], backend: p3}\n"
        "  - {path: /mh, methods: [POST], backend: p4}\n"
        "  - {path: /mh, headers: [{key: X-A, values: [\"1\"]}], backend: p5}\n"
        "  - {path: /any, backend: p8}\n"
        "  - {path: /hdr-only, headers: [{key: X-A, regexp: \"^$\"}], backend: p9}\n"
        "- host: ip.com\n"
        "  ipFilter: {blockIPs: [10.0.0.0/8]}\n"
        "  paths: [{path: /only, backend: p6}]\n"
        "- paths:\n"
        "  - {path: /ip, ipFilter: {allowIPs: [10.0.0.0/8]}, backend: p7}\n");
    CHECK(l.s != NULL);
    if (!l.s) {
        unload(&l);
        return;
    }
    const eg_router *r = l.s->router;
    eg_header one[] = {HDR("x-a", "1")};
    eg_headers h1 = {one, 1, 1};
    CHECK_STR(route(r, "GET", "a", "/m", "1.1.1.1", NULL), "405");
    CHECK_STR(route(r, "POST", "a", "/m", "1.1.1.1", NULL), "p1");
    CHECK_STR(route(r, "PROPFIND", "a", "/m", "1.1.1.1", NULL), "405");
    CHECK_STR(route(r, "GET", "a", "/h", "1.1.1.1", NULL), "400");
    CHECK_STR(route(r, "GET", "a", "/h", "1.1.1.1", &h1), "p2");
    CHECK_STR(route(r, "GET", "a", "/mh", "1.1.1.1", NULL), "400");   /* header beats method */
    CHECK_STR(route(r, "POST", "a", "/mh", "1.1.1.1", NULL), "p4");
    CHECK_STR(route(r, "GET", "a", "/mh", "1.1.1.1", &h1), "p5");
    CHECK_STR(route(r, "GET", "a", "/q?a=x", "1.1.1.1", NULL), "400");
    CHECK_STR(route(r, "GET", "a", "/q?a=12", "1.1.1.1", NULL), "p3");
    CHECK_STR(route(r, "GET", "a", "/q?b=1&a=12&a=x", "1.1.1.1", NULL), "p3");
    CHECK_STR(route(r, "GET", "a", "/zzz", "1.1.1.1", NULL), "404");
    /* a path with no condition takes any method, even an unknown one (Path.matchable) */
    CHECK_STR(route(r, "PROPFIND", "a", "/any", "1.1.1.1", NULL), "p8");
    /* ... but a path with a header condition checks the method against all nine first */
    CHECK_STR(route(r, "PROPFIND", "a", "/hdr-only", "1.1.1.1", NULL), "405");
    CHECK_STR(route(r, "GET", "a", "/hdr-only", "1.1.1.1", NULL), "p9");   /* absent = "" */
    CHECK_STR(route(r, "GET", "a", "/hdr-only", "1.1.1.1", &h1), "400");
    /* a rule ipFilter denying flags 403 whenever its host matches, whatever the path */
    CHECK_STR(route(r, "GET", "ip.com", "/nothing", "10.1.1.1", NULL), "403");
    CHECK_STR(route(r, "GET", "ip.com", "/nothing", "1.1.1.1", NULL), "404");
    CHECK_STR(route(r, "GET", "ip.com", "/only", "1.1.1.1", NULL), "p6");
    CHECK_STR(route(r, "GET", "ip.com:80", "/m", "10.1.1.1", NULL), "403");   /* ip beats method */
    CHECK_STR(route(r, "GET", "ip.com", "/h", "10.1.1.1", &h1), "p2");        /* a match wins */
    CHECK_STR(route(r, "GET", "other", "/nothing", "10.1.1.1", NULL), "404");
    CHECK_STR(route(r, "GET", "a", "/ip", "1.1.1.1", NULL), "403");
    CHECK_STR(route(r, "GET", "a", "/ip", "10.9.9.9", NULL), "p7");
    CHECK_STR(route(r, "GET", "a", "/ip", "not-an-ip", NULL), "p7");   /* unparseable: default */
    unload(&l);

    /* server ipFilter: 403 before anything else */
    l = load("name: s\nport: 80\nipFilter: {blockIPs: [1.2.3.4]}\nrules: [{paths: [{backend: b}]}]\n");
    CHECK(l.s != NULL);
    if (l.s) {
        CHECK_STR(route(l.s->router, "GET", "a", "/x", "1.2.3.4", NULL), "403");
        CHECK_STR(route(l.s->router, "GET", "a", "/..", "1.2.3.4", NULL), "403");
        CHECK_STR(route(l.s->router, "GET", "a", "/..", "1.2.3.5", NULL), "400");
        CHECK_STR(route(l.s->router, "GET", "a", "/x", "1.2.3.5", NULL), "b");
    }
    unload(&l);
}

static void test_headers_queries(void)
{
    loaded l = load(
        "name: s\nport: 80\nrules:\n"
        "- paths:\n"
        "  - path: /any\n"
        "    headers: [{key: X-A, values: [\"1\"]}, {key: X-B, regexp: \"^b\"}]\n"
        "    backend: any\n"
        "  - path: /all\n"
        "    headers: [{key: X-A, values: [\"1\", \"2\"], regexp: \"1\"}, {key: X-B, regexp: \"^b\"}]\n"
        "    matchAllHeader: true\n"
        "    backend: all\n"
        "  - path: /q\n"
        "    queries: [{key: \"a b\", values: [\"x y\"]}]\n"
        "    backend: q\n"
        "  - path: /qall\n"
        "    queries: [{key: a, values: [\"1\"]}, {key: b, regexp: \"^$\"}]\n"
        "    matchAllQuery: true\n"
        "    backend: qall\n");
    CHECK(l.s != NULL);
    if (!l.s) {
        unload(&l);
        return;
    }
    const eg_router *r = l.s->router;
    const char *ip = "1.1.1.1";
    eg_header a1[] = {HDR("X-A", "1")}, b[] = {HDR("x-b", "bee")}, a2b[] = {HDR("X-A", "2"), HDR("X-B", "b")};
    eg_header a1b[] = {HDR("X-A", "1"), HDR("X-B", "b")}, dup[] = {HDR("X-A", "2"), HDR("X-A", "1"), HDR("X-B", "b")};
    eg_headers H_a1 = {a1, 1, 1}, H_b = {b, 1, 1}, H_a2b = {a2b, 2, 2}, H_a1b = {a1b, 2, 2}, H_dup = {dup, 3, 3};
    CHECK_STR(route(r, "GET", "h", "/any", ip, &H_a1), "any");
    CHECK_STR(route(r, "GET", "h", "/any", ip, &H_b), "any");
    CHECK_STR(route(r, "GET", "h", "/any", ip, NULL), "400");
    CHECK_STR(route(r, "GET", "h", "/all", ip, &H_a1b), "all");
    CHECK_STR(route(r, "GET", "h", "/all", ip, &H_a2b), "400");   /* "2" in values, fails regexp */
    CHECK_STR(route(r, "GET", "h", "/all", ip, &H_dup), "400");   /* first value counts */
    CHECK_STR(route(r, "GET", "h", "/q?a+b=x%20y", ip, NULL), "q");
    CHECK_STR(route(r, "GET", "h", "/q?a%20b=x+y", ip, NULL), "q");
    CHECK_STR(route(r, "GET", "h", "/q?a;b=1&a+b=x+y", ip, NULL), "q");   /* ';' pair dropped */
    CHECK_STR(route(r, "GET", "h", "/q?a+b=%zz&a+b=x+y", ip, NULL), "q"); /* bad escape dropped */
    CHECK_STR(route(r, "GET", "h", "/q?a+b=z&a+b=x+y", ip, NULL), "400"); /* first value counts */
    CHECK_STR(route(r, "GET", "h", "/q?&&a+b=x+y&", ip, NULL), "q");
    CHECK_STR(route(r, "GET", "h", "/q", ip, NULL), "400");
    CHECK_STR(route(r, "GET", "h", "/qall?a=1", ip, NULL), "qall");
    CHECK_STR(route(r, "GET", "h", "/qall?a=1&b=", ip, NULL), "qall");
    CHECK_STR(route(r, "GET", "h", "/qall?a=1&b", ip, NULL), "qall");
    CHECK_STR(route(r, "GET", "h", "/qall?a=1&b=2", ip, NULL), "400");
    CHECK_STR(route(r, "GET", "h", "/qall?a=2", ip, NULL), "400");
    unload(&l);
}

static void test_rewrite(void)
{
    loaded l = load(
        "name: s\nport: 80\nrules:\n"
        "- paths:\n"
        "  - {path: /old, rewriteTarget: /new, backend: e}\n"
        "  - {pathPrefix: /api/, rewriteTarget: /v2/, backend: p}\n"
        "  - {pathRegexp: \"^/u/([0-9]+)/(?P<rest>.*)$\", rewriteTarget: \"/users/$1/${rest}\", backend: r}\n"
        "  - {pathRegexp: \"^/g/([a-z]+)$\", rewriteTarget: \"/${1}x-$1x-$$-$-${\", backend: t}\n"
        "  - {pathRegexp: \"^/z/(a)?(b)\", rewriteTarget: \"/[$1][$2][$3][$01][${name}]\", backend: z}\n"
        "  - {pathRegexp: \"^/e/(.)\", rewriteTarget: \"/$1$1\", backend: u}\n"
        "  - {path: /sp, rewriteTarget: \"/a b?c#d%\", backend: esc}\n"
        "  - {pathPrefix: /pre, pathRegexp: \"^/preg\", rewriteTarget: /P, backend: both}\n"
        "  - {pathRegexp: \"a*\", rewriteTarget: X, backend: empty}\n");
    CHECK(l.s != NULL);
    if (!l.s) {
        unload(&l);
        return;
    }
    const eg_router *r = l.s->router;
    const char *ip = "1.1.1.1";
    CHECK_STR(route(r, "GET", "h", "/old", ip, NULL), "e /new");
    CHECK_STR(route(r, "GET", "h", "/api/users?x=1", ip, NULL), "p /v2/users");
    CHECK_STR(route(r, "GET", "h", "/api/%7Efoo%20bar", ip, NULL), "p /v2/~foo%20bar");
    CHECK_STR(route(r, "GET", "h", "/u/42/x/y", ip, NULL), "r /users/42/x/y");
    CHECK_STR(route(r, "GET", "h", "/g/ab", ip, NULL), "t /abx--$-$-$%7B");
    CHECK_STR(route(r, "GET", "h", "/z/b", ip, NULL), "z /%5B%5D%5Bb%5D%5B%5D%5B%5D%5B%5D");
    CHECK_STR(route(r, "GET", "h", "/e/%C3%A9x", ip, NULL), "u /%C3%A9%C3%A9x");
    CHECK_STR(route(r, "GET", "h", "/sp", ip, NULL), "esc /a%20b%3Fc%23d%25");
    CHECK_STR(route(r, "GET", "h", "/preg", ip, NULL), "both /Pg");   /* prefix rewrite first */
    CHECK_STR(route(r, "GET", "h", "/baaac", ip, NULL), "empty X/XbXcX");
    /* invalid UTF-8 advances one byte at a time, as Go's DecodeRuneInString */
    CHECK_STR(route(r, "GET", "h", "/%FFa%FF", ip, NULL), "empty X/X%FFX%FFX");
    CHECK_STR(route(r, "GET", "h", "/%E2%82", ip, NULL), "empty X/X%E2X%82X");
    unload(&l);
}

/* ---- path normalisation ----------------------------------------------------------------- */

static void test_normalize(void)
{
    static const struct {
        const char *in;
        const char *out;   /* NULL: invalid */
    } cases[] = {
        {"/", "/"},
        {"/admin", "/admin"},
        {"//admin", "/admin"},
        {"///admin//", "/admin/"},
        {"/x/../admin", "/admin"},
        {"/%61dmin", "/admin"},
        {"/api%2F..%2Fadmin", "/admin"},
        {"/api/%2e%2e/admin", "/admin"},
        {"/api/.%2E/admin", "/admin"},
        {"/%2F%2Fadmin", "/admin"},
        {"/a/b/", "/a/b/"},
        {"/a//b//", "/a/b/"},
        {"/a/.", "/a/"},
        {"/a/..", "/"},
        {"/a/b/..", "/a/"},
        {"/a/b/../", "/a/"},
        {"/a/./b/./", "/a/b/"},
        {"/./a", "/a"},
        {"/.", "/"},
        {"/./", "/"},
        {"/.../a", "/.../a"},
        {"/a/..b", "/a/..b"},
        {"/a/.b", "/a/.b"},
        {"/a%20b", "/a b"},
        {"/%252F", "/%2F"},
        {"/%C3%A9", "/\xc3\xa9"},
        {"/a/b/c/../../d", "/a/d"},
        {"/..", NULL},
        {"/../a", NULL},
        {"/a/../..", NULL},
        {"/a/../../b", NULL},
        {"/%2e%2e", NULL},
        {"/%2e%2e/", NULL},
        {"//..", NULL},
        {"/%00", NULL},
        {"/%", NULL},
        {"/%4", NULL},
        {"/%zz", NULL},
        {"/%4g", NULL},
        {"", NULL},
        {"admin", NULL},
        {"%2Fadmin", NULL},
        {"*", NULL},
    };
    char out[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long n = eg_path_normalize(cases[i].in, strlen(cases[i].in), out);
        if (!cases[i].out) {
            if (n >= 0)
                fprintf(stderr, "  \"%s\" -> \"%s\", expected invalid\n", cases[i].in, out);
            CHECK(n < 0);
        } else {
            CHECK(n >= 0);
            if (n >= 0) {
                CHECK_STR(out, cases[i].out);
                CHECK_INT(n, strlen(cases[i].out));
            }
        }
    }
    /* a raw NUL byte is invalid; the input need not be NUL-terminated */
    CHECK(eg_path_normalize("/a\0b", 4, out) < 0);
    CHECK(eg_path_normalize("/abc/xyz", 4, out) == 4 && strcmp(out, "/abc") == 0);
}

/* ---- randomised comparison with a linear reference -------------------------------------- */

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

enum { TH_EXACT, TH_SUFFIX, TH_PREFIX, TH_REGEXP };
typedef struct {
    int kind;
    const char *v;
    pcre2_code *re;
} thost;

typedef struct {
    const char *exact, *prefix, *regexp;
    pcre2_code *re;
    int methods;        /* index into method_sets */
    int header_kind, query_kind;
    bool ipf;           /* allowIPs: [10.0.0.0/8] */
} tpath;

typedef struct {
    thost hosts[3];
    int nh;
    bool ipf;           /* blockIPs: [10.0.0.0/8] */
    tpath paths[5];
    int np;
} trule;

typedef struct {
    trule rules[200];
    int nr;
    bool server_ipf;    /* blockIPs: [192.168.0.0/16] */
} tset;

static const char *exact_hosts[] = {"a.com", "b.com", "c.org", "x.b.com"};
static const char *suffix_hosts[] = {"*.com", "*.b.com", "*.org"};
static const char *prefix_hosts[] = {"a.*", "x.*", "c.*"};
static const char *regexp_hosts[] = {"^b\\.", "org$", "c", "^a\\.com$"};
static const char *exact_paths[] = {"/", "/a", "/a/b", "/api", "/api/v1", "/x/", "/admin", "/a/b/c"};
static const char *prefix_paths[] = {"/", "/a", "/a/", "/api", "/api/v", "/ad", "/x/", "/a/b/"};
static const char *regexp_paths[] = {"^/api/v[0-9]+", "b$", "^/a/.*/c", "min", "^/$", "x"};
static const unsigned method_sets[][3] = {{0}, {1}, {2, 3}, {4}};   /* bits of ref_methods */
static const char *ref_methods[] = {"", "GET", "POST", "PUT", "DELETE"};
static const char *req_hosts[] = {"a.com", "a.com:8080", "b.com", "c.org", "x.b.com", "a.net",
                                  "", "[::1]:80", "b.c.org", "x.y", "c.com"};
static const char *req_paths[] = {"/", "/a", "/a/b", "/a/b/c", "/a/x/c", "/api", "/api/v1",
                                  "/api/v12/x", "/apix", "/x/", "/x", "/admin", "/ad/min", "//a",
                                  "/a/../api", "/%61pi/v1", "/a/./b", "/a%2Fb", "/..", "/a%zz",
                                  "/x/y/", "/a/b/", "/q", "/b"};
static const char *req_methods[] = {"GET", "POST", "PUT", "DELETE", "PROPFIND"};
static const char *req_queries[] = {"", "q=1", "q=2&r=x", "q=&q=1", "r=x", "r=xx&q=2"};
static const char *req_ips[] = {"10.1.2.3", "192.168.0.1", "8.8.8.8", "bogus"};

static pcre2_code *tcompile(const char *p)
{
    int e;
    PCRE2_SIZE o;
    return pcre2_compile((PCRE2_SPTR)p, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_DOLLAR_ENDONLY, &e, &o, NULL);
}

static bool tmatch(pcre2_code *re, const char *s, size_t n)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

static void gen_set(tset *t, int max_rules)
{
    memset(t, 0, sizeof *t);
    t->nr = 1 + (int)rnd((uint32_t)max_rules);
    t->server_ipf = rnd(10) == 0;
    for (int i = 0; i < t->nr; i++) {
        trule *r = &t->rules[i];
        r->nh = (int)rnd(4) == 0 ? 0 : (int)rnd(3);
        for (int h = 0; h < r->nh; h++) {
            int k = rnd(3) ? TH_EXACT : (int)rnd(4);
            r->hosts[h].kind = k;
            r->hosts[h].v = k == TH_EXACT ? exact_hosts[rnd(4)] : k == TH_SUFFIX ? suffix_hosts[rnd(3)]
                          : k == TH_PREFIX ? prefix_hosts[rnd(3)] : regexp_hosts[rnd(4)];
            if (k == TH_REGEXP)
                r->hosts[h].re = tcompile(r->hosts[h].v);
        }
        r->ipf = rnd(8) == 0;
        r->np = (int)rnd(6);
        for (int j = 0; j < r->np; j++) {
            tpath *p = &r->paths[j];
            int shape = (int)rnd(10);
            if (shape <= 2 || shape == 7)
                p->exact = exact_paths[rnd(8)];
            if ((shape >= 3 && shape <= 5) || shape == 7 || shape == 8)
                p->prefix = prefix_paths[rnd(8)];
            if (shape == 6 || shape == 8) {
                p->regexp = regexp_paths[rnd(6)];
                p->re = tcompile(p->regexp);
            }
            p->methods = rnd(3) ? 0 : (int)rnd(4);
            p->header_kind = rnd(4) ? 0 : (int)rnd(5);
            p->query_kind = rnd(4) ? 0 : (int)rnd(4);
            p->ipf = rnd(10) == 0;
        }
    }
}

static void free_set(tset *t)
{
    for (int i = 0; i < t->nr; i++) {
        for (int h = 0; h < t->rules[i].nh; h++)
            pcre2_code_free(t->rules[i].hosts[h].re);
        for (int j = 0; j < t->rules[i].np; j++)
            pcre2_code_free(t->rules[i].paths[j].re);
    }
}

static const char *header_yaml[] = {
    "",
    "    headers: [{key: X-A, values: [\"1\"]}]\n",
    "    headers: [{key: X-A, regexp: \"^2\"}]\n",
    "    headers: [{key: X-A, values: [\"1\"]}, {key: X-B, regexp: \"^y\"}]\n    matchAllHeader: true\n",
    "    headers: [{key: X-A, values: [\"1\"]}, {key: X-B, regexp: \"^y\"}]\n",
};
static const char *query_yaml[] = {
    "",
    "    queries: [{key: q, values: [\"1\"]}]\n",
    "    queries: [{key: q, regexp: \"^$\"}]\n",
    "    queries: [{key: q, values: [\"1\", \"2\"]}, {key: r, regexp: \"x\"}]\n    matchAllQuery: true\n",
};

static char *set_yaml(const tset *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fprintf(f, "name: rand\nport: 80\n");
    if (t->server_ipf)
        fprintf(f, "ipFilter: {blockIPs: [192.168.0.0/16]}\n");
    fprintf(f, "rules:\n");
    for (int i = 0; i < t->nr; i++) {
        const trule *r = &t->rules[i];
        fprintf(f, "- hosts: [");
        for (int h = 0; h < r->nh; h++)
            fprintf(f, "%s{value: '%s'%s}", h ? ", " : "", r->hosts[h].v,
                    r->hosts[h].kind == TH_REGEXP ? ", isRegexp: true" : "");
        fprintf(f, "]\n");
        if (r->ipf)
            fprintf(f, "  ipFilter: {blockIPs: [10.0.0.0/8]}\n");
        fprintf(f, "  paths:%s\n", r->np ? "" : " []");
        for (int j = 0; j < r->np; j++) {
            const tpath *p = &r->paths[j];
            fprintf(f, "  - backend: r%dp%d\n", i, j);
            if (p->exact)
                fprintf(f, "    path: \"%s\"\n", p->exact);
            if (p->prefix)
                fprintf(f, "    pathPrefix: \"%s\"\n", p->prefix);
            if (p->regexp)
                fprintf(f, "    pathRegexp: '%s'\n", p->regexp);
            if (p->methods) {
                fprintf(f, "    methods: [");
                for (int k = 0; k < 3 && method_sets[p->methods][k]; k++)
                    fprintf(f, "%s%s", k ? ", " : "", ref_methods[method_sets[p->methods][k]]);
                fprintf(f, "]\n");
            }
            fputs(header_yaml[p->header_kind], f);
            fputs(query_yaml[p->query_kind], f);
            if (p->ipf)
                fprintf(f, "    ipFilter: {allowIPs: [10.0.0.0/8]}\n");
        }
    }
    fclose(f);
    return buf;
}

typedef struct {
    const char *host, *path, *method, *query, *ip;
    const char *xa, *xb;   /* NULL: header absent */
} treq;

/* Go's SplitHostPort for the hosts of req_hosts */
static void ref_strip(const char *h, char *out)
{
    const char *c = strrchr(h, ':');
    if (h[0] == '[') {
        const char *e = strchr(h, ']');
        snprintf(out, 64, "%.*s", (int)(e - h - 1), h + 1);
    } else if (c) {
        snprintf(out, 64, "%.*s", (int)(c - h), h);
    } else {
        snprintf(out, 64, "%s", h);
    }
}

static bool ref_host(const trule *r, const char *host)
{
    if (r->nh == 0)
        return true;
    size_t n = strlen(host);
    for (int i = 0; i < r->nh; i++) {
        const thost *h = &r->hosts[i];
        size_t vl = strlen(h->v);
        if (h->kind == TH_REGEXP) {
            if (tmatch(h->re, host, n))
                return true;
        } else if (strcmp(host, h->v) == 0) {
            return true;
        } else if (h->kind == TH_SUFFIX && n >= vl - 1 && strcmp(host + n - (vl - 1), h->v + 1) == 0) {
            return true;
        } else if (h->kind == TH_PREFIX && strncmp(host, h->v, vl - 1) == 0) {
            return true;
        }
    }
    return false;
}

static bool in10(const char *ip) { return strncmp(ip, "10.", 3) == 0; }

static const char *ref_query(const char *q, const char *key, char *buf)
{
    /* the generated queries hold no escapes and no ';' */
    const char *p = q;
    size_t kl = strlen(key);
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t pl = amp ? (size_t)(amp - p) : strlen(p);
        if (pl && ((pl == kl && strncmp(p, key, kl) == 0) || (pl > kl && p[kl] == '=' && strncmp(p, key, kl) == 0))) {
            size_t vl = pl > kl ? pl - kl - 1 : 0;
            memcpy(buf, p + kl + (pl > kl), vl);
            buf[vl] = '\0';
            return buf;
        }
        p += pl + (amp != NULL);
    }
    return "";
}

static bool ref_kv(int kind, bool is_query, const treq *q)
{
    char b1[64], b2[64];
    const char *a, *bv;
    if (is_query) {
        a = ref_query(q->query, "q", b1);
        bv = ref_query(q->query, "r", b2);
        switch (kind) {
        case 1: return strcmp(a, "1") == 0;
        case 2: return a[0] == '\0';
        case 3: return (strcmp(a, "1") == 0 || strcmp(a, "2") == 0) && strchr(bv, 'x');
        }
        return true;
    }
    a = q->xa ? q->xa : "";
    bv = q->xb ? q->xb : "";
    switch (kind) {
    case 1: return strcmp(a, "1") == 0;
    case 2: return a[0] == '2';
    case 3: return strcmp(a, "1") == 0 && bv[0] == 'y';
    case 4: return strcmp(a, "1") == 0 || bv[0] == 'y';
    }
    return true;
}

/* Easegress's Ordered router, literally. Returns the status; the chosen indices go to ri and pi. */
static int ref_route(const tset *t, const treq *q, int *ri, int *pi)
{
    if (t->server_ipf && strncmp(q->ip, "192.168.", 8) == 0)
        return 403;
    char path[128], host[64];
    if (eg_path_normalize(q->path, strlen(q->path), path) < 0)
        return 400;
    ref_strip(q->host, host);
    unsigned mbit = 0;
    for (unsigned k = 1; k < 5; k++)
        if (strcmp(q->method, ref_methods[k]) == 0)
            mbit = 1u << k;
    bool ipm = false, hm = false, qm = false, mm = false;
    for (int i = 0; i < t->nr; i++) {
        const trule *r = &t->rules[i];
        if (!ref_host(r, host))
            continue;
        if (r->ipf && in10(q->ip)) {
            ipm = true;
            continue;
        }
        for (int j = 0; j < r->np; j++) {
            const tpath *p = &r->paths[j];
            bool pm = !p->exact && !p->prefix && !p->re;
            if (p->exact && strcmp(p->exact, path) == 0)
                pm = true;
            if (p->prefix && strncmp(path, p->prefix, strlen(p->prefix)) == 0)
                pm = true;
            if (!pm && p->re && tmatch(p->re, path, strlen(path)))
                pm = true;
            if (!pm)
                continue;
            bool matchable = p->methods || p->header_kind || p->query_kind || p->ipf;
            if (matchable) {
                unsigned allowed = 0;
                if (p->methods) {
                    for (int k = 0; k < 3 && method_sets[p->methods][k]; k++)
                        allowed |= 1u << method_sets[p->methods][k];
                } else {
                    allowed = 0x1e;   /* all four the test uses (PROPFIND gets no bit) */
                }
                if (!(mbit & allowed)) {
                    mm = true;
                    continue;
                }
                if (p->header_kind && !ref_kv(p->header_kind, false, q)) {
                    hm = true;
                    continue;
                }
                if (p->query_kind && !ref_kv(p->query_kind, true, q)) {
                    qm = true;
                    continue;
                }
                /* allowIPs [10/8]: an unparseable IP gets the default (allow) */
                if (p->ipf && strcmp(q->ip, "bogus") != 0 && !in10(q->ip)) {
                    ipm = true;
                    continue;
                }
            }
            *ri = i;
            *pi = j;
            return 0;
        }
    }
    return ipm ? 403 : (hm || qm) ? 400 : mm ? 405 : 404;
}

static long status_seen[6];   /* 0, 400, 403, 404, 405, other */

static int compare_set(const tset *t, const eg_router *r, int nreq)
{
    int bad = 0;
    static const char *xas[] = {NULL, "1", "2", "3"}, *xbs[] = {NULL, "y", "n"};
    for (int k = 0; k < nreq && bad < 3; k++) {
        treq q = {
            req_hosts[rnd(sizeof req_hosts / sizeof *req_hosts)],
            req_paths[rnd(sizeof req_paths / sizeof *req_paths)],
            req_methods[rnd(5)],
            req_queries[rnd(sizeof req_queries / sizeof *req_queries)],
            req_ips[rnd(4)],
            xas[rnd(4)], xbs[rnd(3)],
        };
        eg_header hv[2];
        size_t nh = 0;
        if (q.xa)
            hv[nh++] = (eg_header){"X-A", 3, q.xa, strlen(q.xa)};
        if (q.xb)
            hv[nh++] = (eg_header){"x-b", 3, q.xb, strlen(q.xb)};
        eg_headers h = {hv, nh, nh};
        char target[256];
        snprintf(target, sizeof target, "%s%s%s", q.path, *q.query ? "?" : "", q.query);
        eg_route_match m;
        int st = route_full(r, q.method, q.host, target, q.ip, &h, &m);
        int ri = -1, pi = -1;
        int want = ref_route(t, &q, &ri, &pi);
        status_seen[want == 0 ? 0 : want == 400 ? 1 : want == 403 ? 2 : want == 404 ? 3 : want == 405 ? 4 : 5]++;
        bool ok = st == want;
        if (ok && st == 0)
            ok = (int)m.path->rule_index == ri && (int)m.path->path_index == pi;
        if (!ok) {
            bad++;
            fprintf(stderr, "  MISMATCH %s %s%s ip=%s X-A=%s X-B=%s: index %d (%d,%d), linear %d (%d,%d)\n",
                    q.method, q.host, target, q.ip, q.xa ? q.xa : "-", q.xb ? q.xb : "-", st,
                    st ? -1 : (int)m.path->rule_index, st ? -1 : (int)m.path->path_index, want, ri, pi);
        }
        eg_route_match_release(&m);
    }
    return bad;
}

static void test_random_vs_linear(void)
{
    static tset t;
    rng_state = 0x9e3779b97f4a7c15ULL;
    int sets = 0, failures = 0;
    for (int round = 0; round < 400 && failures == 0; round++) {
        gen_set(&t, round % 4 == 3 ? 150 : 12);
        char *yaml = set_yaml(&t);
        loaded l = load(yaml);
        if (!l.s) {
            fprintf(stderr, "  decode failed: %s\n%s\n", l.err ? l.err : "?", yaml);
            failures++;
        } else {
            failures += compare_set(&t, l.s->router, 400);
            if (failures)
                fprintf(stderr, "  rule set (round %d):\n%s\n", round, yaml);
        }
        sets++;
        unload(&l);
        free(yaml);
        free_set(&t);
    }
    CHECK_INT(failures, 0);
    CHECK_INT(sets, 400);
    fprintf(stderr, "  %d rule sets; requests: %ld matched, %ld 400, %ld 403, %ld 404, %ld 405\n", sets,
            status_seen[0], status_seen[1], status_seen[2], status_seen[3], status_seen[4]);
    /* the generator must exercise every outcome */
    for (int i = 0; i < 5; i++)
        CHECK(status_seen[i] > 1000);
    CHECK_INT(status_seen[5], 0);
}

/* ---- a large table ------------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *big_yaml(int n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fprintf(f, "name: big\nport: 80\nrules:\n");
    for (int i = 0; i < n; i++) {
        if (i % 2)
            fprintf(f, "- paths: [{path: /svc/%d, backend: e%d}]\n", i, i);
        else
            fprintf(f, "- paths: [{pathPrefix: /pre/%d/, backend: p%d}]\n", i, i);
    }
    fprintf(f, "- host: h%d.com\n  paths: [{pathPrefix: /, backend: last}]\n", n);
    fclose(f);
    return buf;
}

/* Seconds per match of the last rules of an n-rule table. */
static double time_table(int n, bool check)
{
    char *y = big_yaml(n);
    loaded l = load(y);
    free(y);
    CHECK(l.s != NULL);
    if (!l.s) {
        unload(&l);
        return 1;
    }
    const eg_router *r = l.s->router;
    char p1[64], p2[64], host[64];
    snprintf(p1, sizeof p1, "/svc/%d", n - 1);
    snprintf(p2, sizeof p2, "/pre/%d/x/y", n - 2);
    snprintf(host, sizeof host, "h%d.com", n);
    if (check) {
        char want[32];
        snprintf(want, sizeof want, "e%d", n - 1);
        CHECK_STR(route(r, "GET", "a", p1, "1.1.1.1", NULL), want);
        snprintf(want, sizeof want, "p%d", n - 2);
        CHECK_STR(route(r, "GET", "a", p2, "1.1.1.1", NULL), want);
        CHECK_STR(route(r, "GET", "a", "/svc/x", "1.1.1.1", NULL), "404");
        CHECK_STR(route(r, "GET", host, "/svc/x", "1.1.1.1", NULL), "last");
        CHECK_STR(route(r, "GET", host, "/svc/1", "1.1.1.1", NULL), "e1");
        CHECK_STR(route(r, "GET", "a", "/pre/10", "1.1.1.1", NULL), "404");
        CHECK_STR(route(r, "GET", "a", "/pre/10/", "1.1.1.1", NULL), "p10");
        CHECK_INT(eg_router_path_count(r), n + 1);
    }
    int iters = 20000;
    double t0 = now_s();
    for (int i = 0; i < iters; i++) {
        eg_route_match m;
        route_full(r, "GET", (i & 1) ? "a" : host, (i & 2) ? p1 : p2, "1.1.1.1", NULL, &m);
    }
    double per = (now_s() - t0) / iters;
    unload(&l);
    return per;
}

static void test_big_table(void)
{
    double small = time_table(20, false);
    double big = time_table(10000, true);
    fprintf(stderr, "  match: %.2f us with 20 rules, %.2f us with 10000 rules\n", small * 1e6, big * 1e6);
    /* a linear scan would be ~500x slower; allow generous noise */
    CHECK(big < small * 25 + 2e-6);
}

int main(void)
{
    RUN(test_decode_defaults);
    RUN(test_decode_all_fields);
    RUN(test_decode_errors);
    RUN(test_decode_warnings);
    RUN(test_hosts);
    RUN(test_paths_and_order);
    RUN(test_status_codes);
    RUN(test_headers_queries);
    RUN(test_rewrite);
    RUN(test_normalize);
    RUN(test_random_vs_linear);
    RUN(test_big_table);
    UNIT_END("router");
}
