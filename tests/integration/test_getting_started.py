"""The Getting Started of reference/getting-started.md, with its YAML as written.

Only the ports change: 10080 and 9095-9097 become free ports."""

import os
import shutil
import subprocess
from collections import Counter

from harness import (Gateway, Mirror, free_port, make_tmp_dir, request, wait_port,
                     wait_status)

SERVER_YAML = """\
kind: HTTPServer
name: server-demo
port: 10080
keepAlive: true
https: false
rules:
  - paths:
    - pathPrefix: /pipeline
      backend: pipeline-demo
"""

PIPELINE_YAML = """\
name: pipeline-demo
kind: Pipeline
flow:
  - filter: proxy
filters:
  - name: proxy
    kind: Proxy
    pools:
    - servers:
      - url: http://127.0.0.1:9095
      - url: http://127.0.0.1:9096
      - url: http://127.0.0.1:9097
      loadBalance:
        policy: roundRobin
"""

CURL_HEADERS = {"User-Agent": "curl/7.88.1", "Accept": "*/*",
                "Content-Type": "application/x-www-form-urlencoded"}


def localize(yaml_text, port, mirror):
    """The getting-started YAML with our free ports in place of the fixed ones."""
    text = yaml_text.replace("port: 10080", "port: %d" % port)
    for fixed, mine in zip((9095, 9096, 9097), mirror.ports):
        text = text.replace("127.0.0.1:%d" % fixed, "127.0.0.1:%d" % mine)
    return text


def post_hello(port):
    """What `curl http://127.0.0.1:PORT/pipeline -d 'Hello, Easegress'` does."""
    if shutil.which("curl"):
        out = subprocess.run(
            ["curl", "-sS", "-i", "-A", "curl/7.88.1", "http://127.0.0.1:%d/pipeline" % port,
             "-d", "Hello, Easegress"], capture_output=True, text=True, timeout=20)
        assert out.returncode == 0, "curl failed: %s" % out.stderr
        head, _, body = out.stdout.replace("\r\n", "\n").partition("\n\n")
        status = int(head.split()[1])
        return status, body
    resp = request(port, "/pipeline", "POST", "Hello, Easegress", CURL_HEADERS)
    return resp.status, resp.text


def check_mirror_echo(status, body):
    assert status == 200, "status %d, body %r" % (status, body)
    lines = body.splitlines()
    assert lines and lines[0] == "Your Request", body
    fields = {}
    for line in lines[1:]:
        key, sep, value = line.partition(": ")
        if sep:
            fields[key.strip()] = value
    assert fields.get("Method") == "POST", body
    assert fields.get("URL") == "/pipeline", body
    assert fields.get("Body") == "Hello, Easegress", body
    header = fields.get("Header", "")
    for part in ("Accept:[*/*]", "Content-Type:[application/x-www-form-urlencoded]",
                 "User-Agent:[curl/7.88.1]"):
        assert part in header, "%s missing in Header line %r" % (part, header)


def test_getting_started_create_from_stdin():
    gw = Gateway(workers=1).start()
    mirror = Mirror(3).start()
    port = free_port()

    gw.create(localize(SERVER_YAML, port, mirror))  # echo '...' | egctl create -f -
    wait_port(port)
    wait_status(port, "/pipeline", 503)  # HTTPServer up, pipeline not there yet
    assert request(port, "/nothing-here").status == 404

    gw.create(localize(PIPELINE_YAML, port, mirror))
    wait_status(port, "/pipeline", 200)
    check_mirror_echo(*post_hello(port))
    assert request(port, "/nothing-here").status == 404
    assert request(port, "/").status == 404


def test_getting_started_object_create_from_file():
    gw = Gateway(workers=1).start()
    mirror = Mirror(3).start()
    port = free_port()
    tmp = make_tmp_dir("gs-")
    files = []
    for name, text in (("server.yaml", SERVER_YAML), ("pipeline.yaml", PIPELINE_YAML)):
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(localize(text, port, mirror))
        files.append(path)

    rc, out, err = gw.egctl("object", "create", "-f", files[0])
    assert rc == 0, "egctl object create -f %s: rc %d %s%s" % (files[0], rc, out, err)
    wait_port(port)
    wait_status(port, "/pipeline", 503)

    rc, out, err = gw.egctl("object", "create", "-f", files[1])
    assert rc == 0, "egctl object create -f %s: rc %d %s%s" % (files[1], rc, out, err)
    wait_status(port, "/pipeline", 200)
    check_mirror_echo(*post_hello(port))


def test_getting_started_round_robin_over_three_mirrors():
    gw = Gateway(workers=1).start()
    mirror = Mirror(3).start()
    port = free_port()
    gw.create(localize(SERVER_YAML, port, mirror) + "---\n" + localize(PIPELINE_YAML, port, mirror))
    wait_status(port, "/pipeline", 200)

    served = [request(port, "/pipeline", "POST", "Hello, Easegress", CURL_HEADERS).mirror_port
              for _ in range(30)]
    counts = Counter(served)
    assert set(counts) == set(mirror.ports), "servers hit: %s" % counts
    assert all(n == 10 for n in counts.values()), "not even: %s" % counts
    for i in range(len(served) - 2):
        window = served[i:i + 3]
        assert len(set(window)) == 3, "not a round-robin cycle at %d: %s" % (i, served)
