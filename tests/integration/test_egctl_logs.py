"""egctl logs and the admin API's log endpoints: the tail of the server's log ring, a
follow that sees lines logged after it started, the log level read and changed at run
time (visible in what gets logged), and a follower leaving without harm."""

import socket
import subprocess
import time

from harness import EGCTL_BIN, Gateway, request, wait_until


def ok(gw, *args):
    rc, out, err = gw.egctl(*args)
    assert rc == 0, "egctl %s: rc %d\nstdout: %s\nstderr: %s" % (" ".join(args), rc, out, err)
    return out


def test_logs_tail_and_level():
    gw = Gateway(workers=1).start()
    out = ok(gw, "logs", "--tail", "3")
    lines = out.splitlines()
    assert len(lines) == 3, out
    # The last line the server logged before we asked is the "ready" line.
    assert "ready: admin API on %s" % gw.server in out, out
    everything = ok(gw, "logs", "--tail", "-1")
    assert len(everything.splitlines()) > 3 and everything.endswith(out), everything

    assert ok(gw, "logs", "get-level").strip() == "info"
    # At info, admin requests are not logged; at debug they are.
    request(gw.api_port, "/apis/v2/healthz?marker=before")
    assert "marker=before" not in ok(gw, "logs", "--tail", "50")
    assert ok(gw, "logs", "set-level", "debug").strip() == "Set log level to debug"
    assert ok(gw, "logs", "get-level").strip() == "debug"
    request(gw.api_port, "/apis/v2/healthz?marker=during")
    assert "DEBUG" in ok(gw, "logs", "--tail", "50") and \
        "admin: GET /apis/v2/healthz -> 200" in ok(gw, "logs", "--tail", "50")
    ok(gw, "logs", "set-level", "info")
    n_debug = ok(gw, "logs", "--tail", "-1").count("DEBUG")
    request(gw.api_port, "/apis/v2/healthz")
    assert ok(gw, "logs", "--tail", "-1").count("DEBUG") == n_debug

    rc, _, err = gw.egctl("logs", "set-level", "warn")
    assert rc != 0 and "only support to set log level to info or debug" in err, err
    for query in ("tail=x", "tail=-2", "follow=maybe"):
        status, _, body = gw.api("GET", "/apis/v2/logs?" + query)
        assert status == 400 and '"code":400' in body, (query, status, body)
    status, _, _ = gw.api("PUT", "/apis/v2/logs/level/info")
    assert status == 200
    assert gw.stop() == 0


def test_logs_follow_sees_new_lines():
    gw = Gateway(workers=1).start()
    ok(gw, "logs", "set-level", "debug")
    follow = subprocess.Popen([EGCTL_BIN, "--server", gw.server, "logs", "-f", "--tail", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = follow.stdout.readline()  # the tail: one line from before it started
        assert first.strip(), first
        # A line logged after the follow started reaches it.
        request(gw.api_port, "/apis/v2/healthz?follow-marker")
        deadline = time.time() + 10
        seen = ""
        while time.time() < deadline:
            line = follow.stdout.readline()
            if not line:
                break
            seen += line
            if "admin: GET /apis/v2/healthz -> 200" in line:
                break
        assert "admin: GET /apis/v2/healthz -> 200" in seen, seen
        assert follow.poll() is None, "egctl logs -f ended on its own"
    finally:
        follow.terminate()
        follow.wait(5)

    # A raw follower that goes away: the server closes its side and keeps serving.
    s = socket.create_connection(("127.0.0.1", gw.api_port))
    s.sendall(b"GET /apis/v2/logs?tail=0&follow=true HTTP/1.1\r\nHost: x\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        assert chunk, head
        head += chunk
    assert b"200" in head.split(b"\r\n")[0] and b"chunked" in head.lower(), head
    s.close()
    for _ in range(20):  # new lines after the follower left must not trouble the server
        request(gw.api_port, "/apis/v2/healthz")
    assert gw.healthz()
    assert gw.stop() == 0


test_logs_follow_sees_new_lines.timeout = 60
