"""Filters in Lua, end to end: a module filter from a --filter-dir (with a helper module it
requires) next to an inline one; live reload of the directory under load, broken edits
included; eg.http.request and eg.spawn/eg.wait not blocking the worker; a raising filter;
a client abort cancelling the filter's backend call."""

import os
import re
import time
import urllib.parse

from harness import (Gateway, LoadLoop, Mirror, RawBackend, RawConn, Reader, free_port,
                     http_response, http_server, make_tmp_dir, mirror_field, proxy_pipeline,
                     read_request, request, run_concurrently, wait_status, wait_until)


# ---------------------------------------------------------------------------
# helpers


def write_file(path, text):
    """An in-place write (truncate and write the same inode)."""
    with open(path, "w") as f:
        f.write(text)


def replace_file(path, text):
    """An editor's save: write a temp file beside it (a name the watcher ignores) and
    rename it over the original."""
    tmp = os.path.join(os.path.dirname(path), ".%s.swp" % os.path.basename(path))
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def mirror_headers(text):
    """The mirror's `Header: map[K:[v] K2:[v w]]` line as {K: 'v w'}."""
    line = mirror_field(text, "Header") or ""
    inner = line[len("map["):-1] if line.startswith("map[") else ""
    keys = list(re.finditer(r"(?:^| )([!#$%&'*+.^_`|~0-9A-Za-z-]+):\[", inner))
    out = {}
    for i, m in enumerate(keys):
        end = keys[i + 1].start() if i + 1 < len(keys) else len(inner)
        out[m.group(1)] = inner[m.end():end].rstrip("]")
    return out


def lua_pipeline(name, code, results=None):
    """YAML of a Pipeline with one inline Lua filter (code: the body of handle)."""
    body = "\n".join("      " + line for line in code.strip("\n").split("\n"))
    extra = "    results: [%s]\n" % ", ".join(results) if results else ""
    return ("name: %s\nkind: Pipeline\nflow:\n  - filter: lua\nfilters:\n"
            "  - name: lua\n    kind: Lua\n%s    code: |\n%s\n" % (name, extra, body))


class DelayBackend(RawBackend):
    """A threaded raw-socket backend (keep-alive).

    GET /delay?ms=N[&id=X]  sleeps N ms (300 by default), answers `slept N id X`.
    GET /hold               holds the request up to 5 s; records in `events` when the
                            client (the gateway) closed the connection meanwhile.
    `inflight` and `max_inflight` count requests being held at once."""

    def __init__(self):
        super().__init__(self.serve)
        self.inflight = 0
        self.max_inflight = 0
        self.events = []  # (what, monotonic time), under self.lock

    def record(self, what):
        with self.lock:
            self.events.append((what, time.monotonic()))

    def when(self, what):
        with self.lock:
            return [t for w, t in self.events if w == what]

    def serve(self, sock, backend):
        reader = Reader(sock)
        while True:
            req = read_request(reader)
            if req is None:
                return
            _, target, _, _ = req
            path, _, query = target.partition("?")
            params = dict(urllib.parse.parse_qsl(query))
            with self.lock:
                self.requests.append(target)
                self.inflight += 1
                self.max_inflight = max(self.max_inflight, self.inflight)
            try:
                if path == "/hold":
                    if not self.hold(sock):
                        return
                    continue
                ms = int(params.get("ms", "300"))
                time.sleep(ms / 1000.0)
            finally:
                with self.lock:
                    self.inflight -= 1
            sock.sendall(http_response(200, "slept %d id %s" % (ms, params.get("id", "-"))))

    def hold(self, sock):
        """Wait up to 5 s for the peer to close; False when it did."""
        self.record("hold-start")
        sock.settimeout(5.0)
        try:
            data = sock.recv(1)
        except OSError as err:  # timeout: the call was not cancelled; reset: it was
            if not isinstance(err, TimeoutError) and "timed out" not in str(err):
                self.record("closed")
                return False
            data = None
        if data == b"":
            self.record("closed")
            return False
        sock.settimeout(30)
        self.record("held-5s")
        sock.sendall(http_response(200, "held"))
        return True


