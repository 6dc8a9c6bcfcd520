/* test_egctl_args.c — egctl's library-free parts: the command line, server addresses,
 * resource resolution, ages, the tabwriter layout, Warning headers, and the HTTP
 * client's response framing against a forked one-shot server. */
#define _GNU_SOURCE
#include "../../egctl/http_client.c"
#include "../../egctl/args.c"
#include "../../egctl/table.c"
#include "../../egctl/tls.c"

#include <arpa/inet.h>
#include <signal.h>
#include <sys/wait.h>

#include "unit.h"

#define ARGV(...) ((char *[]){"egctl", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"egctl", __VA_ARGS__}) / sizeof(char *)))

static void test_flags_anywhere(void)
{
    egctl_opts o;
    char err[256];
    CHECK_INT(egctl_parse_args(ARGC("get", "-o", "yaml", "hs", "--server", "h:1", "demo"),
                               ARGV("get", "-o", "yaml", "hs", "--server", "h:1", "demo"),
                               NULL, &o, err, sizeof err), 0);
    CHECK_INT(o.nargs, 3);
    CHECK_STR(o.args[0], "get");
    CHECK_STR(o.args[1], "hs");
    CHECK_STR(o.args[2], "demo");
    CHECK_STR(o.server, "h:1");
    CHECK_INT(o.output, EGCTL_OUT_YAML);
    egctl_opts_free(&o);

    CHECK_INT(egctl_parse_args(ARGC("-ojson", "create", "--server=x:2", "-f", "-"),
                               ARGV("-ojson", "create", "--server=x:2", "-f", "-"),
                               "env:3", &o, err, sizeof err), 0);
    CHECK_INT(o.output, EGCTL_OUT_JSON);
    CHECK_STR(o.server, "x:2");
    CHECK_STR(o.file, "-");
    CHECK(o.flags_seen == EGCTL_FLAG_FILE);
    CHECK_INT(o.nargs, 1);
    egctl_opts_free(&o);

    CHECK_INT(egctl_parse_args(ARGC("delete", "hs", "--all", "-o=default", "--", "-weird"),
                               ARGV("delete", "hs", "--all", "-o=default", "--", "-weird"),
                               "env:3", &o, err, sizeof err), 0);
    CHECK(o.all);
    CHECK_INT(o.output, EGCTL_OUT_DEFAULT);
    CHECK_STR(o.server, "env:3");
    CHECK_INT(o.nargs, 3);
    CHECK_STR(o.args[2], "-weird");
    CHECK_STR(egctl_flag_name(o.flags_seen, 0), "--all");
    CHECK(egctl_flag_name(o.flags_seen, EGCTL_FLAG_ALL) == NULL);
    egctl_opts_free(&o);

    CHECK_INT(egctl_parse_args(ARGC("describe", "-hv", "pl"), ARGV("describe", "-hv", "pl"),
                               NULL, &o, err, sizeof err), 0);
    CHECK(o.help && o.verbose);
    CHECK_STR(o.server, EGCTL_DEFAULT_SERVER);
    egctl_opts_free(&o);

    CHECK_INT(egctl_parse_args(ARGC("get", "--all=false", "--insecure-skip-verify"),
                               ARGV("get", "--all=false", "--insecure-skip-verify"),
                               NULL, &o, err, sizeof err), 0);
    CHECK(!o.all);
    egctl_opts_free(&o);
}

static void test_flag_errors(void)
{
    egctl_opts o;
    char err[256];
    CHECK_INT(egctl_parse_args(ARGC("get", "--nope"), ARGV("get", "--nope"), NULL, &o, err,
                               sizeof err), -1);
    CHECK_STR(err, "unknown flag: --nope");
    egctl_opts_free(&o);
    CHECK_INT(egctl_parse_args(ARGC("get", "-x"), ARGV("get", "-x"), NULL, &o, err, sizeof err), -1);
    CHECK_STR(err, "unknown shorthand flag: 'x' in -x");
    egctl_opts_free(&o);
    CHECK_INT(egctl_parse_args(ARGC("get", "--server"), ARGV("get", "--server"), NULL, &o, err,
                               sizeof err), -1);
    CHECK_STR(err, "flag needs an argument: --server");
    egctl_opts_free(&o);
    CHECK_INT(egctl_parse_args(ARGC("get", "-o"), ARGV("get", "-o"), NULL, &o, err, sizeof err), -1);
    CHECK_STR(err, "flag needs an argument: 'o' in -o");
    egctl_opts_free(&o);
    CHECK_INT(egctl_parse_args(ARGC("-o", "xml"), ARGV("-o", "xml"), NULL, &o, err, sizeof err), -1);
    CHECK_STR(err, "unsupported output format: xml, only support (yaml, json and default)");
    egctl_opts_free(&o);
    CHECK_INT(egctl_parse_args(ARGC("--all=maybe"), ARGV("--all=maybe"), NULL, &o, err, sizeof err), -1);
    CHECK(strstr(err, "invalid argument \"maybe\"") != NULL);
    egctl_opts_free(&o);
}

