"""Distributed tracing: an HTTPServer with `tracing` sends its spans to a collector (a small
OTLP/HTTP and Zipkin receiver run here on loopback) and propagates the trace to backends.

Checked: trace ids kept from the client's traceparent or made new, parent links (server span
under the client's span, client span under the server span, backend's traceparent naming the
client span), attributes and statuses, sampling (sampleRate 0, unsampled parents), batching,
gzip, Zipkin and B3, Lua's view of the ids and eg.http.request's propagation, spec errors.
"""

import gzip
import http.server
import json
import re
import shutil
import subprocess
import threading
import time

from harness import (Gateway, Mirror, free_port, proxy_pipeline, register, request, unregister,
                     wait_status, wait_until)

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


class Collector:
    """Records every POST: path, headers, the JSON body (gunzipped when Content-Encoding says
    so). delay: seconds to wait before answering (a slow collector)."""

    def __init__(self, delay=0.0, status=200):
        self.posts = []
        self.lock = threading.Lock()
        self.delay = delay
        self.status = status
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                raw_len = len(body)
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                post = {"path": self.path, "headers": dict(self.headers.items()),
                        "json": json.loads(body), "raw_len": raw_len}
                if outer.delay:
                    time.sleep(outer.delay)
                with outer.lock:
                    outer.posts.append(post)
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        register(self)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def otlp_spans(self):
        """Every OTLP span received, with its resource attributes under "_resource"."""
        out = []
        with self.lock:
            posts = list(self.posts)
        for p in posts:
            if p["path"] != "/v1/traces":
                continue
            for rs in p["json"]["resourceSpans"]:
                res = attrs(rs["resource"])
                for ss in rs["scopeSpans"]:
                    for span in ss["spans"]:
                        span = dict(span)
                        span["_resource"] = res
                        out.append(span)
        return out

    def zipkin_spans(self):
        with self.lock:
            return [s for p in self.posts if p["path"] == "/api/v2/spans" for s in p["json"]]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        unregister(self)

    def __repr__(self):
        return "Collector(%d)" % self.port


def attrs(obj):
    """OTLP attributes as a dict (intValue as int)."""
    out = {}
    for a in obj.get("attributes", []):
        v = a["value"]
        out[a["key"]] = int(v["intValue"]) if "intValue" in v else v.get("stringValue")
    return out


def tracing_server(name, port, backend, tracing):
    return ("kind: HTTPServer\nname: %s\nport: %d\ntracing:\n%s\nrules:\n- paths:\n"
            "  - pathPrefix: /\n    backend: %s\n" % (name, port, tracing.rstrip("\n"), backend))


def otlp_tracing(collector, extra=""):
    return ("  serviceName: gateway-under-test\n"
            "  sampleRate: 1\n"
            "  attributes: {deployment.environment: test}\n"
            "  batchLimits: {batchTimeout: 100}\n"
            "  exporter:\n"
            "    otlp: {protocol: http, endpoint: \"%s/v1/traces\"}\n%s" % (collector.url, extra))


def backend_header(resp, name):
    """A request header as the mirror backend saw it (Go's map[...] dump in its body)."""
    m = re.search(r"%s:\[([^\]]*)\]" % re.escape(name), resp.text)
    return m.group(1) if m else None


def setup(gw, collector, mirror, tracing=None, pipeline=None):
    port = free_port()
    gw.create(pipeline or proxy_pipeline("p", mirror.urls))
    gw.create(tracing_server("traced", port, "p", tracing or otlp_tracing(collector)))
    wait_status(port, "/warmup", 200)
    return port


def spans_of(collector, trace_id, n, timeout=10):
    return wait_until(lambda: (lambda s: s if len(s) >= n else None)(
        [s for s in collector.otlp_spans() if s["traceId"] == trace_id]), timeout,
        what="%d spans of trace %s" % (n, trace_id))


