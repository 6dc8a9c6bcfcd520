"""egctl's newer verbs against the real server: create httpproxy (then traffic through it
to Mirror backends), edit through $EGCTL_EDITOR, completion scripts loaded by bash, apis,
--namespace/--all-namespaces, object templates and filter schemas."""

import json
import os
import stat
import subprocess

from harness import (EGCTL_BIN, Gateway, Mirror, free_port, make_tmp_dir, request,
                     wait_status)


def ok(gw, *args, env=None):
    rc, out, err = run(gw, *args, env=env)
    assert rc == 0, "egctl %s: rc %d\nstdout: %s\nstderr: %s" % (" ".join(args), rc, out, err)
    return out


def run(gw, *args, env=None):
    full = dict(os.environ)
    full.update(env or {})
    proc = subprocess.run([EGCTL_BIN, "--server", gw.server] + list(args), capture_output=True,
                          text=True, timeout=30, env=full)
    return proc.returncode, proc.stdout, proc.stderr


def one_error(rc, err):
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc != 0 and len(lines) == 1 and lines[0].startswith("Error:"), (rc, err)
    return lines[0]


def test_create_httpproxy_serves_through_mirrors():
    mirror = Mirror(count=3).start()
    gw = Gateway(workers=1).start()
    port = free_port()
    out = ok(gw, "create", "httpproxy", "demo", "--port", str(port),
             "--rule", "/api=%s,%s" % (mirror.urls[0], mirror.urls[1]),
             "--rule=127.0.0.1/pre*=%s" % mirror.urls[2])
    assert out.splitlines() == ["create HTTPServer demo successfully",
                                "create Pipeline demo-0 successfully",
                                "create Pipeline demo-1 successfully"], out
    server = json.loads(ok(gw, "get", "httpserver", "demo", "-o", "json"))
    assert server["port"] == port and server["rules"] == [
        {"paths": [{"path": "/api", "backend": "demo-0"}]},
        {"host": "127.0.0.1", "paths": [{"pathPrefix": "/pre", "backend": "demo-1"}]}], server
    pipeline = json.loads(ok(gw, "get", "pipeline", "demo-0", "-o", "json"))
    proxy = pipeline["filters"][0]
    assert proxy["name"] == "proxy" and proxy["kind"] == "Proxy", pipeline
    assert proxy["pools"][0]["loadBalance"]["policy"] == "roundRobin"

    wait_status(port, "/api", 200)
    seen = {request(port, "/api").mirror_port for _ in range(6)}
    assert seen == set(mirror.ports[:2]), seen  # round robin over both URLs of the rule
    assert request(port, "/api/x").status == 404  # exact path
    assert request(port, "/prefix/deeper").mirror_port == mirror.ports[2]

    rc, _, err = run(gw, "create", "httpproxy", "tls", "--port", str(free_port()),
                     "--rule", "/a=http://127.0.0.1:1", "--tls")
    assert "--tls" in one_error(rc, err) and "HTTPS" in err, err
    rc, _, err = run(gw, "create", "httpproxy", "bad", "--port", "1", "--rule", "nopath=http://x")
    assert "not contain a path" in one_error(rc, err), err
    rc, _, err = run(gw, "create", "httpproxy", "bad", "--port", "1", "--rule", "/x=")
    assert "endpoints in rule /x= is empty" in one_error(rc, err), err
    rc, _, err = run(gw, "create", "httpproxy", "bad", "--rule", "/x=http://a")
    assert "port" in one_error(rc, err), err
    assert "tls" not in ok(gw, "get", "all")
    assert gw.stop() == 0


def write_script(path, body):
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)


