/* ipnet.c — IP addresses, CIDR lists, Easegress's ipFilter, and the request's client IP.
 *
 * Every address is kept as 16 bytes with IPv4 stored IPv4-mapped (::ffff:a.b.c.d), so one
 * comparison serves both families. Go's net.IPNet does not let an IPv6 network shorter than
 * /96 (e.g. ::/0) contain an IPv4 address; eg_ipnet_list_contains keeps that rule.
 */
#include "ipnet.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool is_v4_mapped(const uint8_t ip[16])
{
    return memcmp(ip, v4_mapped_prefix, 12) == 0;
}

int eg_ip_parse(const char *s, size_t len, uint8_t out[16])
{
    char buf[INET6_ADDRSTRLEN + 1];
    if (!s || len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (memchr(s, '\0', len))
        return -1;
    /* inet_pton rejects leading zeros in IPv4 octets and zone suffixes, as Go's ParseIP. */
    if (strchr(buf, ':')) {
        struct in6_addr a6;
        if (inet_pton(AF_INET6, buf, &a6) != 1)
            return -1;
        memcpy(out, &a6, 16);
        return 0;
    }
    struct in_addr a4;
    if (inet_pton(AF_INET, buf, &a4) != 1)
        return -1;
    memcpy(out, v4_mapped_prefix, 12);
    memcpy(out + 12, &a4, 4);
    return 0;
}

/* Zero the bits past `prefix`, as Go's ParseCIDR returns the network address. */
static void mask_to_prefix(uint8_t a[16], unsigned prefix)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned lo = i * 8;
        if (prefix >= lo + 8)
            continue;
        a[i] = prefix <= lo ? 0 : (uint8_t)(a[i] & (0xff << (8 - (prefix - lo))));
    }
}

int eg_ipnet_parse(const char *s, eg_ipnet *out)
{
    if (!s)
        return -1;
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    if (eg_ip_parse(s, alen, out->addr) != 0)
        return -1;
    bool v4 = memchr(s, ':', alen) == NULL;
    unsigned max = v4 ? 32 : 128;
    if (!slash) {
        out->prefix = 128;
        return 0;
    }
    const char *p = slash + 1;
    size_t plen = strlen(p);
    if (plen == 0 || plen > 3)
        return -1;
    unsigned n = 0;
    for (size_t i = 0; i < plen; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        n = n * 10 + (unsigned)(p[i] - '0');
    }
    if (n > max)
        return -1;
    out->prefix = (uint8_t)(v4 ? 96 + n : n);
    mask_to_prefix(out->addr, out->prefix);
    return 0;
}

