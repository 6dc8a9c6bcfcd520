"""--init-script runs in every worker at start; its timers keep running in the background
and may call backends; what they store in eg.shared is seen by requests."""

import os
import time

from harness import Gateway, Mirror, free_port, make_tmp_dir, request, wait_until

INIT = """\
-- started in each worker: one tick per 50 ms, and a backend call at start
local d = eg.shared.default
d:incr("workers_started", 1, 0)
eg.timer.every(50, function() d:incr("ticks", 1, 0) end)
eg.timer.at(0, function()
  local res = eg.http.request{ url = "%s/warm-up" }
  if res then d:set("warm_status", res.status) end
end)
"""

PIPELINE = """\
name: p
kind: Pipeline
filters:
  - name: report
    kind: Lua
    code: |
      local d = eg.shared.default
      return ctx:respond(200, string.format("%s %s %s", d:get("workers_started"), d:get("ticks") or 0,
                                            tostring(d:get("warm_status"))))
"""


def test_init_script_timers_and_shared_state():
    mirror = Mirror(count=1).start()
    tmp = make_tmp_dir("init-")
    script = os.path.join(tmp, "init.lua")
    with open(script, "w") as f:
        f.write(INIT % mirror.urls[0])
    gw = Gateway(workers=2, args=("--init-script", script)).start()
    port = free_port()
    gw.create("kind: HTTPServer\nname: s\nport: %d\nrules:\n- paths:\n  - pathPrefix: /\n    backend: p\n" % port)
    gw.create(PIPELINE)

    def report():
        resp = request(port, "/")
        return resp.text.split() if resp.status == 200 else None

    # Both workers run the script as they start (each on its own loop, so the second may come
    # a moment after the first has already made its backend call).
    first = wait_until(lambda: (lambda r: r if r and r[2] == "200" and r[0] == "2" else None)(report()), 10,
                       what="both workers' init scripts and the backend call")
    ticks = int(first[1])
    time.sleep(0.5)
    later = report()
    # two workers ticking every 50 ms for 0.5 s: about 20 more ticks
    assert int(later[1]) - ticks >= 10, (first, later)
