#!/bin/sh
# Put a TLS front (nginx, mutual TLS) before the admin API and write an ~/.egctlrc-style
# file whose context reaches it with certificate-authority-data and client certificates.
#
#   examples/egctl/tls-front.sh [DIR] [TLS_PORT] [API_ADDR]   # defaults: ./egctl-tls 2443 127.0.0.1:2381
#   nginx -p DIR/ -c DIR/nginx.conf -e DIR/error.log          # foreground, Ctrl-C stops it
#                                                              # (as root add -g 'user root;')
#   HOME=DIR bin/egctl get all                                 # DIR/.egctlrc: HTTPS, verified, client cert
#
# The certificates (a CA, a server certificate for 127.0.0.1 and localhost, a client
# certificate) are made with the openssl CLI and are valid for 30 days.
set -eu
dir=${1:-./egctl-tls}
port=${2:-2443}
api=${3:-127.0.0.1:2381}
mkdir -p "$dir/temp"
dir=$(cd "$dir" && pwd)
cd "$dir"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $ec -keyout ca.key -out ca.crt -days 30 -subj "/CN=egctl example CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
printf 'extendedKeyUsage=clientAuth\n' > client.ext
for name in server client; do
    openssl req -new $ec -keyout $name.key -out $name.csr -subj "/CN=egctl example $name" 2>/dev/null
    openssl x509 -req -in $name.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $name.crt \
        -days 30 -extfile $name.ext 2>/dev/null
done

cat > nginx.conf <<CONF
daemon off;
pid $dir/nginx.pid;
events {}
http {
    access_log off;
    client_body_temp_path $dir/temp/body;
    proxy_temp_path $dir/temp/proxy;
    fastcgi_temp_path $dir/temp/fastcgi;
    uwsgi_temp_path $dir/temp/uwsgi;
    scgi_temp_path $dir/temp/scgi;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $dir/server.crt;
        ssl_certificate_key $dir/server.key;
        ssl_client_certificate $dir/ca.crt;
        ssl_verify_client on;
        location / {
            proxy_pass http://$api;
            proxy_http_version 1.1;
            proxy_buffering off;     # egctl logs -f streams through
        }
    }
}
CONF

b64() { base64 -w0 "$1"; }
cat > .egctlrc <<RC
kind: Config
current-context: secure
contexts:
  - name: secure
    context:
      cluster: secure
      user: operator
clusters:
  - name: secure
    cluster:
      server: https://127.0.0.1:$port
      certificate-authority-data: $(b64 ca.crt)
users:
  - name: operator
    user:
      client-certificate-data: $(b64 client.crt)
      client-key-data: $(b64 client.key)
RC
chmod 600 .egctlrc client.key server.key ca.key
echo "wrote $dir/{ca,server,client}.{crt,key}, $dir/nginx.conf and $dir/.egctlrc"
