"""Proxy load-balancing policies, as seen by which mirror port answers."""

from collections import Counter

from harness import Gateway, Mirror, free_port, request, setup_proxy


def start(policy, count=3, **kw):
    gw = Gateway(workers=1).start()
    mirror = Mirror(count).start()
    port = free_port()
    setup_proxy(gw, port, mirror.urls, policy=policy, **kw)
    return port, mirror


def served(port, n, headers=None, source_ip=None):
    """Mirror ports answering n requests (each on a new connection)."""
    out = []
    for _ in range(n):
        resp = request(port, "/pipeline", headers=headers, source_ip=source_ip)
        assert resp.status == 200, resp
        out.append(resp.mirror_port)
    return out


def test_round_robin_cycles_evenly():
    port, mirror = start("roundRobin")
    ports = served(port, 30)
    counts = Counter(ports)
    assert sorted(counts.values()) == [10, 10, 10] and set(counts) == set(mirror.ports), counts
    for i in range(len(ports) - 3):
        assert ports[i] == ports[i + 3], "not cyclic: %s" % ports


def test_random_hits_every_server():
    port, mirror = start("random")
    counts = Counter(served(port, 90))
    assert set(counts) == set(mirror.ports), counts
    assert min(counts.values()) >= 10, "too uneven for random: %s" % counts


def test_weighted_random_follows_weights():
    port, mirror = start("weightedRandom", count=2, weights=[1, 3])
    counts = Counter(served(port, 400))
    light, heavy = mirror.ports
    share = counts[heavy] / 400.0
    assert 0.65 <= share <= 0.85, "weight 3 of 4 got %.2f of the requests: %s" % (share, counts)
    assert counts[light] > 0, counts


def test_ip_hash_same_client_same_server():
    port, mirror = start("ipHash")
    assert len(set(served(port, 20))) == 1, "one client spread over servers"
    by_ip = {}
    for i in range(2, 32):
        ip = "127.0.0.%d" % i
        ports = served(port, 3, source_ip=ip)
        assert len(set(ports)) == 1, "client %s spread over %s" % (ip, ports)
        by_ip[ip] = ports[0]
    assert len(set(by_ip.values())) >= 2, "30 client IPs all on one server: %s" % by_ip


def test_ip_hash_ignores_untrusted_forwarded_for():
    port, _ = start("ipHash")
    ports = {p for i in range(20)
             for p in served(port, 1, headers={"X-Forwarded-For": "198.51.100.%d" % i,
                                               "X-Real-Ip": "203.0.113.%d" % i})}
    assert len(ports) == 1, "X-Forwarded-For from an untrusted peer moved the client: %s" % ports


def test_header_hash():
    port, mirror = start("headerHash", lb_extra="        headerHashKey: X-User")
    for user in ("alice", "bob", "carol"):
        ports = served(port, 5, headers={"X-User": user})
        assert len(set(ports)) == 1, "X-User %s spread over %s" % (user, ports)
    spread = {served(port, 1, headers={"X-User": "user-%d" % i})[0] for i in range(30)}
    assert len(spread) >= 2, "30 header values all on one server"


def test_cookie_hash():
    port, mirror = start("cookieHash")
    for cookie in ("session=a1", "session=b2; theme=dark"):
        ports = served(port, 5, headers={"Cookie": cookie})
        assert len(set(ports)) == 1, "Cookie %r spread over %s" % (cookie, ports)
    spread = {served(port, 1, headers={"Cookie": "session=%d" % i})[0] for i in range(30)}
    assert len(spread) >= 2, "30 cookies all on one server"