def test_edit_with_editor_script():
    gw = Gateway(workers=1).start()
    port, new_port = free_port(), free_port()
    ok(gw, "create", "httpproxy", "ed", "--port", str(port), "--rule", "/a=http://127.0.0.1:9")
    tmp = make_tmp_dir("edit-")
    editor = os.path.join(str(tmp), "editor.sh")
    # The file egctl opens starts with name and kind; the script edits the port.
    write_script(editor, 'head -2 "$1" > "$1.head"\n'
                         'sed -i "s/^port: %d$/port: %d/" "$1"\n' % (port, new_port))
    env = {"EGCTL_EDITOR": editor, "TMPDIR": str(tmp)}
    out = ok(gw, "edit", "httpserver", "ed", env=env)
    assert out.strip() == "update HTTPServer ed successfully", out
    with open(os.path.join(str(tmp), [f for f in os.listdir(str(tmp)) if f.endswith(".head")][0])) as f:
        assert f.read() == "name: ed\nkind: HTTPServer\n"
    assert json.loads(ok(gw, "get", "hs", "ed", "-o", "json"))["port"] == new_port
    wait_status(new_port, "/a", 502)  # served on the new port (its backend is down)

    # Refused by the server: non-zero exit, the reason, and the edited file kept.
    write_script(editor, 'sed -i "s/^port: .*/port: 70000/" "$1"\n')
    rc, _, err = run(gw, "edit", "hs", "ed", env=env)
    line = one_error(rc, err)
    assert "400" in line and "port" in line and "yaml saved in " in line, line
    kept = line.split("yaml saved in ")[1].strip()
    with open(kept) as f:
        assert "port: 70000" in f.read()
    # The name cannot change; an editor that fails changes nothing.
    write_script(editor, 'sed -i "s/^name: ed$/name: other/" "$1"\n')
    rc, _, err = run(gw, "edit", "hs", "ed", env=env)
    assert "name is not equal: ed, other" in one_error(rc, err), err
    rc, _, err = run(gw, "edit", "hs", "ed", env={"EGCTL_EDITOR": "false", "TMPDIR": str(tmp)})
    assert "editor" in one_error(rc, err), err
    out = ok(gw, "edit", "hs", "ed", env={"EGCTL_EDITOR": "true", "TMPDIR": str(tmp)})
    assert out.strip() == "nothing changed", out
    rc, _, err = run(gw, "edit", "pipeline", "ed", env=env)  # ed is an HTTPServer
    assert "not found" in one_error(rc, err), err
    assert json.loads(ok(gw, "get", "hs", "ed", "-o", "json"))["port"] == new_port
    assert gw.stop() == 0


def complete(words, server):
    """The bash completion's candidates for the command line `words` (last = current)."""
    script = ('source <("$EGCTL" completion bash)\n'
              'PATH="$(dirname "$EGCTL"):$PATH"\n'
              'COMP_WORDS=(%s); COMP_CWORD=%d; _egctl\n'
              'printf "%%s\\n" "${COMPREPLY[@]}"\n') % (
                  " ".join("'%s'" % w for w in words), len(words) - 1)
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, EGCTL=os.path.abspath(EGCTL_BIN)))
    assert proc.returncode == 0, proc.stderr
    return [line for line in proc.stdout.splitlines() if line]


def test_completion_scripts():
    proc = subprocess.run(["bash", "-c", 'source <("$EGCTL" completion bash); complete -p egctl'],
                          capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, EGCTL=os.path.abspath(EGCTL_BIN)))
    assert proc.returncode == 0 and "-F _egctl egctl" in proc.stdout, (proc.stdout, proc.stderr)

    gw = Gateway(workers=1).start()
    ok(gw, "create", "httpproxy", "comp", "--port", str(free_port()), "--rule", "/a=http://127.0.0.1:9")
    server = ["--server", gw.server]
    assert set(complete(["egctl", "ge"], None)) == {"get"}
    assert {"logs", "edit", "completion", "config", "create"} <= set(complete(["egctl", ""], None))
    assert {"httpserver", "pipeline", "hs", "all"} <= set(complete(["egctl", "get", ""], None))
    assert set(complete(["egctl", "logs", ""], None)) == {"get-level", "set-level"}
    assert set(complete(["egctl", "logs", "set-level", ""], None)) == {"debug", "info"}
    assert set(complete(["egctl", "-o", ""], None)) == {"default", "yaml", "json"}
    assert {"--tail", "--follow", "-f"} <= set(complete(["egctl", "logs", "--"], None) +
                                                 complete(["egctl", "logs", "-"], None))
    assert set(complete(["egctl"] + server + ["get", "pipeline", "c"], None)) == {"comp-0"}
    assert set(complete(["egctl", "completion", ""], None)) == {"bash", "zsh"}

    rc, out, _ = run(gw, "completion", "zsh")
    assert rc == 0 and out.startswith("#compdef egctl") and "bashcompinit" in out
    rc, _, err = run(gw, "completion", "fish")
    assert "fish" in one_error(rc, err)
    assert gw.stop() == 0


