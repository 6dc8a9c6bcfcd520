/* httpserver_spec.c — decoding an HTTPServer object (reference §1.1, Easegress's
 * pkg/object/httpserver/spec.go): the server's own fields here, `rules` and the server
 * `ipFilter` in router.c.
 *
 * Defaults are Easegress's DefaultSpec (keepAlive true, keepAliveTimeout 60s,
 * maxConnections 10240) and clientMaxBodySize 0 is resolved to 4 MiB here, so the server
 * never has to know what 0 meant.
 */
#include "router.h"
#include "tracing.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "access_log.h"
#include "access_log_format.h"

#define DEFAULT_MAX_BODY (4 * 1024 * 1024)
/* DefaultSpec: what the decoder starts from and the admin API's template shows. */
#define DEFAULT_KEEP_ALIVE true
#define DEFAULT_KEEP_ALIVE_TIMEOUT "60s"
#define DEFAULT_KEEP_ALIVE_TIMEOUT_MS 60000
#define DEFAULT_MAX_CONNECTIONS 10240

/* Go's base64.StdEncoding.DecodeString: padded standard alphabet; CR and LF are ignored. */
static bool is_base64(const char *s)
{
    size_t n = 0, pad = 0;
    for (; *s; s++) {
        char c = *s;
        if (c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            pad++;
        } else if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '+' || c == '/')) {
            return false;
        }
        n++;
    }
    return n % 4 == 0 && pad <= 2;
}

static bool dec_base64(eg_dec *d, const eg_node *obj, const char *key, char **out)
{
    if (!eg_dec_string(d, obj, key, out, false))
        return false;
    if (*out && !**out) {
        free(*out);
        *out = NULL;
    }
    if (*out && !is_base64(*out))
        return eg_dec_fail(d, key, "must be base64 encoded");
    return true;
}

/* certs / keys: name -> PEM (base64 or plain) maps, kept as deep copies. */
static bool dec_pem_map(eg_dec *d, const eg_node *obj, const char *key, eg_node **out)
{
    const eg_node *m = eg_dec_map(d, obj, key, false);
    if (!m)
        return eg_dec_ok(d);
    eg_dec_enter(d, key);
    for (size_t i = 0; i < m->count && eg_dec_ok(d); i++) {
        char *v = NULL;
        eg_dec_string(d, m, m->keys[i], &v, false);
        free(v);
    }
    eg_dec_leave(d);
    if (!eg_dec_ok(d))
        return false;
    if (m->count && !(*out = eg_node_clone(m)))
        return eg_dec_fail(d, key, "out of memory");
    return true;
}

static bool map_has_exact_key(const eg_node *m, const char *k)
{
    for (size_t i = 0; m && i < m->count; i++)
        if (strcmp(m->keys[i], k) == 0)
            return true;
    return false;
}

static bool decode_tls(eg_dec *d, const eg_node *obj, eg_httpserver_spec *s)
{
    if (!eg_dec_bool(d, obj, "https", &s->https, false) ||
        !eg_dec_bool(d, obj, "http3", &s->http3, false) ||
        !eg_dec_bool(d, obj, "autoCert", &s->auto_cert, false) ||
        !dec_base64(d, obj, "certBase64", &s->cert_base64) ||
        !dec_base64(d, obj, "keyBase64", &s->key_base64) ||
        !dec_base64(d, obj, "caCertBase64", &s->ca_cert_base64) ||
        !dec_pem_map(d, obj, "certs", &s->certs) || !dec_pem_map(d, obj, "keys", &s->keys))
        return false;
    if (!s->https) {
        if (s->http3)
            return eg_dec_fail(d, "http3", "http3 requires https");
        return true;
    }
    /* spec.tlsConfig: each certs entry needs its key; at least one pair unless autoCert.
     * Whether the PEMs parse is checked where TLS contexts are built. */
    size_t pairs = s->cert_base64 && s->key_base64;
    for (size_t i = 0; s->certs && i < s->certs->count; i++) {
        if (!map_has_exact_key(s->keys, s->certs->keys[i])) {
            eg_dec_enter(d, "certs");
            eg_dec_fail(d, s->certs->keys[i], "has no matching entry in keys");
            eg_dec_leave(d);
            return false;
        }
        pairs++;
    }
    if (!pairs && !s->auto_cert)
        return eg_dec_fail(d, "https", "https needs certBase64/keyBase64, certs/keys or autoCert");
    return true;
}

