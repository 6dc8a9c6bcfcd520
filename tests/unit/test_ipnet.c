/* test_ipnet.c — addresses, CIDRs, ipFilter decisions and the client IP. */
#include <stdlib.h>

#include "ipnet.h"
#include "node.h"
#include "unit.h"

static bool ip_ok(const char *s)
{
    uint8_t b[16];
    return eg_ip_parse(s, strlen(s), b) == 0;
}

static void test_ip_parse(void)
{
    CHECK(ip_ok("1.2.3.4"));
    CHECK(ip_ok("255.255.255.255"));
    CHECK(ip_ok("::1"));
    CHECK(ip_ok("2001:db8::1"));
    CHECK(ip_ok("::ffff:1.2.3.4"));
    CHECK(!ip_ok(""));
    CHECK(!ip_ok("1.2.3"));
    CHECK(!ip_ok("1.2.3.4.5"));
    CHECK(!ip_ok("256.1.1.1"));
    CHECK(!ip_ok("01.2.3.4"));     /* Go rejects leading zeros */
    CHECK(!ip_ok("1.2.3.4 "));
    CHECK(!ip_ok("fe80::1%eth0"));
    CHECK(!ip_ok("[::1]"));
    CHECK(!ip_ok("example.com"));
    CHECK(!ip_ok("1:2:3:4:5:6:7:8:9"));
    uint8_t a[16], b[16];
    CHECK(eg_ip_parse("1.2.3.4", 7, a) == 0);
    CHECK(eg_ip_parse("::ffff:1.2.3.4", 14, b) == 0);
    CHECK(memcmp(a, b, 16) == 0);   /* v4 stored mapped */
    CHECK(a[10] == 0xff && a[11] == 0xff && a[12] == 1 && a[15] == 4);
    /* length-bounded: not NUL-terminated input */
    CHECK(eg_ip_parse("10.0.0.1xyz", 8, a) == 0);
    char out[64];
    eg_ip_format(a, out, sizeof out);
    CHECK_STR(out, "10.0.0.1");
    CHECK(eg_ip_parse("2001:0db8:0:0::1", 16, a) == 0);
    eg_ip_format(a, out, sizeof out);
    CHECK_STR(out, "2001:db8::1");
}

static bool in_net(const char *net, const char *ip)
{
    eg_ipnet n;
    uint8_t b[16];
    if (eg_ipnet_parse(net, &n) != 0 || eg_ip_parse(ip, strlen(ip), b) != 0)
        return false;
    eg_ipnet_list l = {&n, 1};
    return eg_ipnet_list_contains(&l, b);
}

static void test_ipnet_parse(void)
{
    eg_ipnet n;
    CHECK(eg_ipnet_parse("10.0.0.0/8", &n) == 0);
    CHECK_INT(n.prefix, 104);
    CHECK(eg_ipnet_parse("10.1.2.3/8", &n) == 0);   /* masked to the network */
    CHECK(n.addr[12] == 10 && n.addr[13] == 0 && n.addr[15] == 0);
    CHECK(eg_ipnet_parse("1.2.3.4", &n) == 0);
    CHECK_INT(n.prefix, 128);
    CHECK(eg_ipnet_parse("2001:db8::/32", &n) == 0);
    CHECK_INT(n.prefix, 32);
    CHECK(eg_ipnet_parse("0.0.0.0/0", &n) == 0);
    CHECK_INT(n.prefix, 96);
    CHECK(eg_ipnet_parse("1.2.3.4/33", &n) != 0);
    CHECK(eg_ipnet_parse("::/129", &n) != 0);
    CHECK(eg_ipnet_parse("1.2.3.4/", &n) != 0);
    CHECK(eg_ipnet_parse("/8", &n) != 0);
    CHECK(eg_ipnet_parse("1.2.3.4/a", &n) != 0);
    CHECK(eg_ipnet_parse("1.2.3.4/-1", &n) != 0);
    CHECK(eg_ipnet_parse("1.2.3.4/8/8", &n) != 0);
    CHECK(eg_ipnet_parse("", &n) != 0);
    CHECK(eg_ipnet_parse(NULL, &n) != 0);

    CHECK(in_net("10.0.0.0/8", "10.255.1.2"));
    CHECK(!in_net("10.0.0.0/8", "11.0.0.1"));
    CHECK(in_net("192.168.1.0/25", "192.168.1.127"));
    CHECK(!in_net("192.168.1.0/25", "192.168.1.128"));
    CHECK(in_net("1.2.3.4", "1.2.3.4"));
    CHECK(!in_net("1.2.3.4", "1.2.3.5"));
    CHECK(in_net("0.0.0.0/0", "8.8.8.8"));
    CHECK(!in_net("0.0.0.0/0", "::1"));
    CHECK(in_net("::/0", "::1"));
    CHECK(!in_net("::/0", "8.8.8.8"));             /* Go: an IPv6 net never holds IPv4 */
    CHECK(in_net("::ffff:0:0/96", "8.8.8.8"));
    CHECK(in_net("2001:db8::/32", "2001:db8:1::5"));
    CHECK(!in_net("2001:db8::/32", "2001:db9::5"));
    CHECK(in_net("10.0.0.0/8", "::ffff:10.0.0.1"));
    CHECK(!in_net("10.0.0.0/8", "::a00:1"));
}

