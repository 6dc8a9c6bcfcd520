/* test_proxy_spec.c — decoding the Proxy filter: defaults, server URLs, validation errors
 * with field paths, unknown-field warnings, raw sections kept for later. */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "node.h"
#include "proxy_spec.h"
#include "request_matcher.h"

#define CHECK_PREFIX(s, prefix) do { \
    const char *s_ = (s), *p_ = (prefix); \
    if (!s_ || strncmp(s_, p_, strlen(p_)) != 0) { \
        fprintf(stderr, "  %s:%d: \"%s\" does not start with \"%s\"\n", __FILE__, __LINE__, \
                s_ ? s_ : "(null)", p_); \
        unit_case_failed = 1; \
    } } while (0)

static eg_proxy_spec *decode(const char *yaml, eg_dec *d, bool strict)
{
    char err[256] = "";
    eg_dec_init(d, strict);
    eg_node *n = eg_yaml_parse(yaml, strlen(yaml), err, sizeof err);
    if (!n) {
        fprintf(stderr, "  yaml: %s\n", err);
        return NULL;
    }
    eg_proxy_spec *s = eg_proxy_spec_decode(d, n);
    eg_node_free(n);   /* the spec must not point into the tree */
    return s;
}

static bool has_warning(const eg_dec *d, const char *needle)
{
    for (size_t i = 0; i < d->nwarnings; i++)
        if (strstr(d->warnings[i], needle))
            return true;
    return false;
}

/* ---- defaults and a full spec -------------------------------------------------------- */

static void t_defaults(void)
{
    eg_dec d;
    eg_proxy_spec *s = decode("name: proxy\nkind: Proxy\npools:\n- servers:\n  - url: http://127.0.0.1:9095\n",
                              &d, true);
    CHECK(s != NULL);
    CHECK(d.error == NULL);
    CHECK_INT(d.nwarnings, 0);
    if (s) {
        CHECK_INT(s->npools, 1);
        CHECK_INT(s->main_pool, 0);
        CHECK_INT(s->max_idle_conns, 10240);
        CHECK_INT(s->max_idle_conns_per_host, 1024);
        CHECK_INT(s->max_redirection, 0);
        CHECK_INT(s->server_max_body_size, 4194304);
        CHECK(!s->compression);
        CHECK(s->mirror_pool == NULL);
        CHECK(s->mtls == NULL);
        const eg_pool_spec *p = &s->pools[0];
        CHECK(p->filter == NULL);
        CHECK_INT(p->policy, EG_LB_ROUND_ROBIN);
        CHECK_INT(p->timeout_ms, 0);
        CHECK_INT(p->server_max_body_size, 0);
        CHECK_INT(p->nfailure_codes, 0);
        CHECK(!p->set_upstream_host);
        CHECK_INT(p->nservers, 1);
        CHECK_STR(p->servers[0].url, "http://127.0.0.1:9095");
        CHECK_INT(p->servers[0].weight, 0);
        CHECK(!p->servers[0].keep_host);
        CHECK(p->health_check == NULL && p->sticky_session == NULL && p->memory_cache == NULL);
    }
    eg_proxy_spec_free(s);
    eg_dec_free(&d);
}

static const char *full_yaml =
    "name: proxy\n"
    "kind: Proxy\n"
    "pools:\n"
    "- filter:\n"
    "    policy: random\n"
    "    permil: 100\n"
    "  servers:\n"
    "  - {url: 'https://canary.local:8443/v2/', weight: 10, tags: [canary], keepHost: true}\n"
    "  - {url: 'https://canary2.local', weight: 90}\n"
    "  loadBalance: {policy: weightedRandom}\n"
    "- servers:\n"
    "  - url: http://10.0.0.1:8080\n"
    "  - url: http://10.0.0.2:8080\n"
    "  serverTags: [v1, v2]\n"
    "  serviceRegistry: eureka\n"
    "  setUpstreamHost: true\n"
    "  loadBalance:\n"
    "    policy: headerHash\n"
    "    headerHashKey: X-User\n"
    "    stickySession: {mode: CookieConsistentHash, appCookieName: sid}\n"
    "    healthCheck: {interval: 5s, path: /healthz}\n"
    "  spanName: main-span\n"
    "  serverMaxBodySize: -1\n"
    "  timeout: 1.5s\n"
    "  retryPolicy: retry3\n"
    "  circuitBreakerPolicy: cb\n"
    "  memoryCache: {expiration: 10s, maxEntryBytes: 4096, codes: [200], methods: [GET]}\n"
    "  failureCodes: [500, 502, 503]\n"
    "mirrorPool:\n"
    "  servers: [{url: 'http://mirror.local:9000'}]\n"
    "  filter: {policy: random, permil: 10}\n"
    "compression: {minLength: 1024}\n"
    "mtls: {certBase64: Y2VydA==, keyBase64: a2V5, rootCertBase64: cm9vdA==}\n"
    "MaxIdleConns: 100\n"           /* keys match case-insensitively, like Go's JSON */
    "maxIdleConnsPerHost: 10\n"
    "maxRedirection: 3\n"
    "serverMaxBodySize: 1048576\n";

