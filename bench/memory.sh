#!/usr/bin/env bash
# bench/memory.sh — resident memory of easegress-server (issue 4, target 4):
#   (a) idle RSS of the master and the server process with the getting-started objects
#       (examples/getting-started/*.yaml, port and backends rewritten) loaded, for
#       --workers 1 and --workers 2, before and after a few requests;
#   (b) the RSS growth with --conns (10,000) idle keep-alive client connections: a Python
#       selectors client opens them in batches of 500, sends one request on each, reads the
#       answer and keeps the socket open; the server's RSS is read once all are open;
#   (a) and (b) are also measured for nginx proxying to the same backend (1 worker, upstream
#       keep-alive, as bench/run.sh), for comparison: master + worker idle, and the growth of
#       its worker with the connections;
#   (c) bodies streamed through the proxy from an nginx backend serving static files:
#       1 MiB (default serverMaxBodySize) and 64 MiB (serverMaxBodySize: -1), by many
#       concurrent wrk downloads and by slow Python readers (which exercise back-pressure:
#       without it the server would have to hold the whole body); the server's RSS is
#       sampled every 100 ms during the transfer, and the peak is compared with idle.
#
#   bench/memory.sh [--conns N] [--duration SECONDS] [--keep]
#
# The script raises its RLIMIT_NOFILE (ulimit -n, up to the hard limit) before starting the
# server, which inherits it; the server's own "Max open files" (/proc/PID/limits) is printed.
# Placement: the gateway on CPU 0, the backend and the clients on CPU 1. RSS = VmRSS from
# /proc/PID/status. Every process started here is stopped on exit (trap).
# EG_SERVER / EGCTL choose other binaries than bin/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EG_SERVER=${EG_SERVER:-$ROOT/bin/easegress-server}
EGCTL=${EGCTL:-$ROOT/bin/egctl}
NCONNS=10000
DURATION=10
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
    --conns) NCONNS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "memory.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

NAME=memory
source "$(dirname "$0")/lib.sh"
bench_require

# File descriptors: 10,000 client sockets (+ upstream ones) need more than the usual 1024.
want=$((NCONNS * 2 + 1000))
[ $want -ge 65536 ] || want=65536
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt $want ]; then
    ulimit -Hn $want 2>/dev/null || want=$hard   # raising the hard limit needs root
fi
ulimit -n $want 2>/dev/null || ulimit -n "$(ulimit -Hn)"
log "RLIMIT_NOFILE of this shell (inherited by the server and clients): $(ulimit -n)"

bench_start

# ---------------------------------------------------------------- backend
BACKEND=$(port)
mkdir -p "$WORK/www" "$WORK/tmp"
chmod 755 "$WORK" "$WORK/www"   # nginx's workers run as www-data
head -c $((1 << 20)) /dev/urandom >"$WORK/www/1m"
head -c $((64 << 20)) /dev/zero >"$WORK/www/64m"
cat >"$WORK/backend.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/backend.pid;
error_log $WORK/backend.err warn;
worker_rlimit_nofile $(ulimit -n);
events { worker_connections $(( $(ulimit -n) - 100 )); }
http {
    access_log off;
    client_body_temp_path $WORK/tmp/cb; proxy_temp_path $WORK/tmp/p; fastcgi_temp_path $WORK/tmp/f;
    uwsgi_temp_path $WORK/tmp/u; scgi_temp_path $WORK/tmp/s;
    keepalive_requests 1000000000; keepalive_timeout 300s;
    sendfile on;
    server {
        listen 127.0.0.1:$BACKEND backlog=4096;
        root $WORK/www;
        default_type text/plain;
        # /pipeline/1m -> /1m; anything that is not a file answers "hello\n".
        location / { rewrite ^/pipeline(/.+)\$ \$1 break; error_page 404 = @hello; }
        location @hello { return 200 "hello\n"; }
    }
}
EOF
taskset -c 1 nginx -p "$WORK" -c "$WORK/backend.conf" >"$WORK/backend.out" 2>&1 &
PIDS+=($!)
wait_port "$BACKEND" 10 || die "backend: $(cat "$WORK/backend.out" "$WORK/backend.err" 2>/dev/null)"

