"""HTTPServer routing: hosts, path/pathPrefix/pathRegexp, methods (405), headers
and queries (400), rewriteTarget, first-match order, encoded-path bypass
attempts, and the backend receiving the original escaped path and raw query.

Each pipeline proxies to its own mirror port, so X-Mirror-Port tells which
pipeline served a request."""

from harness import (Gateway, Mirror, RawConn, free_port, proxy_pipeline, request,
                     wait_status)

PIPELINES = ["pl-host-a", "pl-host-b", "pl-exact", "pl-prefix", "pl-regexp"]

ROUTES = """\
kind: HTTPServer
name: routes
port: {port}
rules:
  - host: a.example.com
    paths:
    - pathPrefix: /
      backend: pl-host-a
  - host: "*.wild.test"
    paths:
    - pathPrefix: /
      backend: pl-host-b
  - hostRegexp: '^r[0-9]+\\.regex\\.test$'
    paths:
    - pathPrefix: /
      backend: pl-host-b
  - hosts:
    - value: c.example.com
    paths:
    - pathPrefix: /
      backend: pl-host-a
  - paths:
    - path: /exact
      backend: pl-exact
    - pathPrefix: /prefix
      backend: pl-prefix
    - pathRegexp: ^/re/[0-9]+$
      backend: pl-regexp
    - pathPrefix: /ord
      backend: pl-prefix
    - path: /ord/x
      backend: pl-exact
    - path: /only-get
      methods: [GET]
      backend: pl-exact
    - path: /need-header
      headers:
      - key: X-Api-Version
        values: [v1, v2]
      backend: pl-exact
    - path: /need-header-re
      headers:
      - key: X-Token
        regexp: ^tok-[a-z]+$
      backend: pl-exact
    - path: /need-query
      queries:
      - key: q
        values: ["yes"]
      backend: pl-exact
    - path: /old
      rewriteTarget: /new
      backend: pl-exact
    - pathPrefix: /api/v1/
      rewriteTarget: /v2/
      backend: pl-exact
    - pathRegexp: ^/users/([0-9]+)$
      rewriteTarget: /u/$1
      backend: pl-exact
"""


def start_routes():
    gw = Gateway(workers=1).start()
    mirror = Mirror(len(PIPELINES)).start()
    port_of = dict(zip(PIPELINES, mirror.ports))
    for name in PIPELINES:
        gw.create(proxy_pipeline(name, ["http://127.0.0.1:%d" % port_of[name]]))
    port = free_port()
    gw.create(ROUTES.format(port=port))
    wait_status(port, "/exact", 200)
    return port, port_of


def get(port, path, host="gw.test", method="GET", headers=None):
    all_headers = {"Host": host}
    all_headers.update(headers or {})
    return request(port, path, method=method, headers=all_headers)


def expect(port, port_of, path, pipeline, **kw):
    resp = get(port, path, **kw)
    assert resp.status == 200, "%s %r -> %d, want 200 from %s" % (path, kw, resp.status, pipeline)
    assert resp.mirror_port == port_of[pipeline], "%s %r served by port %s, want %s" % (
        path, kw, resp.mirror_port, pipeline)
    return resp


def expect_status(port, path, status, **kw):
    resp = get(port, path, **kw)
    assert resp.status == status, "%s %r -> %d, want %d" % (path, kw, resp.status, status)


def test_hosts():
    port, port_of = start_routes()
    expect(port, port_of, "/anything", "pl-host-a", host="a.example.com")
    expect(port, port_of, "/anything", "pl-host-a", host="c.example.com")
    expect(port, port_of, "/z", "pl-host-b", host="x.wild.test")
    expect(port, port_of, "/z", "pl-host-b", host="r12.regex.test")
    expect_status(port, "/z", 404, host="r1x.regex.test")
    expect_status(port, "/z", 404, host="b.example.com")
    expect(port, port_of, "/exact", "pl-exact", host="b.example.com")


def test_path_prefix_regexp():
    port, port_of = start_routes()
    expect(port, port_of, "/exact", "pl-exact")
    expect_status(port, "/exact/more", 404)
    expect_status(port, "/exactly", 404)
    expect(port, port_of, "/prefix", "pl-prefix")
    expect(port, port_of, "/prefix/a/b", "pl-prefix")
    expect(port, port_of, "/prefixed", "pl-prefix")  # Easegress: plain string prefix
    expect(port, port_of, "/re/123", "pl-regexp")
    expect_status(port, "/re/12a", 404)
    expect_status(port, "/re/123/x", 404)
    expect(port, port_of, "/exact?with=query", "pl-exact")


def test_first_match_wins():
    port, port_of = start_routes()
    # pathPrefix /ord comes before path /ord/x, so it wins although less specific.
    expect(port, port_of, "/ord/x", "pl-prefix")


def test_methods_405():
    port, port_of = start_routes()
    expect(port, port_of, "/only-get", "pl-exact")
    expect_status(port, "/only-get", 405, method="POST")
    expect_status(port, "/only-get", 405, method="DELETE")


