"""A Lua filter that eats memory gets 500 and the worker lives on; a filter stuck in an
endless loop is caught by the watchdog, and the master restarts the server process on the
same sockets: the other routes serve again, no object lost."""

import time

from harness import Gateway, free_port, request, wait_status, wait_until

SERVER = """\
kind: HTTPServer
name: s
port: %d
rules:
- paths:
  - path: /hog
    backend: hog
  - path: /spin
    backend: spin
  - path: /ok
    backend: ok
"""

HOG = """\
name: hog
kind: Pipeline
filters:
  - name: hog
    kind: Lua
    code: |
      local t = {}
      for i = 1, 1e8 do t[i] = string.rep("x", 64) .. i end
"""

SPIN = """\
name: spin
kind: Pipeline
filters:
  - name: spin
    kind: Lua
    code: |
      while true do end
"""

OK = """\
name: ok
kind: Pipeline
filters:
  - name: ok
    kind: Lua
    code: |
      return ctx:respond(200, "ok")
"""


def test_memory_cap_answers_500_and_the_worker_lives_on():
    gw = Gateway(workers=1, args=("--lua-memory-limit", "64")).start()
    port = free_port()
    gw.create(SERVER % port)
    gw.create(HOG)
    gw.create(OK)
    resp = request(port, "/hog", timeout=60)
    assert resp.status == 500, resp.status
    assert "not enough memory" in gw.log_tail(200)
    pid = gw.server_pid()
    for _ in range(3):
        assert request(port, "/ok").text == "ok"
    assert gw.server_pid() == pid  # same process: nothing was restarted


def test_watchdog_restarts_a_stuck_server_process():
    gw = Gateway(workers=1, args=("--watchdog-timeout", "2")).start()
    port = free_port()
    gw.create(SERVER % port)
    gw.create(SPIN)
    gw.create(OK)
    wait_status(port, "/ok", 200)
    pid = gw.server_pid()
    start = time.time()
    try:
        request(port, "/spin", timeout=15)
    except Exception:
        pass  # the connection dies with the process
    wait_until(lambda: gw.server_pid() not in (None, pid), 15, what="a new server process")
    assert time.time() - start < 12
    wait_status(port, "/ok", 200, timeout=15)
    assert "watchdog" in gw.log_tail(200)
