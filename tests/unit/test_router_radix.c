/* test_router_radix.c — the RadixTree router and the route cache.
 *
 * The tree cases are Easegress's own (routers/radixtree/router_test.go: TestTree,
 * TestTreeMoar, TestTreeRegexp, TestTreeRegexpRecursive, TestTreeRegexMatchWholeParam,
 * TestRouteInitWrite, TestRouteRewrite), ported as tables. Requests here go through path
 * normalisation, which collapses "//": the Go cases that route "//" are kept with the
 * normalised expectation, and patterns holding "//" (which can then never match) are left in
 * the tables as Easegress has them.
 *
 * test_cache_random checks that eg_route_cache_match gives exactly what eg_router_match gives
 * over random rule sets (both router kinds, with hosts, methods, headers, queries, ipFilters,
 * rewrites) and random requests, with small caches so that eviction runs all the time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route_cache.h"
#include "router.h"
#include "unit.h"
#include "httpserver_fixture.h"

typedef struct {
    const char *path;
    const char *methods;   /* "GET" or "GET,PUT" */
    const char *backend;
} tpath;

/* A RadixTree HTTPServer with one rule holding the paths. */
static char *radix_yaml(const tpath *p, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fprintf(f, "name: t\nport: 80\nrouterKind: RadixTree\nrules:\n- paths:\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  - {path: '%s', methods: [%s], backend: %s}\n", p[i].path, p[i].methods,
                p[i].backend);
    fclose(f);
    return buf;
}

/* "backend k1=v1 k2=v2", or the status when there is no match. */
static const char *route_desc(const eg_router *r, const char *method, const char *path)
{
    static char out[512];
    eg_route_request req = {
        .method = method, .method_len = strlen(method),
        .host = "h", .host_len = 1,
        .path = path, .path_len = strlen(path),
        .client_ip = "1.2.3.4",
    };
    eg_route_match m;
    int st = eg_router_match(r, &req, &m);
    if (st) {
        snprintf(out, sizeof out, "%d", st);
        return out;
    }
    size_t o = (size_t)snprintf(out, sizeof out, "%s", m.path->backend);
    for (size_t i = 0; i < m.captures.count && o < sizeof out; i++)
        o += (size_t)snprintf(out + o, sizeof out - o, " %s=%s", m.captures.names[i], m.captures.values[i]);
    if (m.rewritten_path && o < sizeof out)
        snprintf(out + o, sizeof out - o, " -> %s", m.rewritten_path);
    eg_route_match_release(&m);
    return out;
}

typedef struct {
    const char *method, *path, *want;
} tcase;