static void t_full(void)
{
    eg_dec d;
    eg_proxy_spec *s = decode(full_yaml, &d, false);
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "  error: %s\n", d.error ? d.error : "?");
        eg_dec_free(&d);
        return;
    }
    CHECK_INT(d.nwarnings, 0);
    CHECK_INT(s->npools, 2);
    CHECK_INT(s->main_pool, 1);
    CHECK_INT(s->max_idle_conns, 100);
    CHECK_INT(s->max_idle_conns_per_host, 10);
    CHECK_INT(s->max_redirection, 3);
    CHECK_INT(s->server_max_body_size, 1048576);
    CHECK(s->compression);
    CHECK_INT(s->compression_min_length, 1024);
    CHECK(s->mtls != NULL && eg_node_str(s->mtls, "keyBase64") && strcmp(eg_node_str(s->mtls, "keyBase64"), "a2V5") == 0);

    const eg_pool_spec *c = &s->pools[0];
    CHECK(c->filter != NULL);
    if (c->filter) {
        CHECK_INT(c->filter->policy, EG_RM_RANDOM);
        CHECK_INT(c->filter->permil, 100);
    }
    CHECK_INT(c->policy, EG_LB_WEIGHTED_RANDOM);
    CHECK_INT(c->nservers, 2);
    CHECK_INT(c->servers[0].weight, 10);
    CHECK_INT(c->servers[1].weight, 90);
    CHECK(c->servers[0].keep_host);
    CHECK_INT(c->servers[0].ntags, 1);
    CHECK_STR(c->servers[0].tags[0], "canary");
    CHECK_STR(c->servers[0].path_prefix, "/v2");
    CHECK_STR(c->servers[0].host_header, "canary.local:8443");

    const eg_pool_spec *m = &s->pools[1];
    CHECK(m->filter == NULL);
    CHECK_INT(m->policy, EG_LB_HEADER_HASH);
    CHECK_STR(m->header_hash_key, "X-User");
    CHECK_INT(m->nserver_tags, 2);
    CHECK_STR(m->server_tags[1], "v2");
    CHECK_STR(m->service_registry, "eureka");
    CHECK(m->service_name == NULL);
    CHECK(m->set_upstream_host);
    CHECK_STR(m->span_name, "main-span");
    CHECK_INT(m->server_max_body_size, -1);
    CHECK_INT(m->timeout_ms, 1500);
    CHECK_STR(m->retry_policy, "retry3");
    CHECK_STR(m->circuit_breaker_policy, "cb");
    CHECK_INT(m->nfailure_codes, 3);
    if (m->nfailure_codes == 3)
        CHECK_INT(m->failure_codes[1], 502);
    CHECK(m->sticky_session && eg_node_str(m->sticky_session, "mode"));
    /* the deprecated loadBalance.healthCheck becomes the pool's */
    CHECK(m->health_check && eg_node_str(m->health_check, "interval") &&
          strcmp(eg_node_str(m->health_check, "interval"), "5s") == 0);
    CHECK(m->memory_cache && eg_node_get(m->memory_cache, "codes"));

    CHECK(s->mirror_pool != NULL);
    if (s->mirror_pool) {
        CHECK(s->mirror_pool->filter != NULL);
        CHECK_INT(s->mirror_pool->nservers, 1);
        CHECK_STR(s->mirror_pool->servers[0].host, "mirror.local");
    }
    eg_proxy_spec_free(s);
    eg_dec_free(&d);
}

