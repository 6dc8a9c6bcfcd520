/* test_lb.c — load-balancing policies, FNV hashes, pool filters and pool selection. */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "node.h"
#include "proxy_spec.h"
#include "request_matcher.h"

/* ---- helpers ------------------------------------------------------------------------- */

#define MAXS 8

typedef struct {
    eg_upstream servers[MAXS];
    eg_pool_spec pool;
} test_pool;

/* A pool of n servers built in code (the LB only looks at policy, weights, hash key). */
static void make_pool(test_pool *tp, size_t n, eg_lb_policy policy, const int *weights)
{
    memset(tp, 0, sizeof *tp);
    for (size_t i = 0; i < n; i++)
        tp->servers[i].weight = weights ? weights[i] : 0;
    tp->pool.servers = tp->servers;
    tp->pool.nservers = n;
    tp->pool.policy = policy;
}

static eg_headers hdrs(eg_header *items, size_t n)
{
    eg_headers h = {items, n, n};
    return h;
}

static eg_header H(const char *name, const char *value)
{
    eg_header h = {name, strlen(name), value, strlen(value)};
    return h;
}

static eg_lb_request lbreq(const char *ip, const eg_headers *h, const char *method, const char *path)
{
    eg_lb_request r = {ip, h, method, method ? strlen(method) : 0, path, path ? strlen(path) : 0};
    return r;
}

static eg_proxy_spec *decode_yaml(const char *yaml, eg_dec *d)
{
    char err[256] = "";
    eg_node *n = eg_yaml_parse(yaml, strlen(yaml), err, sizeof err);
    if (!n) {
        fprintf(stderr, "  yaml: %s\n", err);
        return NULL;
    }
    eg_proxy_spec *s = eg_proxy_spec_decode(d, n);
    eg_node_free(n);
    return s;
}

/* ---- hashes -------------------------------------------------------------------------- */

static void t_fnv_vectors(void)
{
    /* Reference values of the FNV test suite (and Go's hash/fnv). */
    CHECK_INT(eg_fnv32("", 0), 0x811c9dc5u);
    CHECK_INT(eg_fnv32a("", 0), 0x811c9dc5u);
    CHECK_INT(eg_fnv32("a", 1), 0x050c5d7eu);
    CHECK_INT(eg_fnv32a("a", 1), 0xe40c292cu);
    CHECK_INT(eg_fnv32("foobar", 6), 0x31f0b262u);
    CHECK_INT(eg_fnv32a("foobar", 6), 0xbf9cf968u);
}

static void t_rand_seeded_lazily(void)
{
    eg_lb_state a = {0, 0}, b = {0, 0};
    uint64_t x = eg_lb_rand(&a), y = eg_lb_rand(&b);
    CHECK(a.rng != 0);
    CHECK(b.rng != 0);
    CHECK(x != y);   /* different states (addresses) seed differently */
    uint64_t z = eg_lb_rand(&a);
    CHECK(z != x);
}

/* ---- policies ------------------------------------------------------------------------ */

static void t_round_robin_cycle(void)
{
    test_pool tp;
    make_pool(&tp, 3, EG_LB_ROUND_ROBIN, NULL);
    eg_lb_state st = {0, 0};
    for (int i = 0; i < 9; i++)
        CHECK_INT(eg_lb_pick(&tp.pool, &st, NULL, NULL), i % 3);
}

static void t_round_robin_skips_unhealthy(void)
{
    test_pool tp;
    make_pool(&tp, 4, EG_LB_ROUND_ROBIN, NULL);
    bool healthy[4] = {true, false, true, true};
    eg_lb_state st = {0, 0};
    const int want[] = {0, 2, 3, 0, 2, 3};
    for (int i = 0; i < 6; i++)
        CHECK_INT(eg_lb_pick(&tp.pool, &st, NULL, healthy), want[i]);
    bool none[4] = {false, false, false, false};
    CHECK_INT(eg_lb_pick(&tp.pool, &st, NULL, none), -1);
    make_pool(&tp, 0, EG_LB_ROUND_ROBIN, NULL);
    CHECK_INT(eg_lb_pick(&tp.pool, &st, NULL, NULL), -1);
}

