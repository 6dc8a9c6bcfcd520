"""egctl over HTTPS. The admin API itself speaks plain HTTP, so each test puts Debian's nginx
in front of it as a TLS reverse proxy, with certificates made here by the openssl CLI: a CA,
a server certificate for localhost and 127.0.0.1, a client certificate, and a second CA
that signed nothing of the server's.

Checked: the server certificate verified against a context's certificate-authority (file
and -data), the host name and IP address checks, a wrong CA and the system store refused
with "certificate verify failed: <reason>", --insecure-skip-verify, --force-tls, https://
servers, the retry with HTTPS when nginx refuses plain HTTP, mutual TLS with the client
certificate and key from -data fields, bad -data refused clearly, and `logs -f` over TLS."""

import base64
import os
import subprocess
import time

from harness import EGCTL_BIN, Gateway, Nginx, free_port, make_tmp_dir, request


def openssl(*args):
    proc = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, "openssl %s: %s" % (" ".join(args), proc.stderr)


def make_pki(d):
    """CA, other CA, server (localhost, 127.0.0.1) and client certificates in d."""
    p = {name: os.path.join(d, name) for name in (
        "ca.crt", "ca.key", "other-ca.crt", "other-ca.key", "server.crt", "server.key",
        "client.crt", "client.key", "rogue.crt", "rogue.key")}
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", *ec, "-keyout", p[ca + ".key"], "-out", p[ca + ".crt"],
                "-days", "2", "-subj", "/CN=egctl test %s" % ca,
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def leaf(name, ca, cn, ext):
        csr = os.path.join(d, name + ".csr")
        extfile = os.path.join(d, name + ".ext")
        with open(extfile, "w") as f:
            f.write(ext)
        openssl("req", "-new", *ec, "-keyout", p[name + ".key"], "-out", csr, "-subj",
                "/CN=" + cn)
        openssl("x509", "-req", "-in", csr, "-CA", p[ca + ".crt"], "-CAkey", p[ca + ".key"],
                "-CAcreateserial", "-out", p[name + ".crt"], "-days", "2", "-extfile", extfile)

    leaf("server", "ca", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
         "extendedKeyUsage=serverAuth\n")
    leaf("client", "ca", "egctl-client", "extendedKeyUsage=clientAuth\n")
    leaf("rogue", "other-ca", "egctl-rogue", "extendedKeyUsage=clientAuth\n")
    return p


NGINX_CONF = """events {}
http {
    access_log off;
    client_body_temp_path %(t)s/body;
    proxy_temp_path %(t)s/proxy;
    fastcgi_temp_path %(t)s/fastcgi;
    uwsgi_temp_path %(t)s/uwsgi;
    scgi_temp_path %(t)s/scgi;
    ssl_certificate %(crt)s;
    ssl_certificate_key %(key)s;

    # server TLS only; also on 127.0.0.2, an address the certificate does not name
    server {
        listen 127.0.0.1:%(tls)d ssl;
        listen 127.0.0.2:%(tls)d ssl;
        location / {
            proxy_pass http://127.0.0.1:%(api)d;
            proxy_http_version 1.1;
            proxy_buffering off;
        }
    }
    # mutual TLS: a client certificate signed by the CA is required
    server {
        listen 127.0.0.1:%(mtls)d ssl;
        ssl_client_certificate %(ca)s;
        ssl_verify_client on;
        location / {
            proxy_pass http://127.0.0.1:%(api)d;
            proxy_http_version 1.1;
            proxy_buffering off;
        }
    }
}
"""