static void t_pool_health_check_wins(void)
{
    eg_dec d;
    eg_proxy_spec *s = decode(
        "pools:\n"
        "- servers: [{url: 'http://a'}]\n"
        "  healthCheck: {interval: 2s, uri: /ping}\n"
        "  loadBalance: {healthCheck: {interval: 9s}}\n", &d, true);
    CHECK(s != NULL);
    if (s)
        CHECK_STR(eg_node_str(s->pools[0].health_check, "interval"), "2s");
    eg_proxy_spec_free(s);
    eg_dec_free(&d);
}

/* ---- URLs ---------------------------------------------------------------------------- */

static void t_url_table(void)
{
    static const struct {
        const char *url, *scheme, *host;
        int port;
        const char *host_header, *prefix;
        bool https, ip;
    } ok[] = {
        {"http://127.0.0.1:8080", "http", "127.0.0.1", 8080, "127.0.0.1:8080", "", false, true},
        {"https://example.com", "https", "example.com", 443, "example.com", "", true, false},
        {"http://example.com:80/", "http", "example.com", 80, "example.com", "", false, false},
        {"http://example.com:443", "http", "example.com", 443, "example.com:443", "", false, false},
        {"https://example.com:80", "https", "example.com", 80, "example.com:80", "", true, false},
        {"HTTPS://Example.com:8443/api/v1/", "https", "Example.com", 8443, "Example.com:8443", "/api/v1", true, false},
        {"http://[::1]:9090/x", "http", "::1", 9090, "[::1]:9090", "/x", false, true},
        {"https://[2001:db8::1]", "https", "2001:db8::1", 443, "[2001:db8::1]", "", true, true},
        {"http://[::ffff:10.0.0.1]:80/", "http", "::ffff:10.0.0.1", 80, "[::ffff:10.0.0.1]", "", false, true},
        {"ws://chat.local", "ws", "chat.local", 80, "chat.local", "", false, false},
        {"wss://chat.local:443/socket//", "wss", "chat.local", 443, "chat.local", "/socket", true, false},
        {"http://host:", "http", "host", 80, "host", "", false, false},
        {"http://a.b/", "http", "a.b", 80, "a.b", "", false, false},
        {"http://svc_1.ns.svc.cluster.local:8080/a/b", "http", "svc_1.ns.svc.cluster.local", 8080,
         "svc_1.ns.svc.cluster.local:8080", "/a/b", false, false},
        {"http://10.0.0.256", "http", "10.0.0.256", 80, "10.0.0.256", "", false, false},   /* not an IP */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        eg_upstream u;
        const char *why = NULL;
        bool r = eg_upstream_parse_url(ok[i].url, &u, &why);
        if (!r) {
            fprintf(stderr, "  %s: %s\n", ok[i].url, why);
            CHECK(r);
            continue;
        }
        CHECK_STR(u.url, ok[i].url);
        CHECK_STR(u.scheme, ok[i].scheme);
        CHECK_STR(u.host, ok[i].host);
        CHECK_INT(u.port, ok[i].port);
        CHECK_STR(u.host_header, ok[i].host_header);
        CHECK_STR(u.path_prefix, ok[i].prefix);
        CHECK_INT(u.https, ok[i].https);
        CHECK_INT(u.host_is_ip, ok[i].ip);
        eg_upstream_free(&u);
    }

    static const char *bad[] = {
        "127.0.0.1:8888", "ftp://x", "http://", "http:///path", "http://[::1", "http://[zz]:80",
        "http://h:0", "http://h:65536", "http://h:8a", "http://u:p@h", "http://h/p?q=1",
        "http://h#frag", "http://h h", "http://a:b:c", "http://[::1]x", "http://ho^st", "",
        "http//h", "://h", "http://h\t/",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        eg_upstream u;
        const char *why = NULL;
        bool r = eg_upstream_parse_url(bad[i], &u, &why);
        if (r) {
            fprintf(stderr, "  accepted %s\n", bad[i]);
            eg_upstream_free(&u);
        }
        CHECK(!r);
        CHECK(why != NULL);
    }
}

/* ---- errors -------------------------------------------------------------------------- */

