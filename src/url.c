/* url.c — see url.h. */
#include "url.h"

#include <stdlib.h>
#include <string.h>

const char *eg_url_split(const char *url, bool allow_bare, eg_url_parts *out)
{
    memset(out, 0, sizeof *out);
    out->port = -1;
    const char *p = url;
    const char *sep = strstr(url, "://");
    if (sep && (size_t)(sep - url) < strcspn(url, "/?#")) {
        out->scheme = url;
        out->scheme_len = (size_t)(sep - url);
        p = sep + 3;
    } else if (!allow_bare) {
        return "missing scheme";
    }
    const char *end = p + strcspn(p, "/?#");
    const char *hs = p, *he, *port = NULL;
    if (*p == '[') {
        hs = p + 1;
        he = memchr(hs, ']', (size_t)(end - hs));
        if (!he)
            return "bad IPv6 host";
        if (he + 1 < end) {
            if (he[1] != ':')
                return "bad host";
            port = he + 2;
        }
        out->host_v6 = true;
    } else {
        he = memchr(p, ':', (size_t)(end - p));
        if (he)
            port = he + 1;
        else
            he = end;
    }
    if (he == hs)
        return "no host";
    if (port) {
        size_t pl = (size_t)(end - port);
        if (pl == 0 || pl > 5 || strspn(port, "0123456789") < pl)
            return "bad port";
        long n = strtol(port, NULL, 10);
        if (n < 1 || n > 65535)
            return "bad port";
        out->port = (int)n;
    }
    out->host = hs;
    out->host_len = (size_t)(he - hs);
    out->rest = end;
    return NULL;
}
