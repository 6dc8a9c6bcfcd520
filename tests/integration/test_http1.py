"""HTTP/1.1 on the client side: keep-alive, pipelining, chunked, 100-continue,
HEAD, request-smuggling shapes, limits, slowloris, 1,000 keep-alive clients."""

import threading
import time

from harness import (Gateway, Mirror, RawConn, free_port, http_server, mirror_field,
                     proxy_pipeline, request, run_concurrently, wait_status)

# The longest a client that trickles its header may hold a connection. The
# gateway's header-read timeout must be below this.
SLOWLORIS_LIMIT = 40


def start(server_extra="", workers=1, mirrors=1):
    gw = Gateway(workers=workers).start()
    mirror = Mirror(mirrors).start()
    port = free_port()
    gw.create(http_server("server-demo", port, [("pathPrefix: /pipeline", "pipeline-demo")],
                          extra=server_extra))
    gw.create(proxy_pipeline("pipeline-demo", mirror.urls))
    wait_status(port, "/pipeline", 200)
    return gw, mirror, port


def raw_request(method, path, headers=(("Host", "gw.test"),), body=b""):
    head = "%s %s HTTP/1.1\r\n" % (method, path)
    head += "".join("%s: %s\r\n" % kv for kv in headers)
    return head.encode("latin-1") + b"\r\n" + body


def get(path, *extra_headers):
    return raw_request("GET", path, (("Host", "gw.test"),) + extra_headers)


def test_keep_alive_two_requests_one_connection():
    _, _, port = start()
    conn = RawConn(port)
    for path in ("/pipeline/one", "/pipeline/two"):
        conn.send(get(path))
        resp = conn.response()
        assert resp.status == 200, resp
        assert mirror_field(resp.text, "URL") == path, resp.text
    assert not conn.closed_by_peer(0.3), "keep-alive connection closed"


def test_keep_alive_timeout_counts_from_the_last_response():
    """keepAliveTimeout 1s: requests 0.6 s apart keep one connection open for longer than
    the timeout in all; once the client goes quiet the gateway closes it about 1 s later."""
    _, _, port = start("keepAliveTimeout: 1s")
    conn = RawConn(port)
    started = time.monotonic()
    for i in range(5):
        conn.send(get("/pipeline/%d" % i))
        assert conn.response().status == 200
        if i < 4:
            time.sleep(0.6)
    assert time.monotonic() - started > 2.0
    quiet = time.monotonic()
    assert not conn.closed_by_peer(0.7), "closed before the keep-alive timeout"
    assert conn.closed_by_peer(2.5), "idle connection not closed after keepAliveTimeout"
    took = time.monotonic() - quiet
    assert 0.9 <= took <= 2.5, "closed %.2fs after the last response" % took


def test_pipelined_requests_answered_in_order():
    _, _, port = start()
    conn = RawConn(port)
    conn.send(get("/pipeline/first") + raw_request(
        "POST", "/pipeline/second", (("Host", "gw.test"), ("Content-Length", "5")), b"hello")
        + get("/pipeline/third"))
    urls = []
    for _ in range(3):
        resp = conn.response()
        assert resp.status == 200, resp
        urls.append(mirror_field(resp.text, "URL"))
    assert urls == ["/pipeline/first", "/pipeline/second", "/pipeline/third"], urls


def test_chunked_request_body_is_proxied():
    _, _, port = start()
    conn = RawConn(port)
    body = b"7\r\nHello, \r\n9;ext=1\r\nEasegress\r\n0\r\nX-Trailer: t\r\n\r\n"
    conn.send(raw_request("POST", "/pipeline",
                          (("Host", "gw.test"), ("Transfer-Encoding", "chunked")), body))
    resp = conn.response()
    assert resp.status == 200, resp
    assert mirror_field(resp.text, "Body") == "Hello, Easegress", resp.text
    conn.send(get("/pipeline/after"))  # the connection is still in sync
    assert conn.response().status == 200


def test_expect_100_continue():
    _, _, port = start()
    conn = RawConn(port)
    conn.send(raw_request("POST", "/pipeline", (("Host", "gw.test"), ("Content-Length", "16"),
                                                ("Expect", "100-continue"))))
    interim = conn.response(interim=True, timeout=3)
    assert interim.status == 100, "expected 100 Continue first, got %r" % interim
    conn.send(b"Hello, Easegress")
    resp = conn.response(timeout=10)
    assert resp.status == 200, resp
    assert mirror_field(resp.text, "Body") == "Hello, Easegress", resp.text


def test_head_has_no_body():
    _, _, port = start()
    conn = RawConn(port)
    conn.send(raw_request("HEAD", "/pipeline"))
    resp = conn.response(head=True)
    assert resp.status == 200, resp
    # A body sent after the HEAD response would be read here as the next status line.
    conn.send(get("/pipeline/next"))
    resp = conn.response()
    assert resp.status == 200 and mirror_field(resp.text, "URL") == "/pipeline/next", resp


