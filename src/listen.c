#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_GROUP 256

static int open_socket(const char *addr, uint16_t port, int reuseport, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t slen;
    int family;
    const char *host = (addr && *addr) ? addr : "0.0.0.0";
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        family = sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        slen = sizeof *sin;
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        family = sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        slen = sizeof *sin6;
    } else {
        /* A name such as "localhost": resolve once, here, at listen time. */
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
        int rc = getaddrinfo(host, NULL, &hints, &res);
        if (rc != 0) {
            snprintf(err, errlen, "resolve %s: %s", host, gai_strerror(rc));
            return -1;
        }
        memcpy(&ss, res->ai_addr, res->ai_addrlen);
        slen = res->ai_addrlen;
        family = res->ai_family;
        freeaddrinfo(res);
        if (family == AF_INET)
            sin->sin_port = htons(port);
        else
            sin6->sin6_port = htons(port);
    }
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
        snprintf(err, errlen, "SO_REUSEPORT: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&ss, slen) < 0 || listen(fd, 4096) < 0) {
        snprintf(err, errlen, "listen on %s:%u: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int eg_listen_socket(const char *addr, uint16_t port, char *err, size_t errlen)
{
    return open_socket(addr, port, 1, err, errlen);
}

/* A port is busy for us when another process holds it; SO_REUSEPORT would otherwise let
 * a second bind by the same user succeed silently, so probe without the flag first. */
static int port_is_free(const char *addr, uint16_t port, char *err, size_t errlen)
{
    int probe = open_socket(addr, port, 0, err, errlen);
    if (probe < 0)
        return 0;
    close(probe);
    return 1;
}

static int make_group(const char *addr, uint16_t port, int n, int *fds, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        fds[i] = eg_listen_socket(addr, port, err, errlen);
        if (fds[i] < 0) {
            while (i-- > 0)
                close(fds[i]);
            return -1;
        }
    }
    return 0;
}

int eg_listen_group(int master_fd, const char *addr, uint16_t port, int n, int *fds, char *err, size_t errlen)
{
    if (n <= 0 || n > MAX_GROUP) {
        snprintf(err, errlen, "bad socket group size %d", n);
        return -1;
    }
    if (master_fd < 0)
        return port_is_free(addr, port, err, errlen) ? make_group(addr, port, n, fds, err, errlen) : -1;
    char req[512];
    int len = snprintf(req, sizeof req, "L %d %u %s", n, port, addr ? addr : "");
    if (send(master_fd, req, (size_t)len, 0) < 0) {
        snprintf(err, errlen, "master: %s", strerror(errno));
        return -1;
    }
    char reply[512];
    char cbuf[CMSG_SPACE(sizeof(int) * MAX_GROUP)];
    struct iovec iov = { reply, sizeof reply - 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    ssize_t r = recvmsg(master_fd, &msg, MSG_CMSG_CLOEXEC);
    if (r <= 0) {
        snprintf(err, errlen, "master: %s", r < 0 ? strerror(errno) : "closed");
        return -1;
    }
    reply[r] = 0;
    if (strncmp(reply, "OK", 2) != 0) {
        snprintf(err, errlen, "%s", reply[0] == 'E' ? reply + 4 : reply);
        return -1;
    }
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int) * (size_t)n)) {
        snprintf(err, errlen, "master: bad descriptor message");
        return -1;
    }
    memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)n);
    return 0;
}

void eg_listen_release(int master_fd, const char *addr, uint16_t port)
{
    if (master_fd < 0)
        return;
    char req[512];
    int len = snprintf(req, sizeof req, "C 0 %u %s", port, addr ? addr : "");
    if (send(master_fd, req, (size_t)len, 0) < 0)
        return;
    char reply[64];
    ssize_t r = recv(master_fd, reply, sizeof reply, 0);
    (void)r;
}

/* ---- master side ---- */

typedef struct {
    char addr[256];
    uint16_t port;
    int n;
    int fds[MAX_GROUP];
} group;

struct eg_listen_table {
    group *groups;
    size_t count;
};

eg_listen_table *eg_listen_table_new(void) { return calloc(1, sizeof(eg_listen_table)); }

static void group_close(group *g)
{
    for (int i = 0; i < g->n; i++)
        close(g->fds[i]);
    g->n = 0;
}

void eg_listen_table_free(eg_listen_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->count; i++)
        group_close(&t->groups[i]);
    free(t->groups);
    free(t);
}

void eg_listen_table_close_inherited(const eg_listen_table *t)
{
    for (size_t i = 0; i < t->count; i++)
        for (int j = 0; j < t->groups[i].n; j++)
            close(t->groups[i].fds[j]);
}

static group *find_group(eg_listen_table *t, const char *addr, uint16_t port)
{
    for (size_t i = 0; i < t->count; i++)
        if (t->groups[i].port == port && strcmp(t->groups[i].addr, addr) == 0)
            return &t->groups[i];
    return NULL;
}

static int send_reply(int fd, const char *text, const int *fds, int n)
{
    struct iovec iov = { (void *)text, strlen(text) };
    char cbuf[CMSG_SPACE(sizeof(int) * MAX_GROUP)];
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (n > 0) {
        memset(cbuf, 0, sizeof cbuf);
        msg.msg_control = cbuf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
    }
    return sendmsg(fd, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

int eg_listen_serve_one(eg_listen_table *t, int ctrl_fd)
{
    char req[512];
    ssize_t r = recv(ctrl_fd, req, sizeof req - 1, 0);
    if (r <= 0)
        return r < 0 && errno == EINTR ? 0 : -1;
    req[r] = 0;
    char op;
    int n;
    unsigned port;
    char addr[256] = "";
    if (sscanf(req, "%c %d %u %255s", &op, &n, &port, addr) < 3 || port > 65535)
        return send_reply(ctrl_fd, "ERR malformed request", NULL, 0);
    group *g = find_group(t, addr, (uint16_t)port);
    if (op == 'C') {
        if (g) {
            group_close(g);
            *g = t->groups[--t->count];
        }
        return send_reply(ctrl_fd, "OK", NULL, 0);
    }
    if (op != 'L' || n <= 0 || n > MAX_GROUP)
        return send_reply(ctrl_fd, "ERR malformed request", NULL, 0);
    if (g && g->n != n) {
        group_close(g);
        *g = t->groups[--t->count];
        g = NULL;
    }
    char err[300];
    if (!g) {
        group ng = { .port = (uint16_t)port, .n = n };
        snprintf(ng.addr, sizeof ng.addr, "%s", addr);
        if (!port_is_free(addr, (uint16_t)port, err, sizeof err) || make_group(addr, (uint16_t)port, n, ng.fds, err, sizeof err) < 0) {
            char reply[400];
            snprintf(reply, sizeof reply, "ERR %s", err);
            return send_reply(ctrl_fd, reply, NULL, 0);
        }
        group *ng_arr = realloc(t->groups, (t->count + 1) * sizeof *t->groups);
        if (!ng_arr)
            abort();
        t->groups = ng_arr;
        t->groups[t->count] = ng;
        g = &t->groups[t->count++];
    }
    return send_reply(ctrl_fd, "OK", g->fds, g->n);
}
