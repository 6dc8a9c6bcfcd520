"""Access logs: Easegress's default layout and custom templates (accessLogFormat), JSON lines,
a destination per HTTPServer (accessLogOutput), reopening on SIGHUP for logrotate with no line
lost or doubled, lines for client aborts (499) and 5xx, and bad formats refused at submit."""

import datetime
import json
import os
import re
import signal
import socket
import threading
import time

from harness import (Gateway, Mirror, RawBackend, Reader, free_port, http_response, make_tmp_dir,
                     read_request, request, wait_status, wait_until)

# Easegress's default: [{{Time}}] [{{RemoteAddr}} {{RealIP}} {{Method}} {{URI}} {{Proto}}
# {{StatusCode}}] [{{Duration}} rx:{{ReqSize}}B tx:{{RespSize}}B] [{{Tags}}]
DEFAULT_LINE = re.compile(r"^\[(\S+)\] \[(\S+) (\S+) (\S+) (\S+) (HTTP/1\.\d) (\d{3})\] "
                          r"\[(\S+) rx:(\d+)B tx:(\d+)B\] \[(.*)\]$")
# Go's time.Duration.String() for request-sized values, and RFC 3339 with milliseconds.
GO_DURATION = re.compile(r"^(\d+h)?(\d+m)?\d+(\.\d*[1-9])?(ns|µs|ms|s)$")
RFC3339_MILLI = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$")


