"""egctl convert nginx: three nginx.conf files (tests/integration/nginx/) of increasing size
run in real nginx and, converted, in the gateway; every request of a list must get the
same answer from both: status, the backend that served it (X-Mirror-Port), the URI and
Host it saw, the headers proxy_set_header sets, and for answers nginx builds itself the
body, Content-Type and Location.

Also: warnings name the directives left out, and malformed input fails with file:line."""

import os
import re

from harness import (Gateway, Mirror, Nginx, egctl, free_port, make_tmp_dir, port_open, request,
                     wait_until)

HERE = os.path.dirname(os.path.abspath(__file__))
CONF_DIR = os.path.join(HERE, "nginx")

# Headers proxy_set_header sets in the three files, compared as the backend saw them.
SET_HEADERS = ["X-Real-Ip", "X-Forwarded-For", "X-Kind", "X-Gateway", "X-Section", "X-Api"]


def reference_backend(port, path, headers):
    """The backend nginx (the reference) sends a request to. Under load nginx now and then
    fails to reach a mirror; that is not what the comparison is about, so it gets one more try."""
    backend = request(port, path, headers=headers).mirror_port
    return backend if backend is not None else request(port, path, headers=headers).mirror_port


def render(name, dest, values):
    """Copy CONF_DIR's files for `name` (name.conf, name-*.conf, name.d/) into dest with the
    placeholders filled; returns the path of the main file."""
    os.makedirs(dest, exist_ok=True)
    temp = os.path.join(dest, "temp")
    os.makedirs(temp, exist_ok=True)
    values = dict(values)
    values["PLUMBING"] = (
        "access_log off;\n"
        "    client_body_temp_path %(t)s/body;\n    proxy_temp_path %(t)s/proxy;\n"
        "    fastcgi_temp_path %(t)s/fastcgi;\n    uwsgi_temp_path %(t)s/uwsgi;\n"
        "    scgi_temp_path %(t)s/scgi;" % {"t": temp})
    for root, _, files in os.walk(CONF_DIR):
        rel = os.path.relpath(root, CONF_DIR)
        if rel != "." and not rel.startswith(name + "."):
            continue
        for fname in files:
            if rel == "." and not (fname == name + ".conf" or fname.startswith(name + "-")):
                continue
            with open(os.path.join(root, fname)) as f:
                text = f.read()
            for key, value in values.items():
                text = text.replace("@%s@" % key, str(value))
            out_dir = os.path.join(dest, rel)
            os.makedirs(out_dir, exist_ok=True)
            with open(os.path.join(out_dir, fname), "w") as f:
                f.write(text)
    return os.path.join(dest, name + ".conf")


def header_value(mirror_text, key):
    """One header from the mirror's Go-formatted map[K:[v] ...] line, or None."""
    for line in mirror_text.splitlines():
        if line.startswith("Header:"):
            m = re.search(r"[\[ ]%s:\[([^\]]*)\]" % re.escape(key), line)
            return m.group(1) if m else None
    return None


def observe(resp, port):
    """What must be the same from nginx and from the gateway ('@PORT' stands for the
    listen port, which differs)."""
    def norm(value):
        return value.replace(":%d" % port, ":@PORT") if value else value
    seen = {"status": resp.status}
    if resp.mirror_port:
        seen["backend"] = resp.mirror_port
        seen["uri"] = resp.header("X-Mirror-Raw-URI")
        seen["host"] = norm(resp.header("X-Mirror-Host"))
        for key in SET_HEADERS:
            seen[key] = header_value(resp.text, key)
    elif resp.status in (301, 302, 303, 307, 308):
        seen["location"] = norm(resp.header("Location"))  # nginx adds an HTML page; we do not
    elif resp.status < 400:
        seen["body"] = resp.body
        seen["type"] = resp.header("Content-Type")
    return seen


