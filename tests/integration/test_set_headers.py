"""HTTPServer `setHeaders` on a path: nginx-style variables rendered against the client
request, a value of "" deleting the header, a value rendering "" setting it empty, and the
variables seeing the request as received (before rewriteTarget), as Easegress does.

The mirror backend prints the headers it received ("Header: map[...]")."""

import base64
import re

from harness import Gateway, Mirror, free_port, proxy_pipeline, request, wait_status

SERVER = """\
kind: HTTPServer
name: set-headers
port: {port}
rules:
  - paths:
    - pathPrefix: /sh
      rewriteTarget: /rewritten
      backend: pl-mirror
      setHeaders:
        X-Method: $request_method
        X-Uri: $uri
        X-Request-Uri: $request_uri
        X-Request: $request
        X-Scheme: $scheme
        X-Args: $args
        X-Host: $host
        X-Http-Host: $http_host
        X-Server-Protocol: $server_protocol
        X-Remote-Addr: $remote_addr
        X-Remote-User: "${{remote_user:anonymous}}"
        X-Xff: $proxy_add_x_forwarded_for
        X-Agent: "${{http_user_agent:unknown}}"
        X-Arg-Q: "${{arg_q:none}}"
        X-Arg-Missing: "${{arg_missing:none}}"
        X-Cookie: "sid=${{cookie_sid}}"
        X-Content-Type: "${{content_type:none}}"
        X-Request-Length: $request_length
        X-Msec: $msec
        X-Time: $time_iso8601
        X-Literal: "price is $100"
        X-Built: "${{scheme}}://${{host}}-backend${{uri}}"
        X-Remove-Me: ""
        X-Empty: $http_x_absent
    - pathPrefix: /plain
      backend: pl-mirror
"""


def header_map(resp):
    """The mirror's "Header: map[K:[v] ...]" as {K: "v"} (single values only)."""
    line = resp.mirror_field("Header")
    assert line and line.startswith("map[") and line.endswith("]"), resp.text
    # Keys are canonical header names; a value runs until " Next-Key:[" or the end.
    out = {}
    for m in re.finditer(r"([A-Za-z0-9-]+):\[(.*?)\](?= [A-Za-z0-9-]+:\[|$)", line[4:-1]):
        out[m.group(1)] = m.group(2)
    return out


def start():
    gw = Gateway(workers=1).start()
    mirror = Mirror(1).start()
    gw.create(proxy_pipeline("pl-mirror", mirror.urls))
    port = free_port()
    gw.create(SERVER.format(port=port))
    wait_status(port, "/plain", 200)
    return port


def test_variables_reach_the_backend():
    port = start()
    auth = "Basic " + base64.b64encode(b"alice:secret").decode()
    resp = request(port, "/sh/a%20b?q=42&x=y", headers={
        "Host": "gw.example.com:8080", "User-Agent": "ua-test", "Cookie": "sid=s-1; other=2",
        "Authorization": auth, "X-Forwarded-For": "203.0.113.7", "X-Remove-Me": "secret"})
    assert resp.status == 200, resp
    h = header_map(resp)
    expect = {
        "X-Method": "GET",
        "X-Uri": "/sh/a b",                         # decoded, and before the rewrite
        "X-Request-Uri": "/sh/a b?q=42&x=y",
        "X-Request": "GET /sh/a b?q=42&x=y HTTP/1.1",
        "X-Scheme": "http",
        "X-Args": "q=42&x=y",
        "X-Host": "gw.example.com",
        "X-Http-Host": "gw.example.com:8080",
        "X-Server-Protocol": "HTTP/1.1",
        "X-Remote-Addr": "127.0.0.1",
        "X-Remote-User": "alice",
        "X-Xff": "203.0.113.7, 127.0.0.1",
        "X-Agent": "ua-test",
        "X-Arg-Q": "42",
        "X-Arg-Missing": "none",
        "X-Cookie": "sid=s-1",
        "X-Content-Type": "none",
        "X-Request-Length": "0",
        "X-Literal": "price is $100",
        "X-Built": "http://gw.example.com-backend/sh/a b",
        "X-Empty": "",                              # rendered "": set, empty
    }
    for key, want in expect.items():
        assert h.get(key) == want, "%s: %r, want %r\n%s" % (key, h.get(key), want, resp.text)
    assert "X-Remove-Me" not in h, resp.text        # "" deletes
    assert re.fullmatch(r"\d{13}", h["X-Msec"]), h["X-Msec"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", h["X-Time"]), h["X-Time"]
    # The rewrite still applies to what is sent.
    assert resp.header("X-Mirror-Raw-URI") == "/rewritten/a%20b?q=42&x=y", resp.header("X-Mirror-Raw-URI")


def test_defaults_when_absent():
    port = start()
    resp = request(port, "/sh", method="POST", body="hello",
                   headers={"Content-Type": "text/plain"})
    assert resp.status == 200, resp
    h = header_map(resp)
    assert h.get("X-Method") == "POST", resp.text
    assert h.get("X-Remote-User") == "anonymous", resp.text
    assert h.get("X-Arg-Q") == "none", resp.text
    assert h.get("X-Cookie") == "sid=", resp.text
    assert h.get("X-Content-Type") == "text/plain", resp.text
    assert h.get("X-Request-Length") == "5", resp.text
    assert h.get("X-Xff") == "127.0.0.1", resp.text
    assert h.get("X-Args") == "", resp.text


def test_other_paths_untouched():
    port = start()
    resp = request(port, "/plain", headers={"X-Remove-Me": "kept"})
    assert resp.status == 200, resp
    h = header_map(resp)
    assert h.get("X-Remove-Me") == "kept", resp.text
    assert "X-Method" not in h, resp.text


def test_invalid_header_name_is_refused():
    gw = Gateway(workers=1).start()
    port = free_port()
    bad = ("kind: HTTPServer\nname: bad-sh\nport: %d\nrules:\n  - paths:\n"
           "    - path: /a\n      backend: p\n      setHeaders:\n"
           "        \"Bad Name\": x\n" % port)
    code, out, err = gw.egctl("create", "-f", "-", stdin=bad)
    out += err
    assert code != 0, out
    assert "setHeaders.Bad Name" in out and "invalid header name" in out, out