static void run_table(const tpath *p, size_t np, const tcase *c, size_t nc)
{
    char *y = radix_yaml(p, np);
    loaded l = load(y);
    free(y);
    CHECK(l.s != NULL);
    if (l.s)
        for (size_t i = 0; i < nc; i++) {
            const char *got = route_desc(l.s->router, c[i].method ? c[i].method : "GET", c[i].path);
            if (strcmp(got, c[i].want) != 0) {
                fprintf(stderr, "  %s %s: got \"%s\", want \"%s\"\n", c[i].method ? c[i].method : "GET",
                        c[i].path, got, c[i].want);
                unit_case_failed = 1;
            }
        }
    unload(&l);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_tree(void)
{
    static const tpath p[] = {
        {"/", "GET", "hIndex"},
        {"/favicon.ico", "GET", "hFavicon"},
        {"/pages/*", "GET", "hStub"},
        {"/article", "GET", "hArticleList"},
        {"/article/", "GET", "hArticleList"},
        {"/article/near", "GET", "hArticleNear"},
        {"/article/{id}", "GET", "hStub"},
        {"/article/{id}", "GET", "hArticleShow"},
        {"/article/{id}", "GET", "hArticleShow"},
        {"/article/@{user}", "GET", "hArticleByUser"},
        {"/article/{sup}/{opts}", "GET", "hArticleShowOpts"},
        {"/article/{id}/{opts}", "GET", "hArticleShowOpts"},
        {"/article/{iffd}/edit", "GET", "hStub"},
        {"/article/{id}//related", "GET", "hArticleShowRelated"},
        {"/article/slug/{month}/-/{day}/{year}", "GET", "hArticleSlug"},
        {"/admin/user", "GET", "hUserList"},
        {"/admin/user/", "GET", "hStub"},
        {"/admin/user/", "GET", "hUserList"},
        {"/admin/user//{id}", "GET", "hUserShow"},
        {"/admin/user/{id}", "GET", "hUserShow"},
        {"/admin/apps/{id}", "GET", "hAdminAppShow"},
        {"/admin/apps/{id}/*", "GET", "hAdminAppShowCatchall"},
        {"/admin/*", "GET", "hStub"},
        {"/admin/*", "GET", "hAdminCatchall"},
        {"/users/{userID}/profile", "GET", "hUserProfile"},
        {"/users/super/*", "GET", "hUserSuper"},
        {"/users/*", "GET", "hUserAll"},
        {"/hubs/{hubID}/view", "GET", "hHubView1"},
        {"/hubs/{hubID}/view/*", "GET", "hHubView2"},
        {"/hubs/{hubID}/*", "GET", "sr"},
        {"/hubs/{hubID}/users", "GET", "hHubView3"},
    };
    static const tcase c[] = {
        {0, "/", "hIndex"},
        {0, "/favicon.ico", "hFavicon"},
        {0, "/pages", "404"},
        {0, "/pages/", "hStub EG_WILDCARD="},
        {0, "/pages/yes", "hStub EG_WILDCARD=yes"},
        {0, "/article", "hArticleList"},
        {0, "/article/", "hArticleList"},
        {0, "/article/near", "hArticleNear"},
        {0, "/article/neard", "hStub id=neard"},
        {0, "/article/123", "hStub id=123"},
        {0, "/article/123/456", "hArticleShowOpts sup=123 opts=456"},
        {0, "/article/@peter", "hArticleByUser user=peter"},
        /* Go: hArticleShowRelated; "//" is collapsed here, so {sup}/{opts} takes it */
        {0, "/article/22//related", "hArticleShowOpts sup=22 opts=related"},
        {0, "/article/111/edit", "hStub iffd=111"},
        {0, "/article/slug/sept/-/4/2015", "hArticleSlug month=sept day=4 year=2015"},
        {0, "/article/:id", "hStub id=:id"},
        {0, "/admin/user", "hUserList"},
        {0, "/admin/user/", "hStub"},
        {0, "/admin/user/1", "hUserShow id=1"},
        {0, "/admin/user//1", "hUserShow id=1"},
        {0, "/admin/hi", "hStub EG_WILDCARD=hi"},
        {0, "/admin/lots/of/:fun", "hStub EG_WILDCARD=lots/of/:fun"},
        {0, "/admin/apps/333", "hAdminAppShow id=333"},
        {0, "/admin/apps/333/woot", "hAdminAppShowCatchall id=333 EG_WILDCARD=woot"},
        {0, "/hubs/123/view", "hHubView1 hubID=123"},
        {0, "/hubs/123/view/index.html", "hHubView2 hubID=123 EG_WILDCARD=index.html"},
        {0, "/hubs/123/users", "hHubView3 hubID=123"},
        {0, "/users/123/profile", "hUserProfile userID=123"},
        {0, "/users/super/123/okay/yes", "hUserSuper EG_WILDCARD=123/okay/yes"},
        {0, "/users/123/okay/yes", "hUserAll EG_WILDCARD=123/okay/yes"},
    };
    run_table(p, N(p), c, N(c));
}

static void test_tree_moar(void)
{
    static const tpath p[] = {
        {"/articlefun", "GET", "hStub5"},
        {"/articles/{id}", "GET", "hStub"},
        {"/articles/{slug}", "DELETE", "hStub8"},
        {"/articles/search", "GET", "hStub1"},
        {"/articles/{id}:delete", "GET", "hStub8"},
        {"/articles/{iidd}!sup", "GET", "hStub4"},
        {"/articles/{id}:{op}", "GET", "hStub3"},
        {"/articles/{id}:{op}", "GET", "hStub2"},
        {"/articles/{slug:^[a-z]+}/posts", "GET", "hStub"},
        {"/articles/{id}/posts/{pid}", "GET", "hStub6"},
        {"/articles/{id}/posts/{month}/{day}/{year}/{slug}", "GET", "hStub7"},
        {"/articles/{id}.json", "GET", "hStub10"},
        {"/articles/{id}/data.json", "GET", "hStub11"},
        {"/articles/files/{file}.{ext}", "GET", "hStub12"},
        {"/articles/me", "PUT", "hStub13"},
        {"/pages/*", "GET", "hStub"},
        {"/pages/*", "GET", "hStub9"},
        {"/users/{id}", "GET", "hStub14"},
        {"/users/{id}/settings/{key}", "GET", "hStub15"},
        {"/users/{id}/settings/*", "GET", "hStub16"},
    };
    static const tcase c[] = {
        {"GET", "/articles/search", "hStub1"},
        {"GET", "/articlefun", "hStub5"},
        {"GET", "/articles/123", "hStub id=123"},
        {"DELETE", "/articles/123mm", "hStub8 slug=123mm"},
        {"GET", "/articles/789:delete", "hStub8 id=789"},
        {"GET", "/articles/789!sup", "hStub4 iidd=789"},
        {"GET", "/articles/123:sync", "hStub3 id=123 op=sync"},
        {"GET", "/articles/456/posts/1", "hStub6 id=456 pid=1"},
        {"GET", "/articles/456/posts/09/04/1984/juice", "hStub7 id=456 month=09 day=04 year=1984 slug=juice"},
        {"GET", "/articles/456.json", "hStub10 id=456"},
        {"GET", "/articles/456/data.json", "hStub11 id=456"},
        {"GET", "/articles/files/file.zip", "hStub12 file=file ext=zip"},
        {"GET", "/articles/files/photos.tar.gz", "hStub12 file=photos ext=tar.gz"},
        {"PUT", "/articles/me", "hStub13"},
        {"GET", "/articles/me", "hStub id=me"},
        {"GET", "/pages", "404"},
        {"GET", "/pages/", "hStub EG_WILDCARD="},
        {"GET", "/pages/yes", "hStub EG_WILDCARD=yes"},
        {"GET", "/users/1", "hStub14 id=1"},
        {"GET", "/users/", "404"},
        {"GET", "/users/2/settings/password", "hStub15 id=2 key=password"},
        {"GET", "/users/2/settings/", "hStub16 id=2 EG_WILDCARD="},
        /* ours: the method decides among equal patterns, and a wrong one is 405 */
        {"POST", "/articles/me", "405"},
    };
    run_table(p, N(p), c, N(c));
}

static void test_tree_regexp(void)
{
    static const tpath p[] = {
        {"/articles/{rid:^[0-9]{5,6}}", "GET", "hStub7"},
        {"/articles/{zid:^0[0-9]+}", "GET", "hStub3"},
        {"/articles/{name:^@[a-z]+}/posts", "GET", "hStub4"},
        {"/articles/{op:^[0-9]+}/run", "GET", "hStub5"},
        {"/articles/{id:^[0-9]+}", "GET", "hStub1"},
        {"/articles/{id:^[1-9]+}-{aux}", "GET", "hStub6"},
        {"/articles/{slug}", "GET", "hStub2"},
    };
    static const tcase c[] = {
        {0, "/articles", "404"},
        {0, "/articles/12345", "hStub7 rid=12345"},
        {0, "/articles/123", "hStub1 id=123"},
        {0, "/articles/how-to-build-a-router", "hStub2 slug=how-to-build-a-router"},
        {0, "/articles/0456", "hStub3 zid=0456"},
        {0, "/articles/@pk/posts", "hStub4 name=@pk"},
        {0, "/articles/1/run", "hStub5 op=1"},
        {0, "/articles/1122", "hStub1 id=1122"},
        {0, "/articles/1122-yes", "hStub6 id=1122 aux=yes"},
    };
    run_table(p, N(p), c, N(c));

    static const tpath p2[] = {
        {"/one/{firstId:[a-z0-9-]+}/{secondId:[a-z0-9-]+}/first", "GET", "hStub1"},
        {"/one/{firstId:[a-z0-9-_]+}/{secondId:[a-z0-9-_]+}/second", "GET", "hStub2"},
    };
    static const tcase c2[] = {
        {0, "/one/hello/world/first", "hStub1 firstId=hello secondId=world"},
        {0, "/one/hi_there/ok/second", "hStub2 firstId=hi_there secondId=ok"},
        {0, "/one///first", "404"},
        {0, "/one/hi/123/second", "hStub2 firstId=hi secondId=123"},
    };
    run_table(p2, N(p2), c2, N(c2));

    static const tpath p3[] = {
        {"/{id:[0-9]+}", "GET", "h1"},
        {"/{x:.+}/foo", "GET", "h2"},
        {"/{param:[0-9]*}/test", "GET", "h3"},
    };
    static const tcase c3[] = {
        {0, "/13", "h1 id=13"},
        {0, "/a13", "404"},
        {0, "/13.jpg", "404"},
        {0, "/a13.jpg", "404"},
        {0, "/a/foo", "h2 x=a"},
        {0, "//foo", "404"},
        {0, "//test", "404"},
    };
    run_table(p3, N(p3), c3, N(c3));
}

/* The three levels of priority, whatever the definition order. */
static void test_priority(void)
{
    static const tpath p[] = {
        {"/p/*", "GET", "any"},
        {"/p/{name}", "GET", "param"},
        {"/p/{id:[0-9]+}", "GET", "regexp"},
        {"/p/static", "GET", "static"},
        {"/q/{a}/x", "GET", "qa"},
        {"/q/*", "GET", "qany"},
    };
    static const tcase c[] = {
        {0, "/p/static", "static"},
        {0, "/p/42", "regexp id=42"},
        {0, "/p/bob", "param name=bob"},
        {0, "/p/a/b", "any EG_WILDCARD=a/b"},
        {0, "/q/1/x", "qa a=1"},
        {0, "/q/1/y", "qany EG_WILDCARD=1/y"},      /* backtracks out of {a} */
        {0, "/p/%7Bname%7D", "param name={name}"},  /* values are decoded */
    };
    run_table(p, N(p), c, N(c));
}

static char *error_of(const char *yaml)
{
    loaded l = load(yaml);
    char *e = l.err ? strdup(l.err) : NULL;
    unload(&l);
    return e;
}

#define RADIX_DOC(paths) "name: t\nport: 80\nrouterKind: RadixTree\nrules:\n- paths:\n" paths

/* TestRouteInitWrite: what Easegress panics on is refused at submit here. */
static void test_errors(void)
{
    char *e;
    e = error_of(RADIX_DOC("  - {path: '/a/*/b', backend: x}\n"));
    CHECK_STR(e, "rules[0].paths[0].path: wildcard '*' must be the last value in a route; trim trailing text or use a '{param}' instead");
    free(e);
    e = error_of(RADIX_DOC("  - {path: '/a/*/{b}', backend: x}\n"));
    CHECK_STR(e, "rules[0].paths[0].path: wildcard '*' must be the last pattern in a route, otherwise use a '{param}'");
    free(e);
    e = error_of(RADIX_DOC("  - {path: '/a/{b', backend: x}\n"));
    CHECK_STR(e, "rules[0].paths[0].path: route param closing delimiter '}' is missing");
    free(e);
    e = error_of(RADIX_DOC("  - {path: '/{a}/{a}', backend: x}\n"));
    CHECK_STR(e, "rules[0].paths[0].path: duplicate param key \"a\"");
    free(e);
    e = error_of(RADIX_DOC("  - {path: '/{a:[}', backend: x}\n"));
    CHECK(e && strstr(e, "rules[0].paths[0].path: invalid regexp \"^[$\""));
    free(e);
    static const struct {
        const char *rewrite, *err;
    } rw[] = {
        {"/api/activity/ex/{{ .na}me}}/popup/{desc}", "{{ .na}me} is not a parameter of path \"/{name}/test/{demo}\""},
        {"{{\"put\" | printf \"%s%s\" \"out\" | printf \"%q\"}}", "{{\"put\" | printf \"%s%s\" \"out\" | printf \"%q\"}} is not a parameter of path \"/{name}/test/{demo}\""},
        {"/api/activity/ex/{name}/popup/{desc}", "{desc} is not a parameter of path \"/{name}/test/{demo}\""},
        {"/api/activity/ex/{name}/popup/{demo}/{desc}", "{desc} is not a parameter of path \"/{name}/test/{demo}\""},
        {"/api/activity/ex/{name}/popup/{demo}/*", "'*' is not supported by the RadixTree router; use {EG_WILDCARD}"},
        {"/api/activity/ex/{name}/popup/{demo}/{*}", "'*' is not supported by the RadixTree router; use {EG_WILDCARD}"},
    };
    for (size_t i = 0; i < N(rw); i++) {
        char doc[1024], want[512];
        snprintf(doc, sizeof doc, RADIX_DOC("  - path: '/{name}/test/{demo}'\n    rewriteTarget: '%s'\n    backend: x\n"),
                 rw[i].rewrite);
        snprintf(want, sizeof want, "rules[0].paths[0].rewriteTarget: %s", rw[i].err);
        e = error_of(doc);
        CHECK_STR(e, want);
        free(e);
    }
    e = error_of(RADIX_DOC("  - {path: /name/test/demo, rewriteTarget: '/x/{name}', backend: x}\n"));
    CHECK_STR(e, "rules[0].paths[0].rewriteTarget: {name} is not a parameter of path \"/name/test/demo\"");
    free(e);
    /* RadixTree is accepted; other kinds are not */
    e = error_of("name: t\nport: 80\nrouterKind: Radix\n");
    CHECK_STR(e, "routerKind: must be one of \"\", Ordered, RadixTree");
    free(e);
}

static void test_warnings(void)
{
    loaded l = load(RADIX_DOC("  - {pathPrefix: /a, backend: x}\n"
                              "  - {path: /b, pathRegexp: '^/b', backend: y}\n"
                              "  - path: /c/{id}\n    backend: z\n    setHeaders: {X-Id: $id, X-N: $nope}\n"));
    CHECK(l.s != NULL);
    CHECK_INT(l.nwarnings, 4);
    if (l.nwarnings == 4) {
        CHECK_STR(l.warnings[0], "rules[0].paths[0].pathPrefix: is ignored by the RadixTree router (end path with '*' instead)");
        CHECK_STR(l.warnings[1], "rules[0].paths[0].path: is empty: the RadixTree router never matches this entry");
        CHECK_STR(l.warnings[2], "rules[0].paths[1].pathRegexp: is ignored by the RadixTree router (use {name:regexp} in path)");
        CHECK_STR(l.warnings[3], "rules[0].paths[2].setHeaders.X-N: \"nope\" is neither a known variable nor a parameter of this path: it renders \"\"");
    }
    if (l.s) {
        CHECK_STR(route_desc(l.s->router, "GET", "/a"), "404");
        CHECK_STR(route_desc(l.s->router, "GET", "/a/b"), "404");
        CHECK_STR(route_desc(l.s->router, "GET", "/b"), "y");
        CHECK_STR(route_desc(l.s->router, "GET", "/c/7"), "z id=7");
    }
    unload(&l);
}

/* TestRouteRewrite, through the router. */
static void test_rewrite(void)
{
    loaded l = load(RADIX_DOC("  - {path: /name/test/demo, backend: a}\n"
                              "  - {path: /abc/test/demo, rewriteTarget: /abc, backend: b}\n"
                              "  - {path: '/{name}/test/{demo}', rewriteTarget: '/api/activity/ex/{name}/popup/{demo}', backend: c}\n"
                              "  - {path: '/{name}/x/*', rewriteTarget: '/api/activity/ex/{name}/popup/{EG_WILDCARD}', backend: d}\n"
                              "  - {path: '/e/{v}', rewriteTarget: '/{v}/x', backend: e}\n"));
    CHECK(l.s != NULL);
    if (l.s) {
        CHECK_STR(route_desc(l.s->router, "GET", "/name/test/demo"), "a");
        CHECK_STR(route_desc(l.s->router, "GET", "/abc/test/demo"), "b -> /abc");
        CHECK_STR(route_desc(l.s->router, "GET", "/v1/test/v2"), "c name=v1 demo=v2 -> /api/activity/ex/v1/popup/v2");
        CHECK_STR(route_desc(l.s->router, "GET", "/v1/x/a/b"), "d name=v1 EG_WILDCARD=a/b -> /api/activity/ex/v1/popup/a/b");
        /* decoded captures are escaped again in the rewritten path */
        CHECK_STR(route_desc(l.s->router, "GET", "/e/a%20b"), "e v=a b -> /a%20b/x");
    }
    unload(&l);
}

/* Hosts, rule ipFilters, methods, headers: the same checks and statuses as Ordered. */
static void test_conditions(void)
{
    loaded l = load("name: t\nport: 80\nrouterKind: RadixTree\nrules:\n"
                    "- host: a.com\n  paths:\n  - {path: '/u/{id}', backend: hosta}\n"
                    "- host: ip.com\n  ipFilter: {allowIPs: [10.0.0.0/8]}\n  paths:\n  - {path: '/ip/*', backend: ip}\n"
                    "- paths:\n"
                    "  - {path: '/u/{id}', methods: [POST], backend: post}\n"
                    "  - path: '/u/{id}'\n    headers: [{key: X-V, values: ['1']}]\n    backend: hdr\n"
                    "  - {path: '/m/{id}', methods: [PUT], backend: put}\n");
    CHECK(l.s != NULL);
    if (!l.s)
        return;
    const eg_router *r = l.s->router;
    eg_header hv[] = {{"X-V", 3, "1", 1}};
    eg_headers h = {hv, 1, 1};
    struct {
        const char *method, *host, *path, *ip;
        const eg_headers *h;
        int status;
        const char *backend;
    } c[] = {
        {"GET", "a.com:80", "/u/1", "1.1.1.1", NULL, 0, "hosta"},
        {"GET", "b.com", "/u/1", "1.1.1.1", &h, 0, "hdr"},
        {"POST", "b.com", "/u/1", "1.1.1.1", NULL, 0, "post"},
        {"GET", "b.com", "/u/1", "1.1.1.1", NULL, 400, NULL},
        {"GET", "b.com", "/m/1", "1.1.1.1", NULL, 405, NULL},
        {"GET", "ip.com", "/ip/x", "10.1.1.1", NULL, 0, "ip"},
        {"GET", "ip.com", "/ip/x", "1.1.1.1", NULL, 403, NULL},
        {"GET", "ip.com", "/nothing", "1.1.1.1", NULL, 403, NULL},   /* rule ipFilter flag, as Easegress */
        {"GET", "ip.com", "/nothing", "10.1.1.1", NULL, 404, NULL},
        {"GET", "b.com", "/nothing", "1.1.1.1", NULL, 404, NULL},
    };
    for (size_t i = 0; i < N(c); i++) {
        eg_route_request req = {
            .method = c[i].method, .method_len = strlen(c[i].method),
            .host = c[i].host, .host_len = strlen(c[i].host),
            .path = c[i].path, .path_len = strlen(c[i].path),
            .headers = c[i].h, .client_ip = c[i].ip,
        };
        eg_route_match m;
        int st = eg_router_match(r, &req, &m);
        CHECK_INT(st, c[i].status);
        if (st == 0 && c[i].backend)
            CHECK_STR(m.path->backend, c[i].backend);
        eg_route_match_release(&m);
    }
    unload(&l);
}

/* ---- the route cache ------------------------------------------------------------------------ */

static uint64_t rng = 88172645463325252ULL;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static const char *radix_patterns[] = {
    "/", "/a", "/a/b", "/a/{x}", "/a/{x}/b", "/a/{x:[0-9]+}", "/a/*", "/b/*", "/{x}/c",
    "/b/{x}.{y}", "/c/{x:[a-z]+}/{y}", "/a/{x}/*",
};
static const char *ordered_paths[] = {
    "path: /a", "path: /a/b", "pathPrefix: /a", "pathPrefix: /b/", "pathRegexp: '^/a/[0-9]+$'",
    "pathRegexp: '/c'", "path: /", "pathPrefix: /",
};
static const char *req_paths[] = {
    "/", "/a", "/a/b", "/a/1", "/a/12/b", "/a/x/b", "/b/f.txt", "/b/", "/q/c", "/c/ab/1",
    "/a/1/2/3", "/a/%2e%2e/b", "/a/%zz", "/x",
};
static const char *req_hosts[] = {"h1.com", "h2.com", "h1.com:80", "other"};
static const char *req_methods[] = {"GET", "POST", "PUT"};
static const char *req_ips[] = {"10.0.0.1", "192.168.1.1", "1.1.1.1"};

static char *random_server(bool radix, uint32_t cache)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fprintf(f, "name: t\nport: 80\ncacheSize: %u\n%s", cache, radix ? "routerKind: RadixTree\n" : "");
    if (rnd(4) == 0)
        fprintf(f, "ipFilter: {blockIPs: [192.168.0.0/16]}\n");
    fprintf(f, "rules:\n");
    unsigned nr = 1 + rnd(4);
    for (unsigned i = 0; i < nr; i++) {
        fprintf(f, "- paths:\n");
        unsigned np = 1 + rnd(6);
        for (unsigned j = 0; j < np; j++) {
            if (radix)
                fprintf(f, "  - path: '%s'\n", radix_patterns[rnd(N(radix_patterns))]);
            else
                fprintf(f, "  - %s\n", ordered_paths[rnd(N(ordered_paths))]);
            fprintf(f, "    backend: b%u_%u\n", i, j);
            switch (rnd(6)) {
            case 0: fprintf(f, "    methods: [GET]\n"); break;
            case 1: fprintf(f, "    headers: [{key: X-A, values: ['1']}]\n"); break;
            case 2: fprintf(f, "    queries: [{key: q, values: ['1']}]\n"); break;
            case 3: fprintf(f, "    ipFilter: {allowIPs: [10.0.0.0/8]}\n"); break;
            }
            if (!radix && rnd(4) == 0)
                fprintf(f, "    rewriteTarget: /rw\n");
        }
        switch (rnd(4)) {
        case 0: fprintf(f, "  host: h1.com\n"); break;
        case 1: fprintf(f, "  hostRegexp: '^h[12]'\n"); break;
        case 2: fprintf(f, "  ipFilter: {allowIPs: [10.0.0.0/8]}\n"); break;
        }
    }
    fclose(f);
    return buf;
}

