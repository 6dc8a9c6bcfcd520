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
    EGCTL_FLAG_TAIL = 1u << 3,     /* --tail (logs) */
    EGCTL_FLAG_FOLLOW = 1u << 4,   /* -f, --follow (logs: there -f is --follow, not --file) */
    EGCTL_FLAG_PORT = 1u << 5,     /* --port (create httpproxy) */
    EGCTL_FLAG_RULE = 1u << 6,     /* --rule, repeatable (create httpproxy) */
    EGCTL_FLAG_TLS = 1u << 7,      /* --tls, --auto-cert, ... (create httpproxy, refused) */
    EGCTL_FLAG_NAMESPACE = 1u << 8,      /* --namespace (get, describe) */
    EGCTL_FLAG_ALL_NAMESPACES = 1u << 9, /* --all-namespaces (get, describe) */
};

#define EGCTL_DEFAULT_SERVER "127.0.0.1:2381"

typedef struct {
    /* Global flags */
    const char *server;       /* as given (flag, else EGCTL_SERVER, else the default) */
    bool server_given;        /* by the flag or EGCTL_SERVER: ~/.egctlrc's server is not used */
    bool force_tls;           /* --force-tls: HTTPS even to a server given without https:// */
    bool insecure_skip_verify; /* --insecure-skip-verify: no certificate or name checks */
    egctl_output output;
    bool help;
    /* Command flags */
    unsigned flags_seen;      /* EGCTL_FLAG_* given on the command line */
    const char *file;         /* -f value ("-" is stdin) */
    bool all;
    bool verbose;
    long tail;                /* --tail, default 500 (-1: all) */
    bool follow;
    int port;                 /* --port, 0 when not given */
    const char **rules;       /* --rule values in order (malloc'd array, strings in argv) */
    int nrules;
    const char *tls_flag;     /* the first TLS flag given, to name it when refusing */
    const char *namespace;    /* --namespace, NULL when not given */
    bool all_namespaces;
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

/* "HOST:PORT", "HOST", "http(s)://HOST:PORT[/]" or "[v6]:PORT" -> host and port, and
 * whether the address says https:// (*tls). The host of a bracketed IPv6 address comes
 * back without brackets. A missing port is 80, or 443 after https://. */
int egctl_parse_server(const char *server, char *host, size_t hostlen, int *port, bool *tls,
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

/* One --rule of `create httpproxy`: HOST/PATH=URL1,URL2 (Easegress's parseRule). A PATH
 * ending in '*' is a pathPrefix without the '*'. Strings are malloc'd. */
typedef struct {
    char *host;             /* "" for any host */
    char *path;             /* exactly one of path and path_prefix is set */
    char *path_prefix;
    char **endpoints;
    size_t nendpoints;
} egctl_proxy_rule;

int egctl_parse_proxy_rule(const char *rule, egctl_proxy_rule *out, char *err, size_t errlen);
void egctl_proxy_rule_free(egctl_proxy_rule *r);

#endif
