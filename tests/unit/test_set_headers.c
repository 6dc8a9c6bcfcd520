/* test_set_headers.c — `setHeaders` templates: syntax, every variable, defaults, unknown
 * names, the delete/empty rules, and compilation from an HTTPServer spec.
 *
 * Expected values follow Easegress's ParseNginxLikeVar (and its nginx_vars_test.go cases
 * where they apply to this request model). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "router.h"
#include "set_headers.h"
#include "unit.h"

#define HDR(n, v) {n, sizeof(n) - 1, v, sizeof(v) - 1}

static eg_arena arena;
/* 2023-11-14T22:13:20.123Z */
static const int64_t FIXED_MS = 1700000000123LL;

static eg_header base_headers[] = {
    HDR("Host", "example.com:8080"),
    HDR("Content-Type", "application/json"),
    HDR("Content-Length", "9"),
    HDR("X-Forwarded-For", "192.168.1.1"),
    HDR("User-Agent", "test-agent"),
    HDR("Cookie", "session_id=abc123; user_pref=\"dark_mode\""),
    HDR("Cookie", "bad name=1; later=x"),
    HDR("Authorization", "basic YWxpY2U6c2VjcmV0"),   /* alice:secret */
    HDR("X-Empty", ""),
};

static eg_request make_req(void)
{
    eg_request r;
    memset(&r, 0, sizeof r);
    r.method = "GET";
    r.path = "/test/a%20b";
    r.query = "foo=bar&baz=qux&sp=a+b%21&bad=%zz&semi=1;x&foo=second&=noname&flag";
    r.host = "example.com:8080";
    r.version_major = 1;
    r.version_minor = 1;
    r.scheme = "http";
    r.headers.items = base_headers;
    r.headers.count = r.headers.cap = sizeof base_headers / sizeof base_headers[0];
    strcpy(r.client_ip, "10.0.0.9");
    strcpy(r.peer_ip, "10.0.0.1");
    return r;
}

/* Render src against r (captures optional); static result buffer, one use per CHECK. */
static const char *render_caps(const char *src, const eg_request *r, const eg_route_captures *caps)
{
    static char out[1024];
    eg_template *t = eg_template_compile(src, strlen(src));
    if (!t)
        return "(oom)";
    eg_template_env env = { .req = r, .captures = caps, .now_ms = FIXED_MS };
    size_t n;
    const char *v = eg_template_render(t, &arena, &env, &n);
    snprintf(out, sizeof out, "%.*s", (int)n, v);
    CHECK_INT(strlen(out), n);
    eg_template_free(t);
    return out;
}

static const char *render(const char *src)
{
    eg_request r = make_req();
    return render_caps(src, &r, NULL);
}

static void test_syntax(void)
{
    CHECK_STR(render(""), "");
    CHECK_STR(render("plain text"), "plain text");
    CHECK_STR(render("$host"), "example.com");
    CHECK_STR(render("${host}"), "example.com");
    CHECK_STR(render("${host}-backend"), "example.com-backend");
    CHECK_STR(render("$scheme://$host$uri"), "http://example.com/test/a b");
    CHECK_STR(render("$host-x"), "example.com-x");       /* '-' ends a bare name */
    CHECK_STR(render("$hostx"), "");                     /* ... letters do not */
    /* What is not a variable stays text: Easegress has no escape for '$'. */
    CHECK_STR(render("price is $100"), "price is $100");
    CHECK_STR(render("$$host"), "$example.com");
    CHECK_STR(render("$"), "$");
    CHECK_STR(render("a$"), "a$");
    CHECK_STR(render("${incomplete"), "${incomplete");
    CHECK_STR(render("${}"), "${}");
    CHECK_STR(render("${:x}"), "${:x}");
    CHECK_STR(render("${host:x"), "${host:x");
    CHECK_STR(render("$1"), "$1");
    CHECK_STR(render("${1}"), "");                       /* a capture name; none here */
    CHECK_STR(render("${a${b}c"), "c");                  /* the name is "a${b" */
    CHECK_STR(render("{$host}"), "{example.com}");
}

static void test_defaults(void)
{
    CHECK_STR(render("${remote_user_x:anonymous}"), "anonymous");
    CHECK_STR(render("${host:localhost}"), "example.com");
    CHECK_STR(render("${http_x_missing:none}"), "none");
    CHECK_STR(render("${http_x_empty:was-empty}"), "was-empty");
    CHECK_STR(render("${http_x_missing:}"), "");
    CHECK_STR(render("${http_x_missing:http://default.com}"), "http://default.com");
    CHECK_STR(render("${http_x_missing:a:b:c}"), "a:b:c");
    CHECK_STR(render("${arg_nope:v1}/${arg_foo:v1}"), "v1/bar");
    CHECK_STR(render("${cookie_nope:no-session}"), "no-session");
    CHECK_STR(render("${id:no-id} ${name:no-name}"), "no-id no-name");
    CHECK_STR(render("[${http_x_missing:{x}]"), "[{x]");   /* the default ends at the first '}' */
}