static void t_random_uniform(void)
{
    test_pool tp;
    make_pool(&tp, 3, EG_LB_RANDOM, NULL);
    eg_lb_state st = {0, 0};
    int count[3] = {0, 0, 0};
    for (int i = 0; i < 30000; i++) {
        int k = eg_lb_pick(&tp.pool, &st, NULL, NULL);
        CHECK(k >= 0 && k < 3);
        if (k >= 0 && k < 3)
            count[k]++;
    }
    for (int i = 0; i < 3; i++)
        CHECK(count[i] > 9000 && count[i] < 11000);

    /* never an unhealthy one */
    bool healthy[3] = {false, true, false};
    for (int i = 0; i < 100; i++)
        CHECK_INT(eg_lb_pick(&tp.pool, &st, NULL, healthy), 1);
}

static void t_weighted_random(void)
{
    test_pool tp;
    const int w[] = {10, 20, 70};
    make_pool(&tp, 3, EG_LB_WEIGHTED_RANDOM, w);
    eg_lb_state st = {0, 0};
    int count[3] = {0, 0, 0};
    for (int i = 0; i < 30000; i++) {
        int k = eg_lb_pick(&tp.pool, &st, NULL, NULL);
        if (k >= 0 && k < 3)
            count[k]++;
    }
    CHECK(count[0] > 2500 && count[0] < 3500);
    CHECK(count[1] > 5300 && count[1] < 6700);
    CHECK(count[2] > 20000 && count[2] < 22000);

    /* unhealthy servers' weight is taken out */
    bool healthy[3] = {true, true, false};
    int c2[3] = {0, 0, 0};
    for (int i = 0; i < 30000; i++) {
        int k = eg_lb_pick(&tp.pool, &st, NULL, healthy);
        if (k >= 0 && k < 3)
            c2[k]++;
    }
    CHECK_INT(c2[2], 0);
    CHECK(c2[0] > 9000 && c2[0] < 11000);   /* 1/3 */

    /* no weights at all: uniform rather than Easegress's panic */
    make_pool(&tp, 2, EG_LB_WEIGHTED_RANDOM, NULL);
    int c3[2] = {0, 0};
    for (int i = 0; i < 10000; i++) {
        int k = eg_lb_pick(&tp.pool, &st, NULL, NULL);
        if (k >= 0 && k < 2)
            c3[k]++;
    }
    CHECK(c3[0] > 4000 && c3[1] > 4000);
}

static void t_ip_hash(void)
{
    test_pool tp;
    make_pool(&tp, 4, EG_LB_IP_HASH, NULL);
    eg_lb_state st = {0, 0};
    int count[4] = {0, 0, 0, 0};
    char ip[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(ip, sizeof ip, "10.0.%d.%d", i / 256, i % 256);
        eg_lb_request r = lbreq(ip, NULL, NULL, NULL);
        int k = eg_lb_pick(&tp.pool, &st, &r, NULL);
        CHECK_INT(k, eg_fnv32(ip, strlen(ip)) % 4);   /* as Easegress: fnv32(ip) % n */
        CHECK_INT(eg_lb_pick(&tp.pool, &st, &r, NULL), k);   /* stable */
        if (k >= 0 && k < 4)
            count[k]++;
    }
    for (int i = 0; i < 4; i++)
        CHECK(count[i] > 150);

    /* with unhealthy servers: modulo the healthy ones, in order */
    bool healthy[4] = {true, false, true, true};
    const int map[3] = {0, 2, 3};
    eg_lb_request r = lbreq("192.168.1.7", NULL, NULL, NULL);
    CHECK_INT(eg_lb_pick(&tp.pool, &st, &r, healthy), map[eg_fnv32("192.168.1.7", 11) % 3]);
}