class Setup:
    """A gateway, the certificates, nginx in front (tls_port, mtls_port) and a HOME."""

    def __init__(self):
        self.gw = Gateway(workers=1, name="tls-member").start()
        self.dir = str(make_tmp_dir("egctl-tls-"))
        self.pki = make_pki(self.dir)
        self.tls_port, self.mtls_port = free_port(), free_port()
        ngx_dir = os.path.join(self.dir, "nginx")
        os.makedirs(os.path.join(ngx_dir, "temp"))
        conf = os.path.join(ngx_dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF % {"t": os.path.join(ngx_dir, "temp"), "crt": self.pki["server.crt"],
                                  "key": self.pki["server.key"], "ca": self.pki["ca.crt"],
                                  "tls": self.tls_port, "mtls": self.mtls_port,
                                  "api": self.gw.api_port})
        Nginx(ngx_dir, conf).start([self.tls_port, self.mtls_port])
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.home)

    def run(self, *args, stdin=None):
        env = {k: v for k, v in os.environ.items() if k != "EGCTL_SERVER"}
        env["HOME"] = self.home
        proc = subprocess.run([EGCTL_BIN] + list(args), input=stdin, capture_output=True,
                              text=True, timeout=30, env=env)
        return proc.returncode, proc.stdout, proc.stderr

    def ok(self, *args, stdin=None):
        rc, out, err = self.run(*args, stdin=stdin)
        assert rc == 0, "egctl %s: rc %d\nstdout: %s\nstderr: %s" % (" ".join(args), rc, out, err)
        return out

    def fails(self, *args, want):
        rc, out, err = self.run(*args)
        assert rc != 0, "egctl %s should fail: %s%s" % (" ".join(args), out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), err
        for w in ([want] if isinstance(want, str) else want):
            assert w in err, "%r not in %r" % (w, err)
        return err

    def write_rc(self, server, cluster_extra="", user_extra=""):
        text = ("kind: Config\ncurrent-context: ctx\n"
                "contexts:\n  - name: ctx\n    context:\n      cluster: c\n      user: u\n"
                "clusters:\n  - name: c\n    cluster:\n      server: %s\n%s"
                "users:\n  - name: u\n    user:\n      username: admin\n%s") % (
                    server, cluster_extra, user_extra)
        with open(os.path.join(self.home, ".egctlrc"), "w") as f:
            f.write(text)

    def b64(self, name):
        with open(self.pki[name], "rb") as f:
            return base64.b64encode(f.read()).decode()

    def member(self, *args):
        rows = self.ok(*(list(args) + ["get", "member"])).splitlines()
        return rows[1].split()[0]


PIPELINE = """name: pipeline-over-tls
kind: Pipeline
flow:
  - filter: mock
filters:
  - name: mock
    kind: ResponseBuilder
    template: |
      statusCode: 200
      body: over tls
"""


def test_server_certificate_verification():
    s = Setup()
    ca = "      certificate-authority: %s\n" % s.pki["ca.crt"]
    # A context with the CA: HTTPS to its server, by IP address and by name.
    s.write_rc("https://127.0.0.1:%d" % s.tls_port, ca)
    assert s.ok("health").strip() == "OK"
    assert s.member() == "tls-member"
    out = s.ok("create", "-f", "-", stdin=PIPELINE)  # a body over TLS
    assert "create Pipeline pipeline-over-tls successfully" in out, out
    assert "pipeline-over-tls" in s.ok("get", "pipeline")
    s.write_rc("localhost:%d" % s.tls_port, ca)  # no scheme: the CA alone asks for HTTPS
    assert s.member() == "tls-member"
    # The certificate must name what egctl connected to.
    s.write_rc("https://127.0.0.2:%d" % s.tls_port, ca)
    s.fails("health", want=["https://127.0.0.2:%d" % s.tls_port,
                            "certificate verify failed: IP address mismatch"])
    # A CA that did not sign the server's certificate; and the system store.
    s.write_rc("https://127.0.0.1:%d" % s.tls_port,
               "      certificate-authority: %s\n" % s.pki["other-ca.crt"])
    s.fails("health", want="certificate verify failed: unable to get local issuer certificate")
    os.unlink(os.path.join(s.home, ".egctlrc"))
    server = "https://127.0.0.1:%d" % s.tls_port
    s.fails("--server", server, "health", want="certificate verify failed")
    # --insecure-skip-verify accepts any certificate and name.
    assert s.ok("--server", server, "--insecure-skip-verify", "health").strip() == "OK"
    assert s.member("--server", "https://127.0.0.2:%d" % s.tls_port,
                    "--insecure-skip-verify") == "tls-member"
    # --force-tls: HTTPS to an address without a scheme, even an http:// one (as Easegress).
    assert s.member("--server", "127.0.0.1:%d" % s.tls_port, "--force-tls",
                    "--insecure-skip-verify") == "tls-member"
    assert s.member("--server", "http://127.0.0.1:%d" % s.tls_port, "--force-tls",
                    "--insecure-skip-verify") == "tls-member"
    # --force-tls to the plain admin API: a clear handshake failure.
    s.fails("--server", s.gw.server, "--force-tls", "health", want="TLS handshake failed")
    # A CA file that is not there.
    s.write_rc(server, "      certificate-authority: %s/none.crt\n" % s.dir)
    s.fails("health", want=["certificate-authority %s/none.crt" % s.dir])
    assert s.gw.stop() == 0


