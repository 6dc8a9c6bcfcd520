/* test_nginx_conf.c — egctl's nginx.conf reader (tokens, quoting, escapes, blocks,
 * includes from a table, malformed input with file:line) and the conversion's
 * decisions that integration tests cannot pin down one by one (location order, names,
 * server_name precedence, warnings). */
#define _GNU_SOURCE
#include "../../egctl/nginx_conf.c"
#include "../../egctl/nginx_convert.c"

#include <unistd.h>

#include "unit.h"

/* ---- includes from a table of files --------------------------------------------------- */

typedef struct {
    const char *name, *text;
} mem_file;

static const mem_file mem_files[] = {
    { "up.conf", "upstream u { server 10.0.0.1:80; }\n" },
    { "a.conf", "a 1;\n" },
    { "b.conf", "b 2; include a.conf;\n" },
    { "loop.conf", "include loop.conf;\n" },
    { "broken.conf", "x {\n" },
};

static int mem_resolve(void *ud, const char *arg, char ***names, size_t *n, char *err, size_t errlen)
{
    (void)ud;
    (void)err;
    (void)errlen;
    *names = malloc(sizeof **names);
    (*names)[0] = strdup(arg);
    *n = 1;
    return 0;
}

static int mem_read(void *ud, const char *name, char **text, size_t *len, char *err, size_t errlen)
{
    (void)ud;
    for (size_t i = 0; i < sizeof mem_files / sizeof mem_files[0]; i++) {
        if (strcmp(mem_files[i].name, name) == 0) {
            *text = strdup(mem_files[i].text);
            *len = strlen(*text);
            return 0;
        }
    }
    snprintf(err, errlen, "open() \"%s\" failed: No such file or directory", name);
    return -1;
}

static const nginx_loader mem_loader = { mem_resolve, mem_read, NULL };

static int parse(const char *text, nginx_conf *c, char *err)
{
    return nginx_conf_parse(text, strlen(text), "t.conf", &mem_loader, c, err, 256);
}

/* The parse error of `text` ("" when it parses). */
static const char *parse_error(const char *text)
{
    static char err[256];
    nginx_conf c;
    if (parse(text, &c, err) == 0) {
        nginx_conf_free(&c);
        return "";
    }
    return err;
}

static void test_directives_and_blocks(void)
{
    nginx_conf c;
    char err[256];
    CHECK_INT(parse("# comment\nworker_processes 1;\nhttp {\n  server {\n    listen 80 default_server;"
                    "\n    location / { }\n  }\n}\n", &c, err), 0);
    CHECK_INT(c.ntop, 2);
    CHECK_STR(c.top[0].name, "worker_processes");
    CHECK_INT(c.top[0].nargs, 1);
    CHECK_STR(c.top[0].args[0], "1");
    CHECK(!c.top[0].has_block);
    CHECK_INT(c.top[0].line, 2);
    const nginx_directive *http = nginx_find(&c, NULL, "http");
    CHECK(http && http->has_block && http->nchildren == 1);
    const nginx_directive *server = nginx_find(&c, http, "server");
    CHECK(server && server->line == 4);
    const nginx_directive *listen = nginx_find(&c, server, "listen");
    CHECK(listen && listen->nargs == 2 && listen->line == 5);
    CHECK_STR(listen->args[1], "default_server");
    const nginx_directive *loc = nginx_find(&c, server, "location");
    CHECK(loc && loc->has_block && loc->nchildren == 0 && loc->line == 6);
    CHECK_STR(loc->file, "t.conf");
    nginx_conf_free(&c);
}