static void t_header_hash(void)
{
    test_pool tp;
    make_pool(&tp, 5, EG_LB_HEADER_HASH, NULL);
    tp.pool.header_hash_key = "X-User";
    eg_lb_state st = {0, 0};
    int count[5] = {0};
    char v[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(v, sizeof v, "user-%d", i);
        eg_header items[2] = {H("Accept", "*/*"), H("x-user", v)};   /* case-insensitive name */
        eg_headers h = hdrs(items, 2);
        eg_lb_request r = lbreq("1.2.3.4", &h, "GET", "/");
        int k = eg_lb_pick(&tp.pool, &st, &r, NULL);
        CHECK_INT(k, eg_fnv32(v, strlen(v)) % 5);
        CHECK_INT(eg_lb_pick(&tp.pool, &st, &r, NULL), k);
        if (k >= 0 && k < 5)
            count[k]++;
    }
    for (int i = 0; i < 5; i++)
        CHECK(count[i] > 120);

    /* missing header hashes the empty string */
    eg_header other[1] = {H("Accept", "*/*")};
    eg_headers h = hdrs(other, 1);
    eg_lb_request r = lbreq("1.2.3.4", &h, "GET", "/");
    CHECK_INT(eg_lb_pick(&tp.pool, &st, &r, NULL), eg_fnv32("", 0) % 5);
    r.headers = NULL;
    CHECK_INT(eg_lb_pick(&tp.pool, &st, &r, NULL), eg_fnv32("", 0) % 5);
}

static void t_cookie_hash(void)
{
    test_pool tp;
    make_pool(&tp, 3, EG_LB_COOKIE_HASH, NULL);
    eg_lb_state st = {0, 0};
    const char *cookie = "session=abc123; theme=dark";
    eg_header items[1] = {H("Cookie", cookie)};
    eg_headers h = hdrs(items, 1);
    eg_lb_request r = lbreq("1.2.3.4", &h, "GET", "/");
    int k = eg_lb_pick(&tp.pool, &st, &r, NULL);
    CHECK_INT(k, eg_fnv32(cookie, strlen(cookie)) % 3);
    for (int i = 0; i < 10; i++)
        CHECK_INT(eg_lb_pick(&tp.pool, &st, &r, NULL), k);
    /* different cookies spread */
    int seen[3] = {0, 0, 0};
    char c[32];
    for (int i = 0; i < 300; i++) {
        snprintf(c, sizeof c, "session=%d", i);
        items[0] = H("cookie", c);
        int j = eg_lb_pick(&tp.pool, &st, &r, NULL);
        if (j >= 0 && j < 3)
            seen[j]++;
    }
    CHECK(seen[0] > 50 && seen[1] > 50 && seen[2] > 50);
}

/* ---- pool selection ------------------------------------------------------------------ */

static const char *canary_yaml =
    "name: proxy\n"
    "kind: Proxy\n"
    "pools:\n"
    "- servers: [{url: 'http://10.0.0.1:8080'}]\n"
    "  filter:\n"
    "    headers:\n"
    "      X-Canary: {exact: 'yes'}\n"
    "      X-Beta: {prefix: 'team-'}\n"
    "- servers: [{url: 'http://10.0.0.2:8080'}]\n"
    "  filter:\n"
    "    matchAllHeaders: true\n"
    "    headers:\n"
    "      X-Version: {regex: '^v[0-9]+$'}\n"
    "      X-Absent: {empty: true}\n"
    "- servers: [{url: 'http://10.0.0.3:8080'}]\n"
    "  filter:\n"
    "    headers:\n"
    "      X-Api: {exact: 'true'}\n"
    "    urls:\n"
    "    - methods: [POST, PUT]\n"
    "      url: {prefix: /api/}\n"
    "    - url: {exact: /health}\n"
    "- servers: [{url: 'http://10.0.0.4:8080'}]\n";