static bool net_contains(const eg_ipnet *n, const uint8_t ip[16])
{
    unsigned full = n->prefix / 8, rest = n->prefix % 8;
    if (memcmp(n->addr, ip, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t m = (uint8_t)(0xff << (8 - rest));
    return (n->addr[full] & m) == (ip[full] & m);
}

bool eg_ipnet_list_contains(const eg_ipnet_list *l, const uint8_t ip[16])
{
    if (!l)
        return false;
    bool v4 = is_v4_mapped(ip);
    for (size_t i = 0; i < l->count; i++) {
        if (v4 && l->items[i].prefix < 96)
            continue;   /* an IPv6-only network never holds an IPv4 address (Go) */
        if (net_contains(&l->items[i], ip))
            return true;
    }
    return false;
}

void eg_ipnet_list_free(eg_ipnet_list *l)
{
    if (!l)
        return;
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

void eg_ip_format(const uint8_t ip[16], char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return;
    char buf[INET6_ADDRSTRLEN];
    const char *r = is_v4_mapped(ip) ? inet_ntop(AF_INET, ip + 12, buf, sizeof buf)
                                     : inet_ntop(AF_INET6, ip, buf, sizeof buf);
    snprintf(out, outlen, "%s", r ? r : "");
}

/* ---- client IP ------------------------------------------------------------------------ */

static bool is_space(char c) { return c == ' ' || c == '\t'; }

static void trim(const char **s, size_t *n)
{
    while (*n && is_space(**s)) { (*s)++; (*n)--; }
    while (*n && is_space((*s)[*n - 1])) (*n)--;
}

/* A forwarding entry: an address, optionally with a port as some proxies write it
 * ("1.2.3.4:5678", "[2001:db8::1]:443"). */
static bool parse_forwarded_ip(const char *s, size_t n, uint8_t out[16])
{
    trim(&s, &n);
    if (n == 0)
        return false;
    if (eg_ip_parse(s, n, out) == 0)
        return true;
    if (s[0] == '[') {
        const char *end = memchr(s, ']', n);
        if (!end)
            return false;
        size_t hl = (size_t)(end - s) - 1, after = n - (size_t)(end - s) - 1;
        if (after != 0 && end[1] != ':')
            return false;
        return memchr(s + 1, ':', hl) && eg_ip_parse(s + 1, hl, out) == 0;
    }
    const char *colon = memchr(s, ':', n);
    if (!colon || memchr(colon + 1, ':', n - (size_t)(colon - s) - 1))
        return false;
    return eg_ip_parse(s, (size_t)(colon - s), out) == 0 && is_v4_mapped(out);
}

static bool name_is(const eg_header *h, const char *name)
{
    size_t n = strlen(name);
    return h->name_len == n && strncasecmp(h->name, name, n) == 0;
}

/* Walk the X-Forwarded-For lines last to first, each right to left. Returns 1 with the
 * first untrusted address, 0 when every entry was trusted or absent, -1 at an entry that is
 * not an address (the chain cannot be followed past it). */
static int walk_xff(const eg_headers *headers, const eg_ipnet_list *trusted, uint8_t out[16])
{
    for (size_t li = headers->count; li-- > 0;) {
        const eg_header *h = &headers->items[li];
        if (!name_is(h, "X-Forwarded-For"))
            continue;
        size_t end = h->value_len;
        for (;;) {
            size_t start = end;
            while (start > 0 && h->value[start - 1] != ',')
                start--;
            const char *e = h->value + start;
            size_t en = end - start;
            trim(&e, &en);
            if (en > 0) {
                uint8_t ip[16];
                if (!parse_forwarded_ip(e, en, ip))
                    return -1;
                if (!eg_ipnet_list_contains(trusted, ip)) {
                    memcpy(out, ip, 16);
                    return 1;
                }
            }
            if (start == 0)
                break;
            end = start - 1;
        }
    }
    return 0;
}

void eg_client_ip(const char *peer_ip, const eg_headers *headers, const eg_ipnet_list *trusted,
                  char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return;
    uint8_t peer[16], ip[16];
    if (!peer_ip || eg_ip_parse(peer_ip, strlen(peer_ip), peer) != 0) {
        snprintf(out, outlen, "%s", peer_ip ? peer_ip : "");
        return;
    }
    if (headers && trusted && eg_ipnet_list_contains(trusted, peer)) {
        if (walk_xff(headers, trusted, ip) == 1) {
            eg_ip_format(ip, out, outlen);
            return;
        }
        for (size_t i = 0; i < headers->count; i++) {
            if (!name_is(&headers->items[i], "X-Real-Ip"))
                continue;
            if (parse_forwarded_ip(headers->items[i].value, headers->items[i].value_len, ip)) {
                eg_ip_format(ip, out, outlen);
                return;
            }
            break;   /* only the first X-Real-Ip counts */
        }
    }
    eg_ip_format(peer, out, outlen);
}

/* ---- decoding ------------------------------------------------------------------------- */

bool eg_dec_ipnet_list(eg_dec *d, const eg_node *map, const char *key, eg_ipnet_list *out)
{
    char **v = NULL;
    size_t n = 0;
    if (!eg_dec_string_list(d, map, key, &v, &n, false))
        return false;
    if (n == 0) {
        eg_strv_free(v, n);
        return true;
    }
    eg_ipnet *items = calloc(n, sizeof *items);
    if (!items) {
        eg_strv_free(v, n);
        return eg_dec_fail(d, key, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (eg_ipnet_parse(v[i], &items[i]) != 0) {
            eg_dec_enter(d, key);
            eg_dec_enter_index(d, i);
            eg_dec_fail(d, NULL, "invalid IP or CIDR \"%s\"", v[i]);
            eg_dec_leave(d);
            eg_dec_leave(d);
            free(items);
            eg_strv_free(v, n);
            return false;
        }
    }
    eg_strv_free(v, n);
    eg_ipnet_list_free(out);
    out->items = items;
    out->count = n;
    return true;
}

bool eg_ipfilter_decode(eg_dec *d, const eg_node *map, const char *key, eg_ipfilter **out)
{
    *out = NULL;
    const eg_node *m = eg_dec_map(d, map, key, false);
    if (!m)
        return eg_dec_ok(d);
    eg_ipfilter *f = calloc(1, sizeof *f);
    if (!f)
        return eg_dec_fail(d, key, "out of memory");
    eg_dec_enter(d, key);
    eg_dec_bool(d, m, "blockByDefault", &f->block_by_default, false);
    eg_dec_ipnet_list(d, m, "allowIPs", &f->allow);
    eg_dec_ipnet_list(d, m, "blockIPs", &f->block);
    eg_dec_check_unknown(d, m);
    eg_dec_leave(d);
    if (!eg_dec_ok(d)) {
        eg_ipfilter_free(f);
        return false;
    }
    *out = f;
    return true;
}

bool eg_ipfilter_allow(const eg_ipfilter *f, const uint8_t *ip)
{
    if (!f)
        return true;
    bool dflt = !f->block_by_default;
    if (!ip)
        return dflt;
    bool allowed = eg_ipnet_list_contains(&f->allow, ip);
    if (f->allow.count > 0 && !allowed)
        return false;
    bool blocked = eg_ipnet_list_contains(&f->block, ip);
    if (allowed && blocked)
        return dflt;
    if (allowed)
        return true;
    if (blocked)
        return false;
    return dflt;
}

void eg_ipfilter_free(eg_ipfilter *f)
{
    if (!f)
        return;
    eg_ipnet_list_free(&f->allow);
    eg_ipnet_list_free(&f->block);
    free(f);
}
