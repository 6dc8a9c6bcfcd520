#!/usr/bin/python3
"""Mirror backend: answers every request with a description of that request.

The body has the layout of Easegress's example mirror service:

    Your Request
    ===============
    Method: POST
    URL   : /pipeline
    Header: map[Accept:[*/*] Content-Type:[application/x-www-form-urlencoded]]
    Body  : Hello, Easegress

`URL` is the decoded path plus the re-encoded, key-sorted query, and `Header`
is Go's formatting of a map[string][]string (canonical keys, sorted, Host and
Transfer-Encoding left out), as a Go net/http server would see the request.

Extra response headers, for tests:
    X-Mirror-Port     the port that served the request
    X-Mirror-Conns    TCP connections accepted so far on that port
    X-Mirror-Raw-URI  the request target exactly as received (escapes kept)
    X-Mirror-Host     the Host header as received

Usage: /usr/bin/python3 examples/backend/mirror.py [--host 127.0.0.1]
                                                   [--ports 9095,9096,9097]
Standard library only. SIGTERM or Ctrl-C stops it.
"""

import argparse
import http.server
import signal
import sys
import threading
import urllib.parse

TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789"
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
MAX_CHUNK_LINE = 4096


def canonical_key(key):
    """Go's textproto.CanonicalMIMEHeaderKey: X-FORWARDED-for -> X-Forwarded-For.

    Keys holding a byte that is not a token character are left unchanged."""
    if not key or any(c not in TOKEN_CHARS for c in key):
        return key
    out, upper = [], True
    for c in key:
        out.append(c.upper() if upper else c.lower())
        upper = c == "-"
    return "".join(out)


def go_header_map(items):
    """Go's fmt %v of an http.Header: map[A:[x] B:[y z]], keys sorted."""
    header = {}
    for name, value in items:
        key = canonical_key(name)
        if key in ("Host", "Transfer-Encoding"):
            continue
        header.setdefault(key, []).append(value)
    parts = ["%s:[%s]" % (k, " ".join(header[k])) for k in sorted(header)]
    return "map[" + " ".join(parts) + "]"


def go_url(target):
    """URL line of the mirror: decoded path + '?' + Go's url.Values.Encode()."""
    if target.startswith(("http://", "https://")):
        parts = urllib.parse.urlsplit(target)
        path, query = parts.path, parts.query
    else:
        path, _, query = target.partition("?")
    url = urllib.parse.unquote_to_bytes(path)
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    pairs.sort(key=lambda kv: kv[0])  # stable: values keep their order
    encoded = urllib.parse.urlencode(pairs)
    if encoded:
        url += b"?" + encoded.encode()
    return url


def mirror_body(method, target, header_items, body):
    head = ("Your Request\n"
            "===============\n"
            "Method: %s\n" % method).encode()
    return (head + b"URL   : " + go_url(target) + b"\n"
            + ("Header: %s\n" % go_header_map(header_items)).encode()
            + b"Body  : " + body)


class MirrorHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def version_string(self):
        return "mirror"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)

    def read_chunked(self):
        body = bytearray()
        while True:
            line = self.rfile.readline(MAX_CHUNK_LINE)
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                break
            body += self.rfile.read(size)
            self.rfile.readline(MAX_CHUNK_LINE)
        while self.rfile.readline(MAX_CHUNK_LINE).strip():
            pass  # trailers
        return bytes(body)

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            return self.read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def handle_mirror(self):
        try:
            body = self.read_body()
        except (ValueError, OSError) as err:
            self.send_error(400, "bad body: %s" % err)
            return
        # The target as sent: http.server rewrites a leading '//' in self.path.
        words = self.requestline.split()
        target = words[1] if len(words) >= 2 else self.path
        content = mirror_body(self.command, target, self.headers.items(), body)
        head = [
            "%s 200 OK" % self.protocol_version,
            "Server: %s" % self.version_string(),
            "Date: %s" % self.date_time_string(),
            "Content-Type: text/plain; charset=utf-8",
            "Content-Length: %d" % len(content),
            "X-Mirror-Port: %d" % self.server.server_address[1],
            "X-Mirror-Conns: %d" % self.server.accepted,
            "X-Mirror-Raw-URI: %s" % target,
            "X-Mirror-Host: %s" % self.headers.get("Host", ""),
        ]
        response = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1", "replace")
        if self.command != "HEAD":
            response += content
        # One write per response: separate small writes for head and body meet
        # Nagle's algorithm and the peer's delayed ACK (a 40 ms stall each).
        self.wfile.write(response)
        self.log_request(200, len(content))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_mirror
    do_HEAD = do_OPTIONS = do_TRACE = handle_mirror


class MirrorServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address, verbose=False):
        self.accepted = 0
        self.verbose = verbose
        super().__init__(address, MirrorHandler)

    def get_request(self):
        conn = super().get_request()
        self.accepted += 1  # only the serving thread accepts
        return conn


def parse_args(argv):
    parser = argparse.ArgumentParser(description="mirror backend")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--ports", default="9095,9096,9097",
                        help="comma-separated ports to listen on")
    parser.add_argument("--verbose", action="store_true",
                        help="log every request on stderr")
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    ports = [int(p) for p in args.ports.split(",") if p.strip()]
    servers = [MirrorServer((args.host, port), args.verbose) for port in ports]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print("mirror listening on http://%s:%d" % (args.host, server.server_address[1]),
              flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
