#!/usr/bin/python3
"""A tiny trace collector for trying tracing out: receives OTLP/HTTP JSON on
/v1/traces (port 4318) and Zipkin v2 JSON on /api/v2/spans (port 9411) and prints one
line per span: trace id, span id, parent span id, kind, name, duration, status, and the
http attributes. Not a real collector: nothing is stored.

Usage: /usr/bin/python3 examples/tracing/collector.py [--otlp-port 4318] [--zipkin-port 9411]
Standard library only. Ctrl-C stops it.
"""

import argparse
import gzip
import http.server
import json
import sys
import threading

KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


def value(v):
    for key in ("stringValue", "intValue", "boolValue", "doubleValue"):
        if key in v:
            return v[key]
    return v


def otlp_lines(doc):
    for rs in doc.get("resourceSpans", []):
        res = {a["key"]: value(a["value"]) for a in rs.get("resource", {}).get("attributes", [])}
        for ss in rs.get("scopeSpans", []):
            for s in ss.get("spans", []):
                attrs = {a["key"]: value(a["value"]) for a in s.get("attributes", [])}
                ms = (int(s["endTimeUnixNano"]) - int(s["startTimeUnixNano"])) / 1e6
                status = {0: "unset", 1: "ok", 2: "error"}.get(s.get("status", {}).get("code", 0))
                yield "%s %s parent=%-16s %-6s %-24s %8.3f ms %-5s service=%s %s" % (
                    s["traceId"], s["spanId"], s.get("parentSpanId", "-"), KINDS.get(s.get("kind"), "?"),
                    s["name"], ms, status, res.get("service.name"),
                    " ".join("%s=%s" % kv for kv in sorted(attrs.items())))


def zipkin_lines(doc):
    for s in doc:
        yield "%s %s parent=%-16s %-6s %-24s %8.3f ms service=%s %s" % (
            s["traceId"], s["id"], s.get("parentId", "-"), s.get("kind", "?").lower(), s["name"],
            s.get("duration", 0) / 1e3, s.get("localEndpoint", {}).get("serviceName"),
            " ".join("%s=%s" % kv for kv in sorted(s.get("tags", {}).items())))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        try:
            doc = json.loads(body)
            lines = otlp_lines(doc) if self.path.startswith("/v1/traces") else zipkin_lines(doc)
            for line in lines:
                print(line, flush=True)
            status = 200
        except (ValueError, KeyError, TypeError) as err:
            print("bad export on %s: %s" % (self.path, err), file=sys.stderr, flush=True)
            status = 400
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--otlp-port", type=int, default=4318)
    ap.add_argument("--zipkin-port", type=int, default=9411)
    args = ap.parse_args()
    servers = [http.server.ThreadingHTTPServer((args.host, p), Handler) for p in (args.otlp_port, args.zipkin_port)]
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("collecting on %s:%d (OTLP/HTTP /v1/traces) and %s:%d (Zipkin /api/v2/spans)" % (
        args.host, args.otlp_port, args.host, args.zipkin_port), flush=True)
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
