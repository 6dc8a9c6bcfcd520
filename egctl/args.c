/* args.c — command-line parsing and the small pure helpers egctl's commands share.
 *
 * Flags follow cobra/pflag as Easegress's egctl uses them: they may appear anywhere on the
 * line, "--" ends them, "--name=value", "--name value", "-ovalue", "-o=value" and
 * "-o value" all work, and short boolean flags combine ("-hv"). Error texts copy pflag's so
 * that scripts written against Easegress see the same words.
 */
#include "args.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What the parser knows about one flag. */
typedef struct {
    const char *name;   /* long name without "--" */
    char shorthand;     /* 0 when none */
    bool takes_value;
    int id;
} flag_def;

enum { F_SERVER, F_OUTPUT, F_HELP, F_FILE, F_ALL, F_VERBOSE, F_INSECURE, F_FORCE_TLS, F_TAIL,
       F_FOLLOW, F_PORT, F_RULE, F_TLS_BOOL, F_TLS_VALUE, F_NAMESPACE, F_ALL_NAMESPACES };

static const flag_def flag_defs[] = {
    {"server", 0, true, F_SERVER},
    {"output", 'o', true, F_OUTPUT},
    {"help", 'h', false, F_HELP},
    {"file", 'f', true, F_FILE},
    {"all", 0, false, F_ALL},
    {"verbose", 'v', false, F_VERBOSE},
    {"insecure-skip-verify", 0, false, F_INSECURE},
    {"force-tls", 0, false, F_FORCE_TLS},
    {"tail", 0, true, F_TAIL},
    {"follow", 0, false, F_FOLLOW}, /* -f is its shorthand under `logs` only */
    {"port", 0, true, F_PORT},
    {"rule", 0, true, F_RULE},
    /* create httpproxy's TLS flags: parsed so that they can be refused by name. */
    {"tls", 0, false, F_TLS_BOOL},
    {"auto-cert", 0, false, F_TLS_BOOL},
    {"ca-cert-file", 0, true, F_TLS_VALUE},
    {"cert-file", 0, true, F_TLS_VALUE},
    {"key-file", 0, true, F_TLS_VALUE},
    {"auto-cert-email", 0, true, F_TLS_VALUE},
    {"auto-cert-domain-name", 0, true, F_TLS_VALUE},
    {"dns-provider", 0, true, F_TLS_VALUE},
    {"namespace", 0, true, F_NAMESPACE},
    {"all-namespaces", 0, false, F_ALL_NAMESPACES},
};
static const flag_def follow_short = {"follow", 'f', false, F_FOLLOW};
#define NFLAGS (sizeof flag_defs / sizeof flag_defs[0])

static const flag_def *find_long(const char *name, size_t len)
{
    for (size_t i = 0; i < NFLAGS; i++)
        if (strlen(flag_defs[i].name) == len && memcmp(flag_defs[i].name, name, len) == 0)
            return &flag_defs[i];
    return NULL;
}

/* Under `logs`, -f is --follow (cobra flags belong to their command). */
static const flag_def *find_short(char c, bool logs_command)
{
    if (c == 'f' && logs_command)
        return &follow_short;
    for (size_t i = 0; i < NFLAGS; i++)
        if (flag_defs[i].shorthand == c)
            return &flag_defs[i];
    return NULL;
}

/* strconv.ParseBool's accepted spellings. */
static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