def go_duration_seconds(text):
    m = GO_DURATION.match(text)
    assert m, "not a Go duration: %r" % text
    total = 0.0
    rest = text
    for unit, scale in (("h", 3600), ("m", 60)):
        hm = re.match(r"^(\d+)%s(?!s)" % unit, rest)
        if hm:
            total += int(hm.group(1)) * scale
            rest = rest[hm.end():]
    num, unit = re.match(r"^([\d.]+)(ns|µs|ms|s)$", rest).groups()
    return total + float(num) * {"ns": 1e-9, "µs": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        return [l.decode("utf-8") for l in f.read().split(b"\n") if l]


def wait_lines(path, pred, count=1, timeout=5.0):
    """Lines of path for which pred holds, once there are at least count of them."""
    def got():
        lines = [l for l in read_lines(path) if pred(l)]
        return lines if len(lines) >= count else None
    return wait_until(got, timeout, what="%d access log lines in %s" % (count, path))


def fixed_backend(body=b"hello", headers=None):
    """A backend answering every request with the same bytes."""
    def handler(sock, backend):
        reader = Reader(sock)
        while True:
            read_request(reader)
            sock.sendall(http_response(200, body, headers or {"X-Backend": "fixed"}))
    return RawBackend(handler).start()


def raw_roundtrip(port, data):
    """Send data on a new connection and read until the server closes it -> (client port, bytes)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        sock.sendall(data)
        got = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
        return sock.getsockname()[1], got
    finally:
        sock.close()


def server_yaml(name, port, backend, extra="", prefix="/"):
    return ("kind: HTTPServer\nname: %s\nport: %d\n%srules:\n- paths:\n  - pathPrefix: %s\n"
            "    backend: %s\n" % (name, port, extra, prefix, backend))


def proxy_yaml(name, url):
    return ("name: %s\nkind: Pipeline\nfilters:\n- name: proxy\n  kind: Proxy\n  pools:\n"
            "  - servers:\n    - url: %s\n" % (name, url))


def lua_yaml(name, code):
    body = "\n".join("      " + l for l in code.strip("\n").split("\n"))
    return ("name: %s\nkind: Pipeline\nfilters:\n- name: f\n  kind: Lua\n  code: |\n%s\n"
            % (name, body))


def test_default_format_exact():
    """Known requests on the wire -> every field of Easegress's default line, sizes exact."""
    backend = fixed_backend()
    path = os.path.join(make_tmp_dir("alog-"), "access.log")
    gw = Gateway(workers=1, args=("--access-log", path)).start()
    port = free_port()
    # A rewrite: the log shows the URI as the client sent it, as Easegress does.
    gw.create("kind: HTTPServer\nname: s\nport: %d\nrules:\n- paths:\n  - pathPrefix: /in\n"
              "    rewriteTarget: /out\n    backend: p\n" % port)
    gw.create(proxy_yaml("p", backend.url))
    wait_status(port, "/in/warm", 200)
    before = time.time()
    req = (b"GET /in/a?q=1&r=%20x HTTP/1.1\r\nHost: gw.test\r\nUser-Agent: t/1\r\n"
           b"X-Multi: a\r\nX-Multi: b\r\nConnection: close\r\n\r\n")
    client_port, resp = raw_roundtrip(port, req)
    assert resp.startswith(b"HTTP/1.1 200 "), resp
    req404 = b"POST /elsewhere HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
    port404, resp404 = raw_roundtrip(port, req404)
    assert resp404.startswith(b"HTTP/1.1 404 "), resp404
    after = time.time()

    got = wait_lines(path, lambda l: "/elsewhere" in l)
    lines = {m.group(5): m for m in (DEFAULT_LINE.match(l) for l in read_lines(path)) if m}
    ok = lines.get("/in/a?q=1&r=%20x")
    assert ok, read_lines(path)
    when, remote, real, method, uri, proto, status, dur, rx, tx, tags = ok.groups()
    assert RFC3339_MILLI.match(when), when
    t = datetime.datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp()
    assert before - 1 <= t <= after + 1, (when, before, after)
    assert remote == "127.0.0.1:%d" % client_port, (remote, client_port)
    assert (real, method, proto, status) == ("127.0.0.1", "GET", "HTTP/1.1", "200")
    assert 0 < go_duration_seconds(dur) < after - before + 0.5, dur
    assert int(rx) == len(req), (rx, len(req))
    assert int(tx) == len(resp), (tx, len(resp))
    assert tags == "pipeline: p", tags

    nf = lines.get("/elsewhere")
    assert nf, got
    assert nf.group(2) == "127.0.0.1:%d" % port404
    assert (nf.group(4), nf.group(7)) == ("POST", "404")
    assert int(nf.group(9)) == len(req404) and int(nf.group(10)) == len(resp404)
    assert nf.group(11) == ""  # no pipeline ran: Easegress's tags are empty
    assert all(DEFAULT_LINE.match(l) for l in read_lines(path)), read_lines(path)


def test_template_format_exact():
    """A custom accessLogFormat: {{Var}} and {{.Var}}, literal text, and the header lists
    in Easegress's printHeader layout (Go's canonical names, same names grouped)."""
    path = os.path.join(make_tmp_dir("alog-"), "access.log")
    gw = Gateway(workers=1, args=("--access-log", path)).start()
    port = free_port()
    fmt = ("{{Method}} {{URI}} {{.Proto}} {{StatusCode}} {{RealIP}} rx={{ReqSize}} "
           "req=<{{ReqHeaders}}> resp=<{{RespHeaders}}> {{Tags}} {x}")
    gw.create(server_yaml("s", port, "p", extra="accessLogFormat: '%s'\n" % fmt))
    gw.create(lua_yaml("p", 'ctx.resp:set_header("X-Reply", "r1")\n'
                            'ctx:respond(201, "made\\n", "text/plain")'))
    wait_status(port, "/warm", 201)
    req = (b"PUT /t?x=1 HTTP/1.1\r\nHost: gw.test\r\nx-multi: a\r\nX-Multi: b\r\n"
           b"user-agent: t/1\r\nConnection: close\r\n\r\n")
    _, resp = raw_roundtrip(port, req)
    assert resp.startswith(b"HTTP/1.1 201 "), resp
    line = wait_lines(path, lambda l: l.startswith("PUT "))[0]
    # Host is not among Go's request headers; Connection is, as the client sent it.
    expected = ("PUT /t?x=1 HTTP/1.1 201 127.0.0.1 rx=%d "
                "req=<X-Multi: [a b], User-Agent: [t/1], Connection: [close]> "
                "resp=<X-Reply: [r1], Content-Type: [text/plain]> pipeline: p {x}" % len(req))
    assert line == expected, "\n%s\n%s" % (line, expected)


def test_json_lines():
    """accessLogFormat: json -> one JSON object per line, with hostile bytes escaped."""
    backend = fixed_backend(headers={"X-Backend": "fixed", "X-Quote": 'say "hi"'})
    path = os.path.join(make_tmp_dir("alog-"), "access.log")
    gw = Gateway(workers=1, args=("--access-log", path)).start()
    port = free_port()
    gw.create(server_yaml("js", port, "p", extra="accessLogFormat: json\n"))
    gw.create(proxy_yaml("p", backend.url))
    wait_status(port, "/warm", 200)
    req = (b'GET /j/%22q%5C?a="b"\\c HTTP/1.1\r\nHost: gw.test\r\nX-Text: quote " back \\ tab\tend\r\n'
           b"X-Utf8: caf\xc3\xa9\r\nX-Bad: \xff\xfe\r\nx-text: second\r\nConnection: close\r\n\r\n")
    client_port, resp = raw_roundtrip(port, req)
    assert resp.startswith(b"HTTP/1.1 200 "), resp
    line = wait_lines(path, lambda l: "/j/" in l)[0]
    rec = json.loads(line)
    assert rec["server"] == "js"
    assert rec["remoteAddr"] == "127.0.0.1:%d" % client_port
    assert rec["realIP"] == "127.0.0.1"
    assert rec["method"] == "GET"
    assert rec["uri"] == '/j/%22q%5C?a="b"\\c'
    assert rec["proto"] == "HTTP/1.1"
    assert rec["statusCode"] == 200
    assert rec["reqSize"] == len(req) and rec["respSize"] == len(resp)
    assert rec["tags"] == "pipeline: p"
    assert RFC3339_MILLI.match(rec["time"]), rec["time"]
    assert abs(go_duration_seconds(rec["duration"]) - rec["durationMs"] / 1000) < 0.0011
    h = rec["reqHeaders"]
    assert h["X-Text"] == ['quote " back \\ tab\tend', "second"], h
    assert h["X-Utf8"] == ["café"], h
    assert h["X-Bad"] == ["\ufffd\ufffd"], h
    assert h["Host"] == ["gw.test"] and h["Connection"] == ["close"], h
    assert rec["respHeaders"]["X-Quote"] == ['say "hi"'], rec["respHeaders"]
    assert set(rec) == {"time", "server", "remoteAddr", "realIP", "method", "uri", "proto",
                        "statusCode", "duration", "durationMs", "reqSize", "respSize", "tags",
                        "reqHeaders", "respHeaders"}, sorted(rec)


def test_bad_format_and_output_refused():
    """Unknown variables, unclosed actions and relative paths are 400s naming the field; an
    unwritable file is accepted with a warning; the gateway keeps serving."""
    mirror = Mirror(count=1).start()
    gw = Gateway(workers=1, args=("--disable-access-log",)).start()
    port = free_port()
    gw.create(server_yaml("good", port, "p"))
    gw.create(proxy_yaml("p", mirror.urls[0]))
    wait_status(port, "/", 200)
    cases = [
        ("accessLogFormat: '[{{Time}}] {{Foo}}'\n", "accessLogFormat", "unknown variable {{Foo}}"),
        ("accessLogFormat: '{{ Time }}'\n", "accessLogFormat", "unknown variable {{ Time }}"),
        ("accessLogFormat: '{{Time}} {{Method'\n", "accessLogFormat", "unclosed {{"),
        ("accessLogOutput: logs/access.log\n", "accessLogOutput", "absolute"),
    ]
    for extra, field, words in cases:
        status, _, body = gw.api("POST", "/apis/v2/objects",
                                 body=server_yaml("bad", free_port(), "p", extra=extra),
                                 headers={"Content-Type": "application/x-yaml"})
        assert status == 400, (extra, status, body)
        assert field in body and words in body, (extra, body)
    rc, out, err = gw.egctl("create", "-f", "-",
                            stdin=server_yaml("bad", free_port(), "p",
                                              extra="accessLogFormat: '{{Nope}}'\n"))
    assert rc != 0 and "accessLogFormat" in out + err and "Nope" in out + err, (out, err)
    warn = gw.create(server_yaml("w", free_port(), "p",
                                 extra="accessLogOutput: /nonexistent-dir-4411/access.log\n"))
    assert "accessLogOutput" in warn and "cannot be written" in warn, warn
    assert request(port, "/").status == 200


def test_destination_per_server():
    """accessLogOutput: a file per server, stderr, off; the rest go to --access-log."""
    mirror = Mirror(count=1).start()
    tmp = make_tmp_dir("alog-")
    default_path = os.path.join(tmp, "default.log")
    a_path = os.path.join(tmp, "a.log")
    gw = Gateway(workers=2, args=("--access-log", default_path)).start()
    gw.create(proxy_yaml("p", mirror.urls[0]))
    ports = {}
    outputs = {"sa": "accessLogOutput: %s\n" % a_path, "sb": "accessLogOutput: stderr\n",
               "sc": "", "sd": "accessLogOutput: 'off'\n",
               "se": "accessLogOutput: %s\naccessLogFormat: json\n" % a_path}
    for name, extra in outputs.items():
        ports[name] = free_port()
        gw.create(server_yaml(name, ports[name], "p", extra=extra))
    for name, port in ports.items():
        wait_status(port, "/warm", 200)
        for i in range(3):
            assert request(port, "/%s/%d" % (name, i)).status == 200
    json_mark = lambda l: l.startswith("{") and json.loads(l)["uri"].startswith("/se/")
    a_lines = wait_lines(a_path, lambda l: " /sa/" in l or json_mark(l), count=6)
    assert sorted(l.split(" ")[4] for l in a_lines if " /sa/" in l) == ["/sa/0", "/sa/1", "/sa/2"]
    assert sorted(json.loads(l)["uri"] for l in a_lines if json_mark(l)) == ["/se/0", "/se/1", "/se/2"]
    d_lines = wait_lines(default_path, lambda l: " /sc/" in l, count=3)
    assert all(" /sc/" in l or "/warm" in l for l in read_lines(default_path)), read_lines(default_path)

    def stderr_lines():
        got = [l for l in gw.log_text().splitlines() if DEFAULT_LINE.match(l) and " /sb/" in l]
        return got if len(got) == 3 else None
    wait_until(stderr_lines, 5, what="the stderr access log lines")
    everywhere = read_lines(a_path) + read_lines(default_path) + gw.log_text().splitlines()
    assert not [l for l in everywhere if "/sd/" in l], "a server with accessLogOutput: off logged"
    assert len(d_lines) == 3


def test_sighup_reopen_keeps_every_line():
    """logrotate: rename the file, SIGHUP the master; lines go on in a new file, and across
    the two files every request has exactly one line, including those answered just before
    SIGTERM (flushed at shutdown, not by the one-second timer)."""
    mirror = Mirror(count=1).start()
    path = os.path.join(make_tmp_dir("alog-"), "access.log")
    gw = Gateway(workers=2).start()
    port = free_port()
    gw.create(server_yaml("s", port, "p", extra="accessLogOutput: %s\n" % path))
    gw.create(proxy_yaml("p", mirror.urls[0]))
    wait_status(port, "/warm", 200)

    sent = []
    stop = threading.Event()
    lock = threading.Lock()
    counter = [0]

    def client():
        while not stop.is_set():
            with lock:
                counter[0] += 1
                n = counter[0]
            if request(port, "/seq/%d" % n).status == 200:
                with lock:
                    sent.append(n)

    threads = [threading.Thread(target=client) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: len(sent) >= 200, 20, what="200 requests before the rotation")
        os.rename(path, path + ".1")
        gw.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: os.path.exists(path) and os.path.getsize(path) > 0, 5,
                   what="lines in the reopened file")
        wait_until(lambda: "SIGHUP: reopening" in gw.log_text(), 5, what="the reopen log line")
        time.sleep(0.5)  # both workers have had their wake-up
        with lock:
            mark = len(sent)
        wait_until(lambda: len(sent) >= mark + 200, 20, what="200 requests after the rotation")
    finally:
        stop.set()
        for t in threads:
            t.join()
    with lock:
        late = [n for n in sent if n > counter[0] - 50]
    assert gw.stop() == 0

    def ids(p):
        return [int(m.group(1)) for m in (re.search(r" /seq/(\d+) ", l) for l in read_lines(p)) if m]
    old, new = ids(path + ".1"), ids(path)
    assert old and new
    assert sorted(old + new) == sorted(sent), "lost %s, doubled %s" % (
        sorted(set(sent) - set(old + new))[:10], sorted(n for n in set(old) & set(new))[:10])
    assert set(late) <= set(new), "late lines in the rotated file: %s" % sorted(set(late) - set(new))