static void test_request_line(void)
{
    CHECK_STR(render("$request_method"), "GET");
    CHECK_STR(render("$request_uri"),
              "/test/a b?foo=bar&baz=qux&sp=a+b%21&bad=%zz&semi=1;x&foo=second&=noname&flag");
    CHECK_STR(render("$uri"), "/test/a b");
    CHECK_STR(render("$scheme"), "http");
    CHECK_STR(render("$query_string"),
              "foo=bar&baz=qux&sp=a+b%21&bad=%zz&semi=1;x&foo=second&=noname&flag");
    CHECK_STR(render("$args"), render("$query_string"));
    CHECK_STR(render("$server_protocol"), "HTTP/1.1");

    eg_request r = make_req();
    r.query = NULL;
    CHECK_STR(render_caps("$request_uri|$args|$request", &r, NULL), "/test/a b||GET /test/a b HTTP/1.1");
    r.query = "";                        /* "?" with nothing after: Go's RawQuery is "" */
    CHECK_STR(render_caps("$request_uri", &r, NULL), "/test/a b");
    r.query = "q=1";
    r.method = "POST";
    r.version_minor = 0;
    CHECK_STR(render_caps("$request", &r, NULL), "POST /test/a b?q=1 HTTP/1.0");
    r.path = "/bad%zzescape";            /* undecodable: used as received */
    CHECK_STR(render_caps("$uri", &r, NULL), "/bad%zzescape");
    r.scheme = "https";
    CHECK_STR(render_caps("$scheme", &r, NULL), "https");
}

static void test_host(void)
{
    CHECK_STR(render("$host"), "example.com");
    CHECK_STR(render("$hostname"), "example.com");
    CHECK_STR(render("$server_name"), "example.com");
    CHECK_STR(render("$http_host"), "example.com:8080");

    eg_request r = make_req();
    r.host = "[::1]:80";
    CHECK_STR(render_caps("$host|$http_host", &r, NULL), "::1|[::1]:80");
    r.host = "";
    CHECK_STR(render_caps("${host:none}", &r, NULL), "none");
}

static void test_remote(void)
{
    CHECK_STR(render("$remote_addr"), "10.0.0.9");
    CHECK_STR(render("$remote_user"), "alice");
    CHECK_STR(render("$proxy_add_x_forwarded_for"), "192.168.1.1, 10.0.0.9");

    eg_request r = make_req();
    r.headers.count = 0;                  /* no XFF: the client IP alone */
    CHECK_STR(render_caps("$proxy_add_x_forwarded_for", &r, NULL), "10.0.0.9");
    CHECK_STR(render_caps("${remote_user:anonymous}", &r, NULL), "anonymous");
    r.client_ip[0] = 0;                   /* falls back to the peer */
    CHECK_STR(render_caps("$proxy_add_x_forwarded_for", &r, NULL), "10.0.0.1");

    /* Authorization that is not Basic user:password gives no user. */
    static const char *bad[] = { "Bearer YWxpY2U6c2VjcmV0", "Basic YWxpY2U", "Basic YWxpY2U=",
                                 "Basic !!!!", "Basic", "Basic bm9jb2xvbg==" /* nocolon */ };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        eg_header h[] = { { "Authorization", 13, bad[i], strlen(bad[i]) } };
        r.headers.items = h;
        r.headers.count = 1;
        CHECK_STR(render_caps("[$remote_user]", &r, NULL), "[]");
    }
    eg_header h2[] = { HDR("authorization", "Basic OnB3"), };   /* ":pw": empty user */
    r.headers.items = h2;
    r.headers.count = 1;
    CHECK_STR(render_caps("${remote_user:anon}", &r, NULL), "anon");
    eg_header h3[] = { HDR("Authorization", "BASIC Ym9iOg=="), }; /* "bob:" */
    r.headers.items = h3;
    CHECK_STR(render_caps("$remote_user", &r, NULL), "bob");
}

