/* admin_api.h — the admin REST API on the main thread. */
#ifndef EG_ADMIN_API_H
#define EG_ADMIN_API_H

#include <time.h>
#include <uv.h>
#include "admin_logs.h"
#include "http1_server.h"
#include "supervisor.h"

typedef struct {
    eg_supervisor *supervisor;
    const char *member_name;
    const char *cluster_name;
    const char *api_addr;
    const char *data_dir;
    time_t start_time;
    /* Kept by the server's liveness check: when every worker was last seen turning its
     * loop, and what is wrong if one is not. */
    time_t last_heartbeat;
    char health[128];
    eg_admin_logs *logs;          /* /logs: the ring's follows */
    uv_tcp_t tcp;
    eg_http1_server http;
    eg_http1_finisher finisher;
    eg_arena_pool arenas;
    char read_buf[64 * 1024];
} eg_admin_api;

/* Serve on an already listening socket. Returns 0 or a libuv error. */
int eg_admin_api_start(eg_admin_api *api, uv_loop_t *loop, int fd);
void eg_admin_api_stop(eg_admin_api *api);

#endif
