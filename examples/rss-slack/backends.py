#!/usr/bin/python3
"""Local stand-ins for the RSS-to-Slack orchestration's two outside services.

  feed service  GET /developers/feed2json/convert?url=<feed url>
                -> gzipped JSON {"title": ..., "items": [{"url": ..., "title": ...}]}
  webhook       POST /services/<anything>  -> records the JSON body, answers "ok"
                GET  /received             -> the bodies received so far, as a JSON list

Usage: /usr/bin/python3 examples/rss-slack/backends.py [--feed-port 9101] [--webhook-port 9102]
"""

import argparse
import gzip
import http.server
import json
import sys
import threading
import urllib.parse

RECEIVED = []
LOCK = threading.Lock()


def feed_for(url):
    """A feed whose content depends on the requested URL, so tests can check it went through."""
    return {
        "title": "Posts from %s" % url,
        "items": [
            {"url": "%s/post-1" % url, "title": "First <post> & more"},
            {"url": "%s/post-2" % url, "title": "Second post"},
        ],
    }


class Feed(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        parsed = urllib.parse.urlparse(self.path)
        if parsed.path != "/developers/feed2json/convert":
            self.send_error(404)
            return
        url = urllib.parse.parse_qs(parsed.query).get("url", [""])[0]
        body = gzip.compress(json.dumps(feed_for(url)).encode())
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Webhook(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body, ctype="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            doc = json.loads(raw)
        except ValueError:
            self.reply(400, "invalid_payload")
            return
        with LOCK:
            RECEIVED.append({"path": self.path, "body": doc})
        self.reply(200, "ok")

    def do_GET(self):
        if self.path != "/received":
            self.reply(404, "not found")
            return
        with LOCK:
            self.reply(200, json.dumps(RECEIVED), "application/json")

    def log_message(self, *args):
        pass


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--feed-port", type=int, default=9101)
    p.add_argument("--webhook-port", type=int, default=9102)
    args = p.parse_args(argv)
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", args.feed_port), Feed),
               http.server.ThreadingHTTPServer(("127.0.0.1", args.webhook_port), Webhook)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("feed on http://127.0.0.1:%d, webhook on http://127.0.0.1:%d" %
          (servers[0].server_address[1], servers[1].server_address[1]), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
