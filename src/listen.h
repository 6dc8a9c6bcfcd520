/* listen.h — listening sockets and the master's socket service.
 *
 * The master process owns every listening socket so that a restarted server process gets
 * the very same sockets (clients queue in the backlog instead of being refused). The server
 * asks for them over a SOCK_SEQPACKET pair; without a master it makes them itself. */
#ifndef EG_LISTEN_H
#define EG_LISTEN_H

#include <stddef.h>
#include <stdint.h>

/* socket + SO_REUSEADDR + SO_REUSEPORT + bind + listen, non-blocking, close-on-exec.
 * addr NULL or "" means all interfaces. Returns the fd or -1 with err set. */
int eg_listen_socket(const char *addr, uint16_t port, char *err, size_t errlen);

/* n sockets for addr:port in one SO_REUSEPORT group, from the master when master_fd >= 0. */
int eg_listen_group(int master_fd, const char *addr, uint16_t port, int n, int *fds, char *err, size_t errlen);
/* Tell the master this group is no longer wanted (it closes its copies). */
void eg_listen_release(int master_fd, const char *addr, uint16_t port);

/* The master's request loop on its end of the pair: serves one request. Returns -1 when the
 * peer has gone. */
typedef struct eg_listen_table eg_listen_table;
eg_listen_table *eg_listen_table_new(void);
void eg_listen_table_free(eg_listen_table *t);
int eg_listen_serve_one(eg_listen_table *t, int ctrl_fd);
/* In a freshly forked server: close the copies of the master's sockets it inherited, so a
 * group the server later releases really closes (it gets its own copies by request). */
void eg_listen_table_close_inherited(const eg_listen_table *t);

#endif
