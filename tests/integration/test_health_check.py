"""Proxy pool health checks (Easegress's TestHealthCheck / TestHealthCheck2): a server whose
probe fails is taken out of the load balancing and comes back, in round-robin order, when its
probes pass again."""

import json
import time

from harness import Gateway, HandlerBackend, QuietHandler, free_port, request, wait_status, wait_until


class ToggleBackend(HandlerBackend):
    """Answers /healthz with `health_status` (changeable) and anything else with its name."""

    def __init__(self, name):
        self.name = name
        self.health_status = 200
        self.probes = []
        outer = self

        class Handler(QuietHandler):
            def do_GET(self):
                if self.path.startswith("/healthz"):
                    outer.probes.append((time.time(), dict(self.headers.items())))
                    self.reply(outer.health_status, b"ok-health\n")
                else:
                    self.reply(200, outer.name.encode(), [("X-Backend", outer.name)])

        super().__init__(Handler)


def setup(health_yaml, workers=2):
    a, b = ToggleBackend("a"), ToggleBackend("b")
    gw = Gateway(workers=workers).start()
    port = free_port()
    gw.create("kind: HTTPServer\nname: web\nport: %d\nrules:\n- paths:\n  - pathPrefix: /\n    backend: p\n" % port)
    gw.create("name: p\nkind: Pipeline\nfilters:\n- name: proxy\n  kind: Proxy\n  pools:\n"
              "  - servers:\n    - url: %s\n    - url: %s\n    loadBalance: {policy: roundRobin}\n%s"
              % (a.url, b.url, health_yaml))
    wait_status(port, "/", 200)
    return gw, port, a, b


def backends(port, n=8):
    return [request(port, "/x").text for _ in range(n)]


def server_health(gw, url):
    status, _, text = gw.api("GET", "/apis/v2/status/objects/p")
    doc = next(iter(json.loads(text).values()))
    return doc["filters"]["proxy"]["mainPool"]["servers"][url]


def test_unhealthy_server_removed_then_returns():
    gw, port, a, b = setup("    healthCheck:\n      interval: 300ms\n      timeout: 1s\n      fails: 2\n"
                           "      passes: 2\n      uri: /healthz\n      headers: {X-Probe: eg}\n")
    assert set(backends(port)) == {"a", "b"}
    b.health_status = 503
    wait_until(lambda: not server_health(gw, b.url)["healthy"], 10, what="b to be marked unhealthy")
    assert set(backends(port, 10)) == {"a"}
    st = server_health(gw, b.url)
    assert st["failsInRow"] >= 2, st
    # Probes carry the configured headers and the server's Host, once per interval for the
    # whole process (not once per worker).
    t0 = time.time()
    time.sleep(1.5)
    recent = [p for p in b.probes if p[0] >= t0]
    assert 3 <= len(recent) <= 7, len(recent)
    assert recent[-1][1].get("X-Probe") == "eg" and recent[-1][1].get("Host") == "127.0.0.1:%d" % b.port, recent[-1]
    b.health_status = 200
    wait_until(lambda: server_health(gw, b.url)["healthy"], 10, what="b to be healthy again")
    # Back in round-robin order: alternating again.
    got = backends(port, 6)
    assert got.count("a") == 3 and got.count("b") == 3, got


def test_all_unhealthy_answers_503_and_match_rules():
    gw, port, a, b = setup("    healthCheck:\n      interval: 300ms\n      uri: /healthz\n"
                           "      match:\n        statusCodes: [[200, 200]]\n        body: {value: ok-health}\n")
    a.health_status = 204      # not in the statusCodes range
    b.health_status = 500
    wait_until(lambda: request(port, "/x").status == 503, 10, what="every server to be out")
    a.health_status = 200
    wait_until(lambda: request(port, "/x").text == "a", 10, what="a to come back")


def test_deprecated_load_balance_health_check_and_update_keeps_health():
    a, b = ToggleBackend("a"), ToggleBackend("b")
    b.health_status = 500
    gw = Gateway(workers=1).start()
    port = free_port()
    gw.create("kind: HTTPServer\nname: web\nport: %d\nrules:\n- paths:\n  - pathPrefix: /\n    backend: p\n" % port)
    pipeline = ("name: p\nkind: Pipeline\nfilters:\n- name: proxy\n  kind: Proxy\n  pools:\n"
                "  - servers:\n    - url: %s\n    - url: %s\n"
                "    loadBalance: {policy: roundRobin, healthCheck: {interval: 300ms, path: /healthz}}\n%s")
    gw.create(pipeline % (a.url, b.url, ""))
    wait_until(lambda: not server_health(gw, b.url)["healthy"], 10, what="b to be marked unhealthy")
    # A new version of the pipeline with the same pool keeps the servers' health.
    gw.apply(pipeline % (a.url, b.url, "  compression: {minLength: 1000}\n"))
    assert not server_health(gw, b.url)["healthy"]
    assert set(backends(port, 6)) == {"a"}


def test_bad_health_check_refused():
    gw = Gateway(workers=1).start()
    rc, out, err = gw.egctl("create", "-f", "-", stdin="name: p\nkind: Pipeline\nfilters:\n- name: proxy\n  kind: Proxy\n"
                            "  pools:\n  - servers: [{url: 'http://127.0.0.1:1'}]\n"
                            "    healthCheck: {interval: 1s, match: {body: {value: '(', type: regexp}}}\n")
    assert rc != 0 and "healthCheck.match.body.value" in out + err, out + err
