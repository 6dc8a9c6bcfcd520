/* access_log.h — one line per request in Easegress's default format, buffered per worker:
 * [Time] [RemoteAddr RealIP Method URI Proto StatusCode] [Duration rx:ReqSizeB tx:RespSizeB] [Tags] */
#ifndef EG_ACCESS_LOG_H
#define EG_ACCESS_LOG_H

#include <stdint.h>
#include <uv.h>
#include "buf.h"
#include "exchange.h"

typedef struct {
    int fd;                 /* -1: disabled */
    eg_buf buf;
    uv_timer_t flush_timer;
    bool timer_live;
} eg_access_log;

/* fd is shared by every worker (O_APPEND writes of whole buffers of whole lines). */
void eg_access_log_init(eg_access_log *l, uv_loop_t *loop, int fd);
void eg_access_log_request(eg_access_log *l, const eg_exchange *x, int status, uint64_t resp_bytes);
void eg_access_log_flush(eg_access_log *l);
void eg_access_log_close(eg_access_log *l);

#endif