static void test_server(void)
{
    char host[64], err[256];
    int port;
    bool tls;
    CHECK_INT(egctl_parse_server("127.0.0.1:2381", host, sizeof host, &port, &tls, err, sizeof err), 0);
    CHECK_STR(host, "127.0.0.1");
    CHECK_INT(port, 2381);
    CHECK_INT(egctl_parse_server("http://localhost:12381/", host, sizeof host, &port, &tls, err, sizeof err), 0);
    CHECK_STR(host, "localhost");
    CHECK_INT(port, 12381);
    CHECK_INT(egctl_parse_server("HTTP://[::1]:9", host, sizeof host, &port, &tls, err, sizeof err), 0);
    CHECK_STR(host, "::1");
    CHECK_INT(port, 9);
    CHECK_INT(egctl_parse_server("example.com", host, sizeof host, &port, &tls, err, sizeof err), 0);
    CHECK_INT(port, 80);
    CHECK_INT(egctl_parse_server(":2381", host, sizeof host, &port, &tls, err, sizeof err), 0);
    CHECK_STR(host, "127.0.0.1");
    CHECK(!tls);
    CHECK_INT(egctl_parse_server("https://h:1", host, sizeof host, &port, &tls, err, sizeof err), 0);
    CHECK(tls);
    CHECK_STR(host, "h");
    CHECK_INT(port, 1);
    CHECK_INT(egctl_parse_server("HTTPS://[::1]/", host, sizeof host, &port, &tls, err, sizeof err), 0);
    CHECK(tls);
    CHECK_STR(host, "::1");
    CHECK_INT(port, 443);
    CHECK_INT(egctl_parse_server("https://h:1/x", host, sizeof host, &port, &tls, err, sizeof err), -1);
    CHECK_INT(egctl_parse_server("h:0", host, sizeof host, &port, &tls, err, sizeof err), -1);
    CHECK_INT(egctl_parse_server("h:65536", host, sizeof host, &port, &tls, err, sizeof err), -1);
    CHECK_INT(egctl_parse_server("h:", host, sizeof host, &port, &tls, err, sizeof err), -1);
    CHECK_INT(egctl_parse_server("::1", host, sizeof host, &port, &tls, err, sizeof err), -1);
    CHECK_INT(egctl_parse_server("http://h:1/prefix", host, sizeof host, &port, &tls, err, sizeof err), -1);
}

static void test_resolve(void)
{
    const char *hs_al[] = {"httpserver", "hs"};
    const char *pl_al[] = {"pipeline", "pl"};
    egctl_resource rs[] = {
        {"HTTPServer", "httpservers", "TrafficGate", hs_al, 2},
        {"Pipeline", "pipelines", "Pipeline", pl_al, 2},
    };
    CHECK(egctl_resolve_kind(rs, 2, "hs") == &rs[0]);
    CHECK(egctl_resolve_kind(rs, 2, "HTTPServer") == &rs[0]);
    CHECK(egctl_resolve_kind(rs, 2, "httpserver") == &rs[0]);
    CHECK(egctl_resolve_kind(rs, 2, "HttpServers") == &rs[0]);
    CHECK(egctl_resolve_kind(rs, 2, "PL") == &rs[1]);
    CHECK(egctl_resolve_kind(rs, 2, "pipe") == NULL);
    CHECK(egctl_is_member("members"));
    CHECK(egctl_is_member("Member"));
    CHECK(egctl_is_member("m"));
    CHECK(!egctl_is_member("memb"));
}

