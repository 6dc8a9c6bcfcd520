"""The web dashboard at the admin API's /dashboard: its files (types, 404, no traversal), and
the page itself in headless chromium (tests/browser/dashboard.spec.js, playwright-core) while
traffic flows: objects, specs, node status, moving charts, top-N paths, backends, objects
appearing and going, and the admin API going down and coming back."""

import json
import os
import select
import shutil
import subprocess
import time

from harness import (ROOT, TMP_ROOT, Gateway, LoadLoop, Mirror, RawConn, free_port, register,
                     request, unregister, wait_status)

WEB_DIR = os.path.join(ROOT, "web", "dashboard")
BROWSER_DIR = os.path.join(ROOT, "tests", "browser")
SCRIPT = os.path.join(BROWSER_DIR, "dashboard.spec.js")
NODE = shutil.which("node") or "/usr/bin/node"


def test_dashboard_files():
    gw = Gateway(workers=1).start()
    for path, name, ctype in [("/dashboard", "index.html", "text/html; charset=utf-8"),
                              ("/dashboard/", "index.html", "text/html; charset=utf-8"),
                              ("/dashboard/index.html", "index.html", "text/html; charset=utf-8"),
                              ("/dashboard/app.js", "app.js", "text/javascript; charset=utf-8"),
                              ("/dashboard/style.css", "style.css", "text/css; charset=utf-8")]:
        r = request(gw.api_port, path)
        assert r.status == 200, (path, r)
        assert r.header("Content-Type") == ctype, (path, r.headers)
        assert r.header("Cache-Control") == "no-cache", (path, r.headers)
        assert r.header("X-Content-Type-Options") == "nosniff", (path, r.headers)
        assert "default-src 'self'" in r.header("Content-Security-Policy", ""), (path, r.headers)
        with open(os.path.join(WEB_DIR, name), "rb") as f:
            assert r.body == f.read(), "%s is not the embedded %s" % (path, name)
    r = request(gw.api_port, "/dashboard/app.js", method="HEAD")
    assert r.status == 200 and r.body == b"", r
    assert int(r.header("Content-Length")) == os.path.getsize(os.path.join(WEB_DIR, "app.js")), r.headers

    # No file outside the table, however the name is spelled.
    for path in ["/dashboard/nope.js", "/dashboard/../apis/v2/objects", "/dashboard/..%2fapis%2fv2%2fobjects",
                 "/dashboard/%2e%2e/%2e%2e/etc/passwd", "/dashboard/../../../../etc/passwd",
                 "/dashboard//app.js", "/dashboard/./app.js", "/dashboard/app.js/", "/dashboard/APP.JS",
                 "/dashboard/app.js%00.html", "/dashboard/%61pp.js"]:
        conn = RawConn(gw.api_port)
        conn.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode())
        resp = conn.response()
        conn.close()
        assert resp.status == 404, (path, resp.status, resp.body[:200])
        assert b"Easegress-C dashboard" not in resp.body and b"root:" not in resp.body, path
    # A path that merely starts with the word is the API's business, not a dashboard file.
    r = request(gw.api_port, "/dashboardx")
    assert r.status == 404 and r.header("Content-Type") == "application/json", r
    r = request(gw.api_port, "/dashboard/app.js", method="POST", body=b"x")
    assert r.status == 405 and r.header("Allow") == "GET, HEAD", r
    # The API itself is untouched.
    assert request(gw.api_port, "/apis/v2/objects").status == 200


class BrowserScript:
    """node tests/browser/dashboard.spec.js with a line protocol on stdin/stdout."""

    def __init__(self, cfg):
        self.proc = subprocess.Popen([NODE, SCRIPT, json.dumps(cfg)], cwd=BROWSER_DIR,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        register(self)

    def message(self, timeout=90.0):
        """The next JSON line of the script."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("browser script silent for %.0fs" % timeout)
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if not ready:
                continue
            line = self.proc.stdout.readline()
            if not line:
                self.proc.wait(10)
                raise AssertionError("browser script ended (rc %s) without a result:\n%s"
                                     % (self.proc.returncode, self.proc.stderr.read()[-3000:]))
            line = line.strip()
            if line.startswith("{"):
                return json.loads(line)
            print("browser:", line)

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def close(self):
        """Wait for the script to end (it closes the browser), killing it if it does not."""
        unregister(self)
        self.proc.stdin.close()   # a script still waiting for a step fails at once
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc.stdout.close()
        self.proc.stderr.close()


def test_dashboard_in_browser():
    assert os.path.exists("/usr/bin/chromium"), "chromium (Debian package) is not installed: make deps"
    assert os.path.exists(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")), \
        "playwright-core is not installed in tests/browser: make deps"
    mirror = Mirror(count=2).start()
    gw = Gateway(workers=2, name="dash-member").start()
    port, late_port = free_port(), free_port()
    gw.create("kind: HTTPServer\nname: web\nport: %d\nrules:\n- paths:\n  - pathPrefix: /api/\n"
              "    backend: shop\n" % port)
    gw.create("name: shop\nkind: Pipeline\nfilters:\n- name: proxy\n  kind: Proxy\n  pools:\n"
              "  - loadBalance:\n      policy: roundRobin\n    servers:\n"
              + "".join("    - url: %s\n" % u for u in mirror.urls))
    wait_status(port, "/api/items", 200)
    for _ in range(5):
        assert request(port, "/missing").status == 404
    load = LoadLoop(port, "/api/items", threads=2).start()
    load.wait_requests(50)

    status, _, text = gw.api("GET", "/apis/v2/status/objects/web")
    assert status == 200, text
    top = next(iter(json.loads(text).values()))["topN"]
    paths = [t["path"] for t in top]
    assert "/missing" in paths and any(p.startswith("/api/") for p in paths), top

    os.makedirs(TMP_ROOT, exist_ok=True)
    shot = os.path.join(TMP_ROOT, "dashboard-screenshot.png")
    if os.path.exists(shot):
        os.remove(shot)
    script = BrowserScript({
        "url": "http://%s/dashboard" % gw.server, "server": "web", "pipeline": "shop",
        "member": "dash-member", "paths": paths, "backends": mirror.urls, "screenshot": shot,
        "late": "late"})
    late_yaml = ("kind: HTTPServer\nname: late\nport: %d\nrules:\n- paths:\n  - pathPrefix: /\n"
                 "    backend: shop\n" % late_port)
    while True:
        msg = script.message()
        if "step" not in msg:
            break
        if msg["step"] == "create-late":
            gw.create(late_yaml)
        elif msg["step"] == "delete-late":
            gw.delete("httpserver", "late")
        elif msg["step"] == "api-down":
            assert gw.stop() == 0
        elif msg["step"] == "api-up":
            gw.start()
        else:
            raise AssertionError("unknown step %r" % msg)
        script.go()
    load.stop()
    assert "error" not in msg, msg["error"]
    result = msg["result"]
    print("dashboard screenshot: %s" % shot)
    assert os.path.getsize(shot) > 10000, "screenshot %s is too small" % shot
    assert result["second"]["points"] > result["first"]["points"], result
    assert result["second"]["count"] > result["first"]["count"], result
    assert "unreachable" in result["downText"], result
    assert sorted(b["url"] for b in result["backends"]) == sorted(mirror.urls), result
    script.close()
    assert script.proc.returncode == 0, script.proc.returncode


test_dashboard_in_browser.timeout = 150
