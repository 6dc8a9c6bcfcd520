/* log.h — leveled logging to stderr, safe from any thread (one write(2) per line). */
#ifndef EG_LOG_H
#define EG_LOG_H

enum { EG_LOG_DEBUG, EG_LOG_INFO, EG_LOG_WARN, EG_LOG_ERROR };

void eg_log_set_level(int level);
int eg_log_get_level(void);
void eg_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define eg_debug(...) do { if (eg_log_get_level() <= EG_LOG_DEBUG) eg_log(EG_LOG_DEBUG, __VA_ARGS__); } while (0)
#define eg_info(...)  eg_log(EG_LOG_INFO, __VA_ARGS__)
#define eg_warn(...)  eg_log(EG_LOG_WARN, __VA_ARGS__)
#define eg_error(...) eg_log(EG_LOG_ERROR, __VA_ARGS__)

#endif