static void test_time(void)
{
    time_t t;
    CHECK(egctl_parse_rfc3339("1970-01-01T00:00:00Z", &t));
    CHECK_INT(t, 0);
    CHECK(egctl_parse_rfc3339("2023-06-01T12:30:15.123456+02:00", &t));
    CHECK_INT(t, 1685615415);
    CHECK(egctl_parse_rfc3339("2000-02-29T23:59:59-00:30", &t));
    CHECK_INT(t, 951870599);
    CHECK(!egctl_parse_rfc3339("2023-06-01 12:30:15Z", &t));
    CHECK(!egctl_parse_rfc3339("2023-06-01T12:30:15", &t));
    CHECK(!egctl_parse_rfc3339("2023-13-01T12:30:15Z", &t));
    CHECK(!egctl_parse_rfc3339("", &t));

    char b[16];
    egctl_format_age(0.5, b, sizeof b);
    CHECK_STR(b, "0s");
    egctl_format_age(42, b, sizeof b);
    CHECK_STR(b, "42s");
    egctl_format_age(90, b, sizeof b);
    CHECK_STR(b, "2m"); /* 1.5 rounds to even */
    egctl_format_age(3 * 3600 + 100, b, sizeof b);
    CHECK_STR(b, "3h");
    egctl_format_age(86400 * 1.7, b, sizeof b);
    CHECK_STR(b, "2d");
}

static char *table_text(egctl_table *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    egctl_table_print(t, f);
    fclose(f);
    return buf;
}

static void test_table(void)
{
    egctl_table t;
    egctl_table_init(&t, 3);
    const char *h[] = {"NAME", "KIND", "AGE"};
    const char *r1[] = {"zeta-pipeline-long", "Pipeline", "5m"};
    const char *r2[] = {"alpha", "HTTPServer", "unknown"};
    const char *r3[] = {"alpha", "Pipeline", NULL};
    CHECK_INT(egctl_table_add(&t, h), 0);
    CHECK_INT(egctl_table_add(&t, r1), 0);
    CHECK_INT(egctl_table_add(&t, r2), 0);
    CHECK_INT(egctl_table_add(&t, r3), 0);
    egctl_table_sort(&t, 1, 0);
    char *s = table_text(&t);
    /* Widths: 18+2 -> 24, 10+2 -> 16, 7+2 -> 16; padding in tabs up to each stop. */
    CHECK_STR(s, "NAME\t\t\tKIND\t\tAGE\t\t\n"
                 "alpha\t\t\tHTTPServer\tunknown\t\t\n"
                 "alpha\t\t\tPipeline\t\t\t\n"
                 "zeta-pipeline-long\tPipeline\t5m\t\t\n");
    free(s);
    egctl_table_free(&t);

    egctl_table_init(&t, 2);
    const char *u[] = {"ñame", "x"};
    CHECK_INT(egctl_table_add(&t, u), 0);
    s = table_text(&t);
    CHECK_STR(s, "ñame\tx\t\n"); /* runes, not bytes: 4+2 fits one stop */
    free(s);
    egctl_table_free(&t);
}

