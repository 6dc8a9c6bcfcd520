"""The access log: one line per request in Easegress's default layout, to the file given by
--access-log, flushed within a second and at shutdown."""

import os
import re

from harness import Gateway, Mirror, free_port, make_tmp_dir, request, wait_status, wait_until

LINE = re.compile(r"^\[(\S+)\] \[(\S+) (\S+) (\S+) (\S+) (HTTP/1\.\d) (\d{3})\] "
                  r"\[(\S+) rx:(\d+)B tx:(\d+)B\] \[pipeline: (\S+)\]$")


def test_access_log_lines():
    mirror = Mirror(count=1).start()
    path = os.path.join(make_tmp_dir("alog-"), "access.log")
    gw = Gateway(workers=1, args=("--access-log", path)).start()
    port = free_port()
    gw.create("kind: HTTPServer\nname: s\nport: %d\nrules:\n- paths:\n  - pathPrefix: /in\n    backend: p\n" % port)
    gw.create("name: p\nkind: Pipeline\nfilters:\n- name: proxy\n  kind: Proxy\n  pools:\n"
              "  - servers:\n    - url: %s\n" % mirror.urls[0])
    wait_status(port, "/in/a?q=1", 200)
    request(port, "/in/a?q=1")
    request(port, "/elsewhere")

    def lines():
        if not os.path.exists(path):
            return None
        with open(path) as f:
            got = [l.rstrip("\n") for l in f if "/elsewhere" in l or "/in/a" in l]
        return got if any("/elsewhere" in l for l in got) else None

    got = wait_until(lines, 5, what="access log lines")
    parsed = [LINE.match(l) for l in got]
    assert all(parsed), got
    ok = [m for m in parsed if m.group(5) == "/in/a?q=1" and m.group(7) == "200"]
    assert ok and ok[-1].group(11) == "p" and ok[-1].group(4) == "GET", got
    assert int(ok[-1].group(10)) > 0  # the mirror's body
    missing = [m for m in parsed if m.group(5) == "/elsewhere"]
    assert missing and missing[0].group(7) == "404" and missing[0].group(11) == "-", got
