"""The Proxy filter against misbehaving and special backends: dying mid-response,
closing idle keep-alive connections, down, slow (pool timeout), compression,
hop-by-hop headers, X-Forwarded-For, Host rules and server URL prefixes."""

import gzip
import http.client
import os
import re
import time

from harness import (Client, Gateway, Mirror, RawBackend, RawConn, Reader, free_port, http_response,
                     http_server, mirror_field, proxy_pipeline, read_request, request,
                     wait_status)


def start_gateway(backend_urls, server_extra="", **pipeline_kw):
    """Gateway with /pipeline -> Proxy(backend_urls) and /ok -> a mirror."""
    gw = Gateway(workers=1).start()
    mirror = Mirror(1).start()
    port = free_port()
    gw.create(http_server("server", port, [("pathPrefix: /pipeline", "pipeline"),
                                           ("pathPrefix: /ok", "healthy")], extra=server_extra))
    gw.create(proxy_pipeline("pipeline", backend_urls, **pipeline_kw))
    gw.create(proxy_pipeline("healthy", mirror.urls))
    wait_status(port, "/ok", 200)
    return gw, port


def serve_forever(respond):
    """Handler: answer each request on the connection with respond(request, sock)."""
    def handler(sock, backend):
        reader = Reader(sock)
        while True:
            req = read_request(reader)
            if req is None:
                return
            backend.requests.append(req)
            if respond(req, sock) is False:
                return
    return handler


def go_header_map(text):
    """Parse the mirror's `Header: map[K:[v] K2:[v w]]` line into {K: 'v w'}."""
    line = mirror_field(text, "Header") or ""
    inner = line[len("map["):-1] if line.startswith("map[") else ""
    keys = list(re.finditer(r"(?:^| )([!#$%&'*+.^_`|~0-9A-Za-z-]+):\[", inner))
    out = {}
    for i, m in enumerate(keys):
        end = keys[i + 1].start() if i + 1 < len(keys) else len(inner)
        out[m.group(1)] = inner[m.end():end].rstrip("]")
    return out


def test_backend_dying_mid_response():
    def half_then_close(req, sock):
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
        return False

    def half_chunk_then_close(req, sock):
        sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"3e8\r\n" + b"y" * 500)
        return False

    for behaviour in (half_then_close, half_chunk_then_close):
        backend = RawBackend(serve_forever(behaviour)).start()
        gw, port = start_gateway([backend.url])
        try:
            resp = request(port, "/pipeline", timeout=10)
            assert resp.status >= 500, "%s: a truncated response passed as complete: %r" % (
                behaviour.__name__, resp)
        except (http.client.IncompleteRead, http.client.RemoteDisconnected,
                ConnectionError) as err:
            pass  # the client sees the truncation: the connection was closed early
        assert request(port, "/ok").status == 200, "gateway stopped serving"
        gw.close()
        backend.close()


def test_backend_closing_idle_keep_alive_connections():
    def respond_then_close_soon(req, sock):
        sock.sendall(http_response(200, "fresh"))  # keep-alive implied, then...
        time.sleep(0.1)
        return False  # ...the backend drops the idle connection

    backend = RawBackend(serve_forever(respond_then_close_soon)).start()
    _, port = start_gateway([backend.url])
    client = Client(port)
    for i in range(6):
        resp = client.get("/pipeline/%d" % i)
        assert resp.status == 200 and resp.text == "fresh", "request %d: %r" % (i, resp)
        time.sleep(0.4)  # the gateway's pooled connection is closed by now
    assert backend.accepted >= 6, backend.accepted


def test_backend_closing_right_after_each_response():
    """The race the transparent retry exists for: the backend's FIN may arrive
    after the gateway picked the pooled connection for the next request."""
    def respond_then_close(req, sock):
        sock.sendall(http_response(200, "fresh"))
        return False

    backend = RawBackend(serve_forever(respond_then_close)).start()
    _, port = start_gateway([backend.url])
    client = Client(port)
    statuses = [client.get("/pipeline/%d" % i).status for i in range(100)]
    assert statuses == [200] * 100, "failed: %s" % [s for s in statuses if s != 200]