static void test_quotes_and_escapes(void)
{
    nginx_conf c;
    char err[256];
    CHECK_INT(parse("a \"x y\" 'p\"q' \"t\\tn\\n\" \"\\\"\" \\; b\\z \"multi\nline\";\n"
                    "c ${var}x \"{\" ; d a}b;\ne '#not' x#y; # end\n", &c, err), 0);
    CHECK_INT(c.ntop, 4);
    CHECK_INT(c.top[0].nargs, 7);
    CHECK_STR(c.top[0].args[0], "x y");
    CHECK_STR(c.top[0].args[1], "p\"q");
    CHECK_STR(c.top[0].args[2], "t\tn\n");
    CHECK_STR(c.top[0].args[3], "\"");
    CHECK_STR(c.top[0].args[4], "\\;");      /* a word; nginx keeps the backslash */
    CHECK_STR(c.top[0].args[5], "b\\z");     /* unknown escapes stay as written */
    CHECK_STR(c.top[0].args[6], "multi\nline");
    CHECK_STR(c.top[1].name, "c");
    CHECK_INT(c.top[1].line, 3);             /* the newline inside quotes was counted */
    CHECK_STR(c.top[1].args[0], "${var}x");  /* "${" does not open a block */
    CHECK_STR(c.top[1].args[1], "{");
    CHECK_STR(c.top[2].args[0], "a}b");      /* nginx: '}' inside a word is part of it */
    CHECK_STR(c.top[3].args[0], "#not");
    CHECK_STR(c.top[3].args[1], "x#y");      /* '#' comments only at a token's start */
    CHECK_INT(c.top[3].nargs, 2);
    nginx_conf_free(&c);
}

static void test_includes(void)
{
    nginx_conf c;
    char err[256];
    CHECK_INT(parse("http {\n include up.conf;\n include b.conf;\n z 3;\n}\n", &c, err), 0);
    const nginx_directive *http = &c.top[0];
    CHECK_INT(http->nchildren, 4);
    CHECK_STR(http->children[0].name, "upstream");
    CHECK_STR(http->children[0].file, "up.conf");
    CHECK_INT(http->children[0].line, 1);
    CHECK_STR(http->children[1].name, "b");
    CHECK_STR(http->children[2].name, "a");   /* nested include, in place */
    CHECK_STR(http->children[2].file, "a.conf");
    CHECK_STR(http->children[3].name, "z");
    CHECK_INT(http->children[3].line, 4);
    nginx_conf_free(&c);

    CHECK_STR(parse_error("include missing.conf;"),
              "t.conf:1: open() \"missing.conf\" failed: No such file or directory");
    CHECK(strstr(parse_error("include loop.conf;"), "nested deeper than 16"));
    CHECK_STR(parse_error("\ninclude broken.conf;"),
              "broken.conf:2: unexpected end of file, expecting \"}\" (block opened on line 1)");
    CHECK_STR(parse_error("include a.conf b.conf;"),
              "t.conf:1: invalid number of arguments in \"include\" directive");
    CHECK_STR(parse_error("include { }"),
              "t.conf:1: invalid number of arguments in \"include\" directive");

    /* without a loader, include is refused */
    CHECK_INT(nginx_conf_parse("include a.conf;", 15, "t.conf", NULL, &c, err, sizeof err), -1);
    CHECK_STR(err, "t.conf:1: include is not allowed here");
}

static void test_malformed(void)
{
    CHECK_STR(parse_error("a {\n b;\n"),
              "t.conf:3: unexpected end of file, expecting \"}\" (block opened on line 1)");
    CHECK_STR(parse_error("a;\n}\n"), "t.conf:2: unexpected \"}\"");
    CHECK_STR(parse_error("a b\n"),
              "t.conf:2: unexpected end of file, expecting \";\" or \"}\" (directive \"a\" on line 1)");
    CHECK_STR(parse_error("a { b }\n"), "t.conf:1: unexpected \"}\"");
    CHECK_STR(parse_error("\n;"), "t.conf:2: unexpected \";\"");
    CHECK_STR(parse_error("{ }"), "t.conf:1: unexpected \"{\"");
    CHECK_STR(parse_error("a \"open;\n"), "t.conf:1: unexpected end of file in a \"quoted\" string");
    CHECK_STR(parse_error("a 'x'y;"), "t.conf:1: unexpected \"y\" after a quoted string");
    CHECK_STR(parse_error("a \"x\"}"), "t.conf:1: unexpected \"}\" after a quoted string");
    CHECK_STR(parse_error(""), "");
    CHECK_STR(parse_error("# only a comment"), "");

    char deep[4 * 70 + 16] = "";
    for (int i = 0; i < 70; i++)
        strcat(deep, "a {");
    CHECK(strstr(parse_error(deep), "blocks nested deeper than 64"));

    /* NUL bytes and high bytes are just word bytes */
    nginx_conf c;
    char err[256];
    static const char nul[] = "a b\0c;";
    CHECK_INT(nginx_conf_parse(nul, sizeof nul - 1, "t.conf", NULL, &c, err, sizeof err), 0);
    CHECK_INT(c.top[0].nargs, 1);
    nginx_conf_free(&c);
}

