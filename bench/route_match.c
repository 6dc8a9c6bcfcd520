/* bench/route_match.c — nanoseconds per routing decision, in-process (no sockets): the
 * Ordered index and the RadixTree router, each without and with a route cache, on a table
 * of N paths and a request mix that repeats a small working set (as real traffic does).
 * Built and run by bench/route_match.sh; prints one line per case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node.h"
#include "route_cache.h"
#include "router.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static eg_httpserver_spec *server(int n, int radix, int cache)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fprintf(f, "name: b\nport: 80\ncacheSize: %d\n%srules:\n- paths:\n", cache, radix ? "routerKind: RadixTree\n" : "");
    for (int i = 0; i < n; i++) {
        if (radix)
            fprintf(f, "  - {path: '/svc%d/users/{id:[0-9]+}/items/*', backend: p%d}\n", i, i);
        else
            fprintf(f, "  - {pathRegexp: '^/svc%d/users/[0-9]+/items/', backend: p%d}\n", i, i);
    }
    fclose(f);
    char err[256];
    eg_node *doc = eg_yaml_parse(buf, len, err, sizeof err);
    free(buf);
    eg_dec d;
    eg_dec_init(&d, false);
    eg_httpserver_spec *s = doc ? eg_httpserver_spec_decode(&d, doc) : NULL;
    if (!s)
        fprintf(stderr, "decode: %s\n", d.error ? d.error : err);
    eg_dec_free(&d);
    eg_node_free(doc);
    return s;
}

static void run(const char *name, int n, int radix, int cache, int iters)
{
    eg_httpserver_spec *s = server(n, radix, cache);
    if (!s)
        exit(1);
    char paths[64][96];
    for (int i = 0; i < 64; i++)
        snprintf(paths[i], sizeof paths[i], "/svc%d/users/%d/items/x", (i * 7919) % n, i);
    eg_route_cache *rc = NULL;
    long matched = 0;
    double t0 = now_s();
    for (int i = 0; i < iters; i++) {
        const char *p = paths[i & 63];
        eg_route_request req = {.method = "GET", .method_len = 3, .host = "h", .host_len = 1,
                                .path = p, .path_len = strlen(p), .client_ip = "1.2.3.4"};
        eg_route_match m;
        int st = cache ? eg_route_cache_match(&rc, s->router, &req, &m) : eg_router_match(s->router, &req, &m);
        matched += st == 0;
        eg_route_match_release(&m);
    }
    double dt = now_s() - t0;
    printf("%-28s paths=%-6d cache=%-5d %8.0f ns/match  (%ld/%d matched)\n", name, n, cache,
           dt / iters * 1e9, matched, iters);
    eg_route_cache_free(rc);
    eg_httpserver_spec_free(s);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000, iters = argc > 2 ? atoi(argv[2]) : 200000;
    run("Ordered (pathRegexp)", n, 0, 0, iters / 10);
    run("Ordered (pathRegexp)", n, 0, 1024, iters);
    run("RadixTree ({id:regexp}, *)", n, 1, 0, iters);
    run("RadixTree ({id:regexp}, *)", n, 1, 1024, iters);
    return 0;
}