# ---------------------------------------------------------------------------
# 1. a module filter with a helper, and an inline filter, in one pipeline

HELPER_V1 = """\
-- tagutil: a helper module, required by tagger.lua
local M = {}
function M.decorate(value) return "helper(" .. value .. ")" end
return M
"""

TAGGER = """\
local util = require "tagutil"

local M = {
  kind = "Tagger",
  results = { "skip" },
  schema = {
    header = { type = "string", required = true },
    value = { type = "string", default = "tagged" },
  },
}

function M.new(spec)
  return setmetatable({ spec = spec, value = util.decorate(spec.value) }, { __index = M })
end

function M:handle(ctx)
  if ctx.req:header("X-Skip") then
    return "skip"
  end
  ctx.req:set_header(self.spec.header, self.value)
end

return M
"""

TAGGED_PIPELINE = """\
name: tagged
kind: Pipeline
flow:
  - filter: tagger
    jumpIf: { skip: around }
  - filter: inline
    jumpIf: { bypass: around }
  - filter: proxy
  - filter: stamp
  - filter: END
  - filter: around
filters:
  - name: tagger
    kind: Tagger
    header: X-Module
    value: from-file
  - name: inline
    kind: Lua
    results: [bypass]
    code: |
      if ctx.req:query("bypass") == "1" then
        return "bypass"
      end
      ctx.req:set_header("X-Inline", "inline-" .. ctx.req:method())
  - name: proxy
    kind: Proxy
    pools:
    - servers:
      - url: %s
  - name: stamp
    kind: Lua
    code: |
      ctx.resp:set_header("X-Stamped", "yes")
  - name: around
    kind: Lua
    code: |
      return ctx:respond(203, "routed around the proxy\\n")
"""


def test_module_and_inline_filters_in_one_pipeline():
    fdir = make_tmp_dir("filters-")
    write_file(os.path.join(fdir, "tagutil.lua"), HELPER_V1)
    write_file(os.path.join(fdir, "tagger.lua"), TAGGER)
    gw = Gateway(workers=2, args=["--filter-dir", fdir]).start()
    assert "filter kind Tagger from" in gw.log_text(), gw.log_tail(20)
    mirror = Mirror(1).start()
    port = free_port()
    gw.create(http_server("server", port, [("pathPrefix: /", "tagged")]))
    gw.create(TAGGED_PIPELINE % mirror.urls[0])
    resp = wait_status(port, "/tagged", 200)

    for _ in range(6):  # both workers
        resp = request(port, "/tagged")
        assert resp.status == 200, resp
        assert resp.mirror_port == mirror.ports[0], resp.headers
        seen = mirror_headers(resp.text)
        assert seen.get("X-Module") == "helper(from-file)", resp.text
        assert seen.get("X-Inline") == "inline-GET", resp.text
        assert resp.header("X-Stamped") == "yes", resp.headers

    # Each filter's declared result routes around the Proxy (and the stamp after it).
    for path, headers in (("/tagged", {"X-Skip": "1"}), ("/tagged?bypass=1", None)):
        resp = request(port, path, headers=headers)
        assert resp.status == 203, (path, resp)
        assert resp.text == "routed around the proxy\n", (path, resp)
        assert resp.header("X-Mirror-Port") is None, (path, resp.headers)
        assert resp.header("X-Stamped") is None, (path, resp.headers)

    # The module's schema and results are checked when a Pipeline is submitted.
    no_header = TAGGED_PIPELINE.replace("name: tagged", "name: bad1", 1) \
        .replace("    header: X-Module\n", "")
    rc, out, err = gw.egctl("create", "-f", "-", stdin=no_header % mirror.urls[0])
    assert rc != 0 and "header" in out + err, (rc, out, err)
    bad_result = TAGGED_PIPELINE.replace("name: tagged", "name: bad2", 1) \
        .replace("{ skip: around }", "{ nope: around }")
    rc, out, err = gw.egctl("create", "-f", "-", stdin=bad_result % mirror.urls[0])
    assert rc != 0 and "nope" in out + err, (rc, out, err)
    assert set(gw.objects()) == {"server", "tagged"}, list(gw.objects())


# ---------------------------------------------------------------------------
# 2. live reload under load