def test_headers_and_queries_400():
    port, port_of = start_routes()
    expect_status(port, "/need-header", 400)
    expect_status(port, "/need-header", 400, headers={"X-Api-Version": "v3"})
    expect(port, port_of, "/need-header", "pl-exact", headers={"X-Api-Version": "v2"})
    expect(port, port_of, "/need-header-re", "pl-exact", headers={"X-Token": "tok-abc"})
    expect_status(port, "/need-header-re", 400, headers={"X-Token": "tok-1"})
    expect(port, port_of, "/need-query?q=yes", "pl-exact")
    expect_status(port, "/need-query?q=no", 400)
    expect_status(port, "/need-query", 400)


def test_rewrite_target():
    port, port_of = start_routes()
    cases = [("/old", "/new"), ("/old?x=1", "/new?x=1"),
             ("/api/v1/items/7", "/v2/items/7"), ("/users/42", "/u/42")]
    for path, rewritten in cases:
        resp = expect(port, port_of, path, "pl-exact")
        assert resp.header("X-Mirror-Raw-URI") == rewritten, "%s -> %s, want %s" % (
            path, resp.header("X-Mirror-Raw-URI"), rewritten)
        assert resp.mirror_field("URL") == rewritten, resp.text


# ---------------------------------------------------------------------------
# encoded paths

GUARDED = """\
kind: HTTPServer
name: guarded
port: {port}
rules:
  - paths:
    - pathPrefix: /admin
      backend: pl-admin
    - pathPrefix: /public
      backend: pl-public
    - backend: pl-open
"""

PUBLIC_ONLY = """\
kind: HTTPServer
name: public-only
port: {port}
rules:
  - paths:
    - pathPrefix: /public
      backend: pl-public
"""

# Each of these decodes and normalises to /admin (or above the root).
ADMIN_IN_DISGUISE = ["/public/..%2Fadmin", "/public/%2e%2e/admin", "/public/%2E%2E/admin",
                     "/public/../admin", "/public%2F..%2Fadmin", "//admin", "/./admin",
                     "/%61dmin", "/x/../admin", "/public/a/../../admin", "/../admin"]


def raw_get(port, target):
    """GET with the target sent byte for byte (http.client may touch it)."""
    conn = RawConn(port)
    try:
        conn.send("GET %s HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n" % target)
        return conn.response()
    finally:
        conn.close()


def start_encoded():
    gw = Gateway(workers=1).start()
    mirror = Mirror(3).start()
    port_of = dict(zip(["pl-admin", "pl-public", "pl-open"], mirror.ports))
    for name, mport in port_of.items():
        gw.create(proxy_pipeline(name, ["http://127.0.0.1:%d" % mport]))
    guarded, public_only = free_port(), free_port()
    gw.create(GUARDED.format(port=guarded))
    gw.create(PUBLIC_ONLY.format(port=public_only))
    wait_status(guarded, "/public", 200)
    wait_status(public_only, "/public", 200)
    return guarded, public_only, port_of


def served_by(resp, port_of):
    if resp.status != 200:
        return None
    return {v: k for k, v in port_of.items()}.get(resp.mirror_port, "unknown")


def test_encoded_paths_cannot_leave_a_prefix():
    _, public_only, port_of = start_encoded()
    leaks = []
    for target in ADMIN_IN_DISGUISE:
        resp = raw_get(public_only, target)
        if served_by(resp, port_of) is not None:
            leaks.append("%s -> %d via %s" % (target, resp.status, served_by(resp, port_of)))
        elif resp.status not in (400, 403, 404):
            leaks.append("%s -> unexpected status %d" % (target, resp.status))
    assert not leaks, "reached the /public pipeline: " + "; ".join(leaks)


def test_encoded_paths_cannot_bypass_a_rule():
    guarded, _, port_of = start_encoded()
    assert served_by(raw_get(guarded, "/admin/x"), port_of) == "pl-admin"
    assert served_by(raw_get(guarded, "/elsewhere"), port_of) == "pl-open"
    bypass = []
    for target in ADMIN_IN_DISGUISE:
        resp = raw_get(guarded, target)
        who = served_by(resp, port_of)
        if who not in (None, "pl-admin") or resp.status >= 500:
            bypass.append("%s -> %d via %s" % (target, resp.status, who))
    assert not bypass, "bypassed the /admin rule: " + "; ".join(bypass)


def test_paths_normalising_under_prefix_still_match():
    _, public_only, port_of = start_encoded()
    for target in ("/public/./a", "/public/a/../b", "/public//a", "/public/a%2Fb"):
        resp = raw_get(public_only, target)
        assert served_by(resp, port_of) == "pl-public", "%s -> %d" % (target, resp.status)


def test_backend_receives_original_escaped_path_and_raw_query():
    _, public_only, port_of = start_encoded()
    for target in ("/public/a%20b?x=%2F&y=1", "/public/a%2Fb", "/public/%7Euser?q=a+b&q=%26",
                   "/public/x?b=2&a=1&a=0", "/public//double", "/public/a;p=1?"):
        resp = raw_get(public_only, target)
        assert served_by(resp, port_of) == "pl-public", "%s -> %d" % (target, resp.status)
        assert resp.header("X-Mirror-Raw-URI") == target, "%s arrived as %s" % (
            target, resp.header("X-Mirror-Raw-URI"))