static void t_choose_pool_general(void)
{
    eg_dec d;
    eg_dec_init(&d, false);
    eg_proxy_spec *s = decode_yaml(canary_yaml, &d);
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "  error: %s\n", d.error ? d.error : "?");
        eg_dec_free(&d);
        return;
    }
    CHECK_INT(s->npools, 4);
    CHECK_INT(s->main_pool, 3);
    eg_lb_state st = {0, 0};

    struct {
        eg_header h[3];
        size_t nh;
        const char *method, *path;
        size_t want;
    } cases[] = {
        {{H("Accept", "*/*")}, 1, "GET", "/", 3},
        {{H("X-Canary", "yes")}, 1, "GET", "/", 0},
        {{H("x-canary", "no"), H("X-Canary", "yes")}, 2, "GET", "/", 0},   /* any value */
        {{H("X-Canary", "yes!")}, 1, "GET", "/", 3},
        {{H("X-Beta", "team-a")}, 1, "GET", "/", 0},
        {{H("X-Beta", "steam-a")}, 1, "GET", "/", 3},
        /* matchAllHeaders: regex AND missing X-Absent (empty) */
        {{H("X-Version", "v12")}, 1, "GET", "/", 1},
        {{H("X-Version", "v12"), H("X-Absent", "")}, 2, "GET", "/", 1},
        {{H("X-Version", "v12"), H("X-Absent", "x")}, 2, "GET", "/", 3},
        {{H("X-Version", "v12\n")}, 1, "GET", "/", 3},   /* $ only at the very end */
        {{H("X-Version", "12")}, 1, "GET", "/", 3},
        /* headers AND urls (any url) */
        {{H("X-Api", "true")}, 1, "POST", "/api/users", 2},
        {{H("X-Api", "true")}, 1, "GET", "/api/users", 3},
        {{H("X-Api", "true")}, 1, "GET", "/health", 2},
        {{H("X-Api", "true")}, 1, "post", "/api/users", 3},   /* methods are exact */
        {{H("X-Api", "false")}, 1, "POST", "/api/users", 3},
        /* first candidate wins */
        {{H("X-Canary", "yes"), H("X-Version", "v1")}, 2, "GET", "/", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eg_headers h = hdrs(cases[i].h, cases[i].nh);
        eg_lb_request r = lbreq("127.0.0.1", &h, cases[i].method, cases[i].path);
        size_t got = eg_proxy_choose_pool(s, &r, &st);
        if (got != cases[i].want)
            fprintf(stderr, "  case %zu\n", i);
        CHECK_INT(got, cases[i].want);
    }
    eg_proxy_spec_free(s);
    eg_dec_free(&d);
}

static eg_proxy_spec *permil_spec(const char *filter, eg_dec *d)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "pools:\n"
             "- servers: [{url: 'http://10.0.0.1'}]\n"
             "  filter: %s\n"
             "- servers: [{url: 'http://10.0.0.2'}]\n", filter);
    eg_dec_init(d, false);
    eg_proxy_spec *s = decode_yaml(yaml, d);
    if (!s)
        fprintf(stderr, "  error: %s\n", d->error ? d->error : "?");
    return s;
}

