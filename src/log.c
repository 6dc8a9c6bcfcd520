#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The process-wide log level: one of the few globals, changed by the admin API. */
static atomic_int log_level = EG_LOG_INFO;

/* The ring of recent lines. One process-wide buffer like the level: every thread logs into
 * it. A line costs a memcpy under the mutex, nothing more; readers copy out under it. */
static struct {
    pthread_mutex_t mu;
    uint64_t end;              /* bytes ever appended; the next byte goes to data[end % size] */
    void (*listener)(void *ud);
    void *listener_ud;
    char data[EG_LOG_RING_BYTES];
} ring = { .mu = PTHREAD_MUTEX_INITIALIZER };

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void eg_log_set_level(int level) { atomic_store(&log_level, level); }
int eg_log_get_level(void) { return atomic_load_explicit(&log_level, memory_order_relaxed); }

const char *eg_log_level_name(int level)
{
    return level >= EG_LOG_DEBUG && level <= EG_LOG_ERROR ? level_names[level] : NULL;
}

static void ring_append(const char *line, size_t n)
{
    pthread_mutex_lock(&ring.mu);
    size_t at = (size_t)(ring.end % EG_LOG_RING_BYTES);
    size_t first = n < EG_LOG_RING_BYTES - at ? n : EG_LOG_RING_BYTES - at;
    memcpy(ring.data + at, line, first);
    memcpy(ring.data, line + first, n - first);
    ring.end += n;
    if (ring.listener)
        ring.listener(ring.listener_ud);
    pthread_mutex_unlock(&ring.mu);
}

static char ring_byte(uint64_t pos) { return ring.data[pos % EG_LOG_RING_BYTES]; }

/* The oldest whole line still in the ring (lock held). */
static uint64_t ring_oldest(void)
{
    if (ring.end <= EG_LOG_RING_BYTES)
        return 0;
    uint64_t p = ring.end - EG_LOG_RING_BYTES;
    while (p < ring.end && ring_byte(p) != '\n')
        p++;
    return p < ring.end ? p + 1 : ring.end;
}

uint64_t eg_log_ring_tail(long lines)
{
    pthread_mutex_lock(&ring.mu);
    uint64_t oldest = ring_oldest(), p = ring.end;
    if (lines < 0) {
        p = oldest;
    } else {
        /* Step back over `lines` line ends; the byte before ring.end is always '\n'. */
        long seen = 0;
        while (p > oldest) {
            if (ring_byte(p - 1) == '\n' && p != ring.end && ++seen == lines)
                break;
            p--;
        }
        if (lines == 0)
            p = ring.end;
    }
    pthread_mutex_unlock(&ring.mu);
    return p;
}

size_t eg_log_ring_read(uint64_t *pos, char *out, size_t cap)
{
    pthread_mutex_lock(&ring.mu);
    uint64_t oldest = ring_oldest();
    if (*pos < oldest || *pos > ring.end)
        *pos = oldest;
    size_t n = (size_t)(ring.end - *pos);
    if (n > cap) {
        n = cap;
        while (n > 0 && ring_byte(*pos + n - 1) != '\n') /* whole lines only */
            n--;
        if (n == 0)
            n = cap;
    }
    size_t at = (size_t)(*pos % EG_LOG_RING_BYTES);
    size_t first = n < EG_LOG_RING_BYTES - at ? n : EG_LOG_RING_BYTES - at;
    memcpy(out, ring.data + at, first);
    memcpy(out + first, ring.data, n - first);
    *pos += n;
    pthread_mutex_unlock(&ring.mu);
    return n;
}

void eg_log_ring_set_listener(void (*fn)(void *ud), void *ud)
{
    pthread_mutex_lock(&ring.mu);
    ring.listener = fn;
    ring.listener_ud = ud;
    pthread_mutex_unlock(&ring.mu);
}

void eg_log(int level, const char *fmt, ...)
{
    static const char *const names[] = { "DEBUG", "INFO", "WARN", "ERROR" };
    if (level < eg_log_get_level())
        return;
    char line[EG_LOG_LINE_MAX];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03ld %s [%d] ", (long)(tv.tv_usec / 1000),
                  names[level < 0 ? 0 : level > 3 ? 3 : level], (int)getpid());
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += m;
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
    ring_append(line, (size_t)n);
}