def test_backend_down_502():
    gw, port = start_gateway(["http://127.0.0.1:%d" % free_port()])
    resp = request(port, "/pipeline")
    assert resp.status == 502, resp
    assert request(port, "/ok").status == 200


def test_pool_timeout_504():
    def too_slow(req, sock):
        time.sleep(3)
        sock.sendall(http_response(200, "late"))

    backend = RawBackend(serve_forever(too_slow)).start()
    _, port = start_gateway([backend.url], pool_extra="      timeout: 500ms")
    started = time.monotonic()
    resp = request(port, "/pipeline", timeout=10)
    took = time.monotonic() - started
    assert resp.status == 504, resp
    assert took < 2.5, "answered after %.1fs with a 500ms timeout" % took
    assert request(port, "/ok").status == 200


COMPRESSION = "    compression:\n      minLength: 1024"


def test_compression_gzip():
    mirror = Mirror(1).start()
    _, port = start_gateway(mirror.urls, proxy_extra=COMPRESSION)
    payload = "Hello, Easegress " * 300
    resp = request(port, "/pipeline", "POST", payload, {"Accept-Encoding": "gzip"})
    assert resp.status == 200, resp
    assert resp.header("Content-Encoding") == "gzip", resp.headers
    assert len(resp.body) < len(payload), "not smaller"
    assert mirror_field(resp.decoded_body().decode(), "Body") == payload

    plain = request(port, "/pipeline", "POST", payload)
    assert plain.header("Content-Encoding") is None, "gzip without Accept-Encoding"
    assert mirror_field(plain.text, "Body") == payload

    small = request(port, "/pipeline", "POST", "tiny", {"Accept-Encoding": "gzip"})
    assert small.header("Content-Encoding") is None, "compressed below minLength"
    assert mirror_field(small.text, "Body") == "tiny"


def test_compression_never_double():
    payload = os.urandom(4000).hex().encode()
    already = gzip.compress(payload)

    def gzipped(req, sock):
        sock.sendall(http_response(200, already, {"Content-Encoding": "gzip",
                                                   "Content-Type": "text/plain"}))

    backend = RawBackend(serve_forever(gzipped)).start()
    _, port = start_gateway([backend.url], proxy_extra=COMPRESSION)
    resp = request(port, "/pipeline", headers={"Accept-Encoding": "gzip"})
    assert resp.status == 200, resp
    assert resp.header_all("Content-Encoding") == ["gzip"], resp.headers
    assert gzip.decompress(resp.body) == payload, "body compressed twice or altered"


def test_hop_by_hop_headers_removed():
    mirror = Mirror(1).start()
    _, port = start_gateway(mirror.urls)
    resp = request(port, "/pipeline", headers={
        "Connection": "keep-alive, X-Hop", "X-Hop": "secret", "Keep-Alive": "timeout=5",
        "X-Kept": "yes"})
    assert resp.status == 200, resp
    seen = go_header_map(resp.text)
    assert "X-Hop" not in seen, "header named in Connection was forwarded: %s" % seen
    assert "Keep-Alive" not in seen, seen
    assert seen.get("X-Kept") == "yes", seen
    assert "X-Hop" not in seen.get("Connection", ""), seen

    def hop_response(req, sock):
        sock.sendall(http_response(200, "ok", {"Connection": "X-Resp-Hop",
                                               "X-Resp-Hop": "1", "X-Resp-Kept": "1"}))

    backend = RawBackend(serve_forever(hop_response)).start()
    _, port2 = start_gateway([backend.url])
    resp = request(port2, "/pipeline")
    assert resp.header("X-Resp-Hop") is None, "response hop-by-hop header kept: %s" % resp.headers
    assert resp.header("X-Resp-Kept") == "1", resp.headers


