"""backendPool on a path: the HTTPServer generates the Pipeline GENERATED-<server>-<rule>-<path>
with one Proxy filter, visible in `egctl get pipeline`, owned by the server (not editable on
its own), rebuilt on restart, gone with the server."""

import json

from harness import Gateway, Mirror, free_port, request, wait_status

SERVER = """\
kind: HTTPServer
name: pooled
port: %d
rules:
- paths:
  - pathPrefix: /a
    backendPool:
      servers:
      - url: %s
      loadBalance:
        policy: roundRobin
  - pathPrefix: /b
    backendPool:
      servers:
      - url: %s
"""


def names(gw):
    rc, out, err = gw.egctl("get", "pipeline", "-o", "json")
    assert rc == 0, err
    docs = json.loads(out) if out.strip().startswith("[") else [json.loads(out)]
    return sorted(d["name"] for d in docs)


def test_backend_pool_generates_pipelines():
    mirror = Mirror(count=2).start()
    gw = Gateway(workers=1).start()
    port = free_port()
    gw.create(SERVER % (port, mirror.urls[0], mirror.urls[1]))
    assert names(gw) == ["GENERATED-pooled-0-0", "GENERATED-pooled-0-1"]
    wait_status(port, "/a", 200)
    assert request(port, "/a").mirror_port == mirror.ports[0]
    assert request(port, "/b/x").mirror_port == mirror.ports[1]

    rc, _, err = gw.egctl("delete", "pipeline", "GENERATED-pooled-0-0")
    assert rc != 0 and "generated" in err, err

    gw.restart()
    wait_status(port, "/b", 200)
    assert names(gw) == ["GENERATED-pooled-0-0", "GENERATED-pooled-0-1"]

    gw.delete("httpserver", "pooled")
    assert names(gw) == []


def test_backend_pool_is_validated():
    gw = Gateway(workers=1).start()
    bad = "kind: HTTPServer\nname: bad\nport: %d\nrules:\n- paths:\n  - pathPrefix: /\n    backendPool:\n      servers:\n      - url: nope\n" % free_port()
    rc, _, err = gw.egctl("create", "-f", "-", stdin=bad)
    assert rc != 0 and "rules[0].paths[0].backendPool" in err, err