def test_client_abort_499_and_5xx():
    """A client that goes away while the pipeline waits -> 499; a dead backend -> 502; a Lua
    error -> 500; each with its pipeline tag."""
    path = os.path.join(make_tmp_dir("alog-"), "access.log")
    gw = Gateway(workers=1, args=("--access-log", path)).start()
    port = free_port()
    dead = free_port()
    gw.create("kind: HTTPServer\nname: s\nport: %d\nrules:\n- paths:\n"
              "  - pathPrefix: /slow\n    backend: slow\n"
              "  - pathPrefix: /dead\n    backend: dead\n"
              "  - pathPrefix: /boom\n    backend: boom\n" % port)
    gw.create(lua_yaml("slow", 'eg.sleep(3000)\nctx:respond(200, "late\\n")'))
    gw.create(proxy_yaml("dead", "http://127.0.0.1:%d" % dead))
    gw.create(lua_yaml("boom", 'error("boom on purpose")'))
    wait_status(port, "/boom", 500)

    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"GET /slow/abort HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.3)
    sock.close()
    assert request(port, "/dead/x").status == 502
    line = wait_lines(path, lambda l: "/slow/abort" in l)[0]
    m = DEFAULT_LINE.match(line)
    assert m and m.group(7) == "499" and m.group(11) == "pipeline: slow", line
    assert 0.25 < go_duration_seconds(m.group(8)) < 2.5, line
    assert int(m.group(10)) == 0, line  # nothing was sent
    dead_line = DEFAULT_LINE.match(wait_lines(path, lambda l: "/dead/x" in l)[0])
    assert dead_line.group(7) == "502" and dead_line.group(11) == "pipeline: dead"
    boom = [DEFAULT_LINE.match(l) for l in read_lines(path) if " /boom " in l]
    assert boom and all(b.group(7) == "500" and b.group(11) == "pipeline: boom" for b in boom)


def test_sigterm_drain_lines_written():
    """Requests still in flight when SIGTERM comes finish during the drain; their lines are
    written when the workers stop, though no flush timer runs after them."""
    path = os.path.join(make_tmp_dir("alog-"), "access.log")
    gw = Gateway(workers=2, args=("--access-log", path)).start()
    port = free_port()
    gw.create(server_yaml("s", port, "slow"))
    gw.create(lua_yaml("slow", 'eg.sleep(800)\nctx:respond(200, "done\\n")'))
    wait_status(port, "/warm", 200)
    results = []

    def slow(i):
        results.append(request(port, "/drain/%d" % i, timeout=10).status)

    threads = [threading.Thread(target=slow, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    time.sleep(0.3)  # all six are waiting in eg.sleep
    gw.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join()
    gw.proc.wait(15)  # a second SIGTERM (gw.stop) would mean "now"
    rc = gw.stop()
    assert rc == 0, "exit code %r\n%s" % (rc, gw.log_tail(20))
    assert results == [200] * 6, results
    lines = [DEFAULT_LINE.match(l) for l in read_lines(path) if "/drain/" in l]
    got = sorted(m.group(5) for m in lines if m)
    assert got == ["/drain/%d" % i for i in range(6)], got