def run_case(name, ports_needed, requests, repeat_sets=()):
    """Render `name` twice (nginx ports, gateway ports), run both, compare the answers.

    requests: (port index, path, headers). repeat_sets: (port index, path, headers, n):
    requests a load balancer spreads; the set of backends that answered must be equal."""
    mirror = Mirror(count=4).start()
    backends = {"B%d" % i: p for i, p in enumerate(mirror.ports)}
    work = make_tmp_dir("convert-")
    nginx_ports = [free_port() for _ in range(ports_needed)]
    gw_ports = [free_port() for _ in range(ports_needed)]

    def values(ports):
        v = dict(backends, PORT=ports[0])
        if len(ports) > 1:
            v["PORT2"] = ports[1]
        return v

    nginx_conf = render(name, os.path.join(str(work), "nginx"), values(nginx_ports))
    gw_conf = render(name, os.path.join(str(work), "gw"), values(gw_ports))
    Nginx(os.path.join(str(work), "nginx"), nginx_conf).start(nginx_ports)

    out = os.path.join(str(work), "converted.yaml")
    rc, stdout, stderr = egctl("convert", "nginx", "-f", gw_conf, "-o", out,
                               "--resource-prefix", name)
    assert rc == 0, stderr
    assert stdout == "", stdout
    # the test plumbing is not converted, and says so with its line
    assert re.search(r"Warning: .*%s\.conf:\d+: directive \"proxy_temp_path\" is not "
                     r"converted" % name, stderr), stderr

    gw = Gateway(workers=1).start()
    rc, created, err = gw.egctl("create", "-f", out)
    assert rc == 0, err
    assert "HTTPServer %s-%d" % (name, gw_ports[0]) in created, created
    for port in gw_ports:
        wait_until(lambda port=port: port_open(port), 10, what="gateway port %d" % port)

    mismatches = []
    for index, path, headers in requests:
        want = observe(request(nginx_ports[index], path, headers=headers), nginx_ports[index])
        got = observe(request(gw_ports[index], path, headers=headers), gw_ports[index])
        if want != got:
            mismatches.append("%s %s\n  nginx:   %s\n  gateway: %s" % (path, headers, want, got))
    for index, path, headers, n in repeat_sets:
        want = {reference_backend(nginx_ports[index], path, headers) for _ in range(n)}
        got = {request(gw_ports[index], path, headers=headers).mirror_port for _ in range(n)}
        if want != got:
            mismatches.append("%s x%d: nginx backends %s, gateway %s" % (path, n, want, got))
    assert not mismatches, "\n".join(mismatches) + "\n\n" + open(out).read()
    return out, stderr, mirror


def test_convert_small():
    out, _, _ = run_case("small", 1, [
        (0, "/", None),
        (0, "/a/b?x=1&y=%20z", None),
        (0, "/health", None),
        (0, "/health/more", None),
        (0, "/%7Euser/", None),
    ])
    with open(out) as f:
        text = f.read()
    assert "address: 127.0.0.1" in text, text


def test_convert_medium():
    api = {"Host": "api.example.com"}
    out, _, mirror = run_case("medium", 1, [
        (0, "/x/y?q=1", api),
        (0, "/api/users?id=7", api),
        (0, "/api/status", api),
        (0, "/api/status?v=%22q%22", api),
        (0, "/api/status/x", api),
        (0, "/index.php", api),
        (0, "/api/x.php", api),
        (0, "/assets/x.php", api),
        (0, "/assets/logo.png", api),
        (0, "/img/a.png", api),
        (0, "/IMG/a.png", api),
        (0, "/old/page?a=1", api),
        (0, "/moved", api),
        (0, "/moved/x?y=2", api),
        (0, "/x", {"Host": "api.example.com", "X-Forwarded-For": "203.0.113.7"}),
        (0, "/x", {"Host": "other.example.net:8080"}),
    ], repeat_sets=[(0, "/", api, 4)])
    with open(out) as f:
        text = f.read()
    # the upstream group: both members, round robin, as nginx spreads them
    assert "url: http://127.0.0.1:%d" % mirror.ports[1] in text, text
    assert "policy: roundRobin" in text and "rewriteTarget: /v2/" in text, text


