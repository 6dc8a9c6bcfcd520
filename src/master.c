/* master.c — the supervising master process (see server.h). */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "listen.h"
#include "log.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EG_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(EG_ASAN)
#define EG_ASAN 1
#endif
#ifdef EG_ASAN
#include <sanitizer/lsan_interface.h>
#endif

static int mkdir_p(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

int eg_lock_data_dir(const char *dir)
{
    if (mkdir_p(dir) < 0) {
        fprintf(stderr, "easegress-server: cannot create data directory %s: %s\n", dir, strerror(errno));
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/LOCK", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    /* A process killed a moment ago may still hold the lock while its threads tear down
     * (its leader already a zombie): a restart right after a crash waits for it briefly. */
    int rc = fd < 0 ? -1 : flock(fd, LOCK_EX | LOCK_NB);
    for (int i = 0; rc < 0 && fd >= 0 && errno == EWOULDBLOCK && i < 30; i++) {
        usleep(100 * 1000);
        rc = flock(fd, LOCK_EX | LOCK_NB);
    }
    if (fd < 0 || rc < 0) {
        fprintf(stderr, "easegress-server: data directory %s is in use by another easegress-server (%s)\n", dir,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd; /* held for the life of the process */
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static pid_t spawn_server(const eg_options *o, int *ctrl_fd, const sigset_t *orig_mask, int sfd,
                          const eg_listen_table *table)
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
        eg_error("master: socketpair: %s", strerror(errno));
        return -1;
    }
    pid_t master = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        eg_error("master: fork: %s", strerror(errno));
        close(pair[0]);
        close(pair[1]);
        return -1;
    }
    if (pid == 0) {
        close(pair[0]);
        /* A server whose master is gone must not keep serving the ports alone. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != master)
            _exit(1);
        sigprocmask(SIG_SETMASK, orig_mask, NULL);
        close(sfd);
        eg_listen_table_close_inherited(table);
        int rc = eg_server_run(o, pair[1]);
#ifdef EG_ASAN
        /* _exit skips LeakSanitizer's at-exit check: run it here so ASan builds report the
           server process's leaks (it exits with LSan's exit code if there are any). */
        __lsan_do_leak_check();
#endif
        _exit(rc);
    }
    close(pair[1]);
    *ctrl_fd = pair[0];
    return pid;
}

int eg_master_run(const eg_options *o)
{
    if (eg_lock_data_dir(o->data_dir) < 0)
        return 1;
    sigset_t mask, orig;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, &orig);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    signal(SIGPIPE, SIG_IGN);
    eg_listen_table *table = eg_listen_table_new();
    int ctrl = -1;
    bool stopping = false;
    int exit_code = 0;
    double started = now_s();
    pid_t child = spawn_server(o, &ctrl, &orig, sfd, table);
    if (child < 0)
        return 1;
    while (child > 0) {
        struct pollfd fds[2] = { { sfd, POLLIN, 0 }, { ctrl, POLLIN, 0 } };
        if (poll(fds, ctrl >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (ctrl >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            if (eg_listen_serve_one(table, ctrl) < 0) {
                close(ctrl);
                ctrl = -1;
            }
        }
        if (!(fds[0].revents & POLLIN))
            continue;
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof si) != sizeof si)
            continue;
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            kill(child, stopping ? SIGKILL : SIGTERM);
            stopping = true;
            continue;
        }
        if (si.ssi_signo == SIGHUP) {
            kill(child, SIGHUP);
            continue;
        }
        int status;
        pid_t r;
        while ((r = waitpid(-1, &status, WNOHANG)) > 0) {
            if (r != child)
                continue;
            if (ctrl >= 0) {
                close(ctrl);
                ctrl = -1;
            }
            if (stopping) {
                exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
                child = 0;
                break;
            }
            if (WIFEXITED(status))
                eg_error("master: server process %d exited with %d; restarting it", (int)r, WEXITSTATUS(status));
            else
                eg_error("master: server process %d killed by signal %d; restarting it", (int)r, WTERMSIG(status));
            /* A server that dies at once would spin: give it a second. */
            if (now_s() - started < 1.0)
                sleep(1);
            started = now_s();
            child = spawn_server(o, &ctrl, &orig, sfd, table);
            if (child < 0) {
                exit_code = 1;
                child = 0;
            }
        }
    }
    eg_listen_table_free(table);
    close(sfd);
    return exit_code;
}
