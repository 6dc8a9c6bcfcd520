/* url.h — splitting "scheme://host[:port][/path][?query]" for the clients that call out
 * (eg.http.request, the tracing exporters). The Proxy's server URLs follow Go's url.Parse
 * more strictly: eg_upstream_parse_url in proxy_spec.h. */
#ifndef EG_URL_H
#define EG_URL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *scheme;    /* points into the URL; NULL for a bare "host:port" */
    size_t scheme_len;
    const char *host;      /* without IPv6 brackets */
    size_t host_len;
    bool host_v6;
    int port;              /* -1 when the URL has none */
    const char *rest;      /* from the first '/', '?' or '#' after the host; "" when none */
} eg_url_parts;

/* NULL, or a static reason the URL cannot be split. A bare "host:port..." (no "://") is
 * accepted only with allow_bare. */
const char *eg_url_split(const char *url, bool allow_bare, eg_url_parts *out);

#endif