static void test_warning(void)
{
    char **v = NULL;
    size_t n = 0;
    const char *w1 = "299 - \"unknown field rules[0].pathprefx\"";
    CHECK_INT(egctl_http_parse_warning(w1, strlen(w1), &v, &n), 0);
    const char *w2 = "299 eg:2381 \"say \\\"hi\\\"\" \"Sat, 01 Jan 2000 00:00:00 GMT\", 299 - \"b\"";
    CHECK_INT(egctl_http_parse_warning(w2, strlen(w2), &v, &n), 0);
    const char *w3 = "  free text, not RFC  ";
    CHECK_INT(egctl_http_parse_warning(w3, strlen(w3), &v, &n), 0);
    CHECK_INT(n, 4);
    if (n == 4) {
        CHECK_STR(v[0], "unknown field rules[0].pathprefx");
        CHECK_STR(v[1], "say \"hi\"");
        CHECK_STR(v[2], "b");
        CHECK_STR(v[3], "free text, not RFC");
    }
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static bool b64_is(const char *in, const char *want)
{
    unsigned char *out;
    size_t n;
    if (egctl_base64_decode(in, strlen(in), &out, &n) != 0)
        return false;
    bool same = n == strlen(want) && memcmp(out, want, n) == 0 && out[n] == '\0';
    free(out);
    return same;
}

static bool b64_refused(const char *in)
{
    unsigned char *out = (unsigned char *)"x";
    size_t n = 1;
    return egctl_base64_decode(in, strlen(in), &out, &n) == -1 && out == NULL && n == 0;
}

static void test_base64(void)
{
    CHECK(b64_is("", ""));
    CHECK(b64_is("QQ==", "A"));
    CHECK(b64_is("QUI=", "AB"));
    CHECK(b64_is("QUJD", "ABC"));
    CHECK(b64_is("LS0tLS1CRUdJTg==", "-----BEGIN"));
    CHECK(b64_is("LS0t\nLS1C\r\nRUdJ Tg==\n", "-----BEGIN")); /* line breaks, spaces */
    CHECK(b64_is("+/8=", "\xfb\xff"));
    CHECK(b64_refused("QQ"));      /* unpadded: Go's StdEncoding refuses it */
    CHECK(b64_refused("QUI"));
    CHECK(b64_refused("Q"));
    CHECK(b64_refused("Q==="));
    CHECK(b64_refused("QQ=A"));
    CHECK(b64_refused("QQ==QUJD")); /* data after the padding */
    CHECK(b64_refused("QUJD="));
    CHECK(b64_refused("QU*D"));
    CHECK(b64_refused("LS0t-_8="));  /* the URL alphabet is not the standard one */
}

static void test_tls_sniffing(void)
{
    const unsigned char alert[] = {21, 3, 3, 0, 2, 2, 40};
    const unsigned char hello[] = {22, 3, 1, 0, 200};
    CHECK(egctl_http_is_tls_record(alert, sizeof alert));
    CHECK(egctl_http_is_tls_record(hello, sizeof hello));
    CHECK(egctl_http_is_tls_record(alert, 1));
    CHECK(!egctl_http_is_tls_record((const unsigned char *)"HTTP/1.1 400", 12));
    CHECK(!egctl_http_is_tls_record((const unsigned char *)"\x15\x01", 2));
    CHECK(!egctl_http_is_tls_record((const unsigned char *)"\x16\x03\x09", 3));
    CHECK(!egctl_http_is_tls_record(alert, 0));

    const char *go = "Client sent an HTTP request to an HTTPS server.\n";
    const char *ngx = "<html>\r\n<center>The plain HTTP request was sent to HTTPS port</center>";
    CHECK(egctl_http_is_https_refusal(400, go, strlen(go)));
    CHECK(egctl_http_is_https_refusal(400, ngx, strlen(ngx)));
    CHECK(!egctl_http_is_https_refusal(404, go, strlen(go)));
    CHECK(!egctl_http_is_https_refusal(400, "{\"code\":400}", 12));
    CHECK(!egctl_http_is_https_refusal(400, go, 10)); /* only within the body's length */
}

/* Serve one canned answer on a loopback port from a child process. */
static pid_t serve_once(const char *answer, int *port)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 1) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    pid_t pid = fork();
    if (pid != 0) {
        close(ls);
        return pid;
    }
    int c = accept(ls, NULL, NULL);
    char buf[8192];
    size_t got = 0;
    while (got < sizeof buf - 1) { /* the whole request: headers and a short body */
        ssize_t r = read(c, buf + got, sizeof buf - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        buf[got] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        char *cl = strstr(buf, "Content-Length: ");
        if (end && (!cl || got >= (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10)))
            break;
    }
    size_t len = strlen(answer);
    for (size_t off = 0; off < len;) { /* dribble it in small pieces */
        size_t piece = len - off < 5 ? len - off : 5;
        if (write(c, answer + off, piece) < 0)
            break;
        off += piece;
    }
    close(c);
    _exit(0);
}

static int exchange(const char *answer, const char *body, egctl_http_resp *resp, char *err,
                    size_t errlen)
{
    int port = 0;
    pid_t pid = serve_once(answer, &port);
    if (pid < 0)
        return -99;
    egctl_http_req req = {.host = "127.0.0.1", .port = port, .method = body ? "POST" : "GET",
                          .path = "/apis/v2/objects", .content_type = body ? "application/json" : NULL,
                          .body = body, .body_len = body ? strlen(body) : 0,
                          .connect_timeout_ms = 2000, .io_timeout_ms = 2000};
    int rc = egctl_http_do(&req, resp, err, errlen);
    int st;
    waitpid(pid, &st, 0);
    return rc;
}

