/* test_http1.c — the HTTP/1.1 server connection driven through a socketpair.
 *
 * It reuses the fuzz target's harness (tests/fuzz/fuzz_http1.c: real connection code on a
 * libuv loop, hooks answering 200, its checks abort on a broken invariant) for:
 *  - every input of the fuzz corpus (tests/fuzz/corpus/http1, where crash reproducers go);
 *  - requests whose answers are checked here byte for byte. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "buf.h"

#include "../fuzz/fuzz_http1.c"

static eg_buf out;

static void capture(const char *data, size_t len) { eg_buf_append(&out, data, len); }

/* Send `req` with the harness's flag bytes; returns what the server wrote back. */
static const char *serve(uint8_t f0, uint8_t f1, uint8_t f2, const char *req, size_t len)
{
    uint8_t *in = malloc(len + 3);
    in[0] = f0;
    in[1] = f1;
    in[2] = f2;
    memcpy(in + 3, req, len);
    out.len = 0;
    client_bytes_hook = capture;
    LLVMFuzzerTestOneInput(in, len + 3);
    client_bytes_hook = NULL;
    free(in);
    eg_buf_append(&out, "", 1); /* NUL-terminated for the string checks */
    out.len--;
    return out.data;
}

static const char *serve_str(const char *req) { return serve(0, 0, 0, req, strlen(req)); }

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void test_corpus_replays(void)
{
    const char *dir = "tests/fuzz/corpus/http1";
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d)
        return;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        static uint8_t buf[1 << 20];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, len); /* aborts on a broken invariant */
        n++;
    }
    closedir(d);
    CHECK(n > 0);
}

static void test_get(void)
{
    const char *r = serve_str("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(strstr(r, "Content-Length: 6\r\n") != NULL);
    CHECK(strstr(r, "\r\n\r\nhello\n") != NULL);
}

static void test_bare_lf_and_obs_fold_rejected(void)
{
    CHECK(strncmp(serve_str("GET / HTTP/1.1\nHost: a\n\n"), "HTTP/1.1 400 ", 13) == 0);
    CHECK(strncmp(serve_str("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n"), "HTTP/1.1 400 ", 13) == 0);
}

/* Empty lines before a request line are allowed (RFC 9112 §2.2) and llhttp skips them; they
 * must not end the head check before the head has begun. */
static void test_leading_empty_lines_do_not_skip_the_head_check(void)
{
    CHECK(strncmp(serve_str("\r\n\r\nGET / HTTP/1.1\nHost: a\n\n"), "HTTP/1.1 400 ", 13) == 0);
    CHECK(strncmp(serve_str("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n"), "HTTP/1.1 400 ", 13) == 0);
    const char *ok = serve_str("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(strncmp(ok, "HTTP/1.1 200 ", 13) == 0);
}

/* A pipelined request whose body arrives while the one before it is being answered: the
 * connection stops reading past 64 KiB of buffered input and must start again once it
 * works on that request, also when the buffered part ends inside its body. */
static void test_pipelined_big_body_after_busy_request(void)
{
    size_t blen = 300 * 1024;
    eg_buf req = { 0 };
    eg_buf_appends(&req, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
    eg_buf_printf(&req, "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n\r\n", blen);
    eg_buf_reserve(&req, blen);
    memset(req.data + req.len, 'b', blen);
    req.len += blen;
    eg_buf_appends(&req, "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
    /* mode 2: answered from a timer, so request 1 is busy while the rest comes in */
    const char *r = serve(0x02, 0xf0, 0, req.data, req.len);
    CHECK_INT(count(r, "HTTP/1.1 200 OK\r\n"), 3);
    eg_buf_free(&req);
}

int main(void)
{
    LLVMFuzzerInitialize(NULL, NULL);
    RUN(test_corpus_replays);
    RUN(test_get);
    RUN(test_bare_lf_and_obs_fold_rejected);
    RUN(test_leading_empty_lines_do_not_skip_the_head_check);
    RUN(test_pipelined_big_body_after_busy_request);
    eg_buf_free(&out);
    UNIT_END("http1");
}