def test_convert_large():
    def host(h):
        return {"Host": h}
    out, stderr, mirror = run_case("large", 2, [
        (0, "/", host("unknown.test")),
        (0, "/docs/a", host("example.com")),
        (0, "/docs/api/x", host("www.example.com")),
        (0, "/docs/x.json", host("www.example.com")),
        (0, "/docs/api/x.json", host("www.example.com")),
        (0, "/docsx/a.json", host("www.example.com")),
        (0, "/other.json", host("example.com")),
        (0, "/shop/item", host("example.com")),
        (0, "/shop/cart/1?n=2", host("example.com")),
        (0, "/only/x", host("a.example.com")),
        (0, "/else", host("a.example.com")),
        (0, "/only/x", host("deep.a.example.com")),
        (0, "/", host("api12.example.org")),
        (0, "/", host("apiX.example.org")),
        (0, "/docs/a", host("www.example.com:1234")),
        (1, "/x?y=1", host("old.example.com")),
        (1, "/x?y=1", host("nobody.test")),
        (1, "/api/a", host("mirror.example.com")),
        (1, "/api/v2/b", host("mirror.example.com")),
    ], repeat_sets=[(0, "/page", host("www.example.com"), 40)])
    with open(out) as f:
        text = f.read()
    assert "policy: weightedRandom" in text, text
    assert "isRegexp: true" in text, text
    # a ^~ prefix that /docs/api/ extends became a regexp that leaves /docs/api/ out
    assert "pathRegexp: ^/docs/" in text, text
    assert 'directive "sendfile" is not converted' in stderr, stderr


def test_convert_errors():
    work = str(make_tmp_dir("convert-err-"))
    bad = os.path.join(work, "bad.conf")
    with open(bad, "w") as f:
        f.write("events {}\nhttp {\n  server {\n    listen 80;\n    location / {\n"
                "      proxy_pass http://127.0.0.1:1;\n  }\n")
    out = os.path.join(work, "out.yaml")
    rc, _, err = egctl("convert", "nginx", "-f", bad, "-o", out)
    assert rc == 1, err
    assert "bad.conf:" in err and "unexpected end of file" in err, err
    assert not os.path.exists(out)

    with open(bad, "w") as f:
        f.write("http {\n  server { listen 80; location / { proxy_pass http://a; } }\n}\n}\n")
    rc, _, err = egctl("convert", "nginx", "-f", bad)
    assert rc == 1 and "bad.conf:4: unexpected \"}\"" in err, err

    with open(bad, "w") as f:
        f.write("http {\n  include missing.conf;\n}\n")
    rc, _, err = egctl("convert", "nginx", "-f", bad)
    assert rc == 1 and re.search(r"bad.conf:2: open\(\) \".*/missing.conf\" failed", err), err

    rc, _, err = egctl("convert", "nginx", "-f", os.path.join(work, "none.conf"))
    assert rc == 1 and "none.conf" in err, err

    rc, _, err = egctl("convert", "nginx")
    assert rc == 1 and "-f" in err, err

    with open(bad, "w") as f:
        f.write("http {\n  server {\n    listen 80;\n    location / {\n      rewrite ^ /x;\n"
                "      proxy_pass http://127.0.0.1:1;\n    }\n  }\n}\n")
    rc, out_text, err = egctl("convert", "nginx", "-f", bad, "--resource-prefix", "p")
    assert rc == 0, err
    assert "bad.conf:5: directive \"rewrite\" is not converted" in err, err
    assert "name: p-80" in out_text and "name: p-root" in out_text, out_text

    rc, _, err = egctl("convert", "nginx", "-f", bad, "--resource-prefix", "a/b")
    assert rc == 1 and "resource-prefix" in err, err
