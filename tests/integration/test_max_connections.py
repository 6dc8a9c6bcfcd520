"""maxConnections caps the open client connections of an HTTPServer (per worker share): the
connections past it are closed at once, the ones within it keep being served, and once some
close, new ones are accepted again."""

import socket
import time

from harness import Gateway, Mirror, free_port, request, wait_status

SERVER = """\
kind: HTTPServer
name: capped
port: %d
maxConnections: 3
rules:
- paths:
  - pathPrefix: /
    backend: p
"""

PIPELINE = """\
name: p
kind: Pipeline
filters:
- name: proxy
  kind: Proxy
  pools:
  - servers:
    - url: %s
"""


def open_conn(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    return s


def served(sock):
    """One keep-alive request on an open connection: True if answered."""
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = sock.recv(4096)
        return data.startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def test_max_connections_caps_open_connections():
    mirror = Mirror(count=1).start()
    gw = Gateway(workers=1).start()
    port = free_port()
    gw.create(SERVER % port)
    gw.create(PIPELINE % mirror.urls[0])
    wait_status(port, "/", 200)
    time.sleep(0.2)  # the probe's connection is closed by now
    held = [open_conn(port) for _ in range(3)]
    for s in held:
        assert served(s)
    extra = open_conn(port)
    assert not served(extra), "a 4th connection was served past maxConnections: 3"
    extra.close()
    for s in held:
        assert served(s), "a connection within the cap stopped being served"
    held.pop().close()
    time.sleep(0.2)
    again = open_conn(port)
    assert served(again), "a new connection was refused after one closed"
    again.close()
    for s in held:
        s.close()