static int apply_flag(egctl_opts *o, const flag_def *f, const char *value, const char *shown,
                      char *err, size_t errlen)
{
    bool b = true;
    if (!f->takes_value && value && parse_bool(value, &b) != 0) {
        snprintf(err, errlen, "invalid argument \"%s\" for \"%s\" flag: strconv.ParseBool: "
                 "parsing \"%s\": invalid syntax", value, shown, value);
        return -1;
    }
    switch (f->id) {
    case F_SERVER:
        o->server = value;
        break;
    case F_OUTPUT:
        if (strcmp(value, "default") == 0)
            o->output = EGCTL_OUT_DEFAULT;
        else if (strcmp(value, "yaml") == 0)
            o->output = EGCTL_OUT_YAML;
        else if (strcmp(value, "json") == 0)
            o->output = EGCTL_OUT_JSON;
        else {
            snprintf(err, errlen, "unsupported output format: %s, only support (yaml, json and "
                     "default)", value);
            return -1;
        }
        break;
    case F_HELP:
        o->help = b;
        break;
    case F_FILE:
        o->file = value;
        o->flags_seen |= EGCTL_FLAG_FILE;
        break;
    case F_ALL:
        o->all = b;
        o->flags_seen |= EGCTL_FLAG_ALL;
        break;
    case F_VERBOSE:
        o->verbose = b;
        o->flags_seen |= EGCTL_FLAG_VERBOSE;
        break;
    case F_INSECURE:
        o->insecure_skip_verify = b;
        break;
    case F_TAIL: {
        char *end;
        long v = strtol(value, &end, 10);
        if (!*value || *end) {
            snprintf(err, errlen, "invalid argument \"%s\" for \"%s\" flag: strconv.ParseInt: "
                     "parsing \"%s\": invalid syntax", value, shown, value);
            return -1;
        }
        o->tail = v;
        o->flags_seen |= EGCTL_FLAG_TAIL;
        break;
    }
    case F_FOLLOW:
        o->follow = b;
        o->flags_seen |= EGCTL_FLAG_FOLLOW;
        break;
    case F_PORT: {
        char *end;
        long v = strtol(value, &end, 10);
        if (!*value || *end || v < 1 || v > 65535) {
            snprintf(err, errlen, "invalid argument \"%s\" for \"%s\" flag: want a port "
                     "number (1-65535)", value, shown);
            return -1;
        }
        o->port = (int)v;
        o->flags_seen |= EGCTL_FLAG_PORT;
        break;
    }
    case F_RULE:
        o->rules[o->nrules++] = value;
        o->flags_seen |= EGCTL_FLAG_RULE;
        break;
    case F_TLS_BOOL:
    case F_TLS_VALUE:
        if (!o->tls_flag && (f->id == F_TLS_VALUE || b))
            o->tls_flag = f->name;
        o->flags_seen |= EGCTL_FLAG_TLS;
        break;
    case F_NAMESPACE:
        o->namespace = value;
        o->flags_seen |= EGCTL_FLAG_NAMESPACE;
        break;
    case F_ALL_NAMESPACES:
        o->all_namespaces = b;
        o->flags_seen |= EGCTL_FLAG_ALL_NAMESPACES;
        break;
    case F_FORCE_TLS:
        o->force_tls = b;
        break;
    }
    return 0;
}

int egctl_parse_args(int argc, char **argv, const char *env_server, egctl_opts *o,
                     char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->output = EGCTL_OUT_DEFAULT;
    o->tail = 500;
    o->args = calloc((size_t)(argc > 0 ? argc : 1), sizeof *o->args);
    o->rules = calloc((size_t)(argc > 0 ? argc : 1), sizeof *o->rules);
    if (!o->args || !o->rules) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *server_flag = NULL;
    bool logs_command = false;
    /* The command word decides what -f means: find it first, stepping over the values of
     * the flags that take one (every such flag but -f is long or -o). */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0' || strcmp(a, "--") == 0) {
            if (strcmp(a, "--") == 0)
                a = i + 1 < argc ? argv[i + 1] : "";
            logs_command = strcmp(a, "logs") == 0;
            break;
        }
        if (a[1] == '-') {
            const flag_def *f = find_long(a + 2, strcspn(a + 2, "="));
            if (f && f->takes_value && !strchr(a, '='))
                i++;
        } else if (strcmp(a, "-o") == 0) {
            i++;
        }
    }

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++)
                o->args[o->nargs++] = argv[i];
            break;
        }
        if (a[0] != '-' || a[1] == '\0') { /* a word, or "-" on its own */
            o->args[o->nargs++] = argv[i];
            continue;
        }
        if (a[1] == '-') { /* --name[=value] */
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const flag_def *f = find_long(name, len);
            if (!f) {
                snprintf(err, errlen, "unknown flag: --%.*s", (int)len, name);
                return -1;
            }
            char shown[64];
            snprintf(shown, sizeof shown, "--%s", f->name);
            const char *value = eq ? eq + 1 : NULL;
            if (f->takes_value && !value) {
                if (i + 1 >= argc) {
                    snprintf(err, errlen, "flag needs an argument: %s", shown);
                    return -1;
                }
                value = argv[++i];
            }
            if (apply_flag(o, f, value, shown, err, errlen) != 0)
                return -1;
            if (f->id == F_SERVER)
                server_flag = value;
            continue;
        }
        /* -abc: short flags, the last (or one taking a value) may carry its value. */
        for (const char *p = a + 1; *p; p++) {
            const flag_def *f = find_short(*p, logs_command);
            if (!f) {
                snprintf(err, errlen, "unknown shorthand flag: '%c' in %s", *p, a);
                return -1;
            }
            char shown[8];
            snprintf(shown, sizeof shown, "-%c", *p);
            const char *value = NULL;
            if (f->takes_value) {
                if (p[1] == '=')
                    value = p + 2;
                else if (p[1])
                    value = p + 1;
                else if (i + 1 < argc)
                    value = argv[++i];
                else {
                    snprintf(err, errlen, "flag needs an argument: '%c' in %s", *p, a);
                    return -1;
                }
            } else if (p[1] == '=') {
                value = p + 2;
            }
            if (apply_flag(o, f, value, shown, err, errlen) != 0)
                return -1;
            if (value) /* the rest of this word was the value */
                break;
        }
    }

    o->server_given = true;
    if (server_flag)
        o->server = server_flag;
    else if (env_server && *env_server)
        o->server = env_server;
    else {
        o->server = EGCTL_DEFAULT_SERVER;
        o->server_given = false;
    }
    return 0;
}

