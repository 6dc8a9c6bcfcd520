/* test_admin_dashboard.c — the dashboard's file table: which paths name which embedded file,
 * that no spelling reaches anything else, Content-Types, and the responses of the route. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "admin_dashboard.h"

static const char *name_of(const char *path)
{
    const eg_dashboard_asset *a = eg_dashboard_find(path);
    return a ? a->name : NULL;
}

static void t_table_has_the_page(void)
{
    size_t n = 0;
    for (const eg_dashboard_asset *a = eg_dashboard_assets; a->name; a++, n++) {
        CHECK(a->len > 0);
        CHECK(a->data[a->len] == 0);   /* the generator's terminator, past the file's bytes */
        CHECK(strchr(a->name, '/') == NULL);
    }
    CHECK(n >= 3);
    const eg_dashboard_asset *index = eg_dashboard_find("/dashboard/index.html");
    CHECK(index && memmem(index->data, index->len, "<!doctype html>", 15));
    const eg_dashboard_asset *app = eg_dashboard_find("/dashboard/app.js");
    CHECK(app && memmem(app->data, app->len, "'use strict'", 12));
}

static void t_paths(void)
{
    CHECK_STR(name_of("/dashboard"), "index.html");
    CHECK_STR(name_of("/dashboard/"), "index.html");
    CHECK_STR(name_of("/dashboard/index.html"), "index.html");
    CHECK_STR(name_of("/dashboard/app.js"), "app.js");
    CHECK_STR(name_of("/dashboard/style.css"), "style.css");
    static const char *const none[] = {
        "/dashboardx", "/dashboard.js", "/", "", "/apis/v2/objects", "/dashboard/nope.js",
        "/dashboard/../apis/v2/objects", "/dashboard/%2e%2e/etc/passwd", "/dashboard/..",
        "/dashboard//app.js", "/dashboard/./app.js", "/dashboard/app.js/", "/dashboard/APP.JS",
        "/dashboard/app.js?x=1", "/x/dashboard/app.js", "/dashboard/app",
    };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        const char *got = name_of(none[i]);
        if (got)
            fprintf(stderr, "  %s names %s\n", none[i], got);
        CHECK(got == NULL);
    }
}

static void t_content_types(void)
{
    CHECK_STR(eg_dashboard_content_type("index.html"), "text/html; charset=utf-8");
    CHECK_STR(eg_dashboard_content_type("app.js"), "text/javascript; charset=utf-8");
    CHECK_STR(eg_dashboard_content_type("style.css"), "text/css; charset=utf-8");
    CHECK_STR(eg_dashboard_content_type("logo.svg"), "image/svg+xml");
    CHECK_STR(eg_dashboard_content_type("a.min.js"), "text/javascript; charset=utf-8");
    CHECK_STR(eg_dashboard_content_type("app.jsx"), "application/octet-stream");
    CHECK_STR(eg_dashboard_content_type("README"), "application/octet-stream");
}

static const char *header(const eg_response *r, const char *name)
{
    static char v[256];
    const eg_header *h = eg_headers_find(&r->headers, name, strlen(name));
    if (!h)
        return NULL;
    snprintf(v, sizeof v, "%.*s", (int)h->value_len, h->value);
    return v;
}

static bool route(const char *method, const char *path, eg_arena *arena, eg_response *resp)
{
    eg_request req;
    memset(&req, 0, sizeof req);
    req.method = (char *)method;
    req.path = (char *)path;
    memset(resp, 0, sizeof *resp);
    return eg_admin_dashboard_route(arena, resp, &req);
}

static void t_route(void)
{
    eg_arena arena;
    eg_arena_init(&arena, 4096);
    eg_response resp;

    CHECK(route("GET", "/dashboard/app.js", &arena, &resp));
    CHECK_INT(resp.status, 200);
    CHECK_STR(header(&resp, "Content-Type"), "text/javascript; charset=utf-8");
    CHECK_STR(header(&resp, "Cache-Control"), "no-cache");
    CHECK(header(&resp, "Content-Security-Policy") != NULL);
    const eg_dashboard_asset *app = eg_dashboard_find("/dashboard/app.js");
    CHECK(app && resp.body_len == app->len && memcmp(resp.body, app->data, app->len) == 0);

    CHECK(route("HEAD", "/dashboard", &arena, &resp));
    CHECK_INT(resp.status, 200);
    CHECK_STR(header(&resp, "Content-Type"), "text/html; charset=utf-8");

    CHECK(route("GET", "/dashboard/../apis/v2/objects", &arena, &resp));
    CHECK_INT(resp.status, 404);
    CHECK(route("DELETE", "/dashboard/app.js", &arena, &resp));
    CHECK_INT(resp.status, 405);
    CHECK_STR(header(&resp, "Allow"), "GET, HEAD");

    /* Not ours: left alone for the rest of the API. */
    CHECK(!route("GET", "/dashboardx", &arena, &resp));
    CHECK_INT(resp.status, 0);
    CHECK(!route("GET", "/apis/v2/objects", &arena, &resp));
    CHECK(!route("POST", "/metrics", &arena, &resp));
    eg_arena_free(&arena);
}

int main(void)
{
    RUN(t_table_has_the_page);
    RUN(t_paths);
    RUN(t_content_types);
    RUN(t_route);
    UNIT_END("admin_dashboard");
}
