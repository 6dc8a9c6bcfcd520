/* ipnet.h — IPv4/IPv6 addresses and CIDR lists; the one definition of a request's client IP. */
#ifndef EG_IPNET_H
#define EG_IPNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "http_types.h"

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

#endif