static void test_time(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    CHECK_STR(render("$time_iso8601"), "2023-11-14T22:13:20Z");
    CHECK_STR(render("$time_local"), "14/Nov/2023:22:13:20 +0000");
    CHECK_STR(render("$msec"), "1700000000123");
    CHECK_STR(render("$request_time"), "0.000");
    setenv("TZ", "XST-5:30", 1);          /* five and a half hours east of UTC */
    tzset();
    CHECK_STR(render("$time_iso8601"), "2023-11-15T03:43:20+05:30");
    CHECK_STR(render("$time_local"), "15/Nov/2023:03:43:20 +0530");
    setenv("TZ", "YST3", 1);
    tzset();
    CHECK_STR(render("$time_iso8601"), "2023-11-14T19:13:20-03:00");
    CHECK_STR(render("$time_local"), "14/Nov/2023:19:13:20 -0300");
    setenv("TZ", "UTC", 1);
    tzset();

    /* Without a fixed instant the clock is read. */
    eg_request r = make_req();
    eg_template *t = eg_template_compile("$msec", 5);
    eg_template_env env = { .req = &r };
    const char *v = eg_template_render(t, &arena, &env, NULL);
    CHECK(strtoll(v, NULL, 10) > FIXED_MS);
    eg_template_free(t);
}

static void test_content(void)
{
    CHECK_STR(render("$content_type"), "application/json");
    CHECK_STR(render("$content_length"), "9");
    CHECK_STR(render("$request_length"), "9");
    eg_request r = make_req();
    r.headers.count = 0;
    CHECK_STR(render_caps("[$content_type][$content_length][$request_length]", &r, NULL), "[][][0]");
    CHECK_STR(render_caps("${content_type:none} ${content_length:0}", &r, NULL), "none 0");
}

static void test_http_headers(void)
{
    CHECK_STR(render("$http_user_agent"), "test-agent");
    CHECK_STR(render("$http_x_forwarded_for"), "192.168.1.1");
    CHECK_STR(render("${http_USER_AGENT}"), "test-agent");   /* case-insensitive */
    CHECK_STR(render("${http_user-agent}"), "test-agent");   /* braces allow '-' too */
    CHECK_STR(render("$http_cookie"), "session_id=abc123; user_pref=\"dark_mode\""); /* first */
    CHECK_STR(render("X-Custom-${http_user_agent}"), "X-Custom-test-agent");
    CHECK_STR(render("[$http_]"), "[]");
    CHECK_STR(render("[$http_x_nope]"), "[]");
}

static void test_args(void)
{
    CHECK_STR(render("$arg_foo"), "bar");                 /* the first of two */
    CHECK_STR(render("$arg_baz"), "qux");
    CHECK_STR(render("$arg_sp"), "a b!");                 /* query-unescaped */
    CHECK_STR(render("[$arg_bad]"), "[]");                /* undecodable: skipped */
    CHECK_STR(render("[$arg_semi]"), "[]");               /* a ';' pair: skipped */
    CHECK_STR(render("[$arg_flag]"), "[]");               /* present, empty */
    CHECK_STR(render("[$arg_nonexistent]"), "[]");
    CHECK_STR(render("[${arg_}]"), "[noname]");           /* the empty key */
    CHECK_STR(render("$arg_FOO"), "");                    /* keys are case-sensitive */

    eg_request r = make_req();
    r.query = "a%20b=1&x=%41";
    CHECK_STR(render_caps("${arg_a b}|$arg_x", &r, NULL), "1|A");
    r.query = "nl=a%0D%0Ab";                              /* no header splitting */
    CHECK_STR(render_caps("$arg_nl", &r, NULL), "a  b");
}

static void test_cookies(void)
{
    CHECK_STR(render("$cookie_session_id"), "abc123");
    CHECK_STR(render("$cookie_user_pref"), "dark_mode");  /* quotes stripped */
    CHECK_STR(render("$cookie_later"), "x");              /* second Cookie header */
    CHECK_STR(render("[$cookie_nonexistent]"), "[]");
    CHECK_STR(render("user-${cookie_session_id}"), "user-abc123");

    eg_request r = make_req();
    eg_header h[] = { HDR("Cookie", "a=b\\c; a=ok;b=  ; c"), };
    r.headers.items = h;
    r.headers.count = 1;
    CHECK_STR(render_caps("$cookie_a", &r, NULL), "ok");  /* invalid value skipped */
    CHECK_STR(render_caps("[$cookie_b][$cookie_c]", &r, NULL), "[][]");
}

static void test_captures(void)
{
    const char *names[] = { "id", "name", "1", "host" };
    const char *values[] = { "123", "test", "one", "captured-host" };
    eg_route_captures caps = { names, values, 4 };
    eg_request r = make_req();
    CHECK_STR(render_caps("$id/$name/${1}/$1", &r, &caps), "123/test/one/$1");
    CHECK_STR(render_caps("$host", &r, &caps), "example.com");   /* built-ins first */
    CHECK_STR(render_caps("[$other]", &r, &caps), "[]");
    CHECK_STR(render_caps("[$id]", &r, NULL), "[]");
}

