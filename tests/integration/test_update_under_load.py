"""A pipeline updated 20 times under keep-alive load: no request fails, every
update takes effect, and the backend sees no new TCP connection, because the
unchanged pool keeps its upstream keep-alive connections."""

from harness import (Gateway, LoadLoop, Mirror, free_port, http_server, mirror_field,
                     wait_status, wait_until)

UPDATES = 20

# The added filter: an inline Lua filter (its `code` is the body of
# handle(self, ctx)) that tags the request with the pipeline's generation.
LUA_FILTER = """\
  - name: tag
    kind: Lua
    code: |
      ctx.req:set_header("X-Update-Gen", "%d")
"""

PROXY_FILTER = """\
  - name: proxy
    kind: Proxy
    pools:
    - servers:
%s
      loadBalance:
        policy: roundRobin
"""


def pipeline(urls, gen):
    """Generation gen: odd ones add the Lua filter in front of the Proxy, even ones
    remove it. The Proxy's pool is the same in every generation."""
    servers = "\n".join("      - url: %s" % u for u in urls)
    proxy = PROXY_FILTER % servers
    if gen % 2:
        return ("name: pipeline-demo\nkind: Pipeline\nflow:\n  - filter: tag\n"
                "  - filter: proxy\nfilters:\n" + LUA_FILTER % gen + proxy)
    return "name: pipeline-demo\nkind: Pipeline\nflow:\n  - filter: proxy\nfilters:\n" + proxy


def gen_of(resp):
    """The X-Update-Gen the backend saw, or 0 when the filter was absent."""
    header = mirror_field(resp.text, "Header") or ""
    marker = "X-Update-Gen:["
    if marker not in header:
        return 0
    return int(header.split(marker, 1)[1].split("]", 1)[0])


class ObservedLoad(LoadLoop):
    """Load that remembers, per response, the generation and upstream connections."""

    def __init__(self, port):
        super().__init__(port, "/pipeline", threads=6, keepalive=True)
        self.seq = 0
        self.gens = []  # (seq, gen)
        self.conns = {}  # mirror port -> highest X-Mirror-Conns seen

    def on_response(self, resp):
        self.seq += 1
        self.gens.append((self.seq, gen_of(resp)))
        del self.gens[:-500]
        mport = resp.mirror_port
        self.conns[mport] = max(self.conns.get(mport, 0), int(resp.header("X-Mirror-Conns")))

    def mark(self):
        with self._lock:
            return self.seq

    def saw_gen_after(self, seq, gen):
        with self._lock:
            return any(s > seq and g == gen for s, g in self.gens)

    def upstream_conns(self):
        with self._lock:
            return dict(self.conns)


def steady_conns(load, rounds=10):
    """Upstream connection counts once they stopped growing for two windows."""
    history = []
    for _ in range(rounds):
        load.wait_requests(300, timeout=30)
        history.append(load.upstream_conns())
        if len(history) >= 3 and history[-1] == history[-2] == history[-3]:
            return history[-1]
    raise AssertionError("upstream connections never settled: %s" % history)


def test_pipeline_updates_under_load_drop_nothing_and_keep_connections():
    # One backend server: upstream concurrency is then bounded by the client
    # threads, so its connection count settles quickly and stays put.
    gw = Gateway(workers=1).start()
    mirror = Mirror(1).start()
    port = free_port()
    gw.create(http_server("server-demo", port, [("pathPrefix: /pipeline", "pipeline-demo")]))
    gw.create(pipeline(mirror.urls, 0))
    wait_status(port, "/pipeline", 200)

    load = ObservedLoad(port).start()
    before = steady_conns(load)
    for gen in range(1, UPDATES + 1):
        seq = load.mark()
        gw.apply(pipeline(mirror.urls, gen))
        wait_until(lambda: load.saw_gen_after(seq, gen % 2 and gen), 10,
                   what="generation %d to serve" % gen)
        load.wait_requests(20)
    load.wait_requests(300, timeout=30)
    load.stop()
    after = load.upstream_conns()

    assert not load.failures, "%d requests failed during updates, e.g. %s" % (
        len(load.failures), load.failures[:5])
    assert set(before) == set(mirror.ports), before
    assert after == before, "backend connections changed by the updates: %s -> %s" % (
        before, after)


test_pipeline_updates_under_load_drop_nothing_and_keep_connections.timeout = 240