SMUGGLING = {
    "CL+TE": raw_request("POST", "/pipeline", (
        ("Host", "gw.test"), ("Content-Length", "4"), ("Transfer-Encoding", "chunked")),
        b"0\r\n\r\nGET /pipeline/smuggled HTTP/1.1\r\nHost: gw.test\r\n\r\n"),
    "duplicate differing Content-Length": raw_request("POST", "/pipeline", (
        ("Host", "gw.test"), ("Content-Length", "5"), ("Content-Length", "6")), b"hello!"),
    "obs-fold": b"GET /pipeline HTTP/1.1\r\nHost: gw.test\r\nX-Folded: a\r\n b\r\n\r\n",
    "bare LF": b"GET /pipeline HTTP/1.1\nHost: gw.test\n\n",
    "missing Host on HTTP/1.1": b"GET /pipeline HTTP/1.1\r\nUser-Agent: t\r\n\r\n",
    "two Host headers": b"GET /pipeline HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n",
    "invalid chunk size": raw_request("POST", "/pipeline", (
        ("Host", "gw.test"), ("Transfer-Encoding", "chunked")), b"zz\r\nhello\r\n0\r\n\r\n"),
    "chunked not last coding": raw_request("POST", "/pipeline", (
        ("Host", "gw.test"), ("Transfer-Encoding", "chunked, gzip")), b"0\r\n\r\n"),
    "space before colon": raw_request("POST", "/pipeline", (
        ("Host", "gw.test"), ("Content-Length ", "5")), b"hello"),
}


def test_smuggling_shapes_get_400_and_close():
    _, _, port = start()
    problems = []
    for name, data in SMUGGLING.items():
        conn = RawConn(port)
        try:
            conn.send(data)
            resp = conn.response(timeout=5)
            if resp.status != 400:
                problems.append("%s: status %d" % (name, resp.status))
            elif not conn.closed_by_peer(3):
                problems.append("%s: connection left open after 400" % name)
        except (OSError, ValueError) as err:
            problems.append("%s: %s: %s" % (name, type(err).__name__, err))
        finally:
            conn.close()
    assert not problems, "; ".join(problems)
    assert request(port, "/pipeline").status == 200  # still serving


def send_until_error(conn, data, step=65536):
    """Send data in pieces, stopping quietly when the server stops reading."""
    for i in range(0, len(data), step):
        try:
            conn.sock.sendall(data[i:i + step])
        except OSError:
            return


def test_oversized_headers_get_431():
    _, _, port = start()
    big = tuple(("X-Big-%d" % i, "a" * 4000) for i in range(600))  # ~2.4 MB of header
    conn = RawConn(port, timeout=10)
    sender = threading.Thread(target=send_until_error,
                              args=(conn, get("/pipeline", *big)), daemon=True)
    sender.start()
    resp = conn.response(timeout=10)
    assert resp.status == 431, resp
    assert request(port, "/pipeline").status == 200


def test_body_over_client_max_body_size_gets_413():
    _, _, port = start(server_extra="clientMaxBodySize: 1024")
    ok = request(port, "/pipeline", "POST", b"x" * 1000)
    assert ok.status == 200, ok
    too_big = request(port, "/pipeline", "POST", b"x" * 4096)
    assert too_big.status == 413, too_big

    conn = RawConn(port)  # chunked: the size is only known while reading
    chunks = b"".join(b"400\r\n" + b"y" * 1024 + b"\r\n" for _ in range(4)) + b"0\r\n\r\n"
    send_until_error(conn, raw_request("POST", "/pipeline", (
        ("Host", "gw.test"), ("Transfer-Encoding", "chunked")), chunks))
    assert conn.response(timeout=5).status == 413


def test_slowloris_is_cut_off_while_others_are_served():
    _, _, port = start()
    slow = RawConn(port, timeout=5)
    trickle = get("/pipeline", *(("X-Slow-%d" % i, "v") for i in range(200)))
    started = time.monotonic()
    served_meanwhile = 0
    cut_off = False
    for byte in trickle:
        try:
            slow.sock.sendall(bytes([byte]))
        except OSError:
            cut_off = True
            break
        if slow.closed_by_peer(1.0):
            cut_off = True
            break
        resp = request(port, "/pipeline", timeout=5)
        assert resp.status == 200, "normal client not served during slowloris: %r" % resp
        served_meanwhile += 1
        if time.monotonic() - started > SLOWLORIS_LIMIT:
            break
    elapsed = time.monotonic() - started
    assert cut_off, "slow header still accepted after %.0fs" % elapsed
    assert served_meanwhile >= 2, served_meanwhile


test_slowloris_is_cut_off_while_others_are_served.timeout = SLOWLORIS_LIMIT + 60


def test_thousand_concurrent_keep_alive_clients():
    clients = 1000
    _, _, port = start(mirrors=3)
    barrier = threading.Barrier(clients, timeout=90)

    def client(i):
        conn = None
        try:
            conn = RawConn(port, timeout=60, track=False)
            statuses = []
            for step in range(2):
                conn.send(get("/pipeline/%d/%d" % (i, step)))
                statuses.append(conn.response(timeout=60).status)
                if step == 0:
                    barrier.wait()  # all 1,000 connections open at once
            return statuses
        except BaseException:
            barrier.abort()  # do not keep the others waiting
            raise
        finally:
            if conn:
                conn.close()

    old = threading.stack_size(256 * 1024)
    try:
        results = run_concurrently(client, clients, timeout=180)
    finally:
        threading.stack_size(old)
    errors = [r[1] for r in results if not r[0]]
    bad = [r[1] for r in results if r[0] and r[1] != [200, 200]]
    assert not errors, "%d clients failed, e.g. %r" % (len(errors), errors[:3])
    assert not bad, "%d clients got non-200, e.g. %r" % (len(bad), bad[:3])


test_thousand_concurrent_keep_alive_clients.timeout = 240