/* ---- conversion ------------------------------------------------------------------------- */

/* Convert `text`; returns the YAML (malloc'd) or NULL with err; warnings into *warnings. */
static char *convert(const char *text, char *err, char **warnings)
{
    nginx_conf c;
    if (parse(text, &c, err) != 0)
        return NULL;
    size_t wlen = 0;
    FILE *w = open_memstream(warnings, &wlen);
    nginx_convert_opts o = { "p", "", w };
    char *yaml = NULL;
    int rc = nginx_convert(&c, &o, &yaml, err, 256);
    fclose(w);
    nginx_conf_free(&c);
    return rc == 0 ? yaml : NULL;
}

/* The position of `needle` in `hay` (-1 when absent), for order checks. */
static long pos(const char *hay, const char *needle)
{
    const char *p = hay ? strstr(hay, needle) : NULL;
    return p ? (long)(p - hay) : -1;
}

static void test_location_order(void)
{
    char err[256], *w = NULL;
    char *y = convert("http { server { listen 8080;\n"
                      "location / { proxy_pass http://127.0.0.1:1; }\n"
                      "location ~ \\.php$ { proxy_pass http://127.0.0.1:2; }\n"
                      "location /api/v1 { proxy_pass http://127.0.0.1:3; }\n"
                      "location ^~ /static/ { proxy_pass http://127.0.0.1:4; }\n"
                      "location = /x { proxy_pass http://127.0.0.1:5; }\n"
                      "location ~* \\.JPG$ { proxy_pass http://127.0.0.1:6; }\n"
                      "location ^~ /api/ { proxy_pass http://127.0.0.1:7; }\n"
                      "location /api/v1/users/ { proxy_pass http://127.0.0.1:8; }\n"
                      "} }\n", err, &w);
    CHECK(y != NULL);
    long exact = pos(y, "path: /x\n"), stat = pos(y, "pathPrefix: /static/"),
         apire = pos(y, "pathRegexp: ^/api/(?:$|[^v]|v(?:$|[^1]))\n"),
         php = pos(y, "pathRegexp: \\.php$"), jpg = pos(y, "pathRegexp: (?i)\\.JPG$"),
         users = pos(y, "pathPrefix: /api/v1/users/"), v1 = pos(y, "pathPrefix: /api/v1\n"),
         root = pos(y, "pathPrefix: /\n");
    CHECK(exact >= 0 && stat > exact && apire > exact && php > stat && php > apire);
    CHECK(jpg > php && users > jpg && v1 > users && root > v1);
    CHECK(pos(y, "name: p-8080") >= 0);
    CHECK(pos(y, "name: p-root") >= 0 && pos(y, "name: p-apiv1users") >= 0);
    CHECK_STR(w, "");
    free(y);
    free(w);
}

