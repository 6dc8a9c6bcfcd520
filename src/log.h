/* log.h — leveled logging to stderr, safe from any thread (one write(2) per line), and the
 * ring of recent lines the admin API serves (GET /apis/v2/logs). */
#ifndef EG_LOG_H
#define EG_LOG_H

#include <stddef.h>
#include <stdint.h>

enum { EG_LOG_DEBUG, EG_LOG_INFO, EG_LOG_WARN, EG_LOG_ERROR };

void eg_log_set_level(int level);
int eg_log_get_level(void);
void eg_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "debug", "info", "warn", "error"; NULL for an unknown level. */
const char *eg_log_level_name(int level);

#define eg_debug(...) do { if (eg_log_get_level() <= EG_LOG_DEBUG) eg_log(EG_LOG_DEBUG, __VA_ARGS__); } while (0)
#define eg_info(...)  eg_log(EG_LOG_INFO, __VA_ARGS__)
#define eg_warn(...)  eg_log(EG_LOG_WARN, __VA_ARGS__)
#define eg_error(...) eg_log(EG_LOG_ERROR, __VA_ARGS__)

/* The ring keeps the last EG_LOG_RING_BYTES bytes of whole lines. Positions in it are byte
 * offsets counted from the first line ever logged, so a reader keeps its place while
 * writers go on; a reader that fell behind the ring skips to the oldest line still kept. */
#define EG_LOG_RING_BYTES ((size_t)1 << 20)
#define EG_LOG_LINE_MAX 2048

/* Where the last `lines` lines start (lines < 0: the oldest line kept). */
uint64_t eg_log_ring_tail(long lines);
/* Copy whole lines from *pos into out (cap >= EG_LOG_LINE_MAX), advance *pos past them.
 * Returns the bytes copied, 0 when *pos is at the end. */
size_t eg_log_ring_read(uint64_t *pos, char *out, size_t cap);
/* Called after every line added to the ring, from the logging thread, with the ring's lock
 * held (so eg_log_ring_set_listener(NULL, NULL) returning means no call is under way). The
 * callback must be quick and must not log. */
void eg_log_ring_set_listener(void (*fn)(void *ud), void *ud);

#endif
