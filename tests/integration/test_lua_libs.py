"""eg.shared, eg.re and eg.crypto from Lua filters on a real gateway: a shared dictionary
declared with --shared-dict counts exactly across four workers under concurrent load; a
bad --shared-dict stops the start with a message."""

import hashlib
import hmac
import subprocess

from harness import SERVER_BIN, Gateway, free_port, http_server, make_tmp_dir, request, \
    run_concurrently, wait_status

COUNTER = """\
name: counter
kind: Pipeline
filters:
  - name: count
    kind: Lua
    code: |
      local shared, re, crypto = eg.shared, eg.re, eg.crypto
      -- a sandbox global lives as long as this worker's instance: it names the worker
      VM_ID = VM_ID or crypto.hex(crypto.random_bytes(8))
      local n = shared.hits:incr("requests", 1, 0)
      local m = re.match(ctx.req:path(), "^/count/(?<id>\\\\d+)$")
      ctx.resp:set_status(200)
      ctx.resp:set_header("X-Count", string.format("%d", n))
      ctx.resp:set_header("X-Vm", VM_ID)
      ctx.resp:set_header("X-Id", m and m.id or "none")
      ctx.resp:set_header("X-Sig", crypto.hex(crypto.hmac("sha256", "secret", ctx.req:path())))
      ctx.resp:set_header("X-Default", tostring(shared.default:capacity()))
      ctx.resp:set_header("X-Hits-Cap", tostring(shared.hits:capacity()))
"""

CLIENTS = 8
PER_CLIENT = 250


def test_shared_dict_exact_across_workers():
    gw = Gateway(workers=4, args=["--shared-dict", "hits=1000"]).start()
    port = free_port()
    gw.create(http_server("server", port, [("pathPrefix: /count", "counter")]))
    gw.create(COUNTER)
    first = wait_status(port, "/count/0", 200)
    assert first.header("X-Count") == "1", first.headers
    assert first.header("X-Default") == "10000", first.headers
    assert first.header("X-Hits-Cap") == "1000", first.headers

    def client(i):
        seen = []
        for j in range(PER_CLIENT):
            path = "/count/%d" % (i * PER_CLIENT + j + 1)
            resp = request(port, path)
            assert resp.status == 200, resp.status
            assert resp.header("X-Id") == path.rsplit("/", 1)[1], resp.headers
            want = hmac.new(b"secret", path.encode(), hashlib.sha256).hexdigest()
            assert resp.header("X-Sig") == want, resp.headers
            seen.append((int(resp.header("X-Count")), resp.header("X-Vm")))
        return seen

    results = run_concurrently(client, CLIENTS)
    counts, vms = [], set()
    for ok, value in results:
        assert ok, value
        for count, vm in value:
            counts.append(count)
            vms.add(vm)
    total = CLIENTS * PER_CLIENT
    # Every increment is seen exactly once, whichever worker made it.
    assert sorted(counts) == list(range(2, total + 2)), "lost or repeated increments"
    assert len(vms) >= 2, "all requests were served by one worker: %r" % vms
    last = request(port, "/count/x")
    assert last.header("X-Count") == str(total + 2), last.headers
    assert last.header("X-Id") == "none", last.headers


def test_bad_shared_dict_flag():
    data = make_tmp_dir("gw-bad-")
    for bad, words in (("nocap", "NAME=CAPACITY"), ("x=0", "CAPACITY"), ("a.b=5", "NAME=CAPACITY")):
        proc = subprocess.run([SERVER_BIN, "--data-dir", data, "--api-addr", "127.0.0.1:%d" % free_port(),
                               "--shared-dict", bad], capture_output=True, timeout=10)
        assert proc.returncode == 2, (bad, proc.returncode, proc.stderr)
        assert words.encode() in proc.stderr, proc.stderr