static bool decode_limits(eg_dec *d, const eg_node *obj, eg_httpserver_spec *s)
{
    int64_t port = 0, maxconn = s->max_connections, cache = 0;
    if (!eg_dec_int(d, obj, "port", &port, true))
        return false;
    if (port < 1 || port > 65535)
        return eg_dec_fail(d, "port", "must be between 1 and 65535");
    s->port = (uint16_t)port;
    if (!eg_dec_int(d, obj, "maxConnections", &maxconn, false))
        return false;
    /* Easegress skips validating 0 (omitempty) and then admits no connection at all. */
    if (maxconn < 1 || maxconn > UINT32_MAX)
        return eg_dec_fail(d, "maxConnections", "must be between 1 and 4294967295");
    s->max_connections = (uint32_t)maxconn;
    if (!eg_dec_int(d, obj, "cacheSize", &cache, false))
        return false;
    if (cache < 0 || cache > UINT32_MAX)
        return eg_dec_fail(d, "cacheSize", "must be between 0 and 4294967295");
    s->cache_size = (uint32_t)cache;
    if (!eg_dec_duration_ms(d, obj, "keepAliveTimeout", &s->keep_alive_timeout_ms, false))
        return false;
    if (s->keep_alive_timeout_ms < 0)
        return eg_dec_fail(d, "keepAliveTimeout", "must not be negative");
    if (!eg_dec_int(d, obj, "clientMaxBodySize", &s->client_max_body_size, false))
        return false;
    if (s->client_max_body_size < -1)
        return eg_dec_fail(d, "clientMaxBodySize", "must be -1 (stream), 0 (4 MiB) or a size in bytes");
    if (s->client_max_body_size == 0)
        s->client_max_body_size = DEFAULT_MAX_BODY;
    return true;
}

/* A warning (not an error: a store reloaded at start must not lose the server over a log
 * directory that is not there yet) when the access log file cannot be written now. */
static void warn_unwritable(eg_dec *d, const char *path)
{
    int err = 0;
    if (access(path, W_OK) < 0) {
        err = errno;
        if (err == ENOENT) {
            char *copy = strdup(path);
            err = copy && access(dirname(copy), W_OK) == 0 ? 0 : errno;
            free(copy);
        }
    }
    if (!err)
        return;
    char msg[700];
    snprintf(msg, sizeof msg, "accessLogOutput: %.500s cannot be written (%s); its lines are dropped until it can",
             path, strerror(err));
    char **w = realloc(d->warnings, (d->nwarnings + 1) * sizeof *w);
    if (!w)
        return;
    d->warnings = w;
    if ((w[d->nwarnings] = strdup(msg)))
        d->nwarnings++;
}

/* accessLogFormat (Easegress's template, or `json`), compiled here so a bad variable is a
 * 400; accessLogOutput (ours): where this server's lines go. */
static bool decode_access_log(eg_dec *d, const eg_node *obj, eg_httpserver_spec *s)
{
    if (!eg_dec_string(d, obj, "accessLogFormat", &s->access_log_format, false) ||
        !eg_dec_string(d, obj, "accessLogOutput", &s->access_log_output, false))
        return false;
    if (s->access_log_format && !*s->access_log_format) {
        free(s->access_log_format);
        s->access_log_format = NULL;
    }
    if (s->access_log_format) {
        char err[400];
        s->access_log = eg_access_log_format_compile(s->access_log_format, err, sizeof err);
        if (!s->access_log)
            return eg_dec_fail(d, "accessLogFormat", "%s", err);
    }
    const char *out = s->access_log_output;
    if (!out || !*out) {
        s->access_log_sink = 0;
        return true;
    }
    if (strcmp(out, "off") == 0) {
        s->access_log_sink = EG_ACCESS_LOG_OFF;
        return true;
    }
    if (strcmp(out, "stdout") && strcmp(out, "stderr")) {
        if (out[0] != '/')
            return eg_dec_fail(d, "accessLogOutput", "must be an absolute file path, stdout, stderr or off");
        warn_unwritable(d, out);
    }
    s->access_log_sink = eg_access_log_sink_id(out);
    if (s->access_log_sink < 0)
        return eg_dec_fail(d, "accessLogOutput", "too many distinct access log destinations");
    return true;
}