/* Same status, same path, same rewritten path, same captures. */
static bool same_match(int s1, const eg_route_match *a, int s2, const eg_route_match *b)
{
    if (s1 != s2 || a->path != b->path || a->captures.count != b->captures.count)
        return false;
    if ((a->rewritten_path == NULL) != (b->rewritten_path == NULL) ||
        (a->rewritten_path && strcmp(a->rewritten_path, b->rewritten_path) != 0))
        return false;
    for (size_t i = 0; i < a->captures.count; i++)
        if (strcmp(a->captures.names[i], b->captures.names[i]) != 0 ||
            strcmp(a->captures.values[i], b->captures.values[i]) != 0)
            return false;
    return true;
}

static void test_cache_random(void)
{
    uint64_t hits = 0, misses = 0, matched = 0;
    int bad = 0;
    for (int round = 0; round < 300 && bad < 3; round++) {
        bool radix = round & 1;
        uint32_t cache = rnd(2) ? 1 + rnd(8) : 64 + rnd(200);   /* evicting, and roomy */
        char *y = random_server(radix, cache);
        loaded l = load(y);
        if (!l.s) {
            fprintf(stderr, "  decode failed: %s\n%s\n", l.err ? l.err : "?", y);
            bad++;
            free(y);
            unload(&l);
            continue;
        }
        eg_route_cache *rc = NULL;
        for (int k = 0; k < 300 && bad < 3; k++) {
            const char *path = req_paths[rnd(N(req_paths))];
            const char *q = rnd(2) ? "q=1" : NULL;
            eg_header hv[] = {{"X-A", 3, "1", 1}};
            eg_headers h = {hv, rnd(2), 1};
            const char *host = req_hosts[rnd(N(req_hosts))], *method = req_methods[rnd(N(req_methods))];
            eg_route_request req = {
                .method = method, .method_len = strlen(method),
                .host = host, .host_len = strlen(host),
                .path = path, .path_len = strlen(path),
                .query = q, .query_len = q ? strlen(q) : 0,
                .headers = &h, .client_ip = req_ips[rnd(N(req_ips))],
            };
            eg_route_match m1, m2;
            int s1 = eg_router_match(l.s->router, &req, &m1);
            int s2 = eg_route_cache_match(&rc, l.s->router, &req, &m2);
            matched += s1 == 0;
            if (!same_match(s1, &m1, s2, &m2)) {
                bad++;
                fprintf(stderr, "  MISMATCH %s %s%s X-A=%zu ip=%s: uncached %d %s, cached %d %s\n%s\n", method,
                        host, path, h.count, req.client_ip, s1, s1 ? "" : m1.path->backend, s2,
                        s2 ? "" : m2.path->backend, y);
            }
            eg_route_match_release(&m1);
            eg_route_match_release(&m2);
        }
        eg_route_cache_stats st;
        eg_route_cache_stats_get(rc, &st);
        CHECK(st.entries <= cache);
        hits += st.hits;
        misses += st.misses;
        eg_route_cache_free(rc);
        free(y);
        unload(&l);
    }
    CHECK_INT(bad, 0);
    fprintf(stderr, "  cache: %llu hits, %llu misses, %llu matched\n", (unsigned long long)hits,
            (unsigned long long)misses, (unsigned long long)matched);
    CHECK(hits > 5000);      /* the comparison means something only if the cache answers */
    CHECK(matched > 10000);
}

