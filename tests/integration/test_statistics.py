"""Statistics: known traffic (N requests, M errors, a backend with a known delay) through two
workers, then the figures in the status API, egctl describe, Prometheus text (checked by
promtool) and the member list."""

import json
import re
import shutil
import subprocess
import time

from harness import Gateway, HandlerBackend, QuietHandler, free_port, request, wait_status, wait_until

SLOW_MS = 120


def delay_backend(delay_ms):
    """A backend answering 200 after `delay_ms` milliseconds."""
    delay = delay_ms / 1000.0

    class Handler(QuietHandler):
        def do_GET(self):
            time.sleep(delay)
            self.reply(200, b"hello from %d\n" % self.server.server_address[1])

    return HandlerBackend(Handler)


def setup(workers=2):
    fast, slow = delay_backend(0), delay_backend(SLOW_MS)
    gw = Gateway(workers=workers).start()
    port = free_port()
    gw.create("kind: HTTPServer\nname: web\nport: %d\nrules:\n- paths:\n  - pathPrefix: /api/\n    backend: shop\n"
              % port)
    gw.create("name: shop\nkind: Pipeline\nfilters:\n- name: proxy\n  kind: Proxy\n  pools:\n"
              "  - loadBalance:\n      policy: roundRobin\n    servers:\n    - url: %s\n    - url: %s\n"
              % (fast.url, slow.url))
    wait_status(port, "/api/warmup", 200)
    return gw, port, fast, slow


def status_of(gw, name):
    status, _, text = gw.api("GET", "/apis/v2/status/objects/" + name)
    assert status == 200, text
    doc = json.loads(text)
    assert len(doc) == 1, doc
    return next(iter(doc.values()))


def status_when(gw, name, ready, what):
    """The status once ready(status) holds: a request is counted when its response has been
    written out, which may be a moment after the client has read it."""
    return wait_until(lambda: (lambda s: s if ready(s) else None)(status_of(gw, name)), 5, what=what)


def drive(port, ok=40, missing=5):
    # One connection per request: SO_REUSEPORT spreads them over both workers.
    for i in range(ok):
        r = request(port, "/api/items/%d" % i)
        assert r.status == 200, r
    for _ in range(missing):
        assert request(port, "/nowhere").status == 404


def test_status_figures_exact_across_workers():
    gw, port, fast, slow = setup(workers=2)
    base = status_of(gw, "web")["count"]   # the warm-up requests
    drive(port)
    st = status_of(gw, "web")
    assert st["count"] - base <= 45, st
    st = status_when(gw, "web", lambda s: s["count"] - base == 45, "all 45 requests counted")
    assert st["errCount"] == 5, st
    assert st["codes"]["404"] == 5 and st["codes"]["200"] == st["count"] - 5, st
    # Half of the proxied requests waited SLOW_MS at the backend, the rest did not.
    assert st["max"] >= SLOW_MS, st
    assert st["min"] < SLOW_MS / 2, st
    assert st["p25"] < SLOW_MS / 2, st
    assert st["p75"] >= SLOW_MS * 0.97, st          # bucket precision: ~3%
    assert st["p99"] <= st["max"] and st["p50"] <= st["p75"] <= st["p95"] <= st["p99"], st
    assert st["reqSize"] > 45 * 20 and st["respSize"] > 40 * 10, st
    top = {t["path"]: t for t in st["topN"]}
    assert top["/api/items/*"]["count"] == 40, st["topN"]
    assert top["/nowhere"]["count"] == 5 and top["/nowhere"]["errCount"] == 5, st["topN"]
    assert st["topN"][0]["path"] == "/api/items/*", st["topN"]

    pl = status_of(gw, "shop")
    assert pl["stat"]["count"] >= 40, pl
    pool = pl["filters"]["proxy"]["mainPool"]
    servers = pool["servers"]
    assert pool["stat"]["count"] == servers[fast.url]["count"] + servers[slow.url]["count"], pool
    assert abs(servers[fast.url]["count"] - servers[slow.url]["count"]) <= 1, servers
    assert servers[slow.url]["min"] >= SLOW_MS, servers[slow.url]
    assert servers[fast.url]["p99"] < SLOW_MS, servers[fast.url]
    assert pool["stat"]["errCount"] == 0, pool

    # egctl describe shows the same figures.
    rc, out, err = gw.egctl("describe", "httpserver", "web", "-o", "json")
    assert rc == 0, err
    assert '"errCount": 5' in out.replace('"errCount":5', '"errCount": 5'), out


def test_backend_errors_count_per_server():
    gw = Gateway(workers=1).start()
    port, dead = free_port(), free_port()
    gw.create("kind: HTTPServer\nname: web\nport: %d\nrules:\n- paths:\n  - pathPrefix: /\n    backend: p\n" % port)
    gw.create("name: p\nkind: Pipeline\nfilters:\n- name: proxy\n  kind: Proxy\n  pools:\n"
              "  - servers:\n    - url: http://127.0.0.1:%d\n" % dead)
    wait_status(port, "/", 502)
    for _ in range(9):
        assert request(port, "/x").status == 502
    url = "http://127.0.0.1:%d" % dead
    st = status_when(gw, "p", lambda s: s["filters"]["proxy"]["mainPool"]["servers"][url]["count"] >= 10,
                     "ten failed calls counted")
    srv = st["filters"]["proxy"]["mainPool"]["servers"][url]
    assert srv["count"] == srv["errCount"] == srv["codes"]["502"], srv