static eg_headers hdrs(eg_header *items, size_t n)
{
    eg_headers h = {items, n, n};
    return h;
}

#define H(n, v) {n, sizeof(n) - 1, v, sizeof(v) - 1}

static void test_client_ip(void)
{
    eg_ipnet nets[2];
    CHECK(eg_ipnet_parse("10.0.0.0/8", &nets[0]) == 0);
    CHECK(eg_ipnet_parse("fd00::/8", &nets[1]) == 0);
    eg_ipnet_list trusted = {nets, 2};
    char out[64];

    eg_header h1[] = {H("X-Forwarded-For", "1.1.1.1, 10.0.0.2"), H("X-Real-Ip", "9.9.9.9")};
    eg_headers h = hdrs(h1, 2);
    /* untrusted peer: headers ignored */
    eg_client_ip("8.8.8.8", &h, &trusted, out, sizeof out);
    CHECK_STR(out, "8.8.8.8");
    /* trusted peer: right-most untrusted entry */
    eg_client_ip("10.0.0.1", &h, &trusted, out, sizeof out);
    CHECK_STR(out, "1.1.1.1");
    /* no trusted list at all */
    eg_client_ip("10.0.0.1", &h, NULL, out, sizeof out);
    CHECK_STR(out, "10.0.0.1");

    /* spoofed left part: right-most untrusted wins, not the first */
    eg_header h2[] = {H("x-forwarded-for", "6.6.6.6, 7.7.7.7, 10.1.1.1")};
    h = hdrs(h2, 1);
    eg_client_ip("10.0.0.1", &h, &trusted, out, sizeof out);
    CHECK_STR(out, "7.7.7.7");

    /* every entry trusted: X-Real-Ip; without it, the peer */
    eg_header h3[] = {H("X-Forwarded-For", "10.0.0.5,10.0.0.6"), H("X-Real-IP", " 5.5.5.5 ")};
    h = hdrs(h3, 2);
    eg_client_ip("10.0.0.1", &h, &trusted, out, sizeof out);
    CHECK_STR(out, "5.5.5.5");
    h = hdrs(h3, 1);
    eg_client_ip("10.0.0.1", &h, &trusted, out, sizeof out);
    CHECK_STR(out, "10.0.0.1");

    /* several X-Forwarded-For lines concatenate in order */
    eg_header h4[] = {H("X-Forwarded-For", "4.4.4.4"), H("Other", "x"),
                      H("X-Forwarded-For", "10.0.0.3, 10.0.0.4")};
    h = hdrs(h4, 3);
    eg_client_ip("10.0.0.1", &h, &trusted, out, sizeof out);
    CHECK_STR(out, "4.4.4.4");
    eg_header h5[] = {H("X-Forwarded-For", "4.4.4.4"), H("X-Forwarded-For", "3.3.3.3, 10.0.0.4")};
    h = hdrs(h5, 2);
    eg_client_ip("10.0.0.1", &h, &trusted, out, sizeof out);
    CHECK_STR(out, "3.3.3.3");

    /* an entry that is not an address stops the walk: X-Real-Ip, else peer */
    eg_header h6[] = {H("X-Forwarded-For", "1.1.1.1, garbage, 10.0.0.4"), H("X-Real-Ip", "2.2.2.2")};
    h = hdrs(h6, 2);
    eg_client_ip("10.0.0.1", &h, &trusted, out, sizeof out);
    CHECK_STR(out, "2.2.2.2");
    h = hdrs(h6, 1);
    eg_client_ip("10.0.0.1", &h, &trusted, out, sizeof out);
    CHECK_STR(out, "10.0.0.1");

    /* ports, brackets, empty entries, IPv6 */
    eg_header h7[] = {H("X-Forwarded-For", "[2001:db8::1]:443, , 1.2.3.4:80 ,")};
    h = hdrs(h7, 1);
    eg_client_ip("fd00::1", &h, &trusted, out, sizeof out);
    CHECK_STR(out, "1.2.3.4");
    eg_header h8[] = {H("X-Forwarded-For", "[2001:db8::1]:443, 10.2.2.2")};
    h = hdrs(h8, 1);
    eg_client_ip("fd00::1", &h, &trusted, out, sizeof out);
    CHECK_STR(out, "2001:db8::1");
    eg_header h9[] = {H("X-Forwarded-For", "2001:DB8::2")};
    h = hdrs(h9, 1);
    eg_client_ip("::ffff:10.0.0.9", &h, &trusted, out, sizeof out);
    CHECK_STR(out, "2001:db8::2");

    /* unparseable peer is passed through */
    eg_client_ip("unix", NULL, &trusted, out, sizeof out);
    CHECK_STR(out, "unix");
    /* a small buffer truncates rather than overruns */
    char tiny[4];
    eg_client_ip("123.123.123.123", NULL, NULL, tiny, sizeof tiny);
    CHECK_STR(tiny, "123");
}