static bool decode_router_kind(eg_dec *d, const eg_node *obj, eg_httpserver_spec *s)
{
    char *k = NULL;
    if (!eg_dec_string(d, obj, "routerKind", &k, false))
        return false;
    if (!k || !*k || strcmp(k, "Ordered") == 0) {
        free(k);
        s->router_kind = strdup("Ordered");
        return s->router_kind ? true : eg_dec_fail(d, "routerKind", "out of memory");
    }
    if (strcmp(k, "RadixTree") == 0) {
        s->router_kind = k;
        return true;
    }
    free(k);
    return eg_dec_fail(d, "routerKind", "must be one of \"\", Ordered, RadixTree");
}

eg_httpserver_spec *eg_httpserver_spec_decode(eg_dec *d, const eg_node *obj)
{
    if (!eg_dec_ok(d))
        return NULL;
    if (!obj || obj->type != EG_NODE_MAP) {
        eg_dec_fail(d, NULL, "must be an object");
        return NULL;
    }
    eg_httpserver_spec *s = calloc(1, sizeof *s);
    if (!s) {
        eg_dec_fail(d, NULL, "out of memory");
        return NULL;
    }
    s->keep_alive = DEFAULT_KEEP_ALIVE;
    s->keep_alive_timeout_ms = DEFAULT_KEEP_ALIVE_TIMEOUT_MS;
    s->max_connections = DEFAULT_MAX_CONNECTIONS;
    /* meta keys: consumed here so they never warn */
    eg_dec_any(d, obj, "kind");
    eg_dec_any(d, obj, "version");
    eg_dec_any(d, obj, "labels");
    eg_dec_any(d, obj, "createdAt");
    if (!eg_dec_string(d, obj, "name", &s->name, true))
        goto fail;
    if (!*s->name) {
        eg_dec_fail(d, "name", "must not be empty");
        goto fail;
    }
    const eg_node *tracing;
    if (!eg_dec_string(d, obj, "address", &s->address, false) ||
        !eg_dec_bool(d, obj, "keepAlive", &s->keep_alive, false) ||
        !eg_dec_bool(d, obj, "xForwardedFor", &s->x_forwarded_for, false) ||
        !eg_dec_string(d, obj, "globalFilter", &s->global_filter, false) ||
        !decode_access_log(d, obj, s) ||
        !decode_limits(d, obj, s) || !decode_tls(d, obj, s) || !decode_router_kind(d, obj, s) ||
        !eg_dec_ipnet_list(d, obj, "trustedProxies", &s->trusted_proxies))
        goto fail;
    if (s->address && !*s->address) {
        free(s->address);
        s->address = NULL;
    }
    tracing = eg_dec_map(d, obj, "tracing", false);
    if (!eg_dec_ok(d))
        goto fail;
    if (tracing && !(s->tracing = eg_tracing_spec_decode(d, tracing)))
        goto fail;
    s->router = eg_router_decode(d, obj, s->name, strcmp(s->router_kind, "RadixTree") == 0,
                                 s->cache_size);
    if (!s->router)
        goto fail;
    eg_dec_check_unknown(d, obj);
    if (!eg_dec_ok(d))
        goto fail;
    return s;
fail:
    eg_httpserver_spec_free(s);
    return NULL;
}

void eg_httpserver_spec_free(eg_httpserver_spec *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->address);
    eg_ipnet_list_free(&s->trusted_proxies);
    free(s->global_filter);
    free(s->access_log_format);
    eg_access_log_format_free(s->access_log);
    free(s->access_log_output);
    eg_router_free(s->router);
    free(s->router_kind);
    free(s->cert_base64);
    free(s->key_base64);
    free(s->ca_cert_base64);
    eg_node_free(s->certs);
    eg_node_free(s->keys);
    eg_tracing_spec_free(s->tracing);
    free(s);
}

eg_node *eg_httpserver_default_spec(void)
{
    eg_node *m = eg_node_new(EG_NODE_MAP);
    eg_node_map_set(m, "keepAlive", eg_node_new_bool(DEFAULT_KEEP_ALIVE));
    eg_node_map_set(m, "keepAliveTimeout", eg_node_new_str(DEFAULT_KEEP_ALIVE_TIMEOUT));
    eg_node_map_set(m, "maxConnections", eg_node_new_int(DEFAULT_MAX_CONNECTIONS));
    return m;
}