# ---------------------------------------------------------------- server helpers
EG_MASTER="" EG_PID="" EG_PORT="" EG_API=""
start_ours() { # WORKERS
    EG_PORT=$(port) EG_API=$(port)
    rm -rf "$WORK/eg-data"
    taskset -c 0 "$EG_SERVER" --data-dir "$WORK/eg-data" --api-addr "127.0.0.1:$EG_API" \
        --workers "$1" --disable-access-log >"$WORK/eg.$1.log" 2>&1 &
    EG_MASTER=$!
    PIDS+=("$EG_MASTER")
    wait_port "$EG_API" 20 || die "easegress-server did not start: $(tail "$WORK/eg.$1.log")"
    # The getting-started objects, with their port and the three mirror backends rewritten.
    sed -e "s/^port: 10080/port: $EG_PORT/" "$ROOT/examples/getting-started/httpserver.yaml" >"$WORK/gs-server.yaml"
    sed -e "s#127.0.0.1:909[5-7]#127.0.0.1:$BACKEND#" "$ROOT/examples/getting-started/pipeline.yaml" >"$WORK/gs-pipeline.yaml"
    "$EGCTL" --server "127.0.0.1:$EG_API" create -f "$WORK/gs-pipeline.yaml" >/dev/null
    "$EGCTL" --server "127.0.0.1:$EG_API" create -f "$WORK/gs-server.yaml" >/dev/null
    local i
    for i in $(seq 100); do
        [ "$(curl -s -m 2 "http://127.0.0.1:$EG_PORT/pipeline" 2>/dev/null)" = hello ] && break
        sleep 0.1
    done
    [ "$(curl -s -m 2 "http://127.0.0.1:$EG_PORT/pipeline")" = hello ] || die "ours does not proxy: $(tail "$WORK/eg.$1.log")"
    EG_PID=$(pgrep -P "$EG_MASTER" | head -1)
    [ -n "$EG_PID" ] || die "no server process under master $EG_MASTER"
}
stop_ours() {
    stop_pid "$EG_MASTER"
    local p keep=()
    for p in "${PIDS[@]}"; do [ "$p" = "$EG_MASTER" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}
sample_rss() { # PID SECONDS OUT: VmRSS every 100 ms
    local end=$((SECONDS + $2))
    : >"$3"
    while [ $SECONDS -lt $end ] && [ -r "/proc/$1/status" ]; do
        rss_kb "$1" >>"$3" 2>/dev/null || true
        sleep 0.1
    done
}

# ---------------------------------------------------------------- (a) idle
echo
echo "## (a) idle RSS, getting-started objects loaded ($(date -u +%Y-%m-%dT%H:%MZ), $("$EG_SERVER" --version 2>&1 | head -1))"
echo
echo "| --workers | master MB | server MB (config loaded) | server MB (after 1,000 requests, 5 s idle) | total MB |"
echo "|---|---|---|---|---|"
for w in 1 2; do
    start_ours $w
    sleep 2
    r0=$(rss_kb "$EG_PID")
    taskset -c 1 wrk -t1 -c10 -d1s "http://127.0.0.1:$EG_PORT/pipeline" >/dev/null 2>&1 || true
    sleep 5
    rm_=$(rss_kb "$EG_MASTER") r1=$(rss_kb "$EG_PID")
    echo "| $w | $(mb $rm_) | $(mb $r0) | $(mb $r1) | $(mb $((rm_ + r1))) |"
    bench_result "memory: idle (getting-started)" "ours --workers $w (master + server)" - - - - - "$(mb $((rm_ + r1)))" \
        "server $(mb $r1) MB after 1,000 requests and 5 s idle; master $(mb $rm_) MB"
    [ $w = 1 ] && grep -E "Max open files" "/proc/$EG_PID/limits" >"$WORK/limits.txt"
    stop_ours
done

# nginx as a proxy to the same backend, for comparison (one worker, upstream keep-alive).
NG_PORT=$(port)
cat >"$WORK/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err warn;
worker_rlimit_nofile $(ulimit -n);
events { worker_connections $(( $(ulimit -n) - 100 )); }
http {
    access_log off;
    client_body_temp_path $WORK/tmp/ncb; proxy_temp_path $WORK/tmp/np; fastcgi_temp_path $WORK/tmp/nf;
    uwsgi_temp_path $WORK/tmp/nu; scgi_temp_path $WORK/tmp/ns;
    keepalive_requests 1000000000; keepalive_timeout 300s;
    upstream backend { server 127.0.0.1:$BACKEND; keepalive 64; }
    server {
        listen 127.0.0.1:$NG_PORT backlog=4096;
        location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
EOF
NG_MASTER="" NG_WORKER=""
start_nginx() {
    taskset -c 0 nginx -p "$WORK" -c "$WORK/nginx.conf" >"$WORK/nginx.out" 2>&1 &
    NG_MASTER=$!
    PIDS+=("$NG_MASTER")
    wait_hello "http://127.0.0.1:$NG_PORT/pipeline" 10 || die "nginx proxy: $(cat "$WORK/nginx.out" "$WORK/nginx.err" 2>/dev/null)"
    NG_WORKER=$(pgrep -P "$NG_MASTER" | head -1)
}
stop_nginx() { stop_pid "$NG_MASTER"; forget_pid "$NG_MASTER"; }
start_nginx
taskset -c 1 wrk -t1 -c10 -d1s "http://127.0.0.1:$NG_PORT/pipeline" >/dev/null 2>&1 || true
sleep 5
rm_=$(rss_kb "$NG_MASTER") r1=$(rss_kb "$NG_WORKER")
echo "| nginx, 1 worker (master / worker) | $(mb $rm_) | - | $(mb $r1) | $(mb $((rm_ + r1))) |"
bench_result "memory: idle (getting-started)" "nginx (master + worker)" - - - - - "$(mb $((rm_ + r1)))" \
    "a plain proxy location; worker $(mb $r1) MB after 1,000 requests and 5 s idle"
stop_nginx
echo
echo "server's limit: $(sed 's/  */ /g' "$WORK/limits.txt") (soft hard units)"

# ---------------------------------------------------------------- (b) idle keep-alive connections
cat >"$WORK/idle.py" <<'EOF'
# Opens N keep-alive connections in batches, one GET on each, reads its answer, keeps them
# open; prints "ready OK FAILED" and then waits for a line on stdin before closing them.
import selectors, socket, sys, time
port, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path).encode()
sel = selectors.DefaultSelector()
socks, ok, failed, batch = [], 0, 0, 500
errors = {}
for start in range(0, n, batch):
    pending = {}
    for _ in range(min(batch, n - start)):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
        pending[s] = b""
        sel.register(s, selectors.EVENT_WRITE)
    deadline = time.time() + 30
    while pending and time.time() < deadline:
        for key, ev in sel.select(1):
            s = key.fileobj
            try:
                if ev & selectors.EVENT_WRITE:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise OSError(err, "connect")
                    s.send(req)
                    sel.modify(s, selectors.EVENT_READ)
                    continue
                d = s.recv(65536)
                if not d:
                    raise OSError(0, "closed by server")
                pending[s] += d
                if pending[s].endswith(b"hello\n"):
                    ok += 1
                    sel.unregister(s)
                    del pending[s]
            except OSError as e:
                errors[str(e)] = errors.get(str(e), 0) + 1
                failed += 1
                sel.unregister(s)
                del pending[s]
    failed += len(pending)
    for s in pending:
        sel.unregister(s)
print("ready", ok, failed, repr(errors)[:300], flush=True)
sys.stdin.readline()
# Still open? Count the connections the server closed meanwhile.
alive = 0
for s in socks:
    try:
        s.setblocking(False)
        d = s.recv(1)
        # b"" = closed
    except BlockingIOError:
        alive += 1
    except OSError:
        pass
print("alive", alive, flush=True)
EOF

echo
echo "## (b) $NCONNS idle keep-alive client connections (one request each, then idle)"
echo
echo "| proxy | server MB before | server MB with the connections | growth MB | KiB per connection | answered / failed | still open after 5 s |"
echo "|---|---|---|---|---|---|---|"
idle_conns() { # LABEL PORT SERVER_PID: the idle connections against PORT; prints the row and
    #                                  sets IC_GROWTH_KB and IC_OK
    local label=$1 port=$2 spid=$3 r0 r1 okc failc errs fds alive cpid i tag=${RANDOM}
    taskset -c 1 wrk -t1 -c10 -d1s "http://127.0.0.1:$port/pipeline" >/dev/null 2>&1 || true
    sleep 2
    r0=$(rss_kb "$spid")
    mkfifo "$WORK/idle.in.$tag"
    taskset -c 1 $PY "$WORK/idle.py" "$port" "$NCONNS" /pipeline <"$WORK/idle.in.$tag" >"$WORK/idle.out.$tag" 2>&1 &
    cpid=$!
    PIDS+=("$cpid")
    exec 7>"$WORK/idle.in.$tag"
    for i in $(seq 1200); do grep -q '^ready' "$WORK/idle.out.$tag" && break; kill -0 $cpid 2>/dev/null || break; sleep 0.1; done
    read -r _ okc failc errs <"$WORK/idle.out.$tag" || true
    sleep 5
    r1=$(rss_kb "$spid")
    fds=$(ls "/proc/$spid/fd" | wc -l)
    echo >&7
    exec 7>&-
    wait $cpid || true
    forget_pid $cpid
    alive=$(awk '/^alive/{print $2}' "$WORK/idle.out.$tag")
    echo "| $label | $(mb $r0) | $(mb $r1) | $(mb $((r1 - r0))) | $(awk -v a=$r0 -v b=$r1 -v n="${okc:-0}" 'BEGIN {if (n > 0) printf "%.1f", (b - a) / n; else print "-"}') | ${okc:-0} / ${failc:-?} | ${alive:-?} (server fds at peak: $fds) |"
    [ "${failc:-0}" = 0 ] || log "$label: client errors: $errs"
    IC_GROWTH_KB=$((r1 - r0)) IC_OK=${okc:-0}
}
for w in 1 2; do
    start_ours $w
    idle_conns "ours --workers $w (server)" "$EG_PORT" "$EG_PID"
    [ "$IC_OK" = "$NCONNS" ] || log "workers $w: server log: $(tail -3 "$WORK/eg.$w.log" | tr '\n' ' ')"
    bench_result "memory: $NCONNS idle keep-alive connections (RSS: growth)" "ours --workers $w" - - - - - \
        "$(mb $IC_GROWTH_KB)" "$IC_OK of $NCONNS answered and held; $(awk -v g=$IC_GROWTH_KB -v n="$IC_OK" 'BEGIN {if (n > 0) printf "%.1f", g / n; else print "-"}') KiB per connection"
    stop_ours
done
start_nginx
idle_conns "nginx, 1 worker (worker)" "$NG_PORT" "$NG_WORKER"
bench_result "memory: $NCONNS idle keep-alive connections (RSS: growth)" "nginx (worker)" - - - - - \
    "$(mb $IC_GROWTH_KB)" "$IC_OK of $NCONNS answered and held; $(awk -v g=$IC_GROWTH_KB -v n="$IC_OK" 'BEGIN {if (n > 0) printf "%.1f", g / n; else print "-"}') KiB per connection"
stop_nginx

# ---------------------------------------------------------------- (c) streaming bodies
cat >"$WORK/slow.py" <<'EOF'
# N concurrent slow readers of PATH: each reads the whole body at about RATE bytes/s with a
# small receive buffer; prints the bytes each got.
import socket, sys, threading, time
port, n, path, rate = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
limit = float(sys.argv[5])  # stop reading after this many seconds
got = [0] * n
def one(i):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.connect(("127.0.0.1", port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
    t0 = time.time()
    while True:
        d = s.recv(65536)
        if not d or time.time() - t0 > limit:
            break
        got[i] += len(d)
        ahead = got[i] / rate - (time.time() - t0)
        if ahead > 0:
            time.sleep(ahead)
ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
print(" ".join(map(str, got)))
EOF

echo
echo "## (c) bodies streamed through the proxy (server RSS sampled every 100 ms, --workers 1)"
echo
echo "| case | body | clients | transfer | server MB idle | peak MB during | peak - idle MB |"
echo "|---|---|---|---|---|---|---|"
start_ours 1
# Second pipeline: the same proxy with serverMaxBodySize -1 (stream, no limit).
"$EGCTL" --server "127.0.0.1:$EG_API" create -f - >/dev/null <<EOF
name: pipeline-stream
kind: Pipeline
flow:
  - filter: proxy
filters:
  - name: proxy
    kind: Proxy
    serverMaxBodySize: -1
    pools:
    - servers:
      - url: http://127.0.0.1:$BACKEND
EOF
"$EGCTL" --server "127.0.0.1:$EG_API" apply -f - >/dev/null <<EOF
kind: HTTPServer
name: server-demo
port: $EG_PORT
keepAlive: true
https: false
rules:
  - paths:
    - pathPrefix: /pipeline
      backend: pipeline-demo
    - pathPrefix: /
      backend: pipeline-stream
EOF
sleep 1
for p in /pipeline/1m /1m /64m; do
    sz=$(curl -s -o /dev/null -w '%{size_download} %{http_code}' "http://127.0.0.1:$EG_PORT$p")
    log "GET $p through the proxy: $sz"
done
# Compare with the file itself (the default pipeline streams 1 MiB below its 4 MiB limit).
cmp -s <(curl -s "http://127.0.0.1:$EG_PORT/pipeline/1m") "$WORK/www/1m" || log "WARNING: 1 MiB body differs through the proxy"
sleep 1
idle=$(rss_kb "$EG_PID")
stream_case() { # NAME BODY CLIENTS CMD...
    local name=$1 body=$2 clients=$3; shift 3
    sample_rss "$EG_PID" $((DURATION + 60)) "$WORK/rss.$name" &
    local spid=$!
    PIDS+=("$spid")
    "$@" >"$WORK/out.$name" 2>&1 || true
    kill $spid 2>/dev/null || true
    wait $spid 2>/dev/null || true
    local peak xfer
    peak=$(sort -n "$WORK/rss.$name" | tail -1)
    case $name in
    wrk*) xfer="$(awk '/requests in/ {print $1 " responses"} /^Transfer\/sec/ {print $2 "/s"}' "$WORK/out.$name" | paste -sd' ')";;
    *) xfer="$(awk '{s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.0f MiB in all", s / 1048576}' "$WORK/out.$name")";;
    esac
    echo "| $name | $body | $clients | $xfer | $(mb $idle) | $(mb "$peak") | $(mb $((peak - idle))) |"
    bench_result "memory: streamed bodies (RSS: peak - idle)" "ours, $name: $clients clients, $body" - - - - - \
        "$(mb $((peak - idle)))" "$xfer; idle $(mb $idle) MB, peak $(mb "$peak") MB"
}
stream_case wrk-1m "1 MiB (default limit)" 100 taskset -c 1 wrk -t1 -c100 -d"${DURATION}s" "http://127.0.0.1:$EG_PORT/pipeline/1m"
stream_case wrk-64m "64 MiB (serverMaxBodySize -1)" 20 taskset -c 1 wrk -t1 -c20 -d"${DURATION}s" "http://127.0.0.1:$EG_PORT/64m"
# Slow readers: 1 MiB/s each for DURATION s of a 64 MiB body, so most of it is still upstream.
stream_case slow-64m "64 MiB (serverMaxBodySize -1)" 20 taskset -c 1 $PY "$WORK/slow.py" "$EG_PORT" 20 /64m 1048576 "$DURATION"
stream_case slow-1m "1 MiB (default limit)" 200 taskset -c 1 $PY "$WORK/slow.py" "$EG_PORT" 200 /pipeline/1m 262144 60
sleep 2
echo
echo "server RSS 2 s after the transfers: $(mb "$(rss_kb "$EG_PID")") MB"
stop_ours