def test_apis_namespaces_templates_schemas():
    gw = Gateway(workers=1).start()
    ok(gw, "create", "httpproxy", "ns", "--port", str(free_port()), "--rule", "/a=http://127.0.0.1:9")
    out = ok(gw, "apis")
    rows = [line.split() for line in out.splitlines()]
    assert rows[0] == ["PATH", "METHOD", "VERSION", "GROUP"], rows[0]
    assert ["/logs", "GET", "/apis/v2", "admin"] in rows and \
        ["/objects-yaml/{kind}/{name}", "GET", "/apis/v2", "admin"] in rows, out

    out = ok(gw, "get", "all", "--all-namespaces")
    assert out.splitlines()[0].split() == ["NAME", "KIND", "NAMESPACE", "AGE"], out
    assert ["ns", "HTTPServer", "default"] == out.splitlines()[1].split()[:3], out
    assert json.loads(ok(gw, "get", "pipeline", "--all-namespaces", "-o", "json")) == \
        json.loads(gw.api("GET", "/apis/v2/objects?all-namespaces=true")[2])
    assert "ns-0" not in ok(gw, "get", "pipeline", "--namespace", "other")
    assert "ns-0" in ok(gw, "get", "pipeline", "--namespace", "default")
    assert "In Namespace default:" in ok(gw, "describe", "pipeline", "--all-namespaces")
    rc, _, err = run(gw, "get", "all", "--namespace", "x", "--all-namespaces")
    assert "conflict" in one_error(rc, err), err
    assert gw.api("GET", "/apis/v2/objects/ns?namespace=other")[0] == 404

    status, headers, body = gw.api("GET", "/apis/v2/objects-yaml/httpserver/tmpl")
    assert status == 200 and body.startswith("name: tmpl\nkind: HTTPServer\n\n"), body
    assert "keepAlive: true" in body and "keepAliveTimeout: 60s" in body and \
        "maxConnections: 10240" in body, body
    status, _, body = gw.api("GET", "/apis/v2/objects-yaml/Pipeline/p")
    assert status == 200 and body.startswith("name: p\nkind: Pipeline\n"), body
    assert gw.api("GET", "/apis/v2/objects-yaml/Nope/p")[0] == 404

    prefix = "/apis/v2/metadata/objects/pipeline/filters/"
    status, _, body = gw.api("GET", prefix + "Mock/description")
    assert status == 200 and body.startswith("Mock: answers a request with a canned response"), body
    status, _, body = gw.api("GET", prefix + "Redirector/schema")
    schema = json.loads(body)
    assert status == 200 and schema["type"] == "object" and schema["title"] == "Redirector"
    assert schema["properties"]["kind"]["enum"] == ["Redirector"]
    # Derived from lua/filters/redirector.lua's schema: its fields, types and defaults.
    assert schema["properties"]["replacement"]["type"] == "string", schema
    assert schema["required"] == ["kind", "match", "name", "replacement"], schema
    assert schema["properties"]["statusCode"]["type"] == "integer", schema
    assert schema["properties"]["statusCode"]["default"] == 301, schema
    status, _, body = gw.api("GET", prefix + "Proxy/schema")
    assert status == 404 and "declares no schema" in body, body
    assert gw.api("GET", prefix + "Nope/description")[0] == 404
    assert gw.stop() == 0