static void test_http(void)
{
    egctl_http_resp r;
    char err[256];
    CHECK_INT(exchange("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nWarning: 299 - \"w1\"\r\n"
                       "warning: 299 - \"w2\"\r\n\r\nhelloEXTRA", "{\"a\":1}", &r, err, sizeof err), 0);
    CHECK_INT(r.status, 200);
    CHECK_INT(r.body_len, 5);
    CHECK_STR(r.body, "hello");
    CHECK_INT(r.nwarnings, 2);
    if (r.nwarnings == 2) {
        CHECK_STR(r.warnings[0], "w1");
        CHECK_STR(r.warnings[1], "w2");
    }
    egctl_http_resp_free(&r);

    CHECK_INT(exchange("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n4;x=y\r\n{\"co\r\n"
                       "A\r\nde\":404}\r\n\r\n0\r\nTrailer: t\r\n\r\n", NULL, &r, err, sizeof err), 0);
    CHECK_INT(r.status, 404);
    CHECK_STR(r.body, "{\"code\":404}\r\n");
    egctl_http_resp_free(&r);

    CHECK_INT(exchange("HTTP/1.0 200 OK\r\n\r\nuntil close", NULL, &r, err, sizeof err), 0);
    CHECK_STR(r.body, "until close");
    egctl_http_resp_free(&r);

    CHECK_INT(exchange("HTTP/1.1 204 No Content\r\n\r\n", NULL, &r, err, sizeof err), 0);
    CHECK_INT(r.body_len, 0);
    CHECK(r.body != NULL);
    egctl_http_resp_free(&r);

    CHECK_INT(exchange("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", NULL, &r, err,
                       sizeof err), EGCTL_HTTP_EIO);
    CHECK(strstr(err, "closed before") != NULL);

    CHECK_INT(exchange("garbage\r\n\r\n", NULL, &r, err, sizeof err), EGCTL_HTTP_EIO);

    /* Plain HTTP to a TLS server: a TLS alert, Go's 400 and nginx's 400 say "use TLS";
     * another 400 is just an answer. */
    CHECK_INT(exchange("\x15\x03\x03\x01\x02\x02\x28", NULL, &r, err, sizeof err),
              EGCTL_HTTP_ENEEDTLS);
    CHECK_INT(exchange("HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an "
                       "HTTPS server.\n", "{}", &r, err, sizeof err), EGCTL_HTTP_ENEEDTLS);
    CHECK(r.body == NULL);
    CHECK_INT(exchange("HTTP/1.1 400 Bad Request\r\nContent-Length: 61\r\n\r\n"
                       "<center>The plain HTTP request was sent to HTTPS port</center>", NULL,
                       &r, err, sizeof err), EGCTL_HTTP_ENEEDTLS);
    CHECK_INT(exchange("HTTP/1.1 400 Bad Request\r\nContent-Length: 12\r\n\r\n{\"code\":400}",
                       NULL, &r, err, sizeof err), 0);
    CHECK_INT(r.status, 400);
    egctl_http_resp_free(&r);

    /* A port nobody listens on: refused. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    bind(s, (struct sockaddr *)&a, sizeof a);
    getsockname(s, (struct sockaddr *)&a, &al);
    close(s);
    egctl_http_req req = {.host = "127.0.0.1", .port = ntohs(a.sin_port), .method = "GET",
                          .path = "/", .connect_timeout_ms = 2000, .io_timeout_ms = 2000};
    CHECK_INT(egctl_http_do(&req, &r, err, sizeof err), EGCTL_HTTP_ECONNECT);
    CHECK_STR(err, "Connection refused");
}

static void test_logs_and_httpproxy_flags(void)
{
    egctl_opts o;
    char err[256];
    /* Under logs, -f is --follow (a boolean); elsewhere it is --file and takes a value. */
    CHECK_INT(egctl_parse_args(ARGC("--server", "h:1", "logs", "-f", "--tail", "-1"),
                               ARGV("--server", "h:1", "logs", "-f", "--tail", "-1"),
                               NULL, &o, err, sizeof err), 0);
    CHECK(o.follow);
    CHECK_INT(o.tail, -1);
    CHECK(o.file == NULL);
    CHECK(o.flags_seen == (EGCTL_FLAG_FOLLOW | EGCTL_FLAG_TAIL));
    CHECK(o.server_given);
    egctl_opts_free(&o);
    CHECK_INT(egctl_parse_args(ARGC("logs"), ARGV("logs"), NULL, &o, err, sizeof err), 0);
    CHECK_INT(o.tail, 500);
    CHECK(!o.follow && !o.server_given);
    egctl_opts_free(&o);
    CHECK_INT(egctl_parse_args(ARGC("logs", "--tail", "x"), ARGV("logs", "--tail", "x"), NULL, &o,
                               err, sizeof err), -1);
    CHECK(strstr(err, "--tail") != NULL);
    egctl_opts_free(&o);

    CHECK_INT(egctl_parse_args(ARGC("create", "httpproxy", "d", "--port", "80", "--rule", "/a=u",
                                    "--rule=h/b*=v,w", "--tls"),
                               ARGV("create", "httpproxy", "d", "--port", "80", "--rule", "/a=u",
                                    "--rule=h/b*=v,w", "--tls"),
                               NULL, &o, err, sizeof err), 0);
    CHECK_INT(o.port, 80);
    CHECK_INT(o.nrules, 2);
    CHECK_STR(o.rules[0], "/a=u");
    CHECK_STR(o.rules[1], "h/b*=v,w");
    CHECK_STR(o.tls_flag, "tls");
    CHECK_STR(egctl_flag_name(o.flags_seen, EGCTL_FLAG_FILE), "--port");
    egctl_opts_free(&o);
    CHECK_INT(egctl_parse_args(ARGC("create", "--port", "0"), ARGV("create", "--port", "0"), NULL,
                               &o, err, sizeof err), -1);
    egctl_opts_free(&o);
}

