"""egctl against the real admin API: get, describe, apply, delete, member list,
output formats, errors (non-zero exit, one `Error:` line) and warnings."""

import json

from harness import (Gateway, egctl, free_port, http_server, proxy_pipeline, wait_port,
                     wait_status)

MEMBER = "eg-egctl-member"


def start_with_objects():
    """A gateway holding server-demo (HTTPServer) and pipeline-demo (Pipeline)."""
    gw = Gateway(workers=1, name=MEMBER).start()
    port = free_port()
    backend = "http://127.0.0.1:%d" % free_port()  # never called by these tests
    gw.create(http_server("server-demo", port, [("pathPrefix: /pipeline", "pipeline-demo")]))
    gw.create(proxy_pipeline("pipeline-demo", [backend]))
    return gw, port


def ok(gw, *args, stdin=None):
    rc, out, err = gw.egctl(*args, stdin=stdin)
    assert rc == 0, "egctl %s: rc %d\nstdout: %s\nstderr: %s" % (" ".join(args), rc, out, err)
    return out


def assert_error(result, what):
    """Non-zero exit and exactly one line on stderr, starting with `Error:`."""
    rc, out, err = result
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc != 0, "%s: exit code 0 (stdout %r, stderr %r)" % (what, out, err)
    assert len(lines) == 1 and lines[0].startswith("Error:"), \
        "%s: expected one 'Error:' line on stderr, got %r" % (what, err)
    return lines[0]


def parse_json(text):
    """egctl -o json output: one JSON document, or several in a row (`get all`
    prints one per resource kind, as Easegress's egctl does) -> list of documents."""
    decoder, docs, pos = json.JSONDecoder(), [], 0
    text = text.strip()
    while pos < len(text):
        doc, pos = decoder.raw_decode(text, pos)
        docs.append(doc)
        while pos < len(text) and text[pos].isspace():
            pos += 1
    assert docs, "no JSON in %r" % text
    return docs if len(docs) > 1 else docs[0]


def find_named(data, name):
    """The dict named `name` anywhere in parsed JSON (list, map, nested)."""
    if isinstance(data, dict):
        if data.get("name") == name:
            return data
        data = list(data.values())
    if isinstance(data, list):
        for item in data:
            found = find_named(item, name)
            if found is not None:
                return found
    return None


def test_get_all_lists_objects():
    gw, _ = start_with_objects()
    out = ok(gw, "get", "all")
    for word in ("server-demo", "pipeline-demo", "HTTPServer", "Pipeline"):
        assert word in out, "%r missing in `get all`:\n%s" % (word, out)


def test_get_all_json_and_yaml():
    gw, _ = start_with_objects()
    data = parse_json(ok(gw, "get", "all", "-o", "json"))
    assert find_named(data, "server-demo") is not None, data
    assert find_named(data, "pipeline-demo") is not None, data
    data = parse_json(ok(gw, "-o", "json", "get", "all"))  # flag before the command
    assert find_named(data, "pipeline-demo") is not None, data
    out = ok(gw, "get", "all", "-o", "yaml")
    assert "name: server-demo" in out and "name: pipeline-demo" in out, out


def test_get_httpserver():
    gw, port = start_with_objects()
    out = ok(gw, "get", "httpserver")
    assert "server-demo" in out and "pipeline-demo" not in out, out
    assert "server-demo" in ok(gw, "get", "hs"), "alias hs"
    assert "pipeline-demo" in ok(gw, "get", "pipeline"), "kind pipeline"
    assert "pipeline-demo" in ok(gw, "get", "pl"), "alias pl"

    out = ok(gw, "get", "httpserver", "server-demo", "-o", "yaml")
    for line in ("name: server-demo", "kind: HTTPServer", "port: %d" % port):
        assert line in out, "%r missing in yaml:\n%s" % (line, out)

    data = parse_json(ok(gw, "get", "httpserver", "server-demo", "-o", "json"))
    spec = find_named(data, "server-demo")
    assert spec and spec.get("kind") == "HTTPServer" and spec.get("port") == port, data


def test_describe_pipeline():
    gw, _ = start_with_objects()
    out = ok(gw, "describe", "pipeline", "pipeline-demo")
    assert "pipeline-demo" in out and "proxy" in out, out
    data = parse_json(ok(gw, "describe", "pipeline", "pipeline-demo", "-o", "json"))
    assert find_named(data, "pipeline-demo") is not None, data


