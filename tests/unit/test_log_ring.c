/* test_log_ring.c — the log ring behind GET /logs: tails by line count, whole lines only,
 * readers that fell behind skip to the oldest kept line, and the listener. */
#define _GNU_SOURCE
#include "../../src/log.c"

#include <fcntl.h>
#include <stdbool.h>

#include "unit.h"

static int calls, saved_stderr = -1;

/* eg_log also writes each line to stderr: send those to /dev/null while logging, so the
 * test's own CHECK messages still reach the real stderr. */
static void quiet(bool on)
{
    if (on) {
        fflush(stderr);
        saved_stderr = dup(STDERR_FILENO);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, STDERR_FILENO);
        close(devnull);
    } else {
        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
    }
}
static void count(void *ud) { (void)ud; calls++; }

static size_t read_all(uint64_t pos, char *out, size_t cap)
{
    size_t n, total = 0;
    while ((n = eg_log_ring_read(&pos, out + total, cap - total)) > 0)
        total += n;
    out[total] = '\0';
    return total;
}

static void test_tail_and_read(void)
{
    static char buf[EG_LOG_RING_BYTES + 1];
    CHECK_INT(read_all(eg_log_ring_tail(10), buf, sizeof buf - 1), 0);
    quiet(true);
    eg_log_ring_set_listener(count, NULL);
    eg_log(EG_LOG_INFO, "one");
    eg_log(EG_LOG_INFO, "two");
    eg_log(EG_LOG_DEBUG, "hidden at info");
    eg_log(EG_LOG_WARN, "three\nfour");
    eg_log_ring_set_listener(NULL, NULL);
    eg_log(EG_LOG_INFO, "five");
    quiet(false);
    CHECK_INT(calls, 3);
    read_all(eg_log_ring_tail(2), buf, sizeof buf - 1);
    CHECK(strstr(buf, "four\n") != NULL && strstr(buf, "five\n") != NULL);
    CHECK(strstr(buf, "three") == NULL); /* "three\nfour" is two lines */
    read_all(eg_log_ring_tail(-1), buf, sizeof buf - 1);
    CHECK(strstr(buf, "INFO") && strstr(buf, "one\n") && !strstr(buf, "hidden"));
    CHECK_INT(read_all(eg_log_ring_tail(0), buf, sizeof buf - 1), 0);
    CHECK_STR(eg_log_level_name(EG_LOG_DEBUG), "debug");
    CHECK(eg_log_level_name(7) == NULL);
}

static void test_wrap(void)
{
    static char buf[EG_LOG_RING_BYTES + 1];
    uint64_t behind = eg_log_ring_tail(-1);
    char line[200];
    memset(line, 'x', sizeof line - 1);
    line[sizeof line - 1] = '\0';
    /* Three times the ring: the reader at `behind` lost its place. */
    quiet(true);
    for (size_t i = 0; i < 3 * EG_LOG_RING_BYTES / 200; i++)
        eg_log(EG_LOG_INFO, "%06zu %s", i, line);
    quiet(false);
    size_t n = read_all(behind, buf, sizeof buf - 1);
    CHECK(n <= EG_LOG_RING_BYTES && n > EG_LOG_RING_BYTES - 600);
    CHECK(buf[n - 1] == '\n');
    CHECK(buf[4] == '-' && buf[10] == 'T'); /* starts at a line start: its timestamp */
    CHECK(strstr(buf, "one\n") == NULL);
    /* A small buffer gets whole lines only. */
    char small[EG_LOG_LINE_MAX + 10];
    uint64_t pos = eg_log_ring_tail(3);
    size_t got = eg_log_ring_read(&pos, small, sizeof small);
    CHECK(got > 0 && small[got - 1] == '\n');
    CHECK_INT(eg_log_ring_tail(1) - eg_log_ring_tail(2) > 0, 1);
}

int main(void)
{
    RUN(test_tail_and_read);
    RUN(test_wrap);
    UNIT_END("log_ring");
}
