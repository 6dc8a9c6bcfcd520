/* admin_dashboard.c — serves the dashboard's embedded files (see admin_dashboard.h). */
#include "admin_dashboard.h"

#include <string.h>

#define PREFIX "/dashboard"
#define PREFIX_LEN (sizeof PREFIX - 1)

const eg_dashboard_asset *eg_dashboard_find(const char *path)
{
    if (strncmp(path, PREFIX, PREFIX_LEN) != 0)
        return NULL;
    const char *rest = path + PREFIX_LEN;
    if (*rest == 0 || !strcmp(rest, "/"))
        rest = "/index.html";
    if (*rest != '/')
        return NULL;
    rest++;
    /* An exact match against the table: "..", "%2e%2e", "a/b" and the like name no file. */
    for (const eg_dashboard_asset *a = eg_dashboard_assets; a->name; a++)
        if (!strcmp(a->name, rest))
            return a;
    return NULL;
}

const char *eg_dashboard_content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        { ".html", "text/html; charset=utf-8" },
        { ".js", "text/javascript; charset=utf-8" },
        { ".css", "text/css; charset=utf-8" },
        { ".svg", "image/svg+xml" },
        { ".png", "image/png" },
        { ".ico", "image/x-icon" },
        { ".json", "application/json" },
    };
    const char *dot = strrchr(name, '.');
    if (dot)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (!strcmp(dot, types[i].ext))
                return types[i].type;
    return "application/octet-stream";
}

static void set_text(eg_arena *arena, eg_response *resp, int status, const char *text)
{
    eg_response_set(arena, resp, status, "text/plain; charset=utf-8", text, strlen(text));
}

bool eg_admin_dashboard_route(eg_arena *arena, eg_response *resp, const eg_request *req)
{
    const char *path = req->path;
    if (strncmp(path, PREFIX, PREFIX_LEN) != 0 || (path[PREFIX_LEN] != 0 && path[PREFIX_LEN] != '/'))
        return false;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        set_text(arena, resp, 405, "method not allowed: the dashboard is read with GET\n");
        eg_headers_sets(arena, &resp->headers, "Allow", "GET, HEAD");
        return true;
    }
    const eg_dashboard_asset *a = eg_dashboard_find(path);
    if (!a) {
        set_text(arena, resp, 404, "not found: no such dashboard file\n");
        return true;
    }
    eg_response_set(arena, resp, 200, eg_dashboard_content_type(a->name), (const char *)a->data, a->len);
    /* The files change with the binary: revalidate rather than keep a stale page. The
     * policy allows only this origin, so the page can load nothing from elsewhere. */
    eg_headers_sets(arena, &resp->headers, "Cache-Control", "no-cache");
    eg_headers_sets(arena, &resp->headers, "X-Content-Type-Options", "nosniff");
    eg_headers_sets(arena, &resp->headers, "Content-Security-Policy",
                    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
    return true;
}
