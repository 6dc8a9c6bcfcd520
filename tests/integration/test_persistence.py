"""Acknowledged objects survive restarts and kill -9; a crashed server process is
replaced by the master with the same sockets, so clients are never refused."""

import threading
import time

from harness import (Gateway, LoadLoop, Mirror, RawBackend, Reader, free_port, http_response,
                     pid_alive, proxy_pipeline, read_request, request, setup_proxy,
                     wait_status, wait_until)


def serving_gateway():
    gw = Gateway(workers=2).start()
    mirror = Mirror(3).start()
    port = free_port()
    setup_proxy(gw, port, mirror.urls)
    return gw, mirror, port


def assert_serving(port):
    resp = wait_status(port, "/pipeline", 200)
    assert resp.text.startswith("Your Request"), resp


def test_restart_with_sigterm_keeps_objects():
    gw, mirror, port = serving_gateway()
    before = gw.objects()
    rc = gw.stop()
    assert rc == 0, "SIGTERM should exit 0, got %s\n%s" % (rc, gw.log_tail())
    gw.start()
    after = gw.objects()
    assert set(after) == set(before), (before.keys(), after.keys())
    assert after == before, "objects changed across restart"
    assert_serving(port)


def test_kill9_of_master_and_server_keeps_objects():
    gw, mirror, port = serving_gateway()
    before = gw.objects()
    gw.kill_all()
    gw.start()
    assert gw.objects() == before
    assert_serving(port)


def test_kill9_of_master_alone_stops_the_server_and_keeps_objects():
    gw, mirror, port = serving_gateway()
    before = gw.objects()
    gw.kill_master()  # asserts the orphaned server exits: no orphan keeps the ports
    gw.start()
    assert gw.objects() == before
    assert_serving(port)


def test_every_acknowledged_change_survives_kill9():
    gw, mirror, port = serving_gateway()
    names = ["pl-%d" % i for i in range(10)]
    for name in names:
        gw.create(proxy_pipeline(name, mirror.urls))
    gw.apply(proxy_pipeline("pl-0", mirror.urls, policy="random"))
    gw.delete("pipeline", "pl-9")
    gw.kill_all()  # right after the last acknowledgment

    gw.start()
    objects = gw.objects()
    for name in names[:-1]:
        assert name in objects, "%s lost after kill -9 (have %s)" % (name, sorted(objects))
    assert "pl-9" not in objects, "deleted pl-9 came back"
    policy = objects["pl-0"]["filters"][0]["pools"][0]["loadBalance"]["policy"]
    assert policy == "random", "update of pl-0 lost: %s" % objects["pl-0"]
    assert_serving(port)


class RefusalCounter(LoadLoop):
    """New connection per request; failures are classified, only refusals matter."""

    def __init__(self, port):
        super().__init__(port, "/pipeline", threads=4, keepalive=False,
                         check=lambda r: None if r.status == 200 else "status %d" % r.status)

    def refused(self):
        with self._lock:
            return [f for f in self.failures if f.startswith("ConnectionRefusedError")]


def test_server_crash_is_restarted_without_refused_connections():
    gw, mirror, port = serving_gateway()
    load = RefusalCounter(port).start()
    load.wait_requests(50)

    old = gw.kill_server()
    wait_until(lambda: not pid_alive(old), 5, what="killed server to die")
    new = wait_until(lambda: [p for p in gw.server_pids() if p != old], 15,
                     what="master to start a new server")
    assert gw.running(), "master died with its server:\n%s" % gw.log_tail()
    load.wait_requests(100, timeout=20)  # served again, by the new server
    load.stop()

    assert not load.refused(), "connections refused during the restart: %d, e.g. %s" % (
        len(load.refused()), load.refused()[:3])
    assert new and new[0] != old
    gw.wait_ready()
    assert "pipeline-demo" in gw.objects()
    assert_serving(port)


def test_second_instance_on_same_data_dir_refuses_to_start():
    gw = Gateway(workers=1).start()
    other = Gateway(workers=1, data_dir=gw.data_dir).spawn()
    wait_until(lambda: other.proc.poll() is not None, 10,
               what="second instance on a locked data dir to exit")
    assert other.proc.returncode != 0, "second instance exited 0"
    assert gw.healthz(), "first instance hurt by the second"


def slow_backend(delay):
    """A backend answering each request after `delay` seconds."""
    def handler(sock, backend):
        reader = Reader(sock)
        while True:
            req = read_request(reader)
            if req is None:
                return
            backend.requests.append(req[1])
            time.sleep(delay)
            sock.sendall(http_response(200, "slow but done"))
    return RawBackend(handler).start()


def test_sigterm_finishes_in_flight_requests():
    gw = Gateway(workers=1).start()
    backend = slow_backend(1.5)
    port = free_port()
    gw.create("kind: HTTPServer\nname: s\nport: %d\nrules:\n  - paths:\n"
              "    - pathPrefix: /\n      backend: p\n" % port)
    gw.create(proxy_pipeline("p", [backend.url]))
    wait_status(port, "/warm", 200, timeout=15)

    result = {}

    def in_flight():
        try:
            result["resp"] = request(port, "/slow", timeout=15)
        except Exception as err:
            result["error"] = err

    client = threading.Thread(target=in_flight)
    client.start()
    wait_until(lambda: "/slow" in backend.requests, 5, what="/slow to reach the backend")
    rc = gw.stop(timeout=15)
    client.join(20)
    assert "error" not in result, "in-flight request failed on SIGTERM: %r" % result["error"]
    assert result["resp"].status == 200 and result["resp"].text == "slow but done", result
    assert rc == 0, "exit code %s after SIGTERM" % rc