LIVE_MODULE = """\
local ver = require "livever"
local M = {{ kind = "LiveTag" }}
function M:handle(ctx)
  ctx.req:set_header("X-Gen", "{module}-" .. ver.gen)
end
return M
"""

LIVE_HELPER = """\
return {{ gen = "{helper}" }}
"""

LIVE_PIPELINE = """\
name: live
kind: Pipeline
flow:
  - filter: tag
  - filter: proxy
filters:
  - name: tag
    kind: LiveTag
  - name: proxy
    kind: Proxy
    pools:
    - servers:
      - url: %s
"""


class GenLoad(LoadLoop):
    """Keep-alive load recording, per response, the X-Gen the backend saw."""

    def __init__(self, port):
        super().__init__(port, "/live", threads=6, keepalive=True, check=self.gen_check)
        self.seq = 0
        self.gens = []  # (seq, monotonic time, gen)

    @staticmethod
    def gen_check(resp):
        if resp.status != 200:
            return "status %d: %r" % (resp.status, resp.body[:200])
        if not mirror_headers(resp.text).get("X-Gen"):
            return "no X-Gen reached the backend: %r" % resp.body[:200]
        return None

    def on_response(self, resp):
        self.seq += 1
        self.gens.append((self.seq, time.monotonic(), mirror_headers(resp.text)["X-Gen"]))
        del self.gens[:-5000]

    def mark(self):
        with self._lock:
            return self.seq

    def since(self, seq):
        with self._lock:
            return [(s, t, g) for s, t, g in self.gens if s > seq]


def wait_gen(load, seq, gen, timeout=3.0):
    """Wait until a response after seq shows gen; then, a moment later, every response
    shows it. Returns how long the first took."""
    started = time.monotonic()
    wait_until(lambda: any(g == gen for _, _, g in load.since(seq)), timeout,
               what="generation %s to be served" % gen)
    took = time.monotonic() - started
    # Requests already inside the old version finish with it; any request that starts a
    # little later runs the new code.
    time.sleep(0.3)
    seq2 = load.mark()
    load.wait_requests(30)
    late = [g for _, _, g in load.since(seq2) if g != gen]
    assert not late, "after %s was served, requests still ran %s" % (gen, sorted(set(late)))
    return took


def describe_error(gw, name):
    """The error: line of `egctl describe pipeline NAME`'s status, or None."""
    rc, out, err = gw.egctl("describe", "pipeline", name)
    assert rc == 0, (rc, out, err)
    status = out.split("AllStatus:", 1)[-1]
    for line in status.splitlines():
        if line.strip().startswith("error:"):
            return line.strip()
    return None