def test_meters_move():
    gw, port, _, _ = setup(workers=1)
    drive(port, ok=20, missing=10)
    # The meters tick every 5 seconds (as Easegress's).
    st = wait_until(lambda: (lambda s: s if s["m1"] > 0 else None)(status_of(gw, "web")), 12,
                    what="m1 to move")
    assert st["m1Err"] > 0, st
    assert 0 < st["m1ErrPercent"] < 100, st
    assert st["m5"] > 0 and st["m15"] > 0, st


def test_stats_survive_update_and_go_with_delete():
    gw, port, _, _ = setup(workers=1)
    drive(port, ok=10, missing=0)
    before = status_when(gw, "web", lambda s: s["count"] >= 10, "the requests counted")["count"]
    gw.apply("kind: HTTPServer\nname: web\nport: %d\nrules:\n- paths:\n  - pathPrefix: /api/\n    backend: shop\n"
             "  - pathPrefix: /other/\n    backend: shop\n" % port)
    request(port, "/other/1")
    status_when(gw, "web", lambda s: s["count"] == before + 1, "the count to go on from before the update")
    # Deleted objects leave the metrics at the next tick.
    gw.delete("pipeline", "shop")
    wait_until(lambda: 'pipeline="shop"' not in gw.api("GET", "/metrics")[2], 12,
               what="the deleted pipeline's metrics to go")


def prom_value(text, metric, **labels):
    for line in text.splitlines():
        if not line.startswith(metric + "{"):
            continue
        head, value = line.rsplit(" ", 1)
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', head))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(value)
    return None


def test_prometheus_metrics():
    gw, port, fast, slow = setup(workers=2)
    base = status_of(gw, "web")["count"]
    drive(port)
    status_when(gw, "web", lambda s: s["count"] == base + 45, "all 45 requests counted")
    status, headers, text = gw.api("GET", "/apis/v2/metrics")
    ctype = dict((k.lower(), v) for k, v in headers).get("content-type", "")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4"), headers
    assert prom_value(text, "httpserver_health", name="web") == 1
    assert prom_value(text, "httpserver_requests_total", name="web") == base + 45
    assert prom_value(text, "httpserver_error_requests_total", name="web") == 5
    assert prom_value(text, "httpserver_responses_total", name="web", code="404") == 5
    assert prom_value(text, "httpserver_request_duration_seconds_count", name="web") == base + 45
    inf = prom_value(text, "httpserver_request_duration_seconds_bucket", name="web", le="+Inf")
    fast_bucket = prom_value(text, "httpserver_request_duration_seconds_bucket", name="web", le="0.1")
    assert inf == base + 45 and fast_bucket is not None and 5 <= fast_bucket < inf, (fast_bucket, inf)
    per_server = [prom_value(text, "proxy_server_requests_total", pipeline="shop", server=u)
                  for u in (fast.url, slow.url)]
    assert None not in per_server and sum(per_server) == prom_value(text, "proxy_requests_total",
                                                                     pipeline="shop", pool="mainPool")
    # No label carries a request path: the cardinality is bounded by configuration.
    assert "/api/items" not in text and "/nowhere" not in text
    status, _, plain = gw.api("GET", "/metrics")
    assert status == 200 and "httpserver_requests_total" in plain
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is not installed"
    check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr


def test_member_status():
    gw = Gateway(workers=2).start()
    rc, out, err = gw.egctl("member", "list")   # Easegress's old command: the whole document
    assert rc == 0, err
    assert "health: healthy" in out and "lastHeartbeatTime:" in out and "startTime:" in out, out
    assert "version: Easegress-C" in out and "ClusterRole: primary" in out, out
    rc, out, err = gw.egctl("get", "member")
    assert rc == 0, err
    head, row = out.splitlines()[0].split(), out.splitlines()[1]
    assert head == ["NAME", "ROLE", "AGE", "STATE", "API-ADDR", "HEARTBEAT", "HEALTH", "VERSION"], out
    assert "primary" in row and "healthy" in row and "Easegress-C" in row, out
    status, _, text = gw.api("GET", "/apis/v2/status/members")
    m = json.loads(text)[0]
    assert m["health"] == "healthy" and m["options"]["Workers"] == 2, m
    first = m["lastHeartbeatTime"]
    # The heartbeat is the last time every worker was seen turning its loop: it moves.
    wait_until(lambda: json.loads(gw.api("GET", "/apis/v2/status/members")[2])[0]["lastHeartbeatTime"] != first,
               5, what="the heartbeat to move")
