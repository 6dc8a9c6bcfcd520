"""Helpers for the integration tests: real gateway, real backends, real clients.

Standard library only; run with /usr/bin/python3. Every process, socket server
and temporary directory made here is registered and torn down by
cleanup_all(), which the runner calls after each test (and atexit).

Main pieces:
    free_port()                  a port nobody listens on, outside the ephemeral range
    wait_until(fn, timeout)      poll until fn() is truthy
    Gateway                      bin/easegress-server in a temp data dir
    egctl(*args, stdin=, server=) -> (rc, stdout, stderr)
    Mirror                       examples/backend/mirror.py on chosen ports
    RawBackend                   in-process TCP backend with a custom handler
    request(), Client            normal HTTP through http.client
    RawConn                      raw socket client (smuggling, pipelining)
    run_concurrently(fn, n)      n calls in n threads, results in order
"""

import atexit
import gzip
import http.client
import http.server
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# EG_BIN_DIR=build-asan/bin (make asan-test) tests another build; relative to the repo root.
BIN_DIR = os.path.join(ROOT, os.environ.get("EG_BIN_DIR", "bin"))
SERVER_BIN = os.environ.get("EG_SERVER_BIN", os.path.join(BIN_DIR, "easegress-server"))
EGCTL_BIN = os.environ.get("EG_EGCTL_BIN", os.path.join(BIN_DIR, "egctl"))
PYTHON = "/usr/bin/python3"
MIRROR_PY = os.path.join(ROOT, "examples", "backend", "mirror.py")
TMP_ROOT = os.path.join(ROOT, "tests", "integration", "tmp")
KEEP_TMP = bool(os.environ.get("EG_KEEP_TMP"))

# ---------------------------------------------------------------------------
# resources: everything started is registered here and stopped by cleanup_all


_live = []
_live_lock = threading.Lock()


def register(resource_obj):
    """Track an object with close() (and optionally log_tail()) for cleanup."""
    with _live_lock:
        _live.append(resource_obj)
    return resource_obj


def unregister(resource_obj):
    with _live_lock:
        if resource_obj in _live:
            _live.remove(resource_obj)


def cleanup_all():
    """Close every registered resource, newest first. Never raises."""
    with _live_lock:
        items = list(reversed(_live))
        _live.clear()
    for item in items:
        try:
            item.close()
        except Exception as err:  # cleanup must go on
            print("cleanup of %r failed: %s" % (item, err), file=sys.stderr)


atexit.register(cleanup_all)


def failure_logs(lines=40):
    """Tails of the logs of live processes, to print when a test fails."""
    out = []
    with _live_lock:
        items = list(_live)
    for item in items:
        tail = getattr(item, "log_tail", None)
        if tail:
            text = tail(lines)
            if text:
                out.append("--- %s (last %d lines) ---\n%s" % (item, lines, text))
    return "\n".join(out)


def _raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


_raise_fd_limit()


class TempDir:
    """A directory under tests/integration/tmp, removed at cleanup."""

    def __init__(self, prefix):
        os.makedirs(TMP_ROOT, exist_ok=True)
        self.path = tempfile.mkdtemp(prefix=prefix, dir=TMP_ROOT)
        register(self)

    def close(self):
        if not KEEP_TMP:
            shutil.rmtree(self.path, ignore_errors=True)

    def __repr__(self):
        return "TempDir(%s)" % self.path


def make_tmp_dir(prefix="t-"):
    return TempDir(prefix).path


# ---------------------------------------------------------------------------
# ports and waiting

_given_ports = set()


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port):
    for addr in ("127.0.0.1", "0.0.0.0"):
        with socket.socket() as s:
            try:
                s.bind((addr, port))
            except OSError:
                return False
    return True


def free_port():
    """A free TCP port below the ephemeral range, never handed out twice.

    Staying below the ephemeral range keeps outgoing connections (which take
    their source ports from it) from occupying a port a test is about to use."""
    high = _ephemeral_low() - 1
    for _ in range(1000):
        port = random.randint(15000, high)
        if port not in _given_ports and _bindable(port):
            _given_ports.add(port)
            return port
    raise RuntimeError("no free port found")