static void test_names_and_hosts(void)
{
    char err[256], *w = NULL;
    char *y = convert("http {\n"
                      "server { listen 80; server_name ~^r\\d+$ *.a.com; location /80 { return 204; } }\n"
                      "server { listen 80; server_name A.com www.*; location / { return 200 x; } }\n"
                      "server { listen 80; server_name *.b.a.com; location / { return 200 y; } }\n"
                      "}\n", err, &w);
    CHECK(y != NULL);
    /* a location "/80" must not take the HTTPServer's name */
    CHECK(pos(y, "name: p-80\nkind: HTTPServer") >= 0);
    CHECK(pos(y, "name: p-80-2\nkind: Pipeline") >= 0);
    CHECK(pos(y, "name: p-root\n") >= 0 && pos(y, "name: p-root-2\n") >= 0);
    /* exact (lower-cased), longest leading wildcard, trailing wildcard, regexp, default */
    long ex = pos(y, "value: a.com"), lb = pos(y, "value: '*.b.a.com'"), la = pos(y, "value: '*.a.com'"),
         tr = pos(y, "value: www.*"), re = pos(y, "value: ^r\\d+$");
    CHECK(ex >= 0 && lb > ex && la > lb && tr > la && re > tr);
    CHECK(pos(y, "isRegexp: true") > re);
    /* named servers without "/" end with the 404 guard */
    CHECK(pos(y, "backend: p-not-found") >= 0);
    free(y);
    free(w);
}

static void test_headers_and_warnings(void)
{
    char err[256], *w = NULL;
    char *y = convert("events {}\nhttp {\n proxy_set_header X-A a;\n"
                      " upstream g { server 10.0.0.1:81 weight=2; server 10.0.0.2 max_fails=3; "
                      "server 10.0.0.3 backup; }\n"
                      " server {\n  location /g/ { proxy_pass http://g/x/; }\n"
                      "  location /h { proxy_set_header X-B $remote_addr; proxy_set_header Host fixed;"
                      " proxy_set_header X-C $nope; try_files $uri =404; proxy_pass http://h:1; }\n"
                      "  location /n { root /srv; }\n"
                      "  location ~ ^/r { proxy_pass http://h:1/x; }\n"
                      " }\n}\n", err, &w);
    CHECK(y != NULL);
    CHECK(pos(y, "X-A: a") >= 0 && pos(y, "X-B: $remote_addr") >= 0);
    /* /h sets its own headers: X-A is not inherited there */
    CHECK(pos(y, "pathPrefix: /h\n    setHeaders:\n      X-B: $remote_addr\n      X-C: $nope\n    backend") >= 0);
    CHECK(pos(y, "pathPrefix: /g/\n    rewriteTarget: /x/\n    setHeaders:\n      X-A: a\n") >= 0);
    CHECK(pos(y, "rewriteTarget: /x/") >= 0);
    CHECK(pos(y, "policy: weightedRandom") >= 0 && pos(y, "url: http://10.0.0.1:81") >= 0 &&
          pos(y, "url: http://10.0.0.2\n") >= 0 && pos(y, "10.0.0.3") < 0);
    CHECK(pos(y, "host: g\n") >= 0 && pos(y, "host: fixed") >= 0);
    CHECK(pos(w, "t.conf:1: directive \"events\" is not converted") >= 0);
    CHECK(pos(w, "t.conf:4: upstream server parameter \"max_fails=3\" is not converted") >= 0);
    CHECK(pos(w, "t.conf:4: upstream server 10.0.0.3 is backup; left out") >= 0);
    CHECK(pos(w, "t.conf:7: variable $nope has no equivalent") >= 0);
    CHECK(pos(w, "t.conf:7: directive \"try_files\" is not converted") >= 0);
    CHECK(pos(w, "t.conf:8: directive \"root\" is not converted") >= 0);
    CHECK(pos(w, "t.conf:8: location /n has neither proxy_pass nor return") >= 0);
    CHECK(pos(w, "t.conf:9: proxy_pass with a URI part in a regular-expression location") >= 0);
    free(y);
    free(w);
}