def test_live_reload_under_load():
    fdir = make_tmp_dir("filters-")
    module = os.path.join(fdir, "livetag.lua")
    helper = os.path.join(fdir, "livever.lua")
    write_file(helper, LIVE_HELPER.format(helper="h1"))
    write_file(module, LIVE_MODULE.format(module="m1"))
    gw = Gateway(workers=2, args=["--filter-dir", fdir]).start()
    mirror = Mirror(1).start()
    port = free_port()
    gw.create(http_server("server", port, [("pathPrefix: /live", "live")]))
    gw.create(LIVE_PIPELINE % mirror.urls[0])
    resp = wait_status(port, "/live", 200)
    assert mirror_headers(resp.text).get("X-Gen") == "m1-h1", resp.text
    server_pid = gw.server_pid()

    load = GenLoad(port).start()
    load.wait_requests(200)

    # Five edits: the module three times, then its helper twice; saves by rename and
    # in-place writes.
    edits = [
        (replace_file, module, LIVE_MODULE.format(module="m2"), "m2-h1"),
        (write_file, module, LIVE_MODULE.format(module="m3"), "m3-h1"),
        (replace_file, module, LIVE_MODULE.format(module="m4"), "m4-h1"),
        (write_file, helper, LIVE_HELPER.format(helper="h2"), "m4-h2"),
        (replace_file, helper, LIVE_HELPER.format(helper="h3"), "m4-h3"),
    ]
    took = []
    for save, path, text, gen in edits:
        seq = load.mark()
        save(path, text)
        took.append((gen, round(wait_gen(load, seq, gen), 2)))
        load.wait_requests(50)
    assert describe_error(gw, "live") is None

    # A broken module, then a broken helper: the last good code keeps serving and
    # describe shows the error until the file is fixed.
    for save, path, broken, fixed, gen, where in (
            (replace_file, module, "local M = {\n  kind = \"LiveTag\"\n",
             LIVE_MODULE.format(module="m5"), "m5-h3", "livetag.lua"),
            (write_file, helper, "return { gen = \n", LIVE_HELPER.format(helper="h4"),
             "m5-h4", "livever.lua")):
        last_good = load.since(0)[-1][2]
        seq = load.mark()
        save(path, broken)
        error = wait_until(lambda: describe_error(gw, "live"), 3,
                           what="the broken %s to show in describe" % where)
        assert where in error and "keeps serving" in error, error
        load.wait_requests(200)
        time.sleep(0.5)
        load.wait_requests(100)
        served = {g for _, _, g in load.since(seq)}
        assert served == {last_good}, "with %s broken the gateway served %s, not %s" % (
            where, served, last_good)
        assert describe_error(gw, "live") == error  # still reported

        seq = load.mark()
        save(path, fixed)
        took.append((gen, round(wait_gen(load, seq, gen), 2)))
        wait_until(lambda: describe_error(gw, "live") is None, 3,
                   what="the error to clear from describe once %s is fixed" % where)

    load.wait_requests(100)
    load.stop()
    assert not load.failures, "%d of %d requests failed during the edits, e.g. %s" % (
        len(load.failures), len(load.failures) + load.ok, load.failures[:5])
    assert gw.server_pid() == server_pid, "the server process was restarted"
    print("reload times (s): %s; %d requests" % (took, load.ok))


test_live_reload_under_load.timeout = 180


# ---------------------------------------------------------------------------
# 3. eg.http.request does not block the worker

CALL_CODE = """\
local res, err = eg.http.request{
  url = "%s/delay?ms=300&id=" .. (ctx.req:query("id") or "none"),
  headers = { ["X-From"] = "lua" },
  timeout = 10000,
}
if not res then
  return ctx:respond(502, "call failed: " .. tostring(err) .. "\\n")
end
ctx.resp:set_header("X-Backend-Status", res.status)
return ctx:respond(200, res.body)
"""


def test_http_request_does_not_block_the_worker():
    backend = DelayBackend().start()
    gw = Gateway(workers=1).start()
    port = free_port()
    gw.create(http_server("server", port, [("pathPrefix: /call", "call")]))
    gw.create(lua_pipeline("call", CALL_CODE % backend.url))
    resp = wait_status(port, "/call?id=warm", 200)
    assert resp.text == "slept 300 id warm", resp
    assert resp.header("X-Backend-Status") == "200", resp.headers

    n = 100
    started = time.monotonic()
    results = run_concurrently(lambda i: request(port, "/call?id=%d" % i, timeout=30), n)
    took = time.monotonic() - started
    bad = [(i, r) for i, (ok, r) in enumerate(results)
           if not ok or r.status != 200 or r.text != "slept 300 id %d" % i]
    assert not bad, "%d of %d requests failed, e.g. %s" % (len(bad), n, bad[:3])
    assert took < 5.0, "%d requests of 300 ms each took %.1fs on one worker" % (n, took)
    # Proof of the overlap from the backend's side: many calls were held at once.
    assert backend.max_inflight >= 20, "at most %d backend calls at once" % backend.max_inflight
    print("%d calls of 300 ms on one worker: %.2fs, up to %d at once"
          % (n, took, backend.max_inflight))


# ---------------------------------------------------------------------------
# 4. eg.spawn / eg.wait: three calls in parallel

SPAWN_CODE = """\
local function call(ms)
  local res, err = eg.http.request{ url = "%s/delay?ms=" .. ms .. "&id=" .. ms }
  if not res then error("call failed: " .. tostring(err)) end
  return res.body
end
local started = eg.time.monotonic_ms()
local a, b, c = eg.wait(eg.spawn(call, 200), eg.spawn(call, 300), eg.spawn(call, 400))
ctx.resp:set_header("X-Took-Ms", math.floor(eg.time.monotonic_ms() - started))
return ctx:respond(200, table.concat({ tostring(a), tostring(b), tostring(c) }, "|"))
"""