def test_apply_updates_and_creates():
    gw, _ = start_with_objects()
    backend = "http://127.0.0.1:%d" % free_port()
    ok(gw, "apply", "-f", "-", stdin=proxy_pipeline("pipeline-demo", [backend], policy="random"))
    spec = find_named(parse_json(ok(gw, "get", "pipeline", "pipeline-demo", "-o", "json")),
                      "pipeline-demo")
    policy = spec["filters"][0]["pools"][0]["loadBalance"]["policy"]
    assert policy == "random", spec

    ok(gw, "apply", "-f", "-", stdin=proxy_pipeline("pipeline-new", [backend]))
    assert "pipeline-new" in gw.objects(), gw.objects().keys()
    assert "pipeline-new" in ok(gw, "get", "pipeline")


def test_apply_multi_document():
    gw, port = start_with_objects()
    backend = "http://127.0.0.1:%d" % free_port()
    docs = "---\n".join([proxy_pipeline("pl-a", [backend]), proxy_pipeline("pl-b", [backend])])
    ok(gw, "apply", "-f", "-", stdin=docs)
    names = gw.objects()
    assert "pl-a" in names and "pl-b" in names, names.keys()


def test_delete():
    gw, port = start_with_objects()
    wait_port(port)
    ok(gw, "delete", "pipeline", "pipeline-demo")
    assert "pipeline-demo" not in gw.objects()
    assert_error(gw.egctl("get", "pipeline", "pipeline-demo"), "get after delete")
    wait_status(port, "/pipeline", 503)  # the server stays, its backend is gone

    ok(gw, "delete", "httpserver", "server-demo")
    assert gw.objects() == {}, gw.objects().keys()
    assert "server-demo" not in ok(gw, "get", "all")


def test_member_list():
    gw, _ = start_with_objects()
    out = ok(gw, "member", "list")
    assert MEMBER in out, out
    assert MEMBER in ok(gw, "member", "list", "-o", "json")
    parse_json(ok(gw, "member", "list", "-o", "json"))


def test_errors_are_one_line_and_non_zero():
    gw, _ = start_with_objects()
    assert_error(gw.egctl("get", "nosuchkind"), "unknown kind")
    assert_error(gw.egctl("get", "httpserver", "nosuch"), "missing object")
    assert_error(gw.egctl("describe", "pipeline", "nosuch"), "describe missing object")
    assert_error(gw.egctl("delete", "pipeline", "nosuch"), "delete missing object")
    assert_error(gw.egctl("create", "-f", "-", stdin="kind: [unclosed\nname: x\n"), "bad YAML")
    assert_error(gw.egctl("create", "-f", "-", stdin="kind: HTTPPipeline\nname: old\n"),
                 "removed kind HTTPPipeline")
    assert_error(gw.egctl("create", "-f", "-",
                          stdin=proxy_pipeline("pipeline-demo", ["http://127.0.0.1:1"])),
                 "duplicate name")
    line = assert_error(gw.egctl("create", "-f", "-",
                                 stdin="kind: HTTPServer\nname: bad-port\nport: notanumber\n"),
                        "wrong field type")
    assert "port" in line, "error should name the field: %r" % line
    assert_error(gw.egctl("create", "-f", "/nonexistent/file.yaml"), "missing file")
    assert "bad-port" not in gw.objects()


def test_error_when_server_down():
    down = "127.0.0.1:%d" % free_port()
    assert_error(egctl("get", "all", server=down), "server down (get)")
    assert_error(egctl("create", "-f", "-", server=down,
                       stdin=proxy_pipeline("x", ["http://127.0.0.1:1"])), "server down (create)")


def test_unknown_field_gives_warning():
    gw = Gateway(workers=1).start()
    port = free_port()
    # `maxConnection` is the typo found in Easegress's own examples.
    text = http_server("typo-server", port, [("pathPrefix: /", "nowhere")],
                       extra="maxConnection: 100")
    rc, out, err = gw.egctl("create", "-f", "-", stdin=text)
    assert rc == 0, "unknown field must be accepted: rc %d %s%s" % (rc, out, err)
    warnings = [line for line in err.splitlines() if line.startswith("Warning:")]
    assert warnings, "no Warning: line on stderr: %r" % err
    assert any("maxconnection" in w.lower() for w in warnings), warnings
    assert "typo-server" in gw.objects()
