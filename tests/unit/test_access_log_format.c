/* test_access_log_format.c — compiling `accessLogFormat` (variables, Go's {{.Var}}, errors),
 * rendering Easegress's default line, custom templates and JSON lines, Go's Duration.String()
 * and RFC 3339 times in a zone with a half-hour offset. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <time.h>

#include "access_log_format.h"
#include "unit.h"

#define HDR(n, v) { n, sizeof(n) - 1, v, sizeof(v) - 1 }

static eg_header req_items[] = {
    HDR("Host", "gw.test"),
    HDR("x-multi", "a"),
    HDR("user-AGENT", "t/1"),
    HDR("X-Multi", "b"),
    HDR("X-Esc", "q\" b\\ \x01 caf\xc3\xa9 \xff"),
    HDR("Bad Name", "v"),
};
static eg_header resp_items[] = {
    HDR("Content-Type", "text/plain"),
    HDR("X-Reply", "r1"),
};
static eg_headers req_headers = { req_items, 6, 6 };
static eg_headers resp_headers = { resp_items, 2, 2 };

/* 2023-11-14T22:13:20.123Z */
static const int64_t START_NS = 1700000000123456789LL;

static eg_access_record record(void)
{
    eg_access_record r = {
        .start_unix_ns = START_NS,
        .server = "srv",
        .peer_ip = "10.0.0.1",
        .peer_port = 54321,
        .real_ip = "192.0.2.7",
        .method = "GET",
        .path = "/a%20b",
        .query = "q=1",
        .proto_major = 1,
        .proto_minor = 1,
        .status = 200,
        .duration_ns = 1234567,
        .req_size = 120,
        .resp_size = 345,
        .tags = "pipeline: p",
        .tags_len = 11,
        .req_headers = &req_headers,
        .resp_headers = &resp_headers,
    };
    return r;
}

static const char *render(const char *src, const eg_access_record *r)
{
    static char out[2048];
    char err[256] = "";
    eg_access_log_format *f = eg_access_log_format_compile(src, err, sizeof err);
    if (!f) {
        snprintf(out, sizeof out, "(error: %s)", err);
        return out;
    }
    eg_buf b = { 0 };
    eg_access_log_format_render(f, r, &b);
    snprintf(out, sizeof out, "%s", b.data ? b.data : "");
    eg_buf_free(&b);
    eg_access_log_format_free(f);
    return out;
}

static const char *compile_error(const char *src)
{
    static char err[512];
    err[0] = 0;
    eg_access_log_format *f = eg_access_log_format_compile(src, err, sizeof err);
    if (f) {
        eg_access_log_format_free(f);
        return "(compiled)";
    }
    return err;
}

static void test_default_line(void)
{
    eg_access_record r = record();
    CHECK_STR(render(NULL, &r), "[2023-11-14T22:13:20.123Z] [10.0.0.1:54321 192.0.2.7 GET /a%20b?q=1 HTTP/1.1 200] "
                                "[1.234567ms rx:120B tx:345B] [pipeline: p]\n");
    CHECK_STR(render("", &r), render(NULL, &r));
    r.query = NULL;
    r.tags = NULL;
    r.tags_len = 0;
    r.peer_ip = "::1";
    r.proto_minor = 0;
    r.status = 499;
    CHECK_STR(render(NULL, &r), "[2023-11-14T22:13:20.123Z] [[::1]:54321 192.0.2.7 GET /a%20b HTTP/1.0 499] "
                                "[1.234567ms rx:120B tx:345B] []\n");
}

static void test_custom_template(void)
{
    eg_access_record r = record();
    CHECK_STR(render("{{Method}} {{.URI}} {{StatusCode}} {x} }} { {{RemoteAddr}}", &r),
              "GET /a%20b?q=1 200 {x} }} { 10.0.0.1:54321\n");
    /* Go's request Header has no Host; names canonical; same names grouped in first order. */
    CHECK_STR(render("<{{ReqHeaders}}>", &r),
              "<X-Multi: [a b], User-Agent: [t/1], X-Esc: [q\" b\\ \x01 caf\xc3\xa9 \xff], Bad Name: [v]>\n");
    CHECK_STR(render("<{{RespHeaders}}>", &r), "<Content-Type: [text/plain], X-Reply: [r1]>\n");
    r.req_headers = r.resp_headers = NULL;
    CHECK_STR(render("<{{ReqHeaders}}><{{RespHeaders}}>", &r), "<><>\n");
    CHECK_STR(render("plain text", &r), "plain text\n");
    CHECK_STR(render("{{Tags}}|{{ReqSize}}|{{RespSize}}|{{Proto}}|{{RealIP}}", &r),
              "pipeline: p|120|345|HTTP/1.1|192.0.2.7\n");
}