static void t_errors(void)
{
    static const struct {
        const char *yaml, *error;
    } cases[] = {
        {"pools: []\n", "pools: must not be empty"},
        {"name: p\nkind: Proxy\n", "pools"},
        {"pools:\n- servers: [{url: 'http://a:1'}, {url: '127.0.0.1:8888'}]\n",
         "pools[0].servers[1].url: invalid URL \"127.0.0.1:8888\""},
        {"pools:\n- servers: [{url: 'ftp://a'}]\n", "pools[0].servers[0].url: invalid URL \"ftp://a\""},
        {"pools:\n- servers: [{weight: 1}]\n", "pools[0].servers[0].url"},
        {"pools:\n- servers: ['http://a']\n", "pools[0].servers[0]: must be an object"},
        {"pools:\n- servers: [{url: 'http://a'}]\n- servers: [{url: 'http://b'}]\n",
         "pools: one and only one mainPool"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  filter: {headers: {X: {exact: y}}}\n",
         "pools: one and only one mainPool"},
        {"pools:\n- servers: [{url: 'http://a', weight: 101}]\n",
         "pools[0].servers[0].weight: must be between 0 and 100"},
        {"pools:\n- servers: [{url: 'http://a', weight: -1}]\n",
         "pools[0].servers[0].weight: must be between 0 and 100"},
        {"pools:\n- servers: [{url: 'http://a', weight: 5}, {url: 'http://b'}]\n",
         "pools[0].servers: not all servers have weight(1/2)"},
        {"pools:\n- loadBalance: {policy: random}\n", "pools[0]: both serviceName and servers are empty"},
        {"pools:\n- servers: []\n", "pools[0]: both serviceName and servers are empty"},
        {"pools:\n- serviceName: svc\n  healthCheck: {interval: 1s}\n",
         "pools[0].healthCheck: can not open health check for service discovery"},
        {"pools:\n- serviceName: svc\n  loadBalance: {healthCheck: {interval: 1s}}\n",
         "pools[0].healthCheck: can not open health check for service discovery"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  loadBalance: {policy: headerHash}\n",
         "pools[0].loadBalance.headerHashKey: headerHash needs to specify headerHashKey"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  loadBalance: {policy: forward}\n",
         "pools[0].loadBalance.policy: policy forward is only supported by GRPCProxy"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  failureCodes: [500, 600]\n",
         "pools[0].failureCodes[1]: must be an HTTP status code"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  failureCodes: [500, 500]\n",
         "pools[0].failureCodes[1]: duplicate code 500"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  failureCodes: ['500']\n",
         "pools[0].failureCodes[0]: must be an integer"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  timeout: 5 seconds\n", "pools[0].timeout"},
        {"pools:\n- servers: [{url: 'http://a', tags: [x, x]}]\n", "pools[0].servers[0].tags: duplicate"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  serverMaxBodySize: -2\n",
         "pools[0].serverMaxBodySize: must be -1"},
        /* pool filter */
        {"pools:\n- servers: [{url: 'http://a'}]\n  filter: {matchAllHeaders: true}\n- servers: [{url: 'http://b'}]\n",
         "pools[0].filter.headers: headers is not specified"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  filter: {policy: ipHash}\n- servers: [{url: 'http://b'}]\n",
         "pools[0].filter.permil: permil is not specified"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  filter: {policy: random, permil: 1001}\n- servers: [{url: 'http://b'}]\n",
         "pools[0].filter.permil: must be between 0 and 1000"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  filter: {policy: headerHash, permil: 5}\n- servers: [{url: 'http://b'}]\n",
         "pools[0].filter.headerHashKey: headerHash needs to specify headerHashKey"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  filter: {policy: canary, permil: 5}\n- servers: [{url: 'http://b'}]\n",
         "pools[0].filter.policy: unknown policy \"canary\""},
        {"pools:\n- servers: [{url: 'http://b'}]\n- servers: [{url: 'http://a'}]\n  filter: {headers: {X-A: {regex: 'a(b'}}}\n",
         "pools[1].filter.headers.X-A.regex: invalid regexp \"a(b\""},
        {"pools:\n- servers: [{url: 'http://b'}]\n- servers: [{url: 'http://a'}]\n  filter: {headers: {X-A: {empty: true, exact: x}}}\n",
         "pools[1].filter.headers.X-A: empty is conflict with other patterns"},
        {"pools:\n- servers: [{url: 'http://b'}]\n- servers: [{url: 'http://a'}]\n  filter: {headers: {X-A: {exact: ''}}}\n",
         "pools[1].filter.headers.X-A: all patterns are empty"},
        {"pools:\n- servers: [{url: 'http://b'}]\n- servers: [{url: 'http://a'}]\n  filter:\n    headers: {X-A: {exact: x}}\n    urls: [{methods: [GET, FETCH], url: {prefix: /}}]\n",
         "pools[1].filter.urls[0].methods[1]: invalid HTTP method \"FETCH\""},
        {"pools:\n- servers: [{url: 'http://b'}]\n- servers: [{url: 'http://a'}]\n  filter:\n    headers: {X-A: {exact: x}}\n    urls: [{methods: [GET]}]\n",
         "pools[1].filter.urls[0].url"},
        /* healthCheck and memoryCache, checked as Easegress checks them */
        {"pools:\n- servers: [{url: 'http://a'}]\n  healthCheck: {interval: often}\n",
         "pools[0].healthCheck.interval: invalid duration \"often\""},
        {"pools:\n- servers: [{url: 'http://a'}]\n  healthCheck: {fails: 0}\n",
         "pools[0].healthCheck.fails: must be at least 1"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  healthCheck: {passes: -2}\n",
         "pools[0].healthCheck.passes: must be at least 1"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  healthCheck: {port: -1}\n",
         "pools[0].healthCheck.port: invalid port: -1"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  healthCheck: {uri: '/h%zz'}\n",
         "pools[0].healthCheck.uri: invalid URI"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  healthCheck: {method: get}\n",
         "pools[0].healthCheck.method: invalid method: get"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  healthCheck: {headers: {X-A: 1}}\n",
         "pools[0].healthCheck.headers.X-A: expected a string"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  healthCheck: {username: admin}\n",
         "pools[0].healthCheck.password: empty password"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  healthCheck: {password: secret}\n",
         "pools[0].healthCheck.username: empty username"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  healthCheck: {match: {statusCodes: [[200]]}}\n",
         "pools[0].healthCheck.match.statusCodes[0]: invalid status code range"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  healthCheck: {match: {statusCodes: [[299, 200]]}}\n",
         "pools[0].healthCheck.match.statusCodes[0]: invalid status code range: [299, 200]"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  healthCheck: {match: {headers: [{value: x}]}}\n",
         "pools[0].healthCheck.match.headers[0].name: empty match header name"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  healthCheck: {match: {headers: [{name: X, type: prefix}]}}\n",
         "pools[0].healthCheck.match.headers[0].type: invalid match header type: prefix"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  healthCheck: {match: {headers: [{name: X, value: 'a(', type: regexp}]}}\n",
         "pools[0].healthCheck.match.headers[0].value: invalid match header regex: a("},
        {"pools:\n- servers: [{url: 'http://a'}]\n  healthCheck: {match: {body: {value: x, type: exact}}}\n",
         "pools[0].healthCheck.match.body.type: invalid match body type: exact"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  healthCheck: {match: {body: {value: '[', type: regexp}}}\n",
         "pools[0].healthCheck.match.body.value: invalid match body regex: ["},
        {"pools:\n- servers: [{url: 'http://a'}]\n  loadBalance: {healthCheck: {interval: 1 minute}}\n",
         "pools[0].loadBalance.healthCheck.interval: invalid duration"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  memoryCache: {maxEntryBytes: 1, codes: [200], methods: [GET]}\n",
         "pools[0].memoryCache.expiration: missing required field"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  memoryCache: {expiration: 1s, maxEntryBytes: 0, codes: [200], methods: [GET]}\n",
         "pools[0].memoryCache.maxEntryBytes: must be between 1 and"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  memoryCache: {expiration: 1s, maxEntryBytes: 1, codes: [], methods: [GET]}\n",
         "pools[0].memoryCache.codes: must not be empty"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  memoryCache: {expiration: 1s, maxEntryBytes: 1, codes: [200, 200], methods: [GET]}\n",
         "pools[0].memoryCache.codes[1]: duplicate code 200"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  memoryCache: {expiration: 1s, maxEntryBytes: 1, codes: [700], methods: [GET]}\n",
         "pools[0].memoryCache.codes[0]: must be an HTTP status code"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  memoryCache: {expiration: 1s, maxEntryBytes: 1, codes: [200]}\n",
         "pools[0].memoryCache.methods: missing required field"},
        {"pools:\n- servers: [{url: 'http://a'}]\n  memoryCache: {expiration: 1s, maxEntryBytes: 1, codes: [200], methods: [GET, FETCH]}\n",
         "pools[0].memoryCache.methods: invalid HTTP method \"FETCH\""},
        {"pools:\n- servers: [{url: 'http://a'}]\n  memoryCache: {expiration: 1s, maxEntryBytes: 1, codes: [200], methods: [GET, GET]}\n",
         "pools[0].memoryCache.methods: duplicate method \"GET\""},
        /* proxy level */
        {"pools:\n- servers: [{url: 'http://a'}]\nmirrorPool:\n  servers: [{url: 'http://m'}]\n",
         "mirrorPool.filter: filter of mirrorPool is required"},
        {"pools:\n- servers: [{url: 'http://a'}]\nmirrorPool:\n  servers: [{url: 'http://m'}]\n  filter: {policy: random, permil: 1}\n  memoryCache: {expiration: 1s, maxEntryBytes: 1, codes: [200], methods: [GET]}\n",
         "mirrorPool.memoryCache: memoryCache must be empty in mirrorPool"},
        {"pools:\n- servers: [{url: 'http://a'}]\nmirrorPool:\n  servers: [{url: 'bad'}]\n  filter: {policy: random, permil: 1}\n",
         "mirrorPool.servers[0].url: invalid URL \"bad\""},
        {"pools:\n- servers: [{url: 'http://a'}]\nserverMaxBodySize: -5\n", "serverMaxBodySize: must be -1"},
        {"pools:\n- servers: [{url: 'http://a'}]\ncompression: {minLength: -1}\n", "compression.minLength: must be between"},
        {"pools:\n- servers: [{url: 'http://a'}]\nmaxRedirection: -1\n", "maxRedirection: must be between"},
        {"pools:\n- servers: [{url: 'http://a'}]\nmtls: yes\n", "mtls"},
        {"pools: {servers: []}\n", "pools"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eg_dec d;
        eg_proxy_spec *s = decode(cases[i].yaml, &d, false);
        if (s || !d.error)
            fprintf(stderr, "  case %zu accepted\n", i);
        CHECK(s == NULL);
        CHECK_PREFIX(d.error, cases[i].error);
        eg_proxy_spec_free(s);
        eg_dec_free(&d);
    }
}

/* ---- unknown fields and values ------------------------------------------------------- */

static const char *typo_yaml =
    "name: proxy\n"
    "kind: Proxy\n"
    "maxConnection: 10\n"
    "pools:\n"
    "- servers:\n"
    "  - {url: 'http://a', weigth: 3}\n"
    "  loadBalance: {polcy: random}\n"
    "  filter: {headers: {X-A: {exact: x, exat: y}}, urls: [{url: {prefix: /}, method: [GET]}]}\n"
    "- servers: [{url: 'http://b'}]\n"
    "  serversTags: [x]\n"
    "compression: {minLen: 3}\n";

static void t_unknown_fields_warn(void)
{
    eg_dec d;
    eg_proxy_spec *s = decode(typo_yaml, &d, false);
    CHECK(s != NULL);
    CHECK(d.error == NULL);
    CHECK_INT(d.nwarnings, 7);
    CHECK(has_warning(&d, "maxConnection"));
    CHECK(has_warning(&d, "pools[0].servers[0].weigth"));
    CHECK(has_warning(&d, "pools[0].loadBalance.polcy"));
    CHECK(has_warning(&d, "pools[0].filter.headers.X-A.exat"));
    CHECK(has_warning(&d, "pools[0].filter.urls[0].method"));
    CHECK(has_warning(&d, "pools[1].serversTags"));
    CHECK(has_warning(&d, "compression.minLen"));
    for (size_t i = 0; i < d.nwarnings; i++)
        CHECK(strstr(d.warnings[i], "name") == NULL && strstr(d.warnings[i], "kind") == NULL);
    eg_proxy_spec_free(s);
    eg_dec_free(&d);

    s = decode(typo_yaml, &d, true);
    CHECK(s == NULL);
    CHECK(d.error != NULL);
    eg_proxy_spec_free(s);
    eg_dec_free(&d);
}

/* Easegress's docs write `pass:` for `passes`; Easegress ignores it silently, we warn. The
 * full health check of its docs is otherwise accepted without a warning. */
static const char *health_yaml =
    "pools:\n"
    "- servers: [{url: 'http://a'}]\n"
    "  healthCheck:\n"
    "    interval: 60s\n"
    "    timeout: 3s\n"
    "    fails: 1\n"
    "    pass: 1\n"
    "    port: 10080\n"
    "    uri: /health\n"
    "    method: GET\n"
    "    headers: {X-Health-Check: easegress}\n"
    "    body: you-body-here\n"
    "    username: admin\n"
    "    password: xxxxxx\n"
    "    match:\n"
    "      statusCodes: [[200, 299], [300, 399]]\n"
    "      headers: [{name: X-Status, value: healthy, type: exact}, {name: X-Re, value: '^ok', type: regexp, typ: x}]\n"
    "      body: {value: healthy, type: contains}\n"
    "  loadBalance: {healthCheck: {interval: 5s, path: /healthz, passes: 2, uri: /x}}\n"
    "  memoryCache: {expiration: 10s, maxEntryBytes: 4096, codes: [200, 201], methods: [GET, HEAD], size: 3}\n";

static void t_health_check_and_cache_fields(void)
{
    eg_dec d;
    eg_proxy_spec *s = decode(health_yaml, &d, false);
    CHECK(s != NULL);
    CHECK(d.error == NULL);
    CHECK_INT(d.nwarnings, 4);
    CHECK(has_warning(&d, "unknown field pools[0].healthCheck.pass"));
    CHECK(has_warning(&d, "unknown field pools[0].healthCheck.match.headers[1].typ"));
    CHECK(has_warning(&d, "unknown field pools[0].loadBalance.healthCheck.uri"));
    CHECK(has_warning(&d, "unknown field pools[0].memoryCache.size"));
    /* the sections are still kept whole for when health checks and the cache exist */
    if (s) {
        CHECK(s->pools[0].health_check != NULL && eg_node_str(s->pools[0].health_check, "uri") &&
              strcmp(eg_node_str(s->pools[0].health_check, "uri"), "/health") == 0);
        CHECK(s->pools[0].memory_cache != NULL);
    }
    eg_proxy_spec_free(s);
    eg_dec_free(&d);

    s = decode(health_yaml, &d, true);
    CHECK(s == NULL);
    CHECK_PREFIX(d.error, "unknown field pools[0]");
    eg_proxy_spec_free(s);
    eg_dec_free(&d);
}

static void t_unknown_policy_warns(void)
{
    const char *y = "pools:\n- servers: [{url: 'http://a'}]\n  loadBalance: {policy: leastConn}\n";
    eg_dec d;
    eg_proxy_spec *s = decode(y, &d, false);
    CHECK(s != NULL);
    CHECK_INT(d.nwarnings, 1);
    CHECK(has_warning(&d, "pools[0].loadBalance.policy: unknown policy \"leastConn\", using roundRobin"));
    if (s)
        CHECK_INT(s->pools[0].policy, EG_LB_ROUND_ROBIN);
    eg_proxy_spec_free(s);
    eg_dec_free(&d);

    s = decode(y, &d, true);
    CHECK(s == NULL);
    CHECK_PREFIX(d.error, "pools[0].loadBalance.policy: unknown policy");
    eg_proxy_spec_free(s);
    eg_dec_free(&d);
}

static void t_lb_policies(void)
{
    static const struct {
        const char *name;
        eg_lb_policy want;
    } cases[] = {
        {"''", EG_LB_ROUND_ROBIN}, {"roundRobin", EG_LB_ROUND_ROBIN}, {"random", EG_LB_RANDOM},
        {"weightedRandom", EG_LB_WEIGHTED_RANDOM}, {"ipHash", EG_LB_IP_HASH},
        {"headerHash", EG_LB_HEADER_HASH}, {"cookieHash", EG_LB_COOKIE_HASH},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char y[256];
        snprintf(y, sizeof y,
                 "pools:\n- servers: [{url: 'http://a'}]\n  loadBalance: {policy: %s, headerHashKey: X-K}\n",
                 cases[i].name);
        eg_dec d;
        eg_proxy_spec *s = decode(y, &d, true);
        CHECK(s != NULL);
        if (s)
            CHECK_INT(s->pools[0].policy, cases[i].want);
        eg_proxy_spec_free(s);
        eg_dec_free(&d);
    }
}

int main(void)
{
    RUN(t_defaults);
    RUN(t_full);
    RUN(t_pool_health_check_wins);
    RUN(t_url_table);
    RUN(t_errors);
    RUN(t_unknown_fields_warn);
    RUN(t_health_check_and_cache_fields);
    RUN(t_unknown_policy_warns);
    RUN(t_lb_policies);
    UNIT_END("proxy_spec");
}
