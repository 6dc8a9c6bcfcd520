/* admin_logs.h — the admin API's log endpoints: GET /logs?tail=N&follow=true (the recent
 * lines from the log ring, then new lines as they are logged, streamed chunked until the
 * client leaves), GET /logs/level and PUT /logs/level/{debug|info}. Main thread only. */
#ifndef EG_ADMIN_LOGS_H
#define EG_ADMIN_LOGS_H

#include <stddef.h>
#include <uv.h>
#include "arena.h"
#include "message.h"

typedef struct eg_admin_logs eg_admin_logs;

/* NULL when out of memory or the wake-up handle cannot be made. */
eg_admin_logs *eg_admin_logs_start(uv_loop_t *loop);
/* After the admin connections are closed (their follows are aborted then): stops listening
 * to the ring and frees `l` once its handle is closed. */
void eg_admin_logs_stop(eg_admin_logs *l);

/* Answer `method path?query` (path after /apis/v2) into resp, whose memory is `arena`'s.
 * Returns -1 when the path is not a log endpoint, 0 when resp is set, or an HTTP error
 * status with the reason in err. */
int eg_admin_logs_handle(eg_admin_logs *l, const char *method, const char *path, const char *query,
                         eg_arena *arena, eg_response *resp, char *err, size_t errlen);

#endif