static bool allow(const eg_ipfilter *f, const char *ip)
{
    uint8_t b[16];
    return eg_ipfilter_allow(f, eg_ip_parse(ip, strlen(ip), b) == 0 ? b : NULL);
}

static eg_ipfilter *filter_from(const char *yaml, char **err)
{
    char perr[256];
    eg_node *n = eg_yaml_parse(yaml, strlen(yaml), perr, sizeof perr);
    if (!n)
        return NULL;
    eg_dec d;
    eg_dec_init(&d, false);
    eg_ipfilter *f = NULL;
    eg_ipfilter_decode(&d, n, "ipFilter", &f);
    if (err)
        *err = d.error ? strdup(d.error) : NULL;
    eg_dec_free(&d);
    eg_node_free(n);
    return f;
}

static void test_ipfilter(void)
{
    CHECK(eg_ipfilter_allow(NULL, NULL));
    char *err = NULL;
    eg_ipfilter *f = filter_from("ipFilter:\n  allowIPs: [10.0.0.0/8]\n  blockIPs: [10.1.0.0/16, 1.1.1.1]\n", &err);
    CHECK(f && !err);
    if (f) {
        CHECK(allow(f, "10.2.0.1"));    /* allowed */
        CHECK(allow(f, "10.1.0.1"));    /* both lists -> default (allow) */
        CHECK(!allow(f, "1.1.1.1"));    /* allowIPs non-empty, not in it */
        CHECK(!allow(f, "8.8.8.8"));
        CHECK(allow(f, "bogus"));       /* unparseable -> default */
        f->block_by_default = true;
        CHECK(!allow(f, "10.1.0.1"));
        CHECK(!allow(f, "bogus"));
        CHECK(allow(f, "10.2.0.1"));
    }
    eg_ipfilter_free(f);
    f = filter_from("ipFilter:\n  blockByDefault: true\n  blockIPs: [1.1.1.1]\n", &err);
    CHECK(f && !err);
    if (f) {
        CHECK(!allow(f, "1.1.1.1"));
        CHECK(!allow(f, "2.2.2.2"));
    }
    eg_ipfilter_free(f);
    f = filter_from("ipFilter:\n  blockIPs: [1.1.1.1, \"2001:db8::/32\"]\n", &err);
    CHECK(f && !err);
    if (f) {
        CHECK(!allow(f, "1.1.1.1"));
        CHECK(!allow(f, "2001:db8::7"));
        CHECK(allow(f, "2.2.2.2"));
    }
    eg_ipfilter_free(f);
    f = filter_from("other: 1\n", &err);
    CHECK(!f && !err);
    f = filter_from("ipFilter:\n  allowIPs: [10.0.0.0/8, 10.0.0.0/33]\n", &err);
    CHECK(!f);
    CHECK_STR(err, "ipFilter.allowIPs[1]: invalid IP or CIDR \"10.0.0.0/33\"");
    free(err);
}

static void test_dec_list(void)
{
    char perr[256];
    const char *y = "trustedProxies: [10.0.0.0/8, \"::1\"]\nbad: [1.2.3.4, nope]\n";
    eg_node *n = eg_yaml_parse(y, strlen(y), perr, sizeof perr);
    CHECK(n != NULL);
    if (!n)
        return;
    eg_dec d;
    eg_dec_init(&d, false);
    eg_ipnet_list l = {0};
    CHECK(eg_dec_ipnet_list(&d, n, "trustedProxies", &l));
    CHECK_INT(l.count, 2);
    eg_ipnet_list_free(&l);
    CHECK(eg_dec_ipnet_list(&d, n, "absent", &l));
    CHECK_INT(l.count, 0);
    CHECK(!eg_dec_ipnet_list(&d, n, "bad", &l));
    CHECK_STR(d.error, "bad[1]: invalid IP or CIDR \"nope\"");
    CHECK_INT(l.count, 0);
    eg_dec_free(&d);
    eg_node_free(n);
}

int main(void)
{
    RUN(test_ip_parse);
    RUN(test_ipnet_parse);
    RUN(test_client_ip);
    RUN(test_ipfilter);
    RUN(test_dec_list);
    UNIT_END("ipnet");
}
