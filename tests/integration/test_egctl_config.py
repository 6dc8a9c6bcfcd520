"""egctl contexts in ~/.egctlrc (Easegress's format): two contexts pointing at two servers,
use-context switching which one answers, --server and EGCTL_SERVER overriding the file,
basic auth from the context's user sent on every request (seen by a small HTTP server this
test runs), redaction in `config view`, and a context that asks for TLS speaking TLS (to a plain
server here, so the handshake fails clearly; test_egctl_tls.py has the real HTTPS)."""

import base64
import http.server
import json
import os
import subprocess
import threading

from harness import EGCTL_BIN, Gateway, make_tmp_dir


def egctl_home(home, *args, env=None):
    full = {k: v for k, v in os.environ.items() if k != "EGCTL_SERVER"}
    full["HOME"] = home
    full.update(env or {})
    proc = subprocess.run([EGCTL_BIN] + list(args), capture_output=True, text=True, timeout=30,
                          env=full)
    return proc.returncode, proc.stdout, proc.stderr


def ok(home, *args, env=None):
    rc, out, err = egctl_home(home, *args, env=env)
    assert rc == 0, "egctl %s: rc %d\nstdout: %s\nstderr: %s" % (" ".join(args), rc, out, err)
    return out


RC = """kind: Config
current-context: one
contexts:
  - name: one
    context:
      cluster: c1
      user: admin
  - name: two
    context:
      cluster: c2
      user: admin
clusters:
  - name: c1
    cluster:
      server: %s
  - name: c2
    cluster:
      server: http://%s
users:
  - name: admin
    user:
      username: alice
      password: s3cret
"""


class AuthRecorder(http.server.BaseHTTPRequestHandler):
    """Answers /apis/v2/healthz and records each request's Authorization header."""
    seen = []

    def do_GET(self):
        AuthRecorder.seen.append((self.path, self.headers.get("Authorization")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_contexts_switch_servers_and_send_basic_auth():
    gw1 = Gateway(workers=1, name="member-one").start()
    gw2 = Gateway(workers=1, name="member-two").start()
    home = str(make_tmp_dir("home-"))
    rc_path = os.path.join(home, ".egctlrc")
    with open(rc_path, "w") as f:
        f.write(RC % (gw1.server, gw2.server))
    os.chmod(rc_path, 0o600)

    def member():
        rows = ok(home, "get", "member").splitlines()
        return rows[1].split()[0]

    assert member() == "member-one"
    out = ok(home, "config", "get-contexts")
    rows = [line.split() for line in out.splitlines()]
    assert rows == [["CURRENT", "NAME", "CLUSTER", "USER"], ["*", "one", "c1", "admin"],
                    ["two", "c2", "admin"]], rows
    assert ok(home, "config", "use-context", "two").strip() == "Switched to context two"
    assert member() == "member-two"
    assert os.stat(rc_path).st_mode & 0o777 == 0o600  # rewritten with its mode kept
    current = json.loads(ok(home, "config", "current-context", "-o", "json"))
    assert current["current-context"] == "two" and current["cluster"]["cluster"]["server"] == \
        "http://" + gw2.server, current
    assert current["user"]["user"]["password"] == "REDACTED", current
    view = ok(home, "config", "view")
    assert "s3cret" not in view and "REDACTED" in view and "current-context: two" in view, view
    # --server and EGCTL_SERVER win over the file.
    assert ok(home, "--server", gw1.server, "get", "member").splitlines()[1].startswith("member-one")
    assert ok(home, "get", "member", env={"EGCTL_SERVER": gw1.server}).splitlines()[1] \
        .startswith("member-one")
    rc, _, err = egctl_home(home, "config", "use-context", "three")
    assert rc != 0 and "not find context three" in err, err

    # Basic auth from the context's user, on every request.
    recorder = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AuthRecorder)
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    try:
        port = recorder.server_address[1]
        with open(rc_path, "w") as f:
            f.write(RC % ("127.0.0.1:%d" % port, gw2.server))
        assert ok(home, "health").strip() == "OK"
        expected = "Basic " + base64.b64encode(b"alice:s3cret").decode()
        assert AuthRecorder.seen == [("/apis/v2/healthz", expected)], AuthRecorder.seen
    finally:
        recorder.shutdown()
        recorder.server_close()

    # A context that wants TLS speaks TLS, never silently plain HTTP.
    with open(rc_path, "w") as f:
        f.write(RC % ("https://" + gw1.server, gw2.server))
    rc, _, err = egctl_home(home, "get", "member", "--insecure-skip-verify")
    assert rc != 0 and "https://%s" % gw1.server in err and "TLS handshake failed" in err, err
    # No file: the default server, and config says so.
    os.unlink(rc_path)
    assert ok(home, "config", "view").strip() == "not find config file at ~/.egctlrc"
    assert gw1.stop() == 0 and gw2.stop() == 0