/* The cache keeps at most cacheSize entries, evicts the least recently used, and empties
 * itself for another router version. */
static void test_cache_lru(void)
{
    loaded a = load("name: t\nport: 80\ncacheSize: 2\nrules:\n- paths:\n  - {pathPrefix: /, backend: a}\n");
    loaded b = load("name: t\nport: 80\ncacheSize: 2\nrules:\n- paths:\n  - {pathPrefix: /, backend: b}\n");
    CHECK(a.s && b.s);
    if (!a.s || !b.s)
        return;
    eg_route_cache *rc = NULL;
    eg_route_cache_stats st;
    const char *paths[] = {"/1", "/2", "/1", "/3", "/1", "/2"};
    /* misses: /1 /2 ; hit /1 ; miss /3 (evicts /2) ; hit /1 ; miss /2 */
    for (size_t i = 0; i < N(paths); i++) {
        eg_route_request req = {.method = "GET", .method_len = 3, .host = "h", .host_len = 1,
                                .path = paths[i], .path_len = 2, .client_ip = "1.1.1.1"};
        eg_route_match m;
        CHECK_INT(eg_route_cache_match(&rc, a.s->router, &req, &m), 0);
        CHECK_STR(m.path->backend, "a");
        eg_route_match_release(&m);
    }
    eg_route_cache_stats_get(rc, &st);
    CHECK_INT(st.hits, 2);
    CHECK_INT(st.misses, 4);
    CHECK_INT(st.entries, 2);
    eg_route_request req = {.method = "GET", .method_len = 3, .host = "h", .host_len = 1,
                            .path = "/1", .path_len = 2, .client_ip = "1.1.1.1"};
    eg_route_match m;
    CHECK_INT(eg_route_cache_match(&rc, b.s->router, &req, &m), 0);
    CHECK_STR(m.path->backend, "b");
    eg_route_match_release(&m);
    eg_route_cache_stats_get(rc, &st);
    CHECK_INT(st.entries, 1);
    eg_route_cache_free(rc);
    unload(&a);
    unload(&b);
}

int main(void)
{
    RUN(test_tree);
    RUN(test_tree_moar);
    RUN(test_tree_regexp);
    RUN(test_priority);
    RUN(test_errors);
    RUN(test_warnings);
    RUN(test_rewrite);
    RUN(test_conditions);
    RUN(test_cache_random);
    RUN(test_cache_lru);
    UNIT_END("router_radix");
}
