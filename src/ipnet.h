/* ipnet.h — IPv4/IPv6 addresses and CIDR lists; the one definition of a request's client IP. */
#ifndef EG_IPNET_H
#define EG_IPNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "http_types.h"
#include "node.h"

typedef struct {
    uint8_t addr[16];    /* IPv4 stored as IPv4-mapped IPv6 */
    uint8_t prefix;      /* 0..128 in IPv6 terms */
} eg_ipnet;

typedef struct {
    eg_ipnet *items;
    size_t count;
} eg_ipnet_list;

/* "10.0.0.0/8", "192.168.1.7", "::1", "2001:db8::/32". Returns 0 or -1. */
int eg_ipnet_parse(const char *s, eg_ipnet *out);
/* Parse a textual address into 16 bytes (v4 mapped). Returns 0 or -1. */
int eg_ip_parse(const char *s, size_t len, uint8_t out[16]);
bool eg_ipnet_list_contains(const eg_ipnet_list *l, const uint8_t ip[16]);
void eg_ipnet_list_free(eg_ipnet_list *l);

/* The client IP of a request: the peer address, unless the peer is in `trusted`; then the
 * right-most X-Forwarded-For entry that is not itself trusted (walking right to left), else
 * X-Real-Ip, else the peer. Writes text into out (>= 46 bytes). */
void eg_client_ip(const char *peer_ip, const eg_headers *headers, const eg_ipnet_list *trusted,
                  char *out, size_t outlen);

/* Canonical text of an address (IPv4-mapped addresses printed dotted). outlen >= 46. */
void eg_ip_format(const uint8_t ip[16], char *out, size_t outlen);
/* Decode map[key], a list of IPs/CIDRs; absent or null leaves *out empty. Errors name the
 * item ("trustedProxies[1]: invalid IP or CIDR \"x\""). *out is owned by the caller. */
bool eg_dec_ipnet_list(eg_dec *d, const eg_node *map, const char *key, eg_ipnet_list *out);

/* Easegress's ipfilter.Spec (HTTPServer server/rule/path `ipFilter`, the IPFilter filter):
 * allowIPs non-empty and the IP not in it -> deny; in both lists -> default; in allowIPs ->
 * allow; in blockIPs -> deny; in neither -> default, where default = !blockByDefault. */
typedef struct eg_ipfilter {
    bool block_by_default;
    eg_ipnet_list allow, block;
} eg_ipfilter;

/* Decode map[key]; absent or null gives *out = NULL (no filter) and true. */
bool eg_ipfilter_decode(eg_dec *d, const eg_node *map, const char *key, eg_ipfilter **out);
/* A NULL filter allows everything. ip == NULL means the client IP did not parse: Easegress
 * then answers the default decision. */
bool eg_ipfilter_allow(const eg_ipfilter *f, const uint8_t *ip);
void eg_ipfilter_free(eg_ipfilter *f);

#endif