void egctl_opts_free(egctl_opts *o)
{
    free(o->args);
    free(o->rules);
    o->rules = NULL;
    o->nrules = 0;
    o->args = NULL;
    o->nargs = 0;
}

const char *egctl_flag_name(unsigned given, unsigned allowed)
{
    unsigned extra = given & ~allowed;
    if (extra & EGCTL_FLAG_FILE)
        return "--file";
    if (extra & EGCTL_FLAG_ALL)
        return "--all";
    if (extra & EGCTL_FLAG_VERBOSE)
        return "--verbose";
    if (extra & EGCTL_FLAG_TAIL)
        return "--tail";
    if (extra & EGCTL_FLAG_FOLLOW)
        return "--follow";
    if (extra & EGCTL_FLAG_PORT)
        return "--port";
    if (extra & EGCTL_FLAG_RULE)
        return "--rule";
    if (extra & EGCTL_FLAG_TLS)
        return "--tls";
    if (extra & EGCTL_FLAG_NAMESPACE)
        return "--namespace";
    if (extra & EGCTL_FLAG_ALL_NAMESPACES)
        return "--all-namespaces";
    return NULL;
}

int egctl_parse_server(const char *server, char *host, size_t hostlen, int *port, bool *tls,
                       char *err, size_t errlen)
{
    const char *s = server;
    *tls = false;
    if (strncasecmp(s, "https://", 8) == 0) {
        s += 8;
        *tls = true;
    } else if (strncasecmp(s, "http://", 7) == 0) {
        s += 7;
    }
    /* Only an empty path (or "/") may follow the authority. */
    size_t alen = strcspn(s, "/");
    if (s[alen] == '/' && s[alen + 1] != '\0') {
        snprintf(err, errlen, "invalid server address %s: a path is not supported", server);
        return -1;
    }
    const char *hstart = s, *hend, *portp = NULL;
    if (*s == '[') {
        const char *rb = memchr(s, ']', alen);
        if (!rb) {
            snprintf(err, errlen, "invalid server address %s", server);
            return -1;
        }
        hstart = s + 1;
        hend = rb;
        if (rb + 1 < s + alen) {
            if (rb[1] != ':') {
                snprintf(err, errlen, "invalid server address %s", server);
                return -1;
            }
            portp = rb + 2;
        }
    } else {
        const char *colon = memchr(s, ':', alen);
        if (colon && memchr(colon + 1, ':', (size_t)(s + alen - colon - 1))) {
            snprintf(err, errlen, "invalid server address %s: put an IPv6 address in brackets",
                     server);
            return -1;
        }
        hend = colon ? colon : s + alen;
        portp = colon ? colon + 1 : NULL;
    }
    size_t hlen = (size_t)(hend - hstart);
    if (hlen == 0) { /* ":2381" means this machine, as Go's dialer reads it */
        hstart = "127.0.0.1";
        hlen = strlen(hstart);
    }
    if (hlen + 1 > hostlen) {
        snprintf(err, errlen, "invalid server address %s: host too long", server);
        return -1;
    }
    memcpy(host, hstart, hlen);
    host[hlen] = '\0';

    *port = *tls ? 443 : 80; /* as a URL without a port */
    if (portp) {
        const char *pend = s + alen;
        long v = 0;
        if (portp == pend) {
            snprintf(err, errlen, "invalid server address %s: empty port", server);
            return -1;
        }
        for (const char *p = portp; p < pend; p++) {
            if (!isdigit((unsigned char)*p) || (v = v * 10 + (*p - '0')) > 65535) {
                snprintf(err, errlen, "invalid server address %s: bad port", server);
                return -1;
            }
        }
        if (v == 0) {
            snprintf(err, errlen, "invalid server address %s: bad port", server);
            return -1;
        }
        *port = (int)v;
    }
    return 0;
}