static void test_capture_only(void)
{
    static const struct { const char *src; const char *expect; } cases[] = {
        { "$host $http_x $arg_y $cookie_z $request_time", NULL },
        { "${id:none} $host", NULL },
        { "$host $hostnme", "hostnme" },
        { "${a b}", "a b" },
        { "$1 ${x:d}", NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eg_template *t = eg_template_compile(cases[i].src, strlen(cases[i].src));
        const char *u = eg_template_capture_only(t);
        if (cases[i].expect)
            CHECK_STR(u, cases[i].expect);
        else
            CHECK(u == NULL);
        eg_template_free(t);
    }
}

static void test_control_bytes(void)
{
    CHECK_STR(render("a\r\nb\tc"), "a  b\tc");
    CHECK_STR(render("${http_x_missing:x\ny}$host"), "x yexample.com");
    eg_request r = make_req();
    r.path = "/a%0d%0ab%00";
    CHECK_STR(render_caps("$uri", &r, NULL), "/a  b ");
}

/* ---- a path's setHeaders, from an HTTPServer spec -------------------------------------- */

#include "httpserver_fixture.h"

static const char *header_of(const eg_request *r, const char *name)
{
    static char out[256];
    const eg_header *h = eg_headers_find(&r->headers, name, strlen(name));
    if (!h)
        return "(absent)";
    snprintf(out, sizeof out, "%.*s", (int)h->value_len, h->value);
    return out;
}

static void test_from_spec(void)
{
    loaded l = load(
        "kind: HTTPServer\nname: s\nport: 10080\n"
        "rules:\n- paths:\n"
        "  - pathPrefix: /\n    backend: p\n"
        "    setHeaders:\n"
        "      X-Method: $request_method\n"
        "      User-Agent: \"\"\n"
        "      X-Null: null\n"
        "      X-Empty: \"$http_x_nope\"\n"
        "      X-Chain: \"${http_x_method}-${arg_q:none}\"\n"
        "      X-Static: plain\n");
    CHECK(l.s && !l.err);
    CHECK_INT(l.nwarnings, 0);
    if (!l.s) {
        unload(&l);
        return;
    }
    const eg_route_path *p = eg_router_path_at(l.s->router, 0);
    CHECK(p && p->set_headers);
    eg_request r = make_req();
    eg_header *own = eg_arena_alloc(&arena, sizeof base_headers);
    memcpy(own, base_headers, sizeof base_headers);
    r.headers.items = own;
    eg_headers_add(&arena, &r.headers, "X-Null", 6, "gone", 4);
    eg_set_headers_apply(p->set_headers, &arena, &r, NULL);
    CHECK_STR(header_of(&r, "X-Method"), "GET");
    CHECK_STR(header_of(&r, "User-Agent"), "(absent)");     /* "" deletes */
    CHECK_STR(header_of(&r, "X-Null"), "(absent)");         /* null is "" */
    CHECK_STR(header_of(&r, "X-Empty"), "");                /* rendered "" is set as "" */
    CHECK_STR(header_of(&r, "X-Chain"), "GET-none");        /* sees earlier entries */
    CHECK_STR(header_of(&r, "X-Static"), "plain");
    CHECK_STR(header_of(&r, "Content-Type"), "application/json");
    eg_set_headers_apply(NULL, &arena, &r, NULL);           /* no setHeaders: no-op */
    unload(&l);

    /* A name that is not a header token is refused, naming the field. */
    l = load("kind: HTTPServer\nname: s\nport: 10080\n"
             "rules:\n- paths:\n  - path: /a\n    backend: p\n"
             "    setHeaders: {\"Bad Name\": x}\n");
    CHECK(l.err && strstr(l.err, "setHeaders.Bad Name") && strstr(l.err, "invalid header name"));
    if (l.err && !strstr(l.err, "invalid header name"))
        fprintf(stderr, "  got: %s\n", l.err);
    unload(&l);

    /* A variable only a route capture could fill: accepted, with a warning. */
    l = load("kind: HTTPServer\nname: s\nport: 10080\n"
             "rules:\n- paths:\n  - pathRegexp: ^/u/(\\d+)\n    backend: p\n"
             "    setHeaders: {X-Id: \"${id}\", X-Ok: \"${id:none}\"}\n");
    CHECK(l.s && !l.err);
    CHECK_INT(l.nwarnings, 1);
    if (l.nwarnings)
        CHECK(strstr(l.warnings[0], "setHeaders.X-Id") && strstr(l.warnings[0], "\"id\""));
    unload(&l);
}

int main(void)
{
    eg_arena_init(&arena, 4096);
    RUN(test_syntax);
    RUN(test_defaults);
    RUN(test_request_line);
    RUN(test_host);
    RUN(test_remote);
    RUN(test_time);
    RUN(test_content);
    RUN(test_http_headers);
    RUN(test_args);
    RUN(test_cookies);
    RUN(test_captures);
    RUN(test_capture_only);
    RUN(test_control_bytes);
    RUN(test_from_spec);
    eg_arena_free(&arena);
    UNIT_END("set_headers");
}