def test_tracing_spans_and_propagation():
    collector = Collector()
    mirror = Mirror(count=1).start()
    gw = Gateway(workers=2).start()
    port = setup(gw, collector, mirror)

    # 1. A client with a sampled traceparent and a tracestate.
    resp = request(port, "/api/users?id=7", headers={"traceparent": TRACEPARENT, "tracestate": "vendor=abc",
                                                     "User-Agent": "trace-test"})
    assert resp.status == 200
    spans = spans_of(collector, TRACE_ID, 2)
    server = [s for s in spans if s["kind"] == 2]
    client = [s for s in spans if s["kind"] == 3]
    assert len(server) == 1 and len(client) == 1, spans
    server, client = server[0], client[0]
    assert server["parentSpanId"] == PARENT_ID
    assert server["name"] == "traced"
    assert server["traceState"] == "vendor=abc"
    assert client["parentSpanId"] == server["spanId"]
    assert client["name"] == "proxy#proxy#main"
    assert len(server["spanId"]) == 16 and server["spanId"] != PARENT_ID
    sa = attrs(server)
    assert sa["http.request.method"] == "GET"
    assert sa["url.path"] == "/api/users" and sa["url.query"] == "id=7"
    assert sa["http.response.status_code"] == 200
    assert sa["client.address"] == "127.0.0.1"
    assert sa["easegress.server"] == "traced" and sa["easegress.pipeline"] == "p"
    assert sa["user_agent.original"] == "trace-test"
    assert server["_resource"]["service.name"] == "gateway-under-test"
    assert server["_resource"]["deployment.environment"] == "test"
    ca = attrs(client)
    assert ca["url.full"] == mirror.urls[0] + "/api/users?id=7", ca
    assert ca["http.response.status_code"] == 200 and ca["server.port"] == mirror.ports[0]
    assert int(server["startTimeUnixNano"]) <= int(client["startTimeUnixNano"])
    assert int(client["endTimeUnixNano"]) <= int(server["endTimeUnixNano"])
    assert server["status"]["code"] == 0 and client["status"]["code"] == 0
    # The backend got the same trace, with the client span as its parent, and tracestate.
    assert backend_header(resp, "Traceparent") == "00-%s-%s-01" % (TRACE_ID, client["spanId"])
    assert backend_header(resp, "Tracestate") == "vendor=abc"

    # 2. No traceparent: a new trace, the server span is a root.
    resp = request(port, "/fresh")
    seen = backend_header(resp, "Traceparent")
    assert seen and re.match(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", seen), seen
    trace_id, span_id = seen.split("-")[1], seen.split("-")[2]
    assert trace_id != TRACE_ID
    spans = spans_of(collector, trace_id, 2)
    server = [s for s in spans if s["kind"] == 2][0]
    client = [s for s in spans if s["kind"] == 3][0]
    assert "parentSpanId" not in server
    assert client["spanId"] == span_id and client["parentSpanId"] == server["spanId"]

    # 3. An invalid traceparent is replaced, not passed on.
    resp = request(port, "/bad", headers={"traceparent": "00-xyz-01"})
    seen = backend_header(resp, "Traceparent")
    assert seen and seen != "00-xyz-01" and re.match(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", seen), seen
    gw.check_sanitizer_reports()


test_tracing_spans_and_propagation.timeout = 60


def test_tracing_errors_and_status():
    collector = Collector()
    mirror = Mirror(count=1).start()
    gw = Gateway(workers=1).start()
    dead = free_port()
    port = setup(gw, collector, mirror)
    # A backend that refuses connections: 502, an error client span, an error server span.
    gw.apply(proxy_pipeline("p", ["http://127.0.0.1:%d" % dead]))
    wait_status(port, "/x", 502)
    resp = request(port, "/down", headers={"traceparent": TRACEPARENT})
    assert resp.status == 502
    spans = wait_until(lambda: (lambda s: s if any(a["kind"] == 3 and attrs(a).get("url.full", "").endswith("/down")
                                                   for a in s) else None)(
        [s for s in collector.otlp_spans() if s["traceId"] == TRACE_ID]), 10, what="spans of /down")
    server = [s for s in spans if s["kind"] == 2 and attrs(s)["url.path"] == "/down"][0]
    client = [s for s in spans if s["kind"] == 3 and attrs(s)["url.full"].endswith("/down")][0]
    assert attrs(server)["http.response.status_code"] == 502
    assert server["status"]["code"] == 2
    assert client["status"]["code"] == 2 and "error.type" in attrs(client), client
    assert "http.response.status_code" not in attrs(client)
    gw.check_sanitizer_reports()


def test_tracing_sampling():
    collector = Collector()
    mirror = Mirror(count=1).start()
    gw = Gateway(workers=1).start()
    port = setup(gw, collector, mirror)
    # An unsampled parent is honoured at sampleRate 1: nothing recorded, the flag passed on.
    unsampled = TRACEPARENT[:-2] + "00"
    for _ in range(5):
        resp = request(port, "/u", headers={"traceparent": unsampled})
        seen = backend_header(resp, "Traceparent")
        assert seen.startswith("00-%s-" % TRACE_ID) and seen.endswith("-00"), seen
    # sampleRate 0: nothing at all, sampled parent or not; the context still goes on.
    port0 = free_port()
    gw.create(tracing_server("off", port0, "p", otlp_tracing(collector).replace("sampleRate: 1", "sampleRate: 0")))
    wait_status(port0, "/warmup", 200)
    for i in range(20):
        resp = request(port0, "/z", headers={"traceparent": TRACEPARENT} if i % 2 else None)
        seen = backend_header(resp, "Traceparent")
        assert seen and seen.endswith("-00"), seen
        if i % 2:
            assert seen.startswith("00-%s-" % TRACE_ID)
    # A sampled request after them all: once its spans are in, anything else would be too.
    request(port, "/marker", headers={"traceparent": TRACEPARENT})
    spans_of(collector, TRACE_ID, 2)
    time.sleep(0.5)  # two batch timeouts
    paths = sorted(attrs(s).get("url.path") for s in collector.otlp_spans() if s["kind"] == 2)
    assert [p for p in paths if p != "/warmup"] == ["/marker"], paths
    gw.check_sanitizer_reports()


def test_tracing_batches_gzip_zipkin_b3():
    collector = Collector()
    mirror = Mirror(count=1).start()
    gw = Gateway(workers=1).start()
    tracing = ("  serviceName: b3-gateway\n"
               "  headerFormat: b3\n"
               "  batchLimits: {batchTimeout: 300, maxExportBatchSize: 4}\n"
               "  exporter:\n"
               "    otlp: {protocol: http, endpoint: \"127.0.0.1:%d\", insecure: true, compression: gzip}\n"
               "    zipkin: {endpoint: \"%s/api/v2/spans\"}\n" % (collector.port, collector.url))
    port = setup(gw, collector, mirror, tracing=tracing)
    b3_trace = "463ac35c9f6413ad48485a3953bb6124"
    for i in range(10):
        resp = request(port, "/b3/%d" % i, headers={"X-B3-TraceId": b3_trace, "X-B3-SpanId": "a2fb4a1d1a96d312",
                                                    "X-B3-Sampled": "1"})
        seen = backend_header(resp, "B3")
        assert seen and re.match(r"^%s-[0-9a-f]{16}-1$" % b3_trace, seen), resp.text
        assert backend_header(resp, "X-B3-Spanid") is None  # the client's B3 headers replaced
    spans = spans_of(collector, b3_trace, 20)
    # Every OTLP post: gzip, at most 4 spans.
    with collector.lock:
        otlp_posts = [p for p in collector.posts if p["path"] == "/v1/traces"]
    assert otlp_posts and all(p["headers"].get("Content-Encoding") == "gzip" for p in otlp_posts)
    sizes = [sum(len(ss["spans"]) for rs in p["json"]["resourceSpans"] for ss in rs["scopeSpans"])
             for p in otlp_posts]
    assert max(sizes) <= 4, sizes
    servers = [s for s in spans if s["kind"] == 2]
    assert all(s["parentSpanId"] == "a2fb4a1d1a96d312" for s in servers)
    # Zipkin got the same spans in its own format.
    zspans = wait_until(lambda: (lambda z: z if len(z) >= 20 else None)(
        [s for s in collector.zipkin_spans() if s["traceId"] == b3_trace]), 10, what="zipkin spans")
    zs = [s for s in zspans if s["kind"] == "SERVER"]
    zc = [s for s in zspans if s["kind"] == "CLIENT"]
    assert len(zs) == 10 and len(zc) == 10
    assert all(s["localEndpoint"]["serviceName"] == "b3-gateway" for s in zspans)
    assert {c["parentId"] for c in zc} == {s["id"] for s in zs}
    assert all(s["tags"]["http.response.status_code"] == "200" for s in zspans)
    gw.check_sanitizer_reports()


test_tracing_batches_gzip_zipkin_b3.timeout = 60


def test_tracing_queue_full_drops():
    collector = Collector(delay=1.0)
    mirror = Mirror(count=1).start()
    gw = Gateway(workers=1).start()
    tracing = ("  serviceName: s\n"
               "  batchLimits: {batchTimeout: 50, maxExportBatchSize: 2, maxQueueSize: 4}\n"
               "  exporter:\n"
               "    otlp: {protocol: http, endpoint: \"%s\"}\n" % collector.url)
    port = setup(gw, collector, mirror, tracing=tracing)
    for i in range(30):
        assert request(port, "/q/%d" % i).status == 200
    # The collector takes a second per batch: the queue (4) overflows; the gateway answers on.
    wait_until(lambda: "export queue full" in gw.log_text(), 10, what="the drop warning")
    time.sleep(3)
    got = len([s for s in collector.otlp_spans() if attrs(s).get("url.path", "").startswith("/q/")])
    assert 0 < got < 30, got
    # The drops are counted, in the Prometheus text (which promtool accepts).
    status, _, text = gw.api("GET", "/apis/v2/metrics")
    assert status == 200
    counters = dict(re.findall(r"^(tracing_\w+)\{[^}]*\} (\d+)$", text, re.M))
    assert int(counters["tracing_spans_dropped_total"]) > 0, counters
    assert int(counters["tracing_spans_exported_total"]) >= got, counters
    promtool = shutil.which("promtool")
    if promtool:  # the Debian package prometheus; test_statistics insists on it
        check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True,
                               timeout=60)
        assert check.returncode == 0, check.stdout + check.stderr
    gw.check_sanitizer_reports()


test_tracing_queue_full_drops.timeout = 60


def test_tracing_lua_ids_and_http_request():
    collector = Collector()
    mirror = Mirror(count=1).start()
    gw = Gateway(workers=1).start()
    pipeline = ("name: p\nkind: Pipeline\nflow:\n- filter: lua\nfilters:\n- name: lua\n  kind: Lua\n  code: |\n"
                "    local res = eg.http.request{ url = \"%s/side\" }\n"
                "    local seen = res.body:match(\"Traceparent:%%[([^%%]]*)%%]\") or \"none\"\n"
                "    ctx:respond(200, (ctx:trace_id() or \"nil\") .. \" \" .. (ctx:span_id() or \"nil\") .. \" \" ..\n"
                "                tostring(ctx:trace_sampled()) .. \" \" .. seen)\n" % mirror.urls[0])
    port = setup(gw, collector, mirror, pipeline=pipeline)
    resp = request(port, "/lua", headers={"traceparent": TRACEPARENT})
    trace_id, span_id, sampled, seen = resp.text.split()
    assert trace_id == TRACE_ID and sampled == "true"
    assert re.match(r"^[0-9a-f]{16}$", span_id) and span_id != PARENT_ID
    assert seen.startswith("00-%s-" % TRACE_ID) and seen.endswith("-01"), seen
    side_span = seen.split("-")[2]
    spans = spans_of(collector, TRACE_ID, 2)
    server = [s for s in spans if s["kind"] == 2][0]
    client = [s for s in spans if s["kind"] == 3][0]
    assert server["spanId"] == span_id
    assert client["spanId"] == side_span and client["parentSpanId"] == span_id
    assert client["name"] == "eg.http.request"
    assert attrs(client)["url.full"] == mirror.urls[0] + "/side"
    # Without tracing on the server, Lua sees nil.
    port2 = free_port()
    gw.create("kind: HTTPServer\nname: plain\nport: %d\nrules:\n- paths:\n  - pathPrefix: /\n    backend: p\n" % port2)
    wait_status(port2, "/w", 200)
    assert request(port2, "/lua").text.startswith("nil nil nil none")
    gw.check_sanitizer_reports()


def test_tracing_spec_errors():
    gw = Gateway(workers=1).start()
    port = free_port()
    cases = [
        ("  serviceName: s\n  exporter: {otlp: {protocol: grpc, endpoint: \"c:4317\", insecure: true}}\n",
         "tracing.exporter.otlp.protocol: grpc is not supported"),
        ("  serviceName: s\n  exporter: {jaeger: {mode: agent, endpoint: \"j:6831\"}}\n",
         "tracing.exporter.jaeger"),
        ("  serviceName: s\n  sampleRate: 2\n  exporter: {otlp: {protocol: http, endpoint: \"http://c\"}}\n",
         "tracing.sampleRate"),
        ("  serviceName: s\n", "exporter and zipkin cannot both be empty"),
    ]
    for tracing, message in cases:
        status, _, body = gw.api("POST", "/apis/v2/objects", body=tracing_server("bad", port, "p", tracing),
                              headers={"Content-Type": "application/vnd.oai.openapi"})
        assert status == 400, (status, body)
        assert message in body, body
    # The server keeps serving and the objects were not stored.
    assert "bad" not in json.dumps(gw.objects())


def test_tracing_update_and_shutdown_flush():
    collector = Collector()
    mirror = Mirror(count=1).start()
    gw = Gateway(workers=1).start()
    port = setup(gw, collector, mirror)
    request(port, "/before", headers={"traceparent": TRACEPARENT})
    spans_of(collector, TRACE_ID, 2)
    # A new version of the HTTPServer (another service name, a long batch timeout): its
    # spans carry the new resource, and what it holds is sent when the gateway stops.
    gw.apply(tracing_server("traced", port, "p", otlp_tracing(collector).replace(
        "gateway-under-test", "renamed").replace("batchTimeout: 100", "batchTimeout: 60000")))
    wait_until(lambda: request(port, "/probe").status == 200, 5)
    time.sleep(0.3)  # the new version is live on the worker
    for i in range(3):
        request(port, "/after/%d" % i, headers={"traceparent": TRACEPARENT})
    time.sleep(0.5)
    after = [s for s in collector.otlp_spans() if attrs(s).get("url.path", "").startswith("/after/")]
    assert after == [], "sent before the 60 s batch timeout: %r" % after
    gw.stop()
    after = [s for s in collector.otlp_spans() if attrs(s).get("url.path", "").startswith("/after/")]
    assert len(after) == 3, after
    assert all(s["_resource"]["service.name"] == "renamed" for s in after)
    before = [s for s in collector.otlp_spans() if attrs(s).get("url.path") == "/before"]
    assert before and before[0]["_resource"]["service.name"] == "gateway-under-test"


def test_tracing_json_escaping_and_limits():
    collector = Collector()
    mirror = Mirror(count=1).start()
    gw = Gateway(workers=1).start()
    tracing = ("  serviceName: \"svc \\\"quoted\\\"\"\n"
               "  spanLimits: {attributeValueLengthLimit: 12, attributeCountLimit: 4}\n"
               "  batchLimits: {batchTimeout: 100}\n"
               "  exporter:\n"
               "    otlp: {protocol: http, endpoint: \"%s\"}\n" % collector.url)
    port = setup(gw, collector, mirror, tracing=tracing)
    # A User-Agent with a quote, a backslash, a tab, UTF-8 and a byte that is not UTF-8.
    ua = b'a"b\\c\td\xc3\xa9\xff'.decode("latin-1")
    request(port, "/aaaaaaaaaaaaaaaaaaaa", headers={"traceparent": TRACEPARENT, "User-Agent": ua})
    spans = spans_of(collector, TRACE_ID, 2)
    server = [s for s in spans if s["kind"] == 2][0]
    a = attrs(server)
    assert len(server["attributes"]) == 4, server["attributes"]  # attributeCountLimit
    assert a["http.request.method"] == "GET"
    assert a["url.path"] == "/aaaaaaaaaaa", a  # 12 bytes
    assert server["_resource"]["service.name"] == 'svc "quoted"'  # the resource is not limited
    # The same without limits: the User-Agent comes back escaped and decodable.
    gw.apply(tracing_server("traced", port, "p", tracing.replace(
        "  spanLimits: {attributeValueLengthLimit: 12, attributeCountLimit: 4}\n", "")))
    time.sleep(0.5)
    trace2 = "5bf92f3577b34da6a3ce929d0e0e4736"
    request(port, "/ua", headers={"traceparent": TRACEPARENT.replace(TRACE_ID, trace2), "User-Agent": ua})
    spans = spans_of(collector, trace2, 2)
    server = [s for s in spans if s["kind"] == 2][0]
    assert attrs(server)["user_agent.original"] == 'a"b\\c\td\u00e9\ufffd', attrs(server)
    gw.check_sanitizer_reports()