def test_spawn_three_calls_take_the_time_of_the_slowest():
    backend = DelayBackend().start()
    gw = Gateway(workers=1).start()
    port = free_port()
    gw.create(http_server("server", port, [("pathPrefix: /spawn", "spawn")]))
    gw.create(lua_pipeline("spawn", SPAWN_CODE % backend.url))
    wait_status(port, "/spawn", 200, timeout=10)

    for _ in range(3):
        started = time.monotonic()
        resp = request(port, "/spawn")
        took = time.monotonic() - started
        assert resp.status == 200, resp
        assert resp.text == "slept 200 id 200|slept 300 id 300|slept 400 id 400", resp.text
        assert took < 0.9, "three parallel calls (200, 300, 400 ms) took %.3fs" % took
        lua_ms = int(resp.header("X-Took-Ms"))
        assert 390 <= lua_ms < 900, "eg.wait returned after %d ms" % lua_ms
    assert backend.max_inflight == 3, backend.max_inflight


# ---------------------------------------------------------------------------
# 5. a raising filter answers 500 and the worker lives on

RAISING = {
    "boom": 'error("boom-marker-7731")',
    "late": 'eg.sleep(20)\nerror({ marker = "late-marker-7731" })',
    "number": "return 42",
}


def test_raising_filter_gives_500_and_the_worker_lives_on():
    gw = Gateway(workers=1).start()
    mirror = Mirror(1).start()
    port = free_port()
    paths = [("pathPrefix: /%s" % name, name) for name in RAISING] + [("pathPrefix: /ok", "ok")]
    gw.create(http_server("server", port, paths))
    for name, code in RAISING.items():
        gw.create(lua_pipeline(name, code))
    gw.create(proxy_pipeline("ok", mirror.urls))
    wait_status(port, "/ok", 200)
    server_pid = gw.server_pid()

    for round_ in range(5):
        for name in RAISING:
            resp = request(port, "/%s" % name)
            assert resp.status == 500, (name, resp)
            low = resp.text.lower()
            assert "traceback" not in low and "marker" not in low and ".lua" not in low \
                and "runtime" not in low, "the 500 body shows internals: %r" % resp.text
            assert request(port, "/ok").status == 200, round_
    log = wait_until(lambda: (lambda t: "boom-marker-7731" in t and t)(gw.log_text()), 5,
                     what="the error in the server log")
    assert "stack traceback" in log, gw.log_tail(30)
    assert "a filter must return nil or a result string" in log, gw.log_tail(30)

    # The same (only) worker goes on serving, in parallel too.
    results = run_concurrently(lambda i: request(port, "/ok" if i % 2 else "/boom").status, 40)
    assert [r for _, r in results] == [500, 200] * 20, results
    assert gw.server_pid() == server_pid, "the server process was restarted"


# ---------------------------------------------------------------------------
# 6. a client abort cancels the filter's backend call

HOLD_CODE = """\
local res, err = eg.http.request{ url = "%s/hold", timeout = 20000 }
if not res then
  eg.log("hold call ended: " .. tostring(err))
  return ctx:respond(502, tostring(err))
end
return ctx:respond(200, res.body)
"""

# The same through two spawned tasks: the abort cancels both of their calls.
HOLD_SPAWN_CODE = """\
local function call()
  local res, err = eg.http.request{ url = "%s/hold", timeout = 20000 }
  return res and res.body or tostring(err)
end
local a, b = eg.wait(eg.spawn(call), eg.spawn(call))
eg.log("spawned holds ended: " .. tostring(a) .. " " .. tostring(b))
return ctx:respond(200, tostring(a) .. "+" .. tostring(b))
"""


