"""GlobalFilter (reference/easegress-spec.md §1.4), as Easegress's TestGlobalFilterFallthrough
pins it: a Validator in beforePipeline answers 400 and nothing after runs; a proxy failure in
the pipeline skips afterPipeline unless fallthrough.pipeline is true."""

from harness import Gateway, Mirror, free_port, request, wait_until

GLOBAL_FILTER = """\
kind: GlobalFilter
name: gf
beforePipeline:
  flow:
  - filter: validator
  filters:
  - name: validator
    kind: Validator
    headers:
      X-Id:
        values: ["1"]
afterPipeline:
  filters:
  - name: mark
    kind: ResponseAdaptor
    header:
      set:
        X-After: "yes"
fallthrough:
  pipeline: %s
"""

SERVER = """\
kind: HTTPServer
name: s
port: %d
globalFilter: gf
rules:
- paths:
  - path: /ok
    backend: ok
  - path: /fail
    backend: fail
"""

PIPELINE = """\
name: %s
kind: Pipeline
filters:
- name: proxy
  kind: Proxy
  pools:
  - servers:
    - url: %s
"""


def test_global_filter_before_after_and_fallthrough():
    mirror = Mirror(count=1).start()
    gw = Gateway(workers=2).start()
    port = free_port()
    gw.create(GLOBAL_FILTER % "false")
    gw.create(PIPELINE % ("ok", mirror.urls[0]))
    gw.create(PIPELINE % ("fail", "http://127.0.0.1:%d" % free_port()))
    gw.create(SERVER % port)

    wait_until(lambda: request(port, "/ok").status == 400, 10, what="the before pipeline")
    blocked = request(port, "/ok")
    assert blocked.status == 400 and blocked.header("X-After") is None

    passed = request(port, "/ok", headers={"X-Id": "1"})
    assert passed.status == 200, passed.status
    assert passed.header("X-After") == "yes"
    assert "X-Id:[1]" in passed.text  # the routed pipeline ran

    failed = request(port, "/fail", headers={"X-Id": "1"})
    assert failed.status == 502, failed.status
    assert failed.header("X-After") is None  # the pipeline ended: no afterPipeline

    gw.apply(GLOBAL_FILTER % "true")
    wait_until(lambda: request(port, "/fail", headers={"X-Id": "1"}).header("X-After") == "yes", 10,
               what="fallthrough.pipeline")
    assert request(port, "/fail", headers={"X-Id": "1"}).status == 502

    # No route, no GlobalFilter: 404 without the after header.
    missing = request(port, "/nothing", headers={"X-Id": "1"})
    assert missing.status == 404 and missing.header("X-After") is None


def test_global_filter_is_validated():
    gw = Gateway(workers=1).start()
    rc, _, err = gw.egctl("create", "-f", "-", stdin="kind: GlobalFilter\nname: bad\nbeforePipeline:\n"
                          "  filters:\n  - name: x\n    kind: NoSuchKind\n")
    assert rc != 0 and "beforePipeline" in err and "NoSuchKind" in err, err
