/* nginx_convert.c — the mapping from nginx's http{} block to HTTPServers and Pipelines.
 *
 * Easegress's converter (cmd/client/commandv2/convert/nginx) is the model; where it gives a
 * different answer than nginx for the same request, this one follows nginx:
 *  - locations are ordered so that the Ordered router's first match picks the location
 *    nginx picks: exact, then `^~` prefixes that end the search, then the regexps in file
 *    order, then the other prefixes longest first (a `^~` prefix that a longer plain
 *    prefix extends becomes a regexp that leaves out those extensions);
 *  - servers sharing a port are ordered by nginx's server_name precedence (exact names,
 *    longest leading wildcard, longest trailing wildcard, regexps), and the default server
 *    takes what no name matches;
 *  - `proxy_pass` with a URI part replaces the matched prefix (rewriteTarget);
 *  - `proxy_set_header` is inherited only by blocks that set none, its variables keep
 *    nginx's syntax in the path's setHeaders, and Host defaults to $proxy_host.
 * The document tree (node.h) builds the YAML.
 */
#define _GNU_SOURCE
#include "nginx_convert.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "node.h"

/* Text is built in eg_buf (buf.h); like the rest of the tree writers, running out of
 * memory aborts. */

static void sb_putc(eg_buf *b, char c)
{
    eg_buf_append(b, &c, 1);
}

/* ---- the conversion's state ------------------------------------------------------------ */

enum loc_kind { LOC_EXACT, LOC_PREFIX, LOC_PREFIX_STOP, LOC_REGEX, LOC_REGEX_I };

/* What a block inherits (nginx's merge rules: proxy_set_header as a whole list, the
 * others one by one). Everything is borrowed from the configuration. */
typedef struct {
    const nginx_directive **headers;
    size_t nheaders;
    const char *default_type;
    const nginx_directive *gzip, *gzip_min_length;
} scope;

typedef struct {
    const nginx_directive *d;   /* the location (the server for a server-level return) */
    enum loc_kind kind;
    const char *path;           /* as written */
    char *regexp;               /* pathRegexp for regexps, and for a `^~` others extend */
    char *pipeline;
    char *rewrite;              /* rewriteTarget, from proxy_pass's URI part */
    eg_node *set_headers;       /* MAP, or NULL */
} location;

typedef struct {
    char *addr;                 /* "" for every address */
    int port;
    bool default_server, ssl;
    const nginx_directive *d;
} listen_spec;

typedef struct {
    char *name;
    const struct server *srv;
    size_t seq;                 /* file order, to keep among equal lengths */
} host_name;

typedef struct server {
    const nginx_directive *d;
    listen_spec *listens;
    size_t nlistens;
    char **names[4];            /* exact, leading wildcard, trailing wildcard, regexp */
    size_t nnames[4];
    location *locs;
    size_t nlocs, caplocs;
    const nginx_directive *certs[16], *keys[16], *client_ca;
    size_t ncerts, nkeys;
} server;

enum { NAME_EXACT, NAME_LEAD, NAME_TRAIL, NAME_REGEX };

typedef struct {
    const nginx_convert_opts *o;
    char *err;
    size_t errlen;
    bool failed;
    const nginx_directive **upstreams;
    size_t nupstreams;
    server *servers;
    size_t nservers;
    eg_node **pipelines;
    size_t npipelines;
    char **used;                /* object names already given out */
    size_t nused;
    char *not_found;            /* the shared 404 Pipeline, once one is needed */
} conv;