def test_x_forwarded_for_appended():
    mirror = Mirror(1).start()
    _, port = start_gateway(mirror.urls, server_extra="xForwardedFor: true")
    alone = go_header_map(request(port, "/pipeline").text)
    assert alone.get("X-Forwarded-For") == "127.0.0.1", alone
    chained = go_header_map(request(port, "/pipeline",
                                    headers={"X-Forwarded-For": "203.0.113.7"}).text)
    hops = re.split(r"[,\s]+", chained.get("X-Forwarded-For", "").strip())
    assert hops == ["203.0.113.7", "127.0.0.1"], chained


def test_upstream_host_rules():
    mirror = Mirror(1).start()
    mport = mirror.ports[0]
    gw = Gateway(workers=1).start()
    port = free_port()
    cases = {  # path: (server url, pool/server extras, expected Host at the backend)
        "/ip": ("http://127.0.0.1:%d" % mport, "", "client.test"),
        "/name": ("http://localhost:%d" % mport, "", "localhost:%d" % mport),
        "/ip-set": ("http://127.0.0.1:%d" % mport, "      setUpstreamHost: true",
                    "127.0.0.1:%d" % mport),
        "/name-keep": ("http://localhost:%d\n        keepHost: true" % mport, "",
                       "client.test"),
    }
    paths = []
    for path, (url, extra, _) in cases.items():
        name = "pl" + path.replace("/", "-")
        gw.create(proxy_pipeline(name, [url], pool_extra=extra))
        paths.append(("path: %s" % path, name))
    gw.create(http_server("hosts", port, paths))
    wait_status(port, "/ip", 200, headers={"Host": "client.test"})
    for path, (_, _, want) in cases.items():
        resp = request(port, path, headers={"Host": "client.test"})
        assert resp.status == 200, (path, resp)
        assert resp.header("X-Mirror-Host") == want, "%s: backend saw Host %r, want %r" % (
            path, resp.header("X-Mirror-Host"), want)


def test_server_url_path_is_prefixed():
    mirror = Mirror(1).start()
    _, port = start_gateway([mirror.urls[0] + "/base"])
    resp = request(port, "/pipeline/x?y=1")
    assert resp.status == 200, resp
    assert resp.header("X-Mirror-Raw-URI") == "/base/pipeline/x?y=1", resp.headers


def test_slow_backend_outlives_the_request_header_timeout():
    """Waiting for the backend is not reading the request: the 10 s header timeout of the
    client connection must not cut off a request whose backend takes longer (no Proxy
    timeout set), and the connection stays usable afterwards."""
    def slow(req, sock):
        time.sleep(11)
        sock.sendall(http_response(200, "patient"))

    backend = RawBackend(serve_forever(slow)).start()
    _, port = start_gateway([backend.url])
    client = Client(port, timeout=20)
    try:
        resp = client.get("/pipeline")
        assert resp.status == 200, resp
        assert resp.body == b"patient", resp
        assert client.get("/ok").status == 200
    finally:
        client.close()


def test_heads_trickled_in_pieces_keep_every_header_whole():
    """A request head and a backend response head arriving a few bytes at a time (names and
    values split across reads) reach the other side with every header intact."""
    names = ["X-Split-%d" % i for i in range(6)]
    values = ["value-%d-%s" % (i, "v" * (i * 7)) for i in range(6)]

    def trickle_response(req, sock):
        head = http_response(200, "whole", headers=dict(zip(names, values)))
        for i in range(0, len(head), 3):
            sock.sendall(head[i:i + 3])
            time.sleep(0.002)

    backend = RawBackend(serve_forever(trickle_response)).start()
    _, port = start_gateway([backend.url])
    conn = RawConn(port, timeout=10)
    try:
        head = ("GET /pipeline HTTP/1.1\r\nHost: gw.test\r\n" +
                "".join("%s: %s\r\n" % kv for kv in zip(names, values)) + "\r\n").encode()
        for i in range(0, len(head), 5):
            conn.sock.sendall(head[i:i + 5])
            time.sleep(0.002)
        resp = conn.response()
        assert resp.status == 200 and resp.body == b"whole", resp
        for name, value in zip(names, values):
            assert resp.header(name) == value, (name, resp.headers)
        got = dict(backend.requests[-1][2])
        for name, value in zip(names, values):
            assert got.get(name) == value, (name, got)
    finally:
        conn.close()