def abort_after(port, path, backend, calls, delay=0.3):
    """Send GET path, close the connection `delay` s later (once the filter's `calls`
    backend calls arrived); -> seconds from the close to the backend seeing all of its
    calls closed."""
    holds = len(backend.when("hold-start"))
    closes = len(backend.when("closed"))
    conn = RawConn(port)
    sent = time.monotonic()
    conn.send("GET %s HTTP/1.1\r\nHost: gw.test\r\n\r\n" % path)
    wait_until(lambda: len(backend.when("hold-start")) >= holds + calls, 3,
               what="the filter's %d call(s) to reach the backend" % calls)
    time.sleep(max(0.0, sent + delay - time.monotonic()))
    closed_client = time.monotonic()
    conn.close()
    wait_until(lambda: len(backend.when("closed")) >= closes + calls, 3,
               what="the gateway to close its %d call(s) to the backend" % calls)
    return backend.when("closed")[-1] - closed_client


def test_client_abort_cancels_the_backend_call():
    backend = DelayBackend().start()
    gw = Gateway(workers=1).start()
    mirror = Mirror(1).start()
    port = free_port()
    gw.create(http_server("server", port, [("pathPrefix: /hold2", "hold2"),
                                           ("pathPrefix: /hold", "hold"),
                                           ("pathPrefix: /ok", "ok")]))
    gw.create(lua_pipeline("hold", HOLD_CODE % backend.url))
    gw.create(lua_pipeline("hold2", HOLD_SPAWN_CODE % backend.url))
    gw.create(proxy_pipeline("ok", mirror.urls))
    wait_status(port, "/ok", 200)
    server_pid = gw.server_pid()

    lags = []
    for path, calls in (("/hold", 1), ("/hold", 1), ("/hold2", 2), ("/hold", 1)):
        lag = abort_after(port, path, backend, calls)
        assert lag < 1.5, "%s: the backend call was closed %.2fs after the client left" % (
            path, lag)
        lags.append(round(lag, 3))
        assert request(port, "/ok").status == 200

    assert not backend.when("held-5s"), backend.events
    wait_until(lambda: gw.log_text().count("hold call ended: aborted") == 3, 3,
               what="eg.http.request to return nil, 'aborted' (server log)")
    print("backend calls closed %s s after the client" % lags)
    # Still serving, the Lua pipeline included.
    assert request(port, "/ok").status == 200
    conn = RawConn(port, timeout=10)
    conn.send("GET /hold HTTP/1.1\r\nHost: gw.test\r\n\r\n")
    resp = conn.response()
    assert resp.status == 200 and resp.text == "held", resp
    assert gw.server_pid() == server_pid, "the server process was restarted"


test_client_abort_cancels_the_backend_call.timeout = 60


def test_unknown_fields_of_lua_filters_are_warned():
    """A built-in filter written in Lua reports the top-level fields its schema does not name,
    as the C decoders do: a Warning header (printed by egctl), an error under --strict. A
    field in another letter case is known (Go's encoding/json matches case-insensitively), and
    so are a filter's meta fields (version, createdAt), in Lua and C filters alike."""
    pipeline = """\
name: ra
kind: Pipeline
filters:
- name: adaptor
  kind: RequestAdaptor
  Method: POST
  metod: GET
  version: ""
  header:
    set: {X-A: "1"}
- name: proxy
  kind: Proxy
  version: ""
  createdAt: "2026-11-28T08:00:00Z"
  pools:
  - servers: [{url: "http://127.0.0.1:9"}]
"""
    gw = Gateway(workers=1).start()
    status, headers, text = gw.api("POST", "/apis/v2/objects", body=pipeline)
    assert status == 201, (status, text)
    warnings = [v for k, v in headers if k.lower() == "warning"]
    assert warnings == ['299 - "unknown field filters[0].metod"'], warnings
    rc, out, err = gw.egctl("apply", "-f", "-", stdin=pipeline)
    assert rc == 0 and "Warning: unknown field filters[0].metod" in err, (rc, out, err)

    strict = Gateway(workers=1, args=["--strict"]).start()
    status, _, text = strict.api("POST", "/apis/v2/objects", body=pipeline)
    assert status == 400 and "unknown field filters[0].metod" in text, (status, text)
    fixed = pipeline.replace("  metod: GET\n", "")
    status, headers, text = strict.api("POST", "/apis/v2/objects", body=fixed)
    assert status == 201, (status, text)
    assert not [v for k, v in headers if k.lower() == "warning"]
