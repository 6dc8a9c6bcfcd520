"""routerKind: RadixTree ({param}, {param:regexp}, a final *, static > regexp > param >
wildcard whatever the order), its captures in setHeaders, in rewriteTarget and in Lua
(ctx:path_param), and cacheSize: answers stay right across updates and for header-dependent
paths while the route cache is on.

The mirror backend echoes the path it got ("URL") and the request headers ("Header")."""

import json

from harness import Gateway, Mirror, free_port, proxy_pipeline, request, wait_status

RADIX = """\
kind: HTTPServer
name: radix
port: {port}
routerKind: RadixTree
cacheSize: {cache}
rules:
  - paths:
    - path: /users/*
      backend: pl-any
    - path: /users/{{id}}
      backend: pl-mirror
      setHeaders:
        X-User: $id
        X-User-Or: "${{id:none}}"
    - path: /users/{{id:[0-9]+}}
      backend: pl-num
    - path: /users/me
      backend: pl-me
    - path: /users/{{id}}/posts/*
      rewriteTarget: /p/{{id}}/{{EG_WILDCARD}}
      backend: pl-mirror
    - path: /files/{{name}}.{{ext}}
      backend: pl-lua
    - path: /need/{{id}}
      headers:
      - key: X-Key
        values: ["k"]
      backend: pl-mirror
"""

LUA = """\
name: pl-lua
kind: Pipeline
flow:
  - filter: params
filters:
  - name: params
    kind: Lua
    code: |
      local p = ctx:path_params()
      ctx:respond(200, eg.json.encode({ name = ctx:path_param("name"), ext = p.ext,
                                        missing = ctx:path_param("nope") or "nil" }))
"""


def responder(name, text):
    return ("name: %s\nkind: Pipeline\nflow:\n  - filter: r\nfilters:\n"
            "  - name: r\n    kind: Lua\n    code: |\n      ctx:respond(200, %s)\n") % (name, json.dumps(text))


def start(cache=0):
    gw = Gateway(workers=2).start()
    mirror = Mirror(1).start()
    gw.create(proxy_pipeline("pl-mirror", ["http://127.0.0.1:%d" % mirror.ports[0]]))
    for name in ("pl-any", "pl-num", "pl-me"):
        gw.create(responder(name, name))
    gw.create(LUA)
    port = free_port()
    gw.create(RADIX.format(port=port, cache=cache))
    wait_status(port, "/users/me", 200)
    return gw, port


def body(port, path, headers=None):
    resp = request(port, path, headers=headers)
    return resp.status, resp.text


def check_routes(port):
    assert body(port, "/users/me") == (200, "pl-me")
    assert body(port, "/users/42") == (200, "pl-num")
    assert body(port, "/users/a/b/c") == (200, "pl-any")
    resp = request(port, "/users/bob")
    assert resp.status == 200, resp
    assert resp.mirror_field("URL") == "/users/bob", resp.text
    header = resp.mirror_field("Header")
    assert "X-User:[bob]" in header and "X-User-Or:[bob]" in header, header
    # the capture is the decoded segment; the rewrite escapes it again
    resp = request(port, "/users/a%20b/posts/x/y")
    assert resp.status == 200, resp
    assert resp.mirror_field("URL") == "/p/a b/x/y", resp.text
    status, text = body(port, "/files/report.tar.gz")
    assert status == 200, text
    assert json.loads(text) == {"name": "report", "ext": "tar.gz", "missing": "nil"}, text
    assert request(port, "/need/1").status == 400
    assert request(port, "/need/1", headers={"X-Key": "k"}).status == 200
    assert request(port, "/nowhere").status == 404
    assert request(port, "/users").status == 404


def test_radix_routes():
    gw, port = start()
    check_routes(port)
    # bad patterns are refused at submit, naming the field
    rc, out, err = gw.egctl("create", "-f", "-", stdin=RADIX.format(port=free_port(), cache=0)
                            .replace("name: radix", "name: radix2")
                            .replace("/files/{name}.{ext}", "/files/*/{name}"))
    assert rc != 0 and "rules[0].paths[5].path: wildcard '*' must be the last" in out + err, out + err


def test_radix_route_cache():
    gw, port = start(cache=3)
    # twice: the second round is answered from the (evicting) cache
    for _ in range(2):
        check_routes(port)
    # header-dependent answers are never cached
    for _ in range(3):
        assert request(port, "/need/2").status == 400
        assert request(port, "/need/2", headers={"X-Key": "k"}).status == 200
    # an update is seen at once: the cache belongs to the old router
    gw.apply(RADIX.format(port=port, cache=3).replace("backend: pl-me", "backend: pl-any"))
    wait_status(port, "/users/me", 200)
    assert body(port, "/users/me") == (200, "pl-any")


ORDERED = """\
kind: HTTPServer
name: ordered
port: {port}
cacheSize: 100
rules:
  - paths:
    - pathPrefix: /a
      backend: {backend}
    - path: /q
      queries:
      - key: v
        values: ["1"]
      backend: pl-num
    - path: /q
      backend: pl-any
"""


def test_ordered_route_cache():
    gw = Gateway(workers=1).start()
    for name in ("pl-any", "pl-num", "pl-me"):
        gw.create(responder(name, name))
    port = free_port()
    gw.create(ORDERED.format(port=port, backend="pl-me"))
    wait_status(port, "/a", 200)
    for _ in range(3):
        assert body(port, "/a/x") == (200, "pl-me")
        assert body(port, "/q?v=1") == (200, "pl-num")
        assert body(port, "/q?v=2") == (200, "pl-any")
        assert body(port, "/q") == (200, "pl-any")
    gw.apply(ORDERED.format(port=port, backend="pl-num"))
    assert body(port, "/a/x") == (200, "pl-num")