const egctl_resource *egctl_resolve_kind(const egctl_resource *rs, size_t n, const char *arg)
{
    for (size_t i = 0; i < n; i++) {
        const egctl_resource *r = &rs[i];
        if ((r->kind && strcasecmp(arg, r->kind) == 0) ||
            (r->name && strcasecmp(arg, r->name) == 0))
            return r;
        for (size_t j = 0; j < r->naliases; j++)
            if (r->aliases[j] && strcasecmp(arg, r->aliases[j]) == 0)
                return r;
    }
    return NULL;
}

bool egctl_is_member(const char *arg)
{
    static const char *const names[] = {"member", "members", "m", "mem"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(arg, names[i]) == 0)
            return true;
    return false;
}

/* Read exactly `n` digits at *p. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (no timegm: it reads TZ state). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool egctl_parse_rfc3339(const char *s, time_t *out)
{
    int Y, M, D, h, m, sec;
    const char *p = s;
    if (!s || !digits(&p, 4, &Y) || *p++ != '-' || !digits(&p, 2, &M) || *p++ != '-' ||
        !digits(&p, 2, &D) || *p++ != 'T' || !digits(&p, 2, &h) || *p++ != ':' ||
        !digits(&p, 2, &m) || *p++ != ':' || !digits(&p, 2, &sec))
        return false;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 59)
        return false;
    if (*p == '.' || *p == ',') { /* Go accepts a fraction even when the layout has none */
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    int offset = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 || om > 59)
            return false;
        offset = sign * (oh * 3600 + om * 60);
    } else {
        return false;
    }
    if (*p != '\0')
        return false;
    int64_t t = days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + sec - offset;
    *out = (time_t)t;
    return true;
}

void egctl_format_age(double seconds, char *buf, size_t len)
{
    /* Thresholds compare the exact value, the text rounds it: Go's "%.0f". */
    if (seconds / 86400 >= 1)
        snprintf(buf, len, "%.0fd", seconds / 86400);
    else if (seconds / 3600 >= 1)
        snprintf(buf, len, "%.0fh", seconds / 3600);
    else if (seconds / 60 >= 1)
        snprintf(buf, len, "%.0fm", seconds / 60);
    else if (seconds >= 1)
        snprintf(buf, len, "%.0fs", seconds);
    else
        snprintf(buf, len, "0s");
}

int egctl_parse_proxy_rule(const char *rule, egctl_proxy_rule *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *eq = strchr(rule, '=');
    if (!eq || strchr(eq + 1, '=')) {
        snprintf(err, errlen, "rule %s should in format 'host/path=endpoint1,endpoint2', "
                 "invalid format", rule);
        return -1;
    }
    const char *slash = memchr(rule, '/', (size_t)(eq - rule));
    if (!slash) {
        snprintf(err, errlen, "rule %s not contain a path", rule);
        return -1;
    }
    const char *p = slash + 1;
    size_t plen = (size_t)(eq - p);
    bool prefix = plen > 0 && p[plen - 1] == '*';
    char *path = malloc(plen + 2);
    out->host = strndup(rule, (size_t)(slash - rule));
    out->endpoints = calloc(strlen(eq + 1) / 2 + 1, sizeof *out->endpoints);
    if (!path || !out->host || !out->endpoints) {
        free(path);
        snprintf(err, errlen, "out of memory");
        egctl_proxy_rule_free(out);
        return -1;
    }
    path[0] = '/';
    memcpy(path + 1, p, plen - (prefix ? 1 : 0));
    path[1 + plen - (prefix ? 1 : 0)] = '\0';
    if (prefix)
        out->path_prefix = path;
    else
        out->path = path;
    for (const char *e = eq + 1; *e;) {
        size_t n = strcspn(e, ",");
        if (n > 0 && !(out->endpoints[out->nendpoints++] = strndup(e, n))) {
            snprintf(err, errlen, "out of memory");
            egctl_proxy_rule_free(out);
            return -1;
        }
        e += n;
        if (*e == ',')
            e++;
    }
    if (out->nendpoints == 0) {
        snprintf(err, errlen, "endpoints in rule %s is empty", rule);
        egctl_proxy_rule_free(out);
        return -1;
    }
    return 0;
}

void egctl_proxy_rule_free(egctl_proxy_rule *r)
{
    free(r->host);
    free(r->path);
    free(r->path_prefix);
    for (size_t i = 0; i < r->nendpoints; i++)
        free(r->endpoints[i]);
    free(r->endpoints);
    memset(r, 0, sizeof *r);
}