static void t_choose_pool_permil(void)
{
    eg_dec d;
    eg_lb_state st = {0, 0};
    char ip[32];

    /* ipHash: fnv32(ip) % 1000 < permil */
    eg_proxy_spec *s = permil_spec("{policy: ipHash, permil: 300}", &d);
    CHECK(s != NULL);
    if (s) {
        int hits = 0;
        for (int i = 0; i < 2000; i++) {
            snprintf(ip, sizeof ip, "172.16.%d.%d", i / 250, i % 250);
            eg_lb_request r = lbreq(ip, NULL, "GET", "/");
            size_t p = eg_proxy_choose_pool(s, &r, &st);
            CHECK_INT(p, eg_fnv32(ip, strlen(ip)) % 1000 < 300 ? 0 : 1);
            CHECK_INT(eg_proxy_choose_pool(s, &r, &st), p);
            hits += p == 0;
        }
        CHECK(hits > 400 && hits < 800);
    }
    eg_proxy_spec_free(s);
    eg_dec_free(&d);

    /* headerHash on headerHashKey */
    s = permil_spec("{policy: headerHash, headerHashKey: X-User, permil: 500}", &d);
    CHECK(s != NULL);
    if (s) {
        int hits = 0;
        for (int i = 0; i < 2000; i++) {
            snprintf(ip, sizeof ip, "u%d", i);
            eg_header items[1] = {H("X-User", ip)};
            eg_headers h = hdrs(items, 1);
            eg_lb_request r = lbreq("1.1.1.1", &h, "GET", "/");
            size_t p = eg_proxy_choose_pool(s, &r, &st);
            CHECK_INT(p, eg_fnv32(ip, strlen(ip)) % 1000 < 500 ? 0 : 1);
            hits += p == 0;
        }
        CHECK(hits > 800 && hits < 1200);
        eg_lb_request r = lbreq("1.1.1.1", NULL, "GET", "/");
        CHECK_INT(eg_proxy_choose_pool(s, &r, &st), eg_fnv32("", 0) % 1000 < 500 ? 0 : 1);
    }
    eg_proxy_spec_free(s);
    eg_dec_free(&d);

    /* random: about permil/1000 of requests; 1000 = all */
    s = permil_spec("{policy: random, permil: 250}", &d);
    CHECK(s != NULL);
    if (s) {
        int hits = 0;
        eg_lb_request r = lbreq("1.1.1.1", NULL, "GET", "/");
        for (int i = 0; i < 20000; i++)
            hits += eg_proxy_choose_pool(s, &r, &st) == 0;
        CHECK(hits > 4500 && hits < 5500);
    }
    eg_proxy_spec_free(s);
    eg_dec_free(&d);

    s = permil_spec("{policy: random, permil: 1000}", &d);
    CHECK(s != NULL);
    if (s) {
        eg_lb_request r = lbreq("1.1.1.1", NULL, "GET", "/");
        for (int i = 0; i < 1000; i++)
            CHECK_INT(eg_proxy_choose_pool(s, &r, &st), 0);
    }
    eg_proxy_spec_free(s);
    eg_dec_free(&d);
}

/* The matcher pieces used by other filters, called directly. */
static void t_string_matcher(void)
{
    eg_dec d;
    eg_dec_init(&d, false);
    char err[128];
    const char *y = "{exact: /a, prefix: /b/, regex: 'x+y$'}";
    eg_node *n = eg_yaml_parse(y, strlen(y), err, sizeof err);
    CHECK(n != NULL);
    eg_string_matcher m;
    CHECK(eg_string_matcher_decode(&d, n, &m));
    CHECK(eg_string_matcher_match(&m, "/a", 2));
    CHECK(!eg_string_matcher_match(&m, "/ab", 3));
    CHECK(eg_string_matcher_match(&m, "/b/c", 4));
    CHECK(eg_string_matcher_match(&m, "--xxy", 5));    /* unanchored search */
    CHECK(!eg_string_matcher_match(&m, "xyz", 3));
    CHECK(!eg_string_matcher_match(&m, "", 0));
    CHECK(eg_string_matcher_match(&m, "xy\xff\xfe", 2));   /* length-bounded subject */
    CHECK(!eg_string_matcher_match(&m, "\xff\xfexy!", 5)); /* invalid UTF-8 is no error */
    CHECK(eg_string_matcher_match(&m, "\xff\xfexy", 4));
    eg_string_matcher_free(&m);
    eg_node_free(n);
    eg_dec_free(&d);
}

int main(void)
{
    RUN(t_fnv_vectors);
    RUN(t_rand_seeded_lazily);
    RUN(t_round_robin_cycle);
    RUN(t_round_robin_skips_unhealthy);
    RUN(t_random_uniform);
    RUN(t_weighted_random);
    RUN(t_ip_hash);
    RUN(t_header_hash);
    RUN(t_cookie_hash);
    RUN(t_choose_pool_general);
    RUN(t_choose_pool_permil);
    RUN(t_string_matcher);
    UNIT_END("lb");
}