static void test_proxy_rule(void)
{
    /* Easegress's parseRule cases (createhttpproxy_test.go). */
    egctl_proxy_rule r;
    char err[256];
    CHECK_INT(egctl_parse_proxy_rule("foo.com/bar/bala=http://127.0.0.1:9096", &r, err, sizeof err), 0);
    CHECK_STR(r.host, "foo.com");
    CHECK_STR(r.path, "/bar/bala");
    CHECK(r.path_prefix == NULL);
    CHECK_INT(r.nendpoints, 1);
    CHECK_STR(r.endpoints[0], "http://127.0.0.1:9096");
    egctl_proxy_rule_free(&r);
    CHECK_INT(egctl_parse_proxy_rule("/bar=http://a:1,,http://b:2,", &r, err, sizeof err), 0);
    CHECK_STR(r.host, "");
    CHECK_STR(r.path, "/bar");
    CHECK_INT(r.nendpoints, 2);
    CHECK_STR(r.endpoints[1], "http://b:2");
    egctl_proxy_rule_free(&r);
    CHECK_INT(egctl_parse_proxy_rule("foo.com/bar*=http://x", &r, err, sizeof err), 0);
    CHECK(r.path == NULL);
    CHECK_STR(r.path_prefix, "/bar");
    egctl_proxy_rule_free(&r);
    CHECK_INT(egctl_parse_proxy_rule("/=http://x", &r, err, sizeof err), 0);
    CHECK_STR(r.path, "/");
    egctl_proxy_rule_free(&r);
    CHECK_INT(egctl_parse_proxy_rule("foo.com/bar*=http://x=", &r, err, sizeof err), -1);
    CHECK(strstr(err, "invalid format") != NULL);
    CHECK_INT(egctl_parse_proxy_rule("foo.com=http://x", &r, err, sizeof err), -1);
    CHECK(strstr(err, "not contain a path") != NULL);
    CHECK_INT(egctl_parse_proxy_rule("=http://x", &r, err, sizeof err), -1);
    CHECK_INT(egctl_parse_proxy_rule("foo.com/path=", &r, err, sizeof err), -1);
    CHECK(strstr(err, "is empty") != NULL);
    CHECK_INT(egctl_parse_proxy_rule("foo.com/path", &r, err, sizeof err), -1);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(test_flags_anywhere);
    RUN(test_flag_errors);
    RUN(test_server);
    RUN(test_resolve);
    RUN(test_time);
    RUN(test_table);
    RUN(test_warning);
    RUN(test_http);
    RUN(test_base64);
    RUN(test_tls_sniffing);
    RUN(test_logs_and_httpproxy_flags);
    RUN(test_proxy_rule);
    UNIT_END("egctl_args");
}