def test_retry_with_https_on_demand():
    """Plain HTTP first; nginx answers 400 "The plain HTTP request was sent to HTTPS port";
    egctl sends the request again over TLS (Easegress does the same on Go's 400)."""
    s = Setup()
    plain = "127.0.0.1:%d" % s.tls_port
    assert s.member("--server", plain, "--insecure-skip-verify") == "tls-member"
    out = s.ok("--server", plain, "--insecure-skip-verify", "create", "-f", "-", stdin=PIPELINE)
    assert "create Pipeline pipeline-over-tls successfully" in out, out  # exactly once
    # The retry verifies as any HTTPS request does: against the system store here, since
    # the context names no CA.
    s.write_rc(plain)
    s.fails("health", want="certificate verify failed")
    # A plain server is not retried: its answers stand.
    assert s.ok("--server", s.gw.server, "health").strip() == "OK"
    assert s.gw.stop() == 0


def test_mutual_tls_with_data_context_and_logs_follow():
    s = Setup()
    ca_data = "      certificate-authority-data: %s\n" % s.b64("ca.crt")
    user = ("      client-certificate-data: %s\n      client-key-data: %s\n"
            % (s.b64("client.crt"), s.b64("client.key")))
    server = "https://localhost:%d" % s.mtls_port
    s.write_rc(server, ca_data, user)
    assert s.member() == "tls-member"
    view = s.ok("config", "view")
    assert s.b64("client.key") not in view and s.b64("ca.crt") not in view, view
    # Files instead of -data.
    s.write_rc(server, "      certificate-authority: %s\n" % s.pki["ca.crt"],
               "      client-certificate: %s\n      client-key: %s\n"
               % (s.pki["client.crt"], s.pki["client.key"]))
    assert s.member() == "tls-member"

    # logs -f over TLS: the tail, then a line logged after the follow started.
    s.write_rc(server, ca_data, user)
    s.ok("logs", "set-level", "debug")
    env = {k: v for k, v in os.environ.items() if k != "EGCTL_SERVER"}
    env["HOME"] = s.home
    follow = subprocess.Popen([EGCTL_BIN, "logs", "-f", "--tail", "1"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = follow.stdout.readline()
        assert first.strip(), (first, follow.poll())
        request(s.gw.api_port, "/apis/v2/objects/tls-follow-marker")  # logged, with its path
        deadline = time.time() + 10
        seen = ""
        while time.time() < deadline and "tls-follow-marker" not in seen:
            line = follow.stdout.readline()
            if not line:
                break
            seen += line
        assert "tls-follow-marker" in seen, (seen, follow.poll())
        assert follow.poll() is None, "egctl logs -f ended on its own"
    finally:
        follow.terminate()
        follow.wait(5)

    # Without a client certificate nginx refuses the request; a certificate from another CA
    # too. Both say why.
    s.write_rc(server, ca_data, "")
    s.fails("health", want=["400", "No required SSL certificate was sent"])
    s.write_rc(server, ca_data, "      client-certificate: %s\n      client-key: %s\n"
               % (s.pki["rogue.crt"], s.pki["rogue.key"]))
    s.fails("health", want=["400", "The SSL certificate error"])
    # Bad settings are named.
    s.write_rc(server, "      certificate-authority-data: not*base64\n", user)
    s.fails("health", want="certificate-authority-data of cluster c in ~/.egctlrc is not valid base64")
    s.write_rc(server, "      certificate-authority-data: %s\n"
               % base64.b64encode(b"no pem here").decode(), user)
    s.fails("health", want="certificate-authority-data holds no PEM certificate")
    s.write_rc(server, ca_data, "      client-certificate-data: %s\n      client-key-data: %s\n"
               % (s.b64("client.crt"), s.b64("rogue.key")))
    s.fails("health", want="the client certificate and key do not match")
    s.write_rc(server, ca_data, "      client-certificate-data: %s\n" % s.b64("client.crt"))
    s.fails("health", want="a client certificate needs client-key or client-key-data")
    assert s.gw.stop() == 0


test_server_certificate_verification.timeout = 90
test_retry_with_https_on_demand.timeout = 60
test_mutual_tls_with_data_context_and_logs_follow.timeout = 90
