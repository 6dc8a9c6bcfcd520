"""Regressions for crashes found by the ASan build (make asan-test): each one crashed or
corrupted the server process; the harness fails a test whose gateway log holds a
sanitizer report."""

import socket
import time

from harness import (Gateway, RawBackend, Reader, free_port, http_server, proxy_pipeline,
                     read_headers, read_request, request, wait_status)


def test_backend_answering_before_reading_the_body():
    """The backend answers (keep-alive) before it reads a large request body: the
    gateway's write of the body is still in flight when the response is complete. That
    connection must not go back to the pool (reusing it re-queued the in-flight write and
    wrote from freed memory: the server process died)."""

    def handler(sock, backend):
        reader = Reader(sock)
        while True:
            if not reader.readline():
                return
            headers = {k.lower(): v for k, v in read_headers(reader)}
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            time.sleep(1.0)  # the body is read only later
            length = int(headers.get("content-length", "0"))
            if length:
                reader.read_exact(length)

    backend = RawBackend(handler)
    # a small receive window keeps most of the body in the gateway's write queue
    backend.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    backend.start()
    gw = Gateway(workers=1).start()
    port = free_port()
    gw.create(http_server("server", port, [("pathPrefix: /", "pipeline")]))
    gw.create(proxy_pipeline("pipeline", [backend.url]))
    wait_status(port, "/", 200)
    time.sleep(1.2)  # the backend is ready for the next request
    pid = gw.server_pid()

    resp = request(port, "/big", method="POST", body=b"x" * (3 << 20), timeout=20)
    assert resp.status == 200, resp
    for _ in range(3):
        resp = request(port, "/again", timeout=20)
        assert resp.status == 200, resp
    assert gw.server_pid() == pid, "the server process was restarted"
    gw.stop()


test_backend_answering_before_reading_the_body.timeout = 60


def test_bytes_after_an_answer_to_head_sent_upstream():
    """A Lua filter turns the client's GET into a HEAD to the backend, which answers with
    two responses in one packet. The first (body-less) completes inside the response
    callback and the connection goes back to the pool; parsing the rest then had no call
    to report to (NULL dereference, the server process died)."""

    def handler(sock, backend):
        reader = Reader(sock)
        while True:
            req = read_request(reader)
            if req is None:
                return
            if req[0] == "HEAD":
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                             b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            else:
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    backend = RawBackend(handler).start()
    gw = Gateway(workers=1).start()
    port = free_port()
    gw.create(http_server("server", port, [("pathPrefix: /", "pipeline")]))
    gw.create("""name: pipeline
kind: Pipeline
flow:
  - filter: to-head
  - filter: proxy
filters:
  - name: to-head
    kind: Lua
    code: |
      if ctx.req:path() == "/head" then ctx.req:set_method("HEAD") end
  - name: proxy
    kind: Proxy
    pools:
    - servers:
      - url: %s
""" % backend.url)
    wait_status(port, "/", 200)
    pid = gw.server_pid()
    for _ in range(3):
        assert request(port, "/head", timeout=10).status == 200
        assert request(port, "/", timeout=10).status == 200
    assert gw.server_pid() == pid, "the server process was restarted"
    gw.stop()