static void test_compile_errors(void)
{
    CHECK(strstr(compile_error("[{{Time}}] {{Foo}}"), "unknown variable {{Foo}}") != NULL);
    CHECK(strstr(compile_error("{{ Time }}"), "unknown variable {{ Time }}") != NULL);
    CHECK(strstr(compile_error("{{}}"), "unknown variable {{}}") != NULL);
    CHECK(strstr(compile_error("{{time}}"), "unknown variable {{time}}") != NULL); /* Go is case-sensitive */
    CHECK(strstr(compile_error("{{.}}"), "unknown variable") != NULL);
    CHECK(strstr(compile_error("x {{Method"), "unclosed {{") != NULL);
    CHECK(strstr(compile_error("{{Foo}}"), "known: Time, RemoteAddr") != NULL);
    CHECK_STR(compile_error("{{Time}}{{RemoteAddr}}{{RealIP}}{{Method}}{{URI}}{{Proto}}{{StatusCode}}"
                            "{{Duration}}{{ReqSize}}{{RespSize}}{{ReqHeaders}}{{RespHeaders}}{{Tags}}"),
              "(compiled)");
    CHECK_STR(compile_error("json"), "(compiled)");
}

static const char *duration(uint64_t ns)
{
    static char out[64];
    eg_buf b = { 0 };
    eg_append_go_duration(&b, ns);
    snprintf(out, sizeof out, "%s", b.data);
    eg_buf_free(&b);
    return out;
}

static void test_go_durations(void)
{
    /* Expected values are Go's time.Duration(n).String(). */
    CHECK_STR(duration(0), "0s");
    CHECK_STR(duration(1), "1ns");
    CHECK_STR(duration(999), "999ns");
    CHECK_STR(duration(1000), "1\xc2\xb5s");
    CHECK_STR(duration(1500), "1.5\xc2\xb5s");
    CHECK_STR(duration(12913), "12.913\xc2\xb5s");
    CHECK_STR(duration(1000000), "1ms");
    CHECK_STR(duration(1234567), "1.234567ms");
    CHECK_STR(duration(100000000), "100ms");
    CHECK_STR(duration(1000000000), "1s");
    CHECK_STR(duration(1500000000), "1.5s");
    CHECK_STR(duration(61500000000ULL), "1m1.5s");
    CHECK_STR(duration(120000000000ULL), "2m0s");
    CHECK_STR(duration(3600000000000ULL), "1h0m0s");
    CHECK_STR(duration(3723000000001ULL), "1h2m3.000000001s");
}

static void test_time_zone_offset(void)
{
    /* A POSIX zone string needs no tzdata: five and a half hours east of UTC. */
    const char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    setenv("TZ", "XST-5:30", 1);
    tzset();
    eg_access_record r = record();
    r.start_unix_ns = 1700000100007000000LL; /* another second: the per-second cache is redone */
    CHECK_STR(render("{{Time}}", &r), "2023-11-15T03:45:00.007+05:30\n");
    setenv("TZ", "XST+3", 1);
    tzset();
    r.start_unix_ns = 1700000200999000000LL;
    CHECK_STR(render("{{Time}}", &r), "2023-11-14T19:16:40.999-03:00\n");
    if (saved) {
        setenv("TZ", saved, 1);
        free(saved);
    } else {
        unsetenv("TZ");
    }
    tzset();
}

static void test_json_line(void)
{
    eg_access_record r = record();
    r.path = "/p\"q\\";
    r.query = "a=\x02";
    CHECK_STR(render("json", &r),
              "{\"time\":\"2023-11-14T22:13:20.123Z\",\"server\":\"srv\",\"remoteAddr\":\"10.0.0.1:54321\","
              "\"realIP\":\"192.0.2.7\",\"method\":\"GET\",\"uri\":\"/p\\\"q\\\\?a=\\u0002\",\"proto\":\"HTTP/1.1\","
              "\"statusCode\":200,\"duration\":\"1.234567ms\",\"durationMs\":1.234,\"reqSize\":120,\"respSize\":345,"
              "\"tags\":\"pipeline: p\",\"reqHeaders\":{\"Host\":[\"gw.test\"],\"X-Multi\":[\"a\",\"b\"],"
              "\"User-Agent\":[\"t/1\"],\"X-Esc\":[\"q\\\" b\\\\ \\u0001 caf\xc3\xa9 \\ufffd\"],\"Bad Name\":[\"v\"]},"
              "\"respHeaders\":{\"Content-Type\":[\"text/plain\"],\"X-Reply\":[\"r1\"]}}\n");
    r.req_headers = r.resp_headers = NULL;
    r.tags = NULL;
    r.tags_len = 0;
    r.query = NULL;
    r.duration_ns = 999;
    const char *line = render("json", &r);
    CHECK(strstr(line, "\"uri\":\"/p\\\"q\\\\\",") != NULL);
    CHECK(strstr(line, "\"duration\":\"999ns\",\"durationMs\":0.000,") != NULL);
    CHECK(strstr(line, "\"tags\":\"\",\"reqHeaders\":{},\"respHeaders\":{}}\n") != NULL);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    RUN(test_default_line);
    RUN(test_custom_template);
    RUN(test_compile_errors);
    RUN(test_go_durations);
    RUN(test_time_zone_offset);
    RUN(test_json_line);
    UNIT_END("access_log_format");
}
