/* server.h — the server process: main thread (admin API, store, supervisor) + workers. */
#ifndef EG_SERVER_H
#define EG_SERVER_H

#include "options.h"

/* Runs until SIGTERM/SIGINT; master_fd < 0 when there is no master. Returns an exit code. */
int eg_server_run(const eg_options *o, int master_fd);

/* The master process: holds the data-directory lock and the listening sockets, runs the
 * server process and restarts it if it dies. Returns an exit code. */
int eg_master_run(const eg_options *o);

/* Take the data-directory lock (creating the directory). -1 with a message printed. */
int eg_lock_data_dir(const char *dir);

#endif
