/* args.h — egctl's command line, server address, resource-name resolution and age text.
 *
 * Everything here is free of any library beyond libc, so the unit test can compile
 * args.c on its own (tests/unit/test_egctl_args.c).
 */
#ifndef EGCTL_ARGS_H
#define EGCTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef enum {
    EGCTL_OUT_DEFAULT,
    EGCTL_OUT_YAML,
    EGCTL_OUT_JSON,
} egctl_output;

/* Flags a command may accept; the parser records which ones were given so that each
 * command can refuse those it does not know (cobra says "unknown flag" then too). */
enum {
    EGCTL_FLAG_FILE = 1u << 0,     /* -f, --file */
    EGCTL_FLAG_ALL = 1u << 1,      /* --all */
    EGCTL_FLAG_VERBOSE = 1u << 2,  /* -v, --verbose */
};

#define EGCTL_DEFAULT_SERVER "127.0.0.1:2381"

typedef struct {
    /* Global flags */
    const char *server;       /* as given (flag, else EGCTL_SERVER, else the default) */
    egctl_output output;
    bool help;
    /* Command flags */
    unsigned flags_seen;      /* EGCTL_FLAG_* given on the command line */
    const char *file;         /* -f value ("-" is stdin) */
    bool all;
    bool verbose;
    /* Positional arguments in order: the command, its sub-commands, then names. */
    char **args;              /* malloc'd array of pointers into argv */
    int nargs;
} egctl_opts;

/* Parse argv (flags may appear anywhere, "--" ends them). `env_server` is the value of
 * EGCTL_SERVER or NULL. Returns 0, or -1 with a one-line reason in err. */
int egctl_parse_args(int argc, char **argv, const char *env_server, egctl_opts *o,
                     char *err, size_t errlen);
void egctl_opts_free(egctl_opts *o);

/* The flag name to report for the first flag in `given` that is not in `allowed`, or NULL. */
const char *egctl_flag_name(unsigned given, unsigned allowed);

/* "HOST:PORT", "HOST", "http://HOST:PORT[/]" or "[v6]:PORT" -> host and port.
 * The host of a bracketed IPv6 address comes back without brackets. */
int egctl_parse_server(const char *server, char *host, size_t hostlen, int *port,
                       char *err, size_t errlen);

/* An entry of /apis/v2/object-api-resources; strings are borrowed. */
typedef struct {
    const char *kind;       /* "HTTPServer" */
    const char *name;       /* "httpservers" */
    const char *category;   /* "TrafficGate" (may be NULL) */
    const char **aliases;   /* "httpserver", "hs" */
    size_t naliases;
} egctl_resource;

/* The resource `arg` names: its kind, plural name or one of its aliases, compared
 * without regard to case. NULL when none matches. */
const egctl_resource *egctl_resolve_kind(const egctl_resource *rs, size_t n, const char *arg);

/* Whether `arg` names cluster members ("member", "members", "m", "mem", "Member"):
 * they are not objects and have their own API (/apis/v2/status/members). */
bool egctl_is_member(const char *arg);

/* Go's time.Parse(time.RFC3339, s): "2006-01-02T15:04:05[.frac](Z|+07:00)". */
bool egctl_parse_rfc3339(const char *s, time_t *out);

/* Easegress's AGE column: the most significant unit of an elapsed time, rounded
 * ("3d", "5h", "12m", "40s", "0s"). */
void egctl_format_age(double seconds, char *buf, size_t len);

#endif