static void test_return_templates(void)
{
    char err[256], *w = NULL;
    char *y = convert("http { server { listen 8080;\n"
                      "location /a { default_type application/json; return 200 '{\"u\": \"$uri\"} {{x}}'; }\n"
                      "location /b { return 301 /new$request_uri; }\n"
                      "location /c { return https://$host$request_uri; }\n"
                      "location /d { return 444; }\n"
                      "} }\n", err, &w);
    CHECK(y != NULL);
    CHECK(pos(y, "Content-Type: [\"application/json\"]") >= 0);
    CHECK(pos(y, "body: \"{\\\"u\\\": \\\"{{jsonEscape (.req.URL.Path)}}\\\"} {{\"{{\"}}x}}\"") >= 0);
    CHECK(pos(y, "statusCode: 301") >= 0 && pos(y, "Location: [\"http://{{jsonEscape (lower") >= 0);
    CHECK(pos(y, "}}:8080/new{{jsonEscape (.req.RequestURI)}}") >= 0);
    CHECK(pos(y, "statusCode: 302") >= 0 && pos(y, "Location: [\"https://{{") >= 0);
    CHECK(pos(w, "t.conf:5: return 444: only status codes 200 to 599") >= 0);
    free(y);
    free(w);
}

static void test_convert_errors(void)
{
    char err[256], *w = NULL;
    CHECK(convert("events {}\n", err, &w) == NULL);
    CHECK_STR(err, "no http { ... } block: nothing to convert");
    free(w);
    w = NULL;
    CHECK(convert("http {\nserver { listen 127.0.0.1:80; }\nserver { listen 80; }\n}\n", err, &w) == NULL);
    CHECK_STR(err, "t.conf:3: port 80 is listened on at \"127.0.0.1\" and at \"\"; an HTTPServer has one address");
    free(w);
    w = NULL;
    CHECK(convert("http {\nserver { listen 70000; }\n}\n", err, &w) == NULL);
    CHECK_STR(err, "t.conf:2: invalid port in listen 70000");
    free(w);
    w = NULL;
    char *y = convert("http {\nserver { listen unix:/s; }\nserver { location / { return 204; } }\n}\n", err, &w);
    CHECK(pos(y, "name: p-80\n") >= 0 && pos(y, "/s") < 0);
    CHECK(pos(w, "t.conf:2: server listens on no TCP port") >= 0);
    free(y);
    free(w);
}

static void test_tls_files(void)
{
    char dir[] = "/tmp/nginx-conf-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/c.pem", dir);
    FILE *f = fopen(path, "w");
    fputs("abcd", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/k.pem", dir);
    f = fopen(path, "w");
    fputs("ab", f);
    fclose(f);
    char base[128];
    snprintf(base, sizeof base, "%s/", dir);

    nginx_conf c;
    char err[256], *w = NULL;
    CHECK_INT(parse("http { server { listen 443 ssl; ssl_certificate c.pem;\n"
                    "ssl_certificate_key k.pem; location / { return 204; } } }", &c, err), 0);
    size_t wlen;
    FILE *wf = open_memstream(&w, &wlen);
    nginx_convert_opts o = { "p", base, wf };
    char *y = NULL;
    CHECK_INT(nginx_convert(&c, &o, &y, err, sizeof err), 0);
    fclose(wf);
    CHECK(pos(y, "https: true\ncerts:\n  c.pem: YWJjZA==\nkeys:\n  c.pem: YWI=\n") >= 0);
    free(y);
    free(w);
    nginx_conf_free(&c);

    CHECK_INT(parse("http { server { listen 443 ssl;\n ssl_certificate c.pem;\n"
                    " ssl_certificate_key none.pem; } }", &c, err), 0);
    wf = open_memstream(&w, &wlen);
    o.warnings = wf;
    y = NULL;
    CHECK_INT(nginx_convert(&c, &o, &y, err, sizeof err), -1);
    fclose(wf);
    CHECK(y == NULL && strstr(err, "t.conf:3: ssl_certificate_key: cannot read ") == err);
    free(w);
    nginx_conf_free(&c);

    snprintf(path, sizeof path, "%s/c.pem", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/k.pem", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    RUN(test_directives_and_blocks);
    RUN(test_quotes_and_escapes);
    RUN(test_includes);
    RUN(test_malformed);
    RUN(test_location_order);
    RUN(test_names_and_hosts);
    RUN(test_headers_and_warnings);
    RUN(test_return_templates);
    RUN(test_convert_errors);
    RUN(test_tls_files);
    UNIT_END("nginx_conf");
}