static void warn(conv *c, const nginx_directive *d, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warn(conv *c, const nginx_directive *d, const char *fmt, ...)
{
    if (!c->o->warnings)
        return;
    fprintf(c->o->warnings, "Warning: %s:%d: ", d->file, d->line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->o->warnings, fmt, ap);
    va_end(ap);
    fputc('\n', c->o->warnings);
}

static int fail(conv *c, const nginx_directive *d, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(conv *c, const nginx_directive *d, const char *fmt, ...)
{
    if (c->failed)
        return -1;
    c->failed = true;
    int n = d ? snprintf(c->err, c->errlen, "%s:%d: ", d->file, d->line) : 0;
    if (n < 0 || (size_t)n >= c->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static void not_converted(conv *c, const nginx_directive *d)
{
    warn(c, d, "directive \"%s\" is not converted (no equivalent)", d->name);
}

static bool push_ptr(void *arr, size_t *n, size_t size, const void *item)
{
    void **a = arr;
    void *na = realloc(*a, (*n + 1) * size);
    if (!na)
        return false;
    *a = na;
    memcpy((char *)na + *n * size, item, size);
    (*n)++;
    return true;
}

static bool name_used(const conv *c, const char *name)
{
    for (size_t i = 0; i < c->nused; i++)
        if (strcmp(c->used[i], name) == 0)
            return true;
    return false;
}

/* "<prefix>-<base>", with "-2", "-3", ... when taken (Easegress adds random letters). */
static char *unique_name(conv *c, const char *base)
{
    char *name = NULL;
    for (int i = 1; !name || name_used(c, name); i++) {
        free(name);
        name = NULL;
        if ((i == 1 ? asprintf(&name, "%s-%s", c->o->prefix, base)
                    : asprintf(&name, "%s-%s-%d", c->o->prefix, base, i)) < 0) {
            fail(c, NULL, "out of memory");
            return NULL;
        }
    }
    char *kept = strdup(name);
    if (!kept || !push_ptr(&c->used, &c->nused, sizeof kept, &kept)) {
        free(kept);
        free(name);
        fail(c, NULL, "out of memory");
        return NULL;
    }
    return name;
}

/* A Pipeline's name from its location path: the path's letters and digits, as Easegress
 * names them ("/apis/v1" -> "apisv1"); "root" when there are none. */
static char *pipeline_name(conv *c, const char *path)
{
    char base[64];
    size_t n = 0;
    for (const char *p = path; *p && n < sizeof base - 1; p++)
        if (isalnum((unsigned char)*p))
            base[n++] = *p;
    base[n] = '\0';
    return unique_name(c, n ? base : "root");
}

static void add_str(eg_node *map, const char *key, const char *value)
{
    eg_node_map_set(map, key, eg_node_new_str(value));
}

/* ---- inheritance ---------------------------------------------------------------------- */

/* The scope of `block` under `parent`. *owned receives an array to free (or NULL). */
static bool scope_enter(const scope *parent, const nginx_directive *block, scope *out,
                        const nginx_directive ***owned)
{
    *out = *parent;
    *owned = NULL;
    size_t n = 0;
    for (size_t i = 0; i < block->nchildren; i++)
        n += strcmp(block->children[i].name, "proxy_set_header") == 0;
    if (n) {
        *owned = calloc(n, sizeof **owned);
        if (!*owned)
            return false;
        out->headers = *owned;
        out->nheaders = 0;
    }
    for (size_t i = 0; i < block->nchildren; i++) {
        const nginx_directive *d = &block->children[i];
        if (strcmp(d->name, "proxy_set_header") == 0)
            (*owned)[out->nheaders++] = d;
        else if (strcmp(d->name, "default_type") == 0 && d->nargs == 1)
            out->default_type = d->args[0];
        else if (strcmp(d->name, "gzip") == 0)
            out->gzip = d;
        else if (strcmp(d->name, "gzip_min_length") == 0)
            out->gzip_min_length = d;
    }
    return true;
}

/* Directives the scope or the handler take care of at every level. */
static bool handled_everywhere(const char *name)
{
    static const char *const names[] = { "proxy_set_header", "default_type", "gzip",
                                         "gzip_min_length", "proxy_http_version" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

/* ---- regular expressions ---------------------------------------------------------------- */

static void re_literal(eg_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strchr(".+*?()|[]{}^$\\", s[i]) && s[i])
            sb_putc(b, '\\');
        sb_putc(b, s[i]);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A regexp (RE2 syntax, no lookahead) for "no string of `set` is a prefix of what follows",
 * the strings sorted, all longer than `depth`, sharing their first `depth` bytes. */
static void re_none_of(eg_buf *b, char **set, size_t n, size_t depth)
{
    eg_buf_appends(b, "(?:$|[^");
    for (size_t i = 0; i < n; i++) {
        char ch = set[i][depth];
        if (i > 0 && set[i - 1][depth] == ch)
            continue;
        if (strchr("\\]^-[", ch))
            sb_putc(b, '\\');
        sb_putc(b, ch);
    }
    sb_putc(b, ']');
    for (size_t i = 0; i < n;) {
        size_t j = i;
        bool ends = false;
        while (j < n && set[j][depth] == set[i][depth]) {
            ends |= set[j][depth + 1] == '\0';
            j++;
        }
        if (!ends) { /* paths may go on with this byte, as long as no string follows */
            sb_putc(b, '|');
            re_literal(b, &set[i][depth], 1);
            re_none_of(b, set + i, j - i, depth + 1);
        }
        i = j;
    }
    sb_putc(b, ')');
}

/* nginx's $host as a template expression: the Host header without its port, lower case. */
#define HOST_EXPR "lower (regexReplaceAll \":[0-9]+$\" .req.Host \"\")"

/* ---- locations ----------------------------------------------------------------------- */

static location *new_location(conv *c, server *sv, const nginx_directive *d, enum loc_kind kind,
                              const char *path)
{
    if (sv->nlocs == sv->caplocs) {
        size_t nc = sv->caplocs ? sv->caplocs * 2 : 8;
        location *nl = realloc(sv->locs, nc * sizeof *nl);
        if (!nl) {
            fail(c, d, "out of memory");
            return NULL;
        }
        sv->locs = nl;
        sv->caplocs = nc;
    }
    location *l = &sv->locs[sv->nlocs++];
    memset(l, 0, sizeof *l);
    l->d = d;
    l->kind = kind;
    l->path = path;
    if (kind == LOC_REGEX || kind == LOC_REGEX_I) {
        if (asprintf(&l->regexp, "%s%s", kind == LOC_REGEX_I ? "(?i)" : "", path) < 0) {
            l->regexp = NULL;
            fail(c, d, "out of memory");
            return NULL;
        }
    }
    return l;
}

/* nginx's $proxy_host: the host (and port, as written) of proxy_pass, or the upstream. */
typedef struct {
    char scheme[8];
    char *hostport;
    char *uri;                  /* NULL when proxy_pass has no URI part */
} pass_url;

static bool parse_pass(const char *url, pass_url *out)
{
    memset(out, 0, sizeof *out);
    const char *rest;
    if (strncasecmp(url, "http://", 7) == 0) {
        strcpy(out->scheme, "http");
        rest = url + 7;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        strcpy(out->scheme, "https");
        rest = url + 8;
    } else {
        return false;
    }
    size_t hl = strcspn(rest, "/");
    if (hl == 0)
        return false;
    out->hostport = strndup(rest, hl);
    out->uri = rest[hl] ? strdup(rest + hl) : NULL;
    return out->hostport && (!rest[hl] || out->uri);
}

static const nginx_directive *find_upstream(const conv *c, const char *name)
{
    for (size_t i = 0; i < c->nupstreams; i++)
        if (c->upstreams[i]->nargs >= 1 && strcmp(c->upstreams[i]->args[0], name) == 0)
            return c->upstreams[i];
    return NULL;
}

/* The pool's servers from an upstream group; its policy in *policy. Returns the count. */
static size_t upstream_servers(conv *c, const nginx_directive *up, const char *scheme,
                               eg_node *servers, const char **policy, bool keep_host)
{
    size_t n = 0;
    bool weighted = false;
    *policy = "roundRobin";
    for (size_t i = 0; i < up->nchildren; i++) {
        const nginx_directive *d = &up->children[i];
        if (strcmp(d->name, "ip_hash") == 0) {
            *policy = "ipHash";
            continue;
        }
        if (strcmp(d->name, "random") == 0 && d->nargs == 0) {
            *policy = "random";
            continue;
        }
        if (strcmp(d->name, "keepalive") == 0)
            continue; /* the Proxy keeps backend connections alive anyway */
        if (strcmp(d->name, "server") != 0 || d->nargs < 1) {
            not_converted(c, d);
            continue;
        }
        const char *addr = d->args[0];
        if (strncmp(addr, "unix:", 5) == 0) {
            warn(c, d, "upstream server %s: unix sockets are not supported; left out", addr);
            continue;
        }
        long weight = 1;
        bool skip = false;
        for (size_t a = 1; a < d->nargs; a++) {
            const char *arg = d->args[a];
            if (strncmp(arg, "weight=", 7) == 0) {
                char *end;
                errno = 0;
                weight = strtol(arg + 7, &end, 10);
                if (errno || *end || weight < 1) {
                    warn(c, d, "invalid %s; using weight=1", arg);
                    weight = 1;
                } else if (weight > 100) {
                    warn(c, d, "%s is more than the Proxy's 100; using weight=100", arg);
                    weight = 100;
                }
            } else if (strcmp(arg, "down") == 0 || strcmp(arg, "backup") == 0) {
                warn(c, d, "upstream server %s is %s; left out", addr, arg);
                skip = true;
            } else {
                warn(c, d, "upstream server parameter \"%s\" is not converted", arg);
            }
        }
        if (skip)
            continue;
        weighted |= weight != 1;
        eg_node *s = eg_node_new(EG_NODE_MAP);
        char *url = NULL;
        if (asprintf(&url, "%s://%s", scheme, addr) < 0) {
            eg_node_free(s);
            fail(c, d, "out of memory");
            return 0;
        }
        add_str(s, "url", url);
        free(url);
        eg_node_map_set(s, "weight", eg_node_new_int(weight));
        if (keep_host)
            eg_node_map_set(s, "keepHost", eg_node_new_bool(true));
        eg_node_seq_push(servers, s);
        n++;
    }
    /* Easegress: weights make the policy weightedRandom (nginx: smooth weighted round robin) */
    if (weighted && strcmp(*policy, "roundRobin") == 0)
        *policy = "weightedRandom";
    return n;
}

/* Whether a header value uses only variables the router's setHeaders knows. */
static void check_variables(conv *c, const nginx_directive *d, const char *value)
{
    static const char *const known[] = {
        "request_method", "request_uri", "uri", "request", "scheme", "query_string", "args",
        "host", "hostname", "server_name", "http_host", "remote_addr", "remote_user",
        "proxy_add_x_forwarded_for", "time_iso8601", "time_local", "msec", "content_type",
        "content_length", "server_protocol", "request_time", "request_length" };
    for (const char *p = strchr(value, '$'); p; p = strchr(p + 1, '$')) {
        const char *name = p + 1;
        size_t n;
        if (*name == '{') {
            name++;
            n = strcspn(name, "}:");
        } else {
            n = 0;
            while (isalnum((unsigned char)name[n]) || name[n] == '_')
                n++;
        }
        if (n == 0)
            continue;
        bool ok = (n > 5 && strncmp(name, "http_", 5) == 0) || (n > 4 && strncmp(name, "arg_", 4) == 0) ||
                  (n > 7 && strncmp(name, "cookie_", 7) == 0);
        for (size_t i = 0; !ok && i < sizeof known / sizeof known[0]; i++)
            ok = strlen(known[i]) == n && strncmp(known[i], name, n) == 0;
        if (!ok)
            warn(c, d, "variable $%.*s has no equivalent in setHeaders; it renders empty", (int)n, name);
    }
}

static int make_proxy(conv *c, location *l, const nginx_directive *pass, const scope *sc)
{
    if (pass->nargs != 1) {
        warn(c, pass, "proxy_pass needs one URL; location %s not converted", l->path);
        return 0;
    }
    pass_url u = { "", NULL, NULL };
    if (strchr(pass->args[0], '$') || !parse_pass(pass->args[0], &u)) {
        free(u.hostport);
        free(u.uri);
        warn(c, pass, "proxy_pass %s: only http:// and https:// URLs without variables are "
             "converted; location %s not converted", pass->args[0], l->path);
        return 0;
    }
    int rc = 0;
    eg_node *servers = NULL, *pipeline = NULL;
    if (u.uri && (l->kind == LOC_REGEX || l->kind == LOC_REGEX_I)) {
        warn(c, pass, "proxy_pass with a URI part in a regular-expression location (nginx "
             "refuses it); location %s not converted", l->path);
        goto out;
    }
    /* Host: proxy_set_header Host, else nginx's default $proxy_host. */
    const char *host = u.hostport;
    bool keep_host = false, host_from_request = false;
    eg_node *set_headers = NULL;
    for (size_t i = 0; i < sc->nheaders; i++) {
        const nginx_directive *h = sc->headers[i];
        if (h->nargs != 2) {
            warn(c, h, "proxy_set_header needs a name and a value; not converted");
            continue;
        }
        if (strcasecmp(h->args[0], "Host") == 0) {
            if (strcmp(h->args[1], "$http_host") == 0) {
                keep_host = true; /* the client's Host as it came */
                host = NULL;
            } else if (strcmp(h->args[1], "$host") == 0) {
                host_from_request = true;
                host = NULL;
            } else if (!strchr(h->args[1], '$'))
                host = h->args[1];
            else
                warn(c, h, "proxy_set_header Host %s: only $host, $http_host or a fixed name "
                     "are converted", h->args[1]);
            continue;
        }
        if (strcasecmp(h->args[0], "Upgrade") == 0 || strcasecmp(h->args[0], "Connection") == 0) {
            warn(c, h, "proxy_set_header %s: WebSocket proxying is not supported; not converted",
                 h->args[0]);
            continue;
        }
        check_variables(c, h, h->args[1]);
        if (!set_headers)
            set_headers = eg_node_new(EG_NODE_MAP);
        add_str(set_headers, h->args[0], h->args[1]);
    }
    l->set_headers = set_headers;

    servers = eg_node_new(EG_NODE_SEQ);
    const char *policy = "roundRobin";
    const nginx_directive *up = find_upstream(c, u.hostport);
    if (up) {
        if (upstream_servers(c, up, u.scheme, servers, &policy, keep_host) == 0) {
            if (!c->failed)
                warn(c, pass, "upstream %s has no server to convert; location %s not converted",
                     u.hostport, l->path);
            rc = c->failed ? -1 : 0;
            goto out;
        }
    } else {
        eg_node *s = eg_node_new(EG_NODE_MAP);
        char *url = NULL;
        if (asprintf(&url, "%s://%s", u.scheme, u.hostport) < 0) {
            eg_node_free(s);
            rc = fail(c, pass, "out of memory");
            goto out;
        }
        add_str(s, "url", url);
        free(url);
        if (keep_host)
            eg_node_map_set(s, "keepHost", eg_node_new_bool(true));
        eg_node_seq_push(servers, s);
    }
    if (u.uri)
        l->rewrite = strdup(u.uri);
    if (!(l->pipeline = pipeline_name(c, l->path))) {
        rc = -1;
        goto out;
    }

    pipeline = eg_node_new(EG_NODE_MAP);
    add_str(pipeline, "name", l->pipeline);
    add_str(pipeline, "kind", "Pipeline");
    eg_node *filters = eg_node_new(EG_NODE_SEQ);
    eg_node_map_set(pipeline, "filters", filters);
    if (host || host_from_request) {
        eg_node *ra = eg_node_new(EG_NODE_MAP);
        add_str(ra, "name", "requestAdaptor");
        add_str(ra, "kind", "RequestAdaptor");
        if (host)
            add_str(ra, "host", host);
        else /* the Host a server sees must not depend on the client's port */
            add_str(ra, "template", "host: \"{{jsonEscape (" HOST_EXPR ")}}\"\n");
        eg_node_seq_push(filters, ra);
    }
    eg_node *proxy = eg_node_new(EG_NODE_MAP);
    add_str(proxy, "name", "proxy");
    add_str(proxy, "kind", "Proxy");
    eg_node *pools = eg_node_new(EG_NODE_SEQ), *pool = eg_node_new(EG_NODE_MAP);
    eg_node_map_set(pool, "servers", servers);
    servers = NULL;
    eg_node *lb = eg_node_new(EG_NODE_MAP);
    add_str(lb, "policy", policy);
    eg_node_map_set(pool, "loadBalance", lb);
    eg_node_seq_push(pools, pool);
    eg_node_map_set(proxy, "pools", pools);
    if (sc->gzip && sc->gzip->nargs == 1 && strcmp(sc->gzip->args[0], "on") == 0) {
        long min = 20; /* nginx's default gzip_min_length */
        if (sc->gzip_min_length) {
            char *end;
            const nginx_directive *g = sc->gzip_min_length;
            long v = g->nargs == 1 ? strtol(g->args[0], &end, 10) : -1;
            if (g->nargs != 1 || *end || v < 0)
                warn(c, g, "gzip_min_length needs a number of bytes; using 20");
            else
                min = v;
        }
        eg_node *comp = eg_node_new(EG_NODE_MAP);
        eg_node_map_set(comp, "minLength", eg_node_new_int(min));
        eg_node_map_set(proxy, "compression", comp);
    }
    eg_node_seq_push(filters, proxy);
    if (!push_ptr(&c->pipelines, &c->npipelines, sizeof pipeline, &pipeline)) {
        rc = fail(c, pass, "out of memory");
        goto out;
    }
    pipeline = NULL;
out:
    eg_node_free(servers);
    eg_node_free(pipeline);
    free(u.hostport);
    free(u.uri);
    return rc;
}

/* ---- return ------------------------------------------------------------------------------ */

typedef struct {
    int port;
    bool ssl;
    const char *server_name;
} request_facts;

/* JSON-escape literal text into a double-quoted YAML scalar of a template, "{{" kept out
 * of the template language. */
static void tpl_literal(eg_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '{' && i + 1 < n && s[i + 1] == '{') {
            eg_buf_appends(b, "{{\"{{\"}}");
            i++;
        } else if (ch == '"' || ch == '\\') {
            sb_putc(b, '\\');
            sb_putc(b, (char)ch);
        } else if (ch < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", ch);
            eg_buf_appends(b, esc);
        } else {
            sb_putc(b, (char)ch);
        }
    }
}

/* nginx text with variables -> template text inside a double-quoted YAML scalar. The
 * request's values come from Easegress's template data (.req); port, scheme and
 * server_name are known here. */
static void tpl_text(conv *c, const nginx_directive *d, eg_buf *b, const char *s, const request_facts *f)
{
    static const struct { const char *var, *expr; } exprs[] = {
        { "host", HOST_EXPR },
        { "http_host", ".req.Host" },
        { "request_uri", ".req.RequestURI" },
        { "uri", ".req.URL.Path" },
        { "document_uri", ".req.URL.Path" },
        { "args", ".req.URL.RawQuery" },
        { "query_string", ".req.URL.RawQuery" },
        { "request_method", ".req.Method" },
        { "remote_addr", ".req.RemoteAddr" },
        { "remote_user", "username .req" },
        { "server_protocol", ".req.Proto" },
        { "content_type", "header .req.Header \"Content-Type\"" },
        { "content_length", "header .req.Header \"Content-Length\"" },
    };
    const char *lit = s;
    for (const char *p = s; *p;) {
        if (*p != '$') {
            p++;
            continue;
        }
        const char *name = p + 1, *end;
        size_t n = 0;
        if (*name == '{') {
            name++;
            n = strcspn(name, "}");
            end = name[n] == '}' ? name + n + 1 : NULL;
        } else {
            while (isalnum((unsigned char)name[n]) || name[n] == '_')
                n++;
            end = name + n;
        }
        if (!end || n == 0) {
            p++;
            continue;
        }
        tpl_literal(b, lit, (size_t)(p - lit));
        char var[128];
        snprintf(var, sizeof var, "%.*s", (int)n, name);
        const char *expr = NULL;
        for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++)
            if (strcmp(var, exprs[i].var) == 0)
                expr = exprs[i].expr;
        char num[16];
        if (expr) {
            eg_buf_appends(b, "{{jsonEscape (");
            eg_buf_appends(b, expr);
            eg_buf_appends(b, ")}}");
        } else if (strcmp(var, "scheme") == 0) {
            eg_buf_appends(b, f->ssl ? "https" : "http");
        } else if (strcmp(var, "server_port") == 0) {
            snprintf(num, sizeof num, "%d", f->port);
            eg_buf_appends(b, num);
        } else if (strcmp(var, "server_name") == 0) {
            tpl_literal(b, f->server_name, strlen(f->server_name));
        } else if (strcmp(var, "is_args") == 0) {
            eg_buf_appends(b, "{{if .req.URL.RawQuery}}?{{end}}");
        } else if (strncmp(var, "http_", 5) == 0) {
            eg_buf_appends(b, "{{jsonEscape (header .req.Header \"");
            for (const char *q = var + 5; *q; q++)
                sb_putc(b, *q == '_' ? '-' : *q);
            eg_buf_appends(b, "\")}}");
        } else {
            warn(c, d, "variable $%s is not converted; it stays as text", var);
            tpl_literal(b, p, (size_t)(end - p));
        }
        p = lit = end;
    }
    tpl_literal(b, lit, strlen(lit));
}

static bool is_redirect(long code)
{
    return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

static int make_return(conv *c, location *l, const nginx_directive *ret, const scope *sc,
                       const request_facts *f)
{
    long code = 0;
    const char *text = NULL;
    char *end = NULL;
    if (ret->nargs == 1 && (strncmp(ret->args[0], "http://", 7) == 0 ||
                            strncmp(ret->args[0], "https://", 8) == 0 ||
                            strncmp(ret->args[0], "$scheme", 7) == 0)) {
        code = 302;
        text = ret->args[0];
    } else if (ret->nargs == 1 || ret->nargs == 2) {
        code = strtol(ret->args[0], &end, 10);
        if (*end)
            code = -1;
        text = ret->nargs == 2 ? ret->args[1] : NULL;
    }
    if (code < 200 || code > 599 || code == 444) { /* 444: nginx closes the connection */
        warn(c, ret, "return %s: only status codes 200 to 599 are converted; location %s not "
             "converted", ret->nargs ? ret->args[0] : "", l->path);
        return 0;
    }
    eg_buf t = { 0 };
    char num[32];
    snprintf(num, sizeof num, "statusCode: %ld\n", code);
    eg_buf_appends(&t, num);
    if (is_redirect(code) && text) {
        eg_buf_appends(&t, "headers:\n  Location: [\"");
        if (text[0] == '/') { /* nginx makes it absolute with the request's host and port */
            eg_buf_appends(&t, f->ssl ? "https://" : "http://");
            eg_buf_appends(&t, "{{jsonEscape (" HOST_EXPR ")}}");
            if (f->port != (f->ssl ? 443 : 80)) {
                snprintf(num, sizeof num, ":%d", f->port);
                eg_buf_appends(&t, num);
            }
        }
        tpl_text(c, ret, &t, text, f);
        eg_buf_appends(&t, "\"]\n");
    } else if (text) {
        eg_buf_appends(&t, "headers:\n  Content-Type: [\"");
        const char *type = sc->default_type ? sc->default_type : "text/plain";
        tpl_literal(&t, type, strlen(type));
        eg_buf_appends(&t, "\"]\nbody: \"");
        tpl_text(c, ret, &t, text, f);
        eg_buf_appends(&t, "\"\n");
    }
    char *tpl = eg_buf_steal(&t, NULL);
    if (!(l->pipeline = pipeline_name(c, l->path))) {
        free(tpl);
        return -1;
    }
    eg_node *pipeline = eg_node_new(EG_NODE_MAP);
    add_str(pipeline, "name", l->pipeline);
    add_str(pipeline, "kind", "Pipeline");
    eg_node *filters = eg_node_new(EG_NODE_SEQ);
    eg_node *rb = eg_node_new(EG_NODE_MAP);
    add_str(rb, "name", "return");
    add_str(rb, "kind", "ResponseBuilder");
    add_str(rb, "template", tpl);
    free(tpl);
    eg_node_seq_push(filters, rb);
    eg_node_map_set(pipeline, "filters", filters);
    if (!push_ptr(&c->pipelines, &c->npipelines, sizeof pipeline, &pipeline)) {
        eg_node_free(pipeline);
        return fail(c, ret, "out of memory");
    }
    return 0;
}

/* ---- servers --------------------------------------------------------------------------- */

static request_facts facts_of(const server *sv)
{
    request_facts f = { 80, false, "" };
    if (sv->nlistens) {
        f.port = sv->listens[0].port;
        f.ssl = sv->listens[0].ssl;
    }
    for (int k = 0; k < 4 && !f.server_name[0]; k++)
        if (sv->nnames[k])
            f.server_name = sv->names[k][0];
    return f;
}

static int convert_location(conv *c, server *sv, const nginx_directive *d, const scope *parent)
{
    enum loc_kind kind = LOC_PREFIX;
    const char *path = NULL;
    if (d->nargs == 2) {
        const char *m = d->args[0];
        path = d->args[1];
        if (strcmp(m, "=") == 0)
            kind = LOC_EXACT;
        else if (strcmp(m, "^~") == 0)
            kind = LOC_PREFIX_STOP;
        else if (strcmp(m, "~") == 0)
            kind = LOC_REGEX;
        else if (strcmp(m, "~*") == 0)
            kind = LOC_REGEX_I;
        else
            path = NULL;
    } else if (d->nargs == 1) {
        path = d->args[0];
        if (path[0] == '=')
            kind = LOC_EXACT, path++;
        else if (strncmp(path, "~*", 2) == 0)
            kind = LOC_REGEX_I, path += 2;
        else if (path[0] == '~')
            kind = LOC_REGEX, path++;
        else if (strncmp(path, "^~", 2) == 0)
            kind = LOC_PREFIX_STOP, path += 2;
        else if (path[0] == '@') {
            warn(c, d, "named location %s is not converted", path);
            return 0;
        }
    }
    if (!path || !*path || !d->has_block) {
        warn(c, d, "location needs [=|~|~*|^~] PATH { ... }; not converted");
        return 0;
    }
    if ((kind == LOC_EXACT || kind == LOC_PREFIX || kind == LOC_PREFIX_STOP) && path[0] != '/') {
        warn(c, d, "location %s does not start with '/'; not converted", path);
        return 0;
    }
    scope sc;
    const nginx_directive **owned;
    if (!scope_enter(parent, d, &sc, &owned))
        return fail(c, d, "out of memory");
    const nginx_directive *pass = NULL, *ret = NULL;
    for (size_t i = 0; i < d->nchildren; i++) {
        const nginx_directive *ch = &d->children[i];
        if (strcmp(ch->name, "proxy_pass") == 0)
            pass = ch;
        else if (strcmp(ch->name, "return") == 0) {
            if (!ret)
                ret = ch; /* the first return ends the request */
        } else if (strcmp(ch->name, "location") != 0 && !handled_everywhere(ch->name))
            not_converted(c, ch);
    }
    int rc = 0;
    if (ret || pass) {
        location *l = new_location(c, sv, d, kind, path);
        request_facts f = facts_of(sv);
        if (!l)
            rc = -1;
        else if (ret)
            rc = make_return(c, l, ret, &sc, &f);
        else
            rc = make_proxy(c, l, pass, &sc);
        if (rc == 0 && l && !l->pipeline) { /* not converted: warned already */
            free(l->regexp);
            eg_node_free(l->set_headers);
            free(l->rewrite);
            sv->nlocs--;
        }
    } else {
        warn(c, d, "location %s has neither proxy_pass nor return; not converted", path);
    }
    for (size_t i = 0; rc == 0 && i < d->nchildren; i++)
        if (strcmp(d->children[i].name, "location") == 0)
            rc = convert_location(c, sv, &d->children[i], &sc);
    free(owned);
    return rc;
}

/* listen [addr:]port | addr | *:port | [v6]:port, then parameters. */
static int parse_listen(conv *c, server *sv, const nginx_directive *d)
{
    if (d->nargs < 1)
        return fail(c, d, "listen needs an address or a port");
    const char *a = d->args[0];
    char addr[256] = "";
    long port = 80;
    const char *port_text = NULL;
    if (a[0] == '[') {
        const char *rb = strchr(a, ']');
        if (!rb || (rb[1] && rb[1] != ':'))
            return fail(c, d, "invalid listen %s", a);
        snprintf(addr, sizeof addr, "%.*s", (int)(rb - a + 1), a);
        port_text = rb[1] ? rb + 2 : NULL;
    } else if (strncmp(a, "unix:", 5) == 0) {
        warn(c, d, "listen %s: unix sockets are not converted", a);
        return 0;
    } else {
        const char *colon = strrchr(a, ':');
        bool digits = *a != '\0';
        for (const char *p = a; *p; p++)
            digits &= isdigit((unsigned char)*p) != 0;
        if (colon) {
            snprintf(addr, sizeof addr, "%.*s", (int)(colon - a), a);
            port_text = colon + 1;
        } else if (digits) {
            port_text = a;
        } else {
            snprintf(addr, sizeof addr, "%s", a);
        }
    }
    if (port_text) {
        char *end;
        errno = 0;
        port = strtol(port_text, &end, 10);
        if (errno || *end || !*port_text || port < 1 || port > 65535)
            return fail(c, d, "invalid port in listen %s", a);
    }
    if (strcmp(addr, "*") == 0)
        addr[0] = '\0';
    listen_spec ls = { strdup(addr), (int)port, false, false, d };
    if (!ls.addr)
        return fail(c, d, "out of memory");
    for (size_t i = 1; i < d->nargs; i++) {
        if (strcmp(d->args[i], "default_server") == 0 || strcmp(d->args[i], "default") == 0)
            ls.default_server = true;
        else if (strcmp(d->args[i], "ssl") == 0)
            ls.ssl = true;
        else
            warn(c, d, "listen parameter \"%s\" is not converted", d->args[i]);
    }
    if (!push_ptr(&sv->listens, &sv->nlistens, sizeof ls, &ls)) {
        free(ls.addr);
        return fail(c, d, "out of memory");
    }
    return 0;
}

static int add_name(conv *c, server *sv, int kind, const char *name, const nginx_directive *d)
{
    char *copy = strdup(name);
    if (!copy)
        return fail(c, d, "out of memory");
    if (kind != NAME_REGEX)
        for (char *p = copy; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    if (!push_ptr(&sv->names[kind], &sv->nnames[kind], sizeof copy, &copy)) {
        free(copy);
        return fail(c, d, "out of memory");
    }
    return 0;
}

static int parse_server_name(conv *c, server *sv, const nginx_directive *d)
{
    for (size_t i = 0; i < d->nargs; i++) {
        const char *n = d->args[i];
        size_t len = strlen(n);
        const char *star = strchr(n, '*');
        int rc = 0;
        if (len == 0 || strcmp(n, "_") == 0)
            continue; /* "" and "_" name no host: the server is only a default */
        if (n[0] == '~') {
            rc = add_name(c, sv, NAME_REGEX, n + 1, d);
        } else if (n[0] == '.') { /* ".example.com" = "example.com" + "*.example.com" */
            char *w = NULL;
            if (asprintf(&w, "*%s", n) < 0)
                return fail(c, d, "out of memory");
            rc = add_name(c, sv, NAME_EXACT, n + 1, d);
            if (rc == 0)
                rc = add_name(c, sv, NAME_LEAD, w, d);
            free(w);
        } else if (!star) {
            rc = add_name(c, sv, NAME_EXACT, n, d);
        } else if (strchr(star + 1, '*') || (star != n && star != n + len - 1) ||
                   (star == n && n[1] != '.') || (star != n && star[-1] != '.')) {
            warn(c, d, "server name %s: only \"*.\" at the start or \".*\" at the end is a "
                 "wildcard; not converted", n);
        } else {
            rc = add_name(c, sv, star == n ? NAME_LEAD : NAME_TRAIL, n, d);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static void free_server(server *sv)
{
    for (size_t i = 0; i < sv->nlistens; i++)
        free(sv->listens[i].addr);
    free(sv->listens);
    for (int k = 0; k < 4; k++) {
        for (size_t i = 0; i < sv->nnames[k]; i++)
            free(sv->names[k][i]);
        free(sv->names[k]);
    }
    for (size_t i = 0; i < sv->nlocs; i++) {
        free(sv->locs[i].regexp);
        free(sv->locs[i].pipeline);
        free(sv->locs[i].rewrite);
        eg_node_free(sv->locs[i].set_headers);
    }
    free(sv->locs);
}

static int convert_server(conv *c, server *sv, const scope *parent)
{
    const nginx_directive *d = sv->d;
    scope sc;
    const nginx_directive **owned;
    if (!scope_enter(parent, d, &sc, &owned))
        return fail(c, d, "out of memory");
    int rc = 0;
    const nginx_directive *ret = NULL;
    for (size_t i = 0; rc == 0 && i < d->nchildren; i++) {
        const nginx_directive *ch = &d->children[i];
        if (strcmp(ch->name, "listen") == 0 || strcmp(ch->name, "location") == 0)
            continue; /* listens were read first; locations below */
        if (strcmp(ch->name, "server_name") == 0)
            rc = parse_server_name(c, sv, ch);
        else if (strcmp(ch->name, "return") == 0) {
            if (!ret)
                ret = ch;
        } else if (strcmp(ch->name, "ssl_certificate") == 0 && sv->ncerts < 16)
            sv->certs[sv->ncerts++] = ch;
        else if (strcmp(ch->name, "ssl_certificate_key") == 0 && sv->nkeys < 16)
            sv->keys[sv->nkeys++] = ch;
        else if (strcmp(ch->name, "ssl_client_certificate") == 0)
            sv->client_ca = ch;
        else if (!handled_everywhere(ch->name))
            not_converted(c, ch);
    }
    if (rc == 0 && ret) {
        /* A server-level return answers every request before any location is looked at. */
        location *l = new_location(c, sv, ret, LOC_PREFIX, "/");
        request_facts f = facts_of(sv);
        rc = l ? make_return(c, l, ret, &sc, &f) : -1;
        if (rc == 0 && l && !l->pipeline)
            sv->nlocs--;
        for (size_t i = 0; i < d->nchildren; i++)
            if (strcmp(d->children[i].name, "location") == 0)
                warn(c, &d->children[i], "location is never used: the server's return (line %d) "
                     "answers first", ret->line);
    } else {
        for (size_t i = 0; rc == 0 && i < d->nchildren; i++)
            if (strcmp(d->children[i].name, "location") == 0)
                rc = convert_location(c, sv, &d->children[i], &sc);
    }
    free(owned);
    return rc;
}

/* ---- path order -------------------------------------------------------------------------- */

static bool extends(const char *longer, const char *shorter)
{
    size_t n = strlen(shorter);
    return strlen(longer) > n && strncmp(longer, shorter, n) == 0;
}

static bool is_prefix_kind(enum loc_kind k)
{
    return k == LOC_PREFIX || k == LOC_PREFIX_STOP;
}

/* A `^~` prefix that a longer plain prefix extends cannot simply come before the regexps:
 * requests under that longer prefix must reach the regexps first. It becomes a regexp
 * that matches what starts with it but with none of the longer prefixes. */
static int stop_prefix_regexps(conv *c, server *sv)
{
    for (size_t i = 0; i < sv->nlocs; i++) {
        location *q = &sv->locs[i];
        if (q->kind != LOC_PREFIX_STOP)
            continue;
        bool plain_extends = false;
        size_t n = 0;
        for (size_t j = 0; j < sv->nlocs; j++)
            if (is_prefix_kind(sv->locs[j].kind) && extends(sv->locs[j].path, q->path)) {
                n++;
                plain_extends |= sv->locs[j].kind == LOC_PREFIX;
            }
        if (!plain_extends)
            continue;
        char **set = calloc(n, sizeof *set);
        if (!set)
            return fail(c, q->d, "out of memory");
        size_t k = 0, ql = strlen(q->path);
        for (size_t j = 0; j < sv->nlocs; j++)
            if (is_prefix_kind(sv->locs[j].kind) && extends(sv->locs[j].path, q->path))
                set[k++] = (char *)sv->locs[j].path + ql;
        qsort(set, n, sizeof *set, cmp_str);
        eg_buf b = { 0 };
        sb_putc(&b, '^');
        re_literal(&b, q->path, ql);
        re_none_of(&b, set, n, 0);
        free(set);
        q->regexp = eg_buf_steal(&b, NULL);
    }
    return 0;
}

/* Prefixes, longest first; equal lengths keep file order. */
static int cmp_loc_len(const void *a, const void *b, void *ctx)
{
    const server *sv = ctx;
    const location *x = &sv->locs[*(const size_t *)a];
    const location *y = &sv->locs[*(const size_t *)b];
    size_t lx = strlen(x->path), ly = strlen(y->path);
    if (lx != ly)
        return lx > ly ? -1 : 1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* The order of a server's locations for a first-match router (indexes into sv->locs). */
static size_t *path_order(const server *sv)
{
    size_t *order = calloc(sv->nlocs ? sv->nlocs : 1, sizeof *order), n = 0;
    size_t *prefixes = calloc(sv->nlocs ? sv->nlocs : 1, sizeof *prefixes), np = 0;
    if (!order || !prefixes) {
        free(order);
        free(prefixes);
        return NULL;
    }
    for (size_t i = 0; i < sv->nlocs; i++)
        if (sv->locs[i].kind == LOC_EXACT)
            order[n++] = i;
    /* `^~` prefixes that decide alone (or as their regexp), longest first */
    for (size_t i = 0; i < sv->nlocs; i++)
        if (sv->locs[i].kind == LOC_PREFIX_STOP)
            prefixes[np++] = i;
    qsort_r(prefixes, np, sizeof *prefixes, cmp_loc_len, (void *)sv);
    for (size_t i = 0; i < np; i++)
        order[n++] = prefixes[i];
    for (size_t i = 0; i < sv->nlocs; i++)
        if (sv->locs[i].kind == LOC_REGEX || sv->locs[i].kind == LOC_REGEX_I)
            order[n++] = i;
    np = 0;
    for (size_t i = 0; i < sv->nlocs; i++)
        if (sv->locs[i].kind == LOC_PREFIX)
            prefixes[np++] = i;
    qsort_r(prefixes, np, sizeof *prefixes, cmp_loc_len, (void *)sv);
    for (size_t i = 0; i < np; i++)
        order[n++] = prefixes[i];
    free(prefixes);
    return order;
}

static eg_node *path_node(const location *l, const char *backend)
{
    eg_node *p = eg_node_new(EG_NODE_MAP);
    if (l->kind == LOC_EXACT)
        add_str(p, "path", l->path);
    else if (l->regexp)
        add_str(p, "pathRegexp", l->regexp);
    else
        add_str(p, "pathPrefix", l->path);
    if (l->rewrite)
        add_str(p, "rewriteTarget", l->rewrite);
    if (l->set_headers)
        eg_node_map_set(p, "setHeaders", eg_node_clone(l->set_headers));
    add_str(p, "backend", backend ? backend : l->pipeline);
    return p;
}

static bool catches_all(const server *sv)
{
    for (size_t i = 0; i < sv->nlocs; i++)
        if (is_prefix_kind(sv->locs[i].kind) && strcmp(sv->locs[i].path, "/") == 0 &&
            !sv->locs[i].regexp)
            return true;
    return false;
}

/* The shared Pipeline answering 404 for a named server no location of which matches (so
 * the router does not go on to the next server's rule). */
static const char *not_found_pipeline(conv *c)
{
    if (c->not_found)
        return c->not_found;
    if (!(c->not_found = unique_name(c, "not-found")))
        return NULL;
    eg_node *pipeline = eg_node_new(EG_NODE_MAP);
    add_str(pipeline, "name", c->not_found);
    add_str(pipeline, "kind", "Pipeline");
    eg_node *filters = eg_node_new(EG_NODE_SEQ), *rb = eg_node_new(EG_NODE_MAP);
    add_str(rb, "name", "notFound");
    add_str(rb, "kind", "ResponseBuilder");
    add_str(rb, "template", "statusCode: 404\n");
    eg_node_seq_push(filters, rb);
    eg_node_map_set(pipeline, "filters", filters);
    if (!push_ptr(&c->pipelines, &c->npipelines, sizeof pipeline, &pipeline)) {
        eg_node_free(pipeline);
        fail(c, NULL, "out of memory");
        return NULL;
    }
    return c->not_found;
}

static eg_node *rule_node(conv *c, const server *sv, eg_node *hosts, bool fallthrough_guard)
{
    eg_node *rule = eg_node_new(EG_NODE_MAP);
    if (hosts)
        eg_node_map_set(rule, "hosts", hosts);
    eg_node *paths = eg_node_new(EG_NODE_SEQ);
    size_t *order = path_order(sv);
    if (!order) {
        eg_node_free(rule);
        eg_node_free(paths);
        fail(c, sv->d, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < sv->nlocs; i++)
        eg_node_seq_push(paths, path_node(&sv->locs[order[i]], NULL));
    free(order);
    if (fallthrough_guard && !catches_all(sv)) {
        const char *nf = not_found_pipeline(c);
        if (!nf) {
            eg_node_free(rule);
            eg_node_free(paths);
            return NULL;
        }
        location all = { .kind = LOC_PREFIX, .path = "/" };
        eg_node_seq_push(paths, path_node(&all, nf));
    }
    eg_node_map_set(rule, "paths", paths);
    return rule;
}

static eg_node *host_node(const char *value, bool is_regexp)
{
    eg_node *h = eg_node_new(EG_NODE_MAP);
    add_str(h, "value", value);
    if (is_regexp)
        eg_node_map_set(h, "isRegexp", eg_node_new_bool(true));
    return h;
}

static int cmp_host_len(const void *a, const void *b)
{
    const host_name *x = a, *y = b;
    size_t lx = strlen(x->name), ly = strlen(y->name);
    if (lx != ly)
        return lx > ly ? -1 : 1;
    return x->seq < y->seq ? -1 : 1;
}

/* Rules for the servers of one port (`members`, in file order), nginx's name precedence. */
static int port_rules(conv *c, server **members, size_t n, const server *def, eg_node *rules)
{
    if (n == 1) { /* a lone server answers every host */
        eg_node *r = rule_node(c, members[0], NULL, false);
        if (!r)
            return -1;
        eg_node_seq_push(rules, r);
        return 0;
    }
    for (size_t i = 0; i < n; i++) { /* exact names */
        if (!members[i]->nnames[NAME_EXACT])
            continue;
        eg_node *hosts = eg_node_new(EG_NODE_SEQ);
        for (size_t j = 0; j < members[i]->nnames[NAME_EXACT]; j++)
            eg_node_seq_push(hosts, host_node(members[i]->names[NAME_EXACT][j], false));
        eg_node *r = rule_node(c, members[i], hosts, true);
        if (!r)
            return -1;
        eg_node_seq_push(rules, r);
    }
    for (int kind = NAME_LEAD; kind <= NAME_REGEX; kind++) {
        size_t total = 0, k = 0;
        for (size_t i = 0; i < n; i++)
            total += members[i]->nnames[kind];
        if (!total)
            continue;
        host_name *all = calloc(total, sizeof *all);
        if (!all)
            return fail(c, NULL, "out of memory");
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < members[i]->nnames[kind]; j++, k++)
                all[k] = (host_name){ members[i]->names[kind][j], members[i], k };
        if (kind != NAME_REGEX) /* the longest wildcard wins; regexps go in file order */
            qsort(all, total, sizeof *all, cmp_host_len);
        for (size_t i = 0; i < total; i++) {
            eg_node *hosts = eg_node_new(EG_NODE_SEQ);
            eg_node_seq_push(hosts, host_node(all[i].name, kind == NAME_REGEX));
            eg_node *r = rule_node(c, all[i].srv, hosts, true);
            if (!r) {
                free(all);
                return -1;
            }
            eg_node_seq_push(rules, r);
        }
        free(all);
    }
    eg_node *r = rule_node(c, def, NULL, false); /* the default server takes the rest */
    if (!r)
        return -1;
    eg_node_seq_push(rules, r);
    return 0;
}

/* ---- certificates ---------------------------------------------------------------------- */

static char *file_base64(conv *c, const nginx_directive *d)
{
    if (d->nargs != 1) {
        fail(c, d, "%s needs one file", d->name);
        return NULL;
    }
    char *path = NULL;
    if (asprintf(&path, "%s%s", d->args[0][0] == '/' ? "" : c->o->base_dir, d->args[0]) < 0) {
        fail(c, d, "out of memory");
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail(c, d, "%s: cannot read %s: %s", d->name, path, strerror(errno));
        free(path);
        return NULL;
    }
    free(path);
    eg_buf raw = { 0 };
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        eg_buf_append(&raw, chunk, got);
    fclose(f);
    /* One line, as Go's base64.StdEncoding writes a []byte field. */
    char *out = malloc(4 * ((raw.len + 2) / 3) + 1);
    if (out)
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)(raw.data ? raw.data : ""), (int)raw.len);
    else
        fail(c, d, "out of memory");
    eg_buf_free(&raw);
    return out;
}

/* https, certs, keys (named by the certificate's file, as Easegress does) and the client CA. */
static int add_tls(conv *c, eg_node *hs, server **members, size_t n)
{
    eg_node *certs = NULL, *keys = NULL;
    for (size_t i = 0; i < n; i++) {
        const server *sv = members[i];
        if (sv->ncerts != sv->nkeys)
            return fail(c, sv->d, "%zu ssl_certificate but %zu ssl_certificate_key", sv->ncerts,
                        sv->nkeys);
        for (size_t j = 0; j < sv->ncerts; j++) {
            char *cert = file_base64(c, sv->certs[j]);
            char *key = cert ? file_base64(c, sv->keys[j]) : NULL;
            if (!key) {
                free(cert);
                eg_node_free(certs);
                eg_node_free(keys);
                return -1;
            }
            if (!certs) {
                certs = eg_node_new(EG_NODE_MAP);
                keys = eg_node_new(EG_NODE_MAP);
            }
            add_str(certs, sv->certs[j]->args[0], cert);
            add_str(keys, sv->certs[j]->args[0], key);
            free(cert);
            free(key);
        }
        if (sv->client_ca) {
            char *ca = file_base64(c, sv->client_ca);
            if (!ca) {
                eg_node_free(certs);
                eg_node_free(keys);
                return -1;
            }
            add_str(hs, "caCertBase64", ca);
            free(ca);
        }
    }
    if (certs) {
        eg_node_map_set(hs, "certs", certs);
        eg_node_map_set(hs, "keys", keys);
    }
    return 0;
}

/* ---- the whole ------------------------------------------------------------------------- */

static int convert_http(conv *c, const nginx_directive *http)
{
    scope top = { 0 };
    scope sc;
    const nginx_directive **owned;
    if (!scope_enter(&top, http, &sc, &owned))
        return fail(c, http, "out of memory");
    int rc = 0;
    size_t first = c->nservers;
    for (size_t i = 0; rc == 0 && i < http->nchildren; i++) {
        const nginx_directive *d = &http->children[i];
        if (strcmp(d->name, "upstream") == 0) {
            if (d->nargs != 1 || !d->has_block)
                warn(c, d, "upstream needs NAME { ... }; not converted");
            else if (!push_ptr(&c->upstreams, &c->nupstreams, sizeof d, &d))
                rc = fail(c, d, "out of memory");
        } else if (strcmp(d->name, "server") == 0) {
            server sv;
            memset(&sv, 0, sizeof sv);
            sv.d = d;
            size_t nlisten = 0;
            for (size_t j = 0; rc == 0 && j < d->nchildren; j++)
                if (strcmp(d->children[j].name, "listen") == 0) {
                    nlisten++;
                    rc = parse_listen(c, &sv, &d->children[j]);
                }
            if (rc == 0 && nlisten && sv.nlistens == 0) { /* unix sockets only */
                warn(c, d, "server listens on no TCP port; not converted");
                free_server(&sv);
                continue;
            }
            if (rc == 0 && sv.nlistens == 0) { /* nginx's default (when run as root) */
                listen_spec ls = { strdup(""), 80, false, false, d };
                if (!ls.addr || !push_ptr(&sv.listens, &sv.nlistens, sizeof ls, &ls)) {
                    free(ls.addr);
                    rc = fail(c, d, "out of memory");
                }
            }
            if (rc != 0 || !push_ptr(&c->servers, &c->nservers, sizeof sv, &sv)) {
                free_server(&sv);
                if (rc == 0)
                    rc = fail(c, d, "out of memory");
            }
        } else if (!handled_everywhere(d->name)) {
            not_converted(c, d);
        }
    }
    /* HTTPServer names are taken before any Pipeline is named. */
    for (size_t i = first; rc == 0 && i < c->nservers; i++)
        for (size_t j = 0; rc == 0 && j < c->servers[i].nlistens; j++) {
            char base[16];
            snprintf(base, sizeof base, "%d", c->servers[i].listens[j].port);
            char *name = NULL;
            if (asprintf(&name, "%s-%s", c->o->prefix, base) < 0)
                rc = fail(c, NULL, "out of memory");
            else if (name_used(c, name))
                free(name);
            else if (!push_ptr(&c->used, &c->nused, sizeof name, &name)) {
                free(name);
                rc = fail(c, NULL, "out of memory");
            }
        }
    for (size_t i = first; rc == 0 && i < c->nservers; i++)
        rc = convert_server(c, &c->servers[i], &sc);
    for (size_t i = first; rc == 0 && i < c->nservers; i++)
        rc = stop_prefix_regexps(c, &c->servers[i]);
    free(owned);
    return rc;
}

static int emit_servers(conv *c, eg_buf *out)
{
    /* ports in the order they first appear */
    for (size_t i = 0; i < c->nservers; i++) {
        for (size_t j = 0; j < c->servers[i].nlistens; j++) {
            const listen_spec *ls = &c->servers[i].listens[j];
            bool seen = false;
            for (size_t a = 0; a <= i && !seen; a++)
                for (size_t b = 0; b < c->servers[a].nlistens && !seen; b++)
                    seen = (a < i || b < j) && c->servers[a].listens[b].port == ls->port;
            if (seen)
                continue;
            server **members = calloc(c->nservers, sizeof *members);
            if (!members)
                return fail(c, ls->d, "out of memory");
            size_t n = 0;
            const server *def = NULL;
            bool ssl = false;
            for (size_t a = 0; a < c->nservers; a++) {
                bool member = false;
                for (size_t b = 0; b < c->servers[a].nlistens; b++) {
                    const listen_spec *o = &c->servers[a].listens[b];
                    if (o->port != ls->port)
                        continue;
                    if (strcmp(o->addr, ls->addr) != 0) {
                        free(members);
                        return fail(c, o->d, "port %d is listened on at \"%s\" and at \"%s\"; "
                                    "an HTTPServer has one address", ls->port, ls->addr, o->addr);
                    }
                    member = true;
                    ssl |= o->ssl;
                    if (o->default_server && !def)
                        def = &c->servers[a];
                }
                if (member)
                    members[n++] = &c->servers[a];
            }
            if (!def)
                def = members[0];
            eg_node *hs = eg_node_new(EG_NODE_MAP);
            char *name = NULL;
            if (asprintf(&name, "%s-%d", c->o->prefix, ls->port) < 0) {
                free(members);
                eg_node_free(hs);
                return fail(c, NULL, "out of memory");
            }
            add_str(hs, "name", name);
            free(name);
            add_str(hs, "kind", "HTTPServer");
            eg_node_map_set(hs, "port", eg_node_new_int(ls->port));
            if (ls->addr[0])
                add_str(hs, "address", ls->addr);
            if (ssl) {
                eg_node_map_set(hs, "https", eg_node_new_bool(true));
                if (add_tls(c, hs, members, n) != 0) {
                    free(members);
                    eg_node_free(hs);
                    return -1;
                }
            }
            eg_node *rules = eg_node_new(EG_NODE_SEQ);
            eg_node_map_set(hs, "rules", rules);
            int rc = port_rules(c, members, n, def, rules);
            free(members);
            char *yaml = rc == 0 ? eg_node_to_yaml(hs, NULL) : NULL;
            eg_node_free(hs);
            if (rc != 0)
                return -1;
            if (!yaml)
                return fail(c, NULL, "cannot write YAML");
            if (out->len)
                eg_buf_appends(out, "---\n");
            eg_buf_appends(out, yaml);
            free(yaml);
        }
    }
    return 0;
}

int nginx_convert(const nginx_conf *conf, const nginx_convert_opts *opts, char **yaml,
                  char *err, size_t errlen)
{
    conv c;
    memset(&c, 0, sizeof c);
    c.o = opts;
    c.err = err;
    c.errlen = errlen;
    *yaml = NULL;
    if (errlen)
        err[0] = '\0';
    int rc = 0;
    size_t nhttp = 0;
    for (size_t i = 0; rc == 0 && i < conf->ntop; i++) {
        const nginx_directive *d = &conf->top[i];
        if (strcmp(d->name, "http") == 0 && d->has_block) {
            nhttp++;
            rc = convert_http(&c, d);
        } else {
            not_converted(&c, d);
        }
    }
    if (rc == 0 && nhttp == 0)
        rc = fail(&c, NULL, "no http { ... } block: nothing to convert");
    eg_buf out = { 0 };
    if (rc == 0)
        rc = emit_servers(&c, &out);
    if (rc == 0 && out.len == 0)
        rc = fail(&c, NULL, "no server { ... } in http: nothing to convert");
    for (size_t i = 0; rc == 0 && i < c.npipelines; i++) {
        char *y = eg_node_to_yaml(c.pipelines[i], NULL);
        if (!y) {
            rc = fail(&c, NULL, "cannot write YAML");
            break;
        }
        if (out.len)
            eg_buf_appends(&out, "---\n");
        eg_buf_appends(&out, y);
        free(y);
    }
    if (rc == 0)
        *yaml = eg_buf_steal(&out, NULL);
    else
        eg_buf_free(&out);

    for (size_t i = 0; i < c.nservers; i++)
        free_server(&c.servers[i]);
    free(c.servers);
    free(c.upstreams);
    for (size_t i = 0; i < c.npipelines; i++)
        eg_node_free(c.pipelines[i]);
    free(c.pipelines);
    for (size_t i = 0; i < c.nused; i++)
        free(c.used[i]);
    free(c.used);
    free(c.not_found);
    return rc;
}