class Abort(Exception):
    """Raised inside a wait_until condition to stop waiting at once."""


def wait_until(fn, timeout=10.0, interval=0.02, what=None):
    """Call fn() until it returns a truthy value, which is returned.

    Exceptions from fn count as 'not yet', except Abort, which is re-raised as
    an AssertionError. On timeout raises AssertionError naming `what` and the
    last value or exception seen."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = fn()
            if value:
                return value
            last = value
        except Abort as err:
            raise AssertionError(str(err)) from None
        except Exception as err:  # not ready yet
            last = err
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s (last: %r)"
                                 % (timeout, what or getattr(fn, "__name__", "condition"), last))
        time.sleep(interval)


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_port(port, host="127.0.0.1", timeout=10.0):
    wait_until(lambda: port_open(port, host), timeout, what="port %d to accept" % port)


def pid_alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


def child_pids(pid):
    """Direct children of pid, from /proc/<pid>/task/*/children (pgrep -P fallback)."""
    kids = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                    kids += [int(x) for x in f.read().split()]
            except OSError:
                pass
    except OSError:
        return []
    if not kids and shutil.which("pgrep"):
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        kids = [int(x) for x in out.split()]
    return [k for k in sorted(set(kids)) if pid_alive(k)]


# What ASan, LSan and UBSan print first in a report (on the gateway's stderr, in its log).
_SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
_sanitizer_reports = []


def take_sanitizer_reports():
    """Sanitizer reports found in gateway logs since the last call (the runner fails the
    test with them: reports found while cleaning up cannot raise into the test)."""
    with _live_lock:
        found = list(_sanitizer_reports)
        _sanitizer_reports.clear()
    return found


def _tail(path, lines, skip=None):
    """The last `lines` lines of a log (those `skip` does not reject)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - (4 << 20 if skip else 64 << 10)))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    kept = [l for l in data.splitlines() if not (skip and skip(l))]
    return "\n".join(kept[-lines:])


def _is_access_log_line(line):
    # Easegress's access log layout starts "[time] [": the server's own lines start with a date.
    return line.startswith("[") and "] [" in line[:60]


# ---------------------------------------------------------------------------
# responses and clients


class Response:
    """A parsed HTTP response: status, reason, headers (ordered list), body (bytes)."""

    def __init__(self, status, reason, headers, body, version="HTTP/1.1"):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.version = version

    def header(self, name, default=None):
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def decoded_body(self):
        """Body with a gzip Content-Encoding undone (once)."""
        if (self.header("Content-Encoding") or "").lower() == "gzip":
            return gzip.decompress(self.body)
        return self.body

    @property
    def mirror_port(self):
        value = self.header("X-Mirror-Port")
        return int(value) if value else None

    def mirror_field(self, field):
        """A line of the mirror body: mirror_field('URL') -> '/pipeline'."""
        return mirror_field(self.text, field)

    def __repr__(self):
        return "<Response %s %s %r>" % (self.status, self.reason, self.body[:200])


def mirror_field(text, field):
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == field:
            return value[1:] if value.startswith(" ") else value
    return None


def _send_http_client(conn, method, path, body, headers):
    names = {k.lower() for k in (headers or {})}
    conn.putrequest(method, path, skip_host="host" in names, skip_accept_encoding=True)
    for key, value in (headers or {}).items():
        conn.putheader(key, value)
    if body is not None and "content-length" not in names \
            and "transfer-encoding" not in names:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    data = resp.read()
    return Response(resp.status, resp.reason, resp.getheaders(), data,
                    "HTTP/1.1" if resp.version == 11 else "HTTP/1.0")


def request(port, path="/", method="GET", body=None, headers=None, host="127.0.0.1",
            timeout=10.0, source_ip=None):
    """One request on a fresh connection (http.client). body: bytes or str."""
    if isinstance(body, str):
        body = body.encode()
    source = (source_ip, 0) if source_ip else None
    conn = http.client.HTTPConnection(host, port, timeout=timeout, source_address=source)
    try:
        return _send_http_client(conn, method, path, body, headers)
    finally:
        conn.close()


class Client:
    """A keep-alive client: every request reuses one connection while it lives."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0, source_ip=None):
        source = (source_ip, 0) if source_ip else None
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout,
                                               source_address=source)

    def request(self, path="/", method="GET", body=None, headers=None):
        if isinstance(body, str):
            body = body.encode()
        return _send_http_client(self.conn, method, path, body, headers)

    def get(self, path, headers=None):
        return self.request(path, headers=headers)

    def local_port(self):
        return self.conn.sock.getsockname()[1] if self.conn.sock else None

    def close(self):
        self.conn.close()


def wait_status(port, path, status, timeout=10.0, **kw):
    """Poll until a request answers `status`; returns that response."""
    def check():
        resp = request(port, path, timeout=2.0, **kw)
        return resp if resp.status == status else None
    return wait_until(check, timeout, what="%s on port %d to answer %d" % (path, port, status))


class Reader:
    """Buffered reads from a socket: readline, read_exact, read_until_close."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            self.eof = True
        self.buf += data
        return bool(data)

    def readline(self, limit=1 << 20):
        while b"\n" not in self.buf:
            if len(self.buf) > limit or not self._fill():
                line, self.buf = self.buf, b""
                return line
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise ConnectionError("connection closed after %d of %d bytes"
                                      % (len(self.buf), n))
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_until_close(self):
        while self._fill():
            pass
        data, self.buf = self.buf, b""
        return data


def read_headers(reader):
    """Header lines up to the blank line -> list of (name, value)."""
    headers = []
    while True:
        line = reader.readline()
        if not line:
            raise ConnectionError("connection closed inside the header")
        line = line.rstrip(b"\r\n")
        if not line:
            return headers
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))


def read_chunked(reader):
    body = b""
    while True:
        size = int(reader.readline().split(b";")[0].strip(), 16)
        if size == 0:
            read_headers(reader)  # trailers
            return body
        body += reader.read_exact(size)
        reader.read_exact(2)


def read_body(reader, headers, no_body):
    """Message body per RFC 9112 §6.3 (response side when no_body says so)."""
    lower = {k.lower(): v for k, v in headers}
    if no_body:
        return b""
    if "chunked" in lower.get("transfer-encoding", "").lower():
        return read_chunked(reader)
    if "content-length" in lower:
        return reader.read_exact(int(lower["content-length"]))
    return reader.read_until_close()


def read_response(reader, head=False):
    """One response (1xx included) from reader -> Response."""
    line = reader.readline()
    if not line:
        raise ConnectionError("connection closed before a response")
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError("bad status line %r" % line)
    status = int(parts[1])
    headers = read_headers(reader)
    no_body = head or status < 200 or status in (204, 304)
    body = read_body(reader, headers, no_body)
    return Response(status, parts[2] if len(parts) > 2 else "", headers, body, parts[0])


def read_request(reader):
    """One request from reader -> (method, target, headers, body), or None at EOF."""
    line = reader.readline()
    if not line:
        return None
    method, target, _ = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers = read_headers(reader)
    lower = {k.lower(): v for k, v in headers}
    if "chunked" in lower.get("transfer-encoding", "").lower():
        body = read_chunked(reader)
    else:
        body = reader.read_exact(int(lower.get("content-length", "0") or 0))
    return method, target, headers, body


class RawConn:
    """A raw TCP client: send exact bytes, read responses, see the peer close."""

    def __init__(self, port, host="127.0.0.1", timeout=5.0, track=True):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.reader = Reader(self.sock)
        if track:  # closed by cleanup_all; untracked ones must be closed by the caller
            register(self)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def response(self, head=False, interim=False, timeout=None):
        """Next response; 1xx responses are skipped unless interim=True."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        while True:
            resp = read_response(self.reader, head)
            if interim or resp.status >= 200 or resp.status == 101:
                return resp

    def closed_by_peer(self, timeout=3.0):
        """True if the peer closes (EOF or reset) within timeout, unread bytes ignored."""
        deadline = time.monotonic() + timeout
        self.reader.buf = b""
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                if not self.sock.recv(65536):
                    return True
            except socket.timeout:
                return False
            except OSError:
                return True
        return False

    def close(self):
        unregister(self)
        try:
            self.sock.close()
        except OSError:
            pass


def raw_exchange(port, data, timeout=5.0, head=False):
    """Send data on a new connection and read one response."""
    conn = RawConn(port, timeout=timeout)
    try:
        conn.send(data)
        return conn.response(head=head)
    finally:
        conn.close()


def run_concurrently(fn, n, timeout=120.0):
    """Run fn(i) for i in range(n), one thread each; returns [(ok, value_or_exc)]."""
    results = [None] * n

    def worker(i):
        try:
            results[i] = (True, fn(i))
        except BaseException as err:  # reported to the caller
            results[i] = (False, err)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return [r if r is not None else (False, TimeoutError("thread still running"))
            for r in results]


class LoadLoop:
    """Background client threads sending requests in a loop until stop().

    Each thread keeps one keep-alive connection (reopened after an error) and
    records every outcome; check(resp) returns None when a response is good,
    else a reason string."""

    def __init__(self, port, path, threads=4, check=None, headers=None, keepalive=True):
        self.port, self.path, self.headers = port, path, headers
        self.check = check or (lambda r: None if r.status == 200 else "status %d" % r.status)
        self.keepalive = keepalive
        self.ok = 0
        self.failures = []
        self.responses_seen = []  # latest few responses, for inspection
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        register(self)

    def start(self):
        for t in self._threads:
            t.start()
        return self

    def _record(self, resp, failure):
        with self._lock:
            if failure:
                self.failures.append(failure)
            else:
                self.ok += 1
                if resp is not None:
                    self.on_response(resp)

    def on_response(self, resp):
        """Hook for subclasses/tests (called under the lock)."""
        self.responses_seen.append(resp)
        del self.responses_seen[:-50]

    def _run(self):
        client = None
        while not self._stop.is_set():
            try:
                if client is None or not self.keepalive:
                    client = Client(self.port, timeout=10.0)
                resp = client.request(self.path, headers=self.headers)
                self._record(resp, self.check(resp))
            except Exception as err:
                self._record(None, "%s: %s" % (type(err).__name__, err))
                if client:
                    client.close()
                client = None
        if client:
            client.close()

    def wait_requests(self, n, timeout=10.0):
        start = self.ok
        wait_until(lambda: self.ok - start >= n, timeout, what="%d more requests" % n)

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(15)
        return self

    def close(self):
        unregister(self)
        self.stop()


# ---------------------------------------------------------------------------
# egctl


def egctl(*args, stdin=None, server=None, timeout=30.0):
    """Run bin/egctl -> (rc, stdout, stderr). server: 'host:port' for --server."""
    if not os.path.exists(EGCTL_BIN):
        raise AssertionError("%s not built (make all)" % EGCTL_BIN)
    cmd = [EGCTL_BIN]
    if server:
        cmd += ["--server", server]
    cmd += [str(a) for a in args]
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


# ---------------------------------------------------------------------------
# the gateway


class Gateway:
    """bin/easegress-server with its own data dir and a free admin port.

    gw = Gateway(workers=1).start()      # waits for /apis/v2/healthz
    gw.create(yaml_text)                  # egctl create -f -, must succeed
    gw.stop() -> exit code                # SIGTERM, SIGKILL after a timeout
    gw.kill_server()                      # kill -9 of the forked server process
    gw.kill_master()                      # kill -9 of the master; the server must follow
    gw.kill_all()                         # kill -9 of master and server
    """

    def __init__(self, workers=1, name="eg-test", data_dir=None, args=(), api_port=None):
        self.workers = workers
        self.name = name
        self.extra_args = list(args)
        self.api_port = api_port or free_port()
        self.dir = make_tmp_dir("gw-")
        self.data_dir = data_dir or os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "server.log")
        self.proc = None
        self.pgid = None
        self.starts = 0
        self.log_checked = 0  # bytes of the log already searched for sanitizer reports
        register(self)

    def __repr__(self):
        return "Gateway(api=%d, data=%s)" % (self.api_port, self.data_dir)

    @property
    def server(self):
        return "127.0.0.1:%d" % self.api_port

    def command(self):
        return [SERVER_BIN, "--api-addr", self.server, "--data-dir", self.data_dir,
                "--workers", str(self.workers), "--name", self.name] + self.extra_args

    def spawn(self):
        """Start the master without waiting for readiness."""
        if not os.path.exists(SERVER_BIN):
            raise AssertionError("%s not built (make all)" % SERVER_BIN)
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(b"==== start %d: %s\n" % (self.starts, " ".join(self.command()).encode()))
        log.flush()
        self.proc = subprocess.Popen(self.command(), cwd=ROOT, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        self.pgid = self.proc.pid
        return self

    def start(self, timeout=15.0):
        self.spawn()
        self.wait_ready(timeout)
        return self

    def healthz(self):
        status, _, _ = self.api("GET", "/apis/v2/healthz", timeout=1.0)
        return status == 200

    def wait_ready(self, timeout=15.0):
        def ready():
            if self.proc.poll() is not None:
                raise Abort("easegress-server exited with %s during start:\n%s"
                            % (self.proc.returncode, self.log_tail(30)))
            return self.healthz()
        wait_until(ready, timeout, interval=0.05, what="healthz of %s" % self.server)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def server_pids(self):
        """Pids of the server process(es) the master forked."""
        return child_pids(self.proc.pid) if self.running() else []

    def server_pid(self, timeout=10.0):
        pids = wait_until(self.server_pids, timeout, what="the forked server process")
        return pids[0]

    def stop(self, timeout=10.0):
        """SIGTERM the master and wait; SIGKILL the group after timeout. -> exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                print("%r did not stop on SIGTERM within %.0fs; killing" % (self, timeout),
                      file=sys.stderr)
                self._kill_group()
                self.proc.wait(5)
        rc = self.proc.returncode
        self._kill_group()  # nothing of ours may outlive the master
        self.check_sanitizer_reports()
        return rc

    def check_sanitizer_reports(self):
        """Raise (and record for the runner) if the log written since the last check holds
        a sanitizer report. Called once the processes are down, so reports written at exit
        (LeakSanitizer) are in."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.log_checked)
                text = f.read().decode("utf-8", "replace")
                self.log_checked = f.tell()
        except OSError:
            return
        lines = text.splitlines()
        hits = [i for i, line in enumerate(lines) if any(m in line for m in _SANITIZER_MARKERS)]
        if not hits:
            return
        report = "sanitizer report in %s:\n%s" % (self.log_path,
                                                   "\n".join(lines[max(0, hits[0] - 2):hits[0] + 60]))
        with _live_lock:
            _sanitizer_reports.append(report)
        raise AssertionError(report)

    def restart(self, timeout=15.0):
        rc = self.stop()
        self.start(timeout)
        return rc

    def kill_server(self):
        """kill -9 of the forked server process only; returns its pid."""
        pid = self.server_pid()
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill_master(self, timeout=5.0):
        """kill -9 of the master only; the server must then exit by itself
        (PR_SET_PDEATHSIG). Returns the server pids it had."""
        pids = self.server_pids()
        self.proc.kill()
        self.proc.wait(5)
        try:
            wait_until(lambda: not any(pid_alive(p) for p in pids), timeout,
                       what="server process to exit after its master died")
        finally:
            self._kill_group()
        return pids

    def kill_all(self):
        """kill -9 of the master and the server process, as a crash would."""
        pids = self.server_pids()
        self.proc.kill()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(5)
        wait_until(lambda: not any(pid_alive(p) for p in pids), 5, what="server process to die")
        self._kill_group()

    def _kill_group(self):
        if self.pgid:
            try:
                os.killpg(self.pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def close(self):
        unregister(self)
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.stop(timeout=5.0)
            else:
                self.check_sanitizer_reports()
        except AssertionError:
            pass  # recorded: the runner fails the test with take_sanitizer_reports()
        finally:
            self._kill_group()

    def log_tail(self, lines=40):
        # The server's own lines: access log lines (on stdout by default) would hide them.
        return _tail(self.log_path, lines, skip=_is_access_log_line)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # --- admin API and egctl

    def api(self, method, path, body=None, headers=None, timeout=10.0):
        """Admin API call -> (status, headers, body text)."""
        resp = request(self.api_port, path, method=method, body=body, headers=headers,
                       timeout=timeout)
        return resp.status, resp.headers, resp.text

    def objects(self):
        """{name: object} from GET /apis/v2/objects."""
        status, _, text = self.api("GET", "/apis/v2/objects")
        assert status == 200, "GET /apis/v2/objects -> %d %s" % (status, text)
        return {o["name"]: o for o in json.loads(text or "[]")}

    def egctl(self, *args, stdin=None, timeout=30.0):
        return egctl(*args, stdin=stdin, server=self.server, timeout=timeout)

    def create(self, yaml_text):
        """egctl create -f - ; asserts success and returns stderr (warnings)."""
        rc, out, err = self.egctl("create", "-f", "-", stdin=yaml_text)
        assert rc == 0, "egctl create failed (rc %d): %s%s\n%s" % (rc, out, err, yaml_text)
        return err

    def apply(self, yaml_text):
        """egctl apply -f - ; asserts success."""
        rc, out, err = self.egctl("apply", "-f", "-", stdin=yaml_text)
        assert rc == 0, "egctl apply failed (rc %d): %s%s\n%s" % (rc, out, err, yaml_text)
        return err

    def delete(self, kind, name):
        rc, out, err = self.egctl("delete", kind, name)
        assert rc == 0, "egctl delete %s %s failed (rc %d): %s%s" % (kind, name, rc, out, err)


# ---------------------------------------------------------------------------
# backends


class HandlerBackend:
    """A backend inside the test process: `handler` is an http.server.BaseHTTPRequestHandler
    subclass (HTTP/1.1, quiet), served by threads on a free loopback port until close()."""

    def __init__(self, handler):
        self.port = free_port()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        register(self)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def close(self):
        unregister(self)
        self.httpd.shutdown()
        self.httpd.server_close()


class QuietHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class Mirror:
    """examples/backend/mirror.py as a subprocess on the given (or free) ports."""

    def __init__(self, count=3, ports=None):
        self.ports = list(ports) if ports else [free_port() for _ in range(count)]
        self.dir = make_tmp_dir("mirror-")
        self.log_path = os.path.join(self.dir, "mirror.log")
        self.proc = None
        register(self)

    def __repr__(self):
        return "Mirror(%s)" % ",".join(map(str, self.ports))

    @property
    def urls(self):
        return ["http://127.0.0.1:%d" % p for p in self.ports]

    def start(self, timeout=10.0):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [PYTHON, MIRROR_PY, "--host", "127.0.0.1",
                 "--ports", ",".join(map(str, self.ports))],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        for port in self.ports:
            def up(port=port):
                if self.proc.poll() is not None:
                    raise Abort("mirror exited: %s" % self.log_tail(10))
                return port_open(port)
            wait_until(up, timeout, what="mirror port %d" % port)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def close(self):
        unregister(self)
        self.stop()

    def log_tail(self, lines=40):
        return _tail(self.log_path, lines)


class RawBackend:
    """An in-process TCP backend; handler(sock, backend) runs per connection in a thread.

    backend.accepted counts accepted connections. Helpers for handlers:
    Reader(sock), read_request(reader), http_response(...)."""

    def __init__(self, handler, port=None):
        self.handler = handler
        self.port = port or free_port()
        self.accepted = 0
        self.requests = []  # handlers may append what they saw
        self.lock = threading.Lock()
        self.conns = []
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(1024)
        self.closed = threading.Event()
        register(self)

    def __repr__(self):
        return "RawBackend(%d)" % self.port

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def _accept_loop(self):
        while not self.closed.is_set():
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
                self.conns.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock):
        try:
            sock.settimeout(30)
            self.handler(sock, self)
        except OSError:
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def close(self):
        unregister(self)
        self.closed.set()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            conns, self.conns = self.conns, []
        for sock in conns:
            try:
                sock.close()
            except OSError:
                pass


def http_response(status=200, body=b"", headers=None, reason="OK"):
    """Bytes of an HTTP/1.1 response with Content-Length (unless headers set framing)."""
    if isinstance(body, str):
        body = body.encode()
    lines = ["HTTP/1.1 %d %s" % (status, reason)]
    headers = list((headers or {}).items())
    names = {k.lower() for k, _ in headers}
    if "content-length" not in names and "transfer-encoding" not in names:
        headers.append(("Content-Length", str(len(body))))
    lines += ["%s: %s" % kv for kv in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# ---------------------------------------------------------------------------
# object YAML


def proxy_pipeline(name, urls, policy="roundRobin", lb_extra="", pool_extra="",
                   proxy_extra="", weights=None, filter_name="proxy"):
    """YAML of a Pipeline with one Proxy filter over urls.

    lb_extra/pool_extra/proxy_extra: YAML lines (already indented for their
    level: 8, 6 and 4 spaces) appended to loadBalance, the pool, the filter."""
    servers = []
    for i, url in enumerate(urls):
        servers.append("      - url: %s" % url)
        if weights:
            servers.append("        weight: %d" % weights[i])
    text = ("name: %s\nkind: Pipeline\nflow:\n  - filter: %s\nfilters:\n"
            "  - name: %s\n    kind: Proxy\n    pools:\n    - servers:\n%s\n"
            "      loadBalance:\n        policy: %s\n"
            % (name, filter_name, filter_name, "\n".join(servers), policy))
    if lb_extra:
        text += lb_extra.rstrip("\n") + "\n"
    if pool_extra:
        text += pool_extra.rstrip("\n") + "\n"
    if proxy_extra:
        text += proxy_extra.rstrip("\n") + "\n"
    return text


def http_server(name, port, paths, extra=""):
    """YAML of an HTTPServer with one rule; paths: list of (matcher_yaml, backend).

    matcher_yaml is e.g. 'pathPrefix: /pipeline' (one or more lines, no indent)."""
    lines = ["kind: HTTPServer", "name: %s" % name, "port: %d" % port, "keepAlive: true",
             "https: false"]
    if extra:
        lines.append(extra.rstrip("\n"))
    lines += ["rules:", "  - paths:"]
    for matcher, backend in paths:
        first = True
        for mline in matcher.strip("\n").split("\n"):
            lines.append(("    - " if first else "      ") + mline)
            first = False
        lines.append("      backend: %s" % backend)
    return "\n".join(lines) + "\n"


def setup_proxy(gw, port, mirror_urls, prefix="/pipeline", policy="roundRobin",
                server_name="server-demo", pipeline_name="pipeline-demo", **kw):
    """HTTPServer on port routing prefix to a Proxy pipeline; waits until it serves."""
    gw.create(http_server(server_name, port, [("pathPrefix: %s" % prefix, pipeline_name)]))
    gw.create(proxy_pipeline(pipeline_name, mirror_urls, policy=policy, **kw))
    wait_status(port, prefix, 200)


# ---------------------------------------------------------------------------
# nginx (Debian's nginx-light), for tests that compare with it or put it in front


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class Nginx:
    """Real nginx on a rendered configuration, in the foreground, as any user."""

    def __init__(self, directory, conf):
        self.dir = directory
        self.conf = conf
        self.proc = None
        register(self)

    def start(self, ports):
        log = open(os.path.join(self.dir, "nginx.out"), "ab")
        glob = "daemon off; pid %s;" % os.path.join(self.dir, "nginx.pid")
        if os.geteuid() == 0:
            glob += " user root;"  # workers as nobody could not enter the 0700 temp dir
        self.proc = subprocess.Popen(
            [NGINX, "-p", self.dir + "/", "-c", self.conf, "-e",
             os.path.join(self.dir, "error.log"), "-g", glob],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        for port in ports:
            def up(port=port):
                if self.proc.poll() is not None:
                    raise AssertionError("nginx exited: %s" % self.log_tail())
                return port_open(port)
            wait_until(up, 10, what="nginx on %d" % port)
        return self

    def log_tail(self, lines=40):
        out = ""
        for name in ("nginx.out", "error.log"):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    out += f.read()[-3000:]
        return out

    def close(self):
        unregister(self)
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: fast shutdown
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
