#!/usr/bin/env bash
# bench/scripted.sh — the scripted pipeline side by side: three small Lua filters (set a
# request header; check a header and reject with 403; set a response header) plus the
# proxy, in Easegress-C and in nginx with its Lua module (access_by_lua_block +
# header_filter_by_lua_block), both to the same nginx backend answering "hello\n".
#
#   bench/scripted.sh [--rounds N] [--duration SECONDS] [--connections N]
#
# Placement as bench/run.sh: the proxy alone on CPU 0, wrk and the backend on CPU 1; the
# proxies take turns; medians of the rounds. CPU us/req = utime+stime of the proxy's
# processes during a wrk run / requests. EG_SERVER / EGCTL choose other binaries.
set -euo pipefail

ROUNDS=3 DURATION=10 CONNS=50
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
EG_SERVER=${EG_SERVER:-$ROOT/bin/easegress-server}
EGCTL=${EGCTL:-$ROOT/bin/egctl}
NGINX_LUA_MODULE=/usr/lib/nginx/modules/ngx_http_lua_module.so
NDK_MODULE=/usr/lib/nginx/modules/ndk_http_module.so

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
[ -f "$NGINX_LUA_MODULE" ] || need+=(libnginx-mod-http-lua)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

WORK=$(mktemp -d /tmp/eg-scripted.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for f in "$WORK"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
    sleep 0.3
    rm -rf "$WORK"
}
trap cleanup EXIT

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BACKEND=$(port) NGINX=$(port) OURS=$(port) API=$(port)

cat >"$WORK/backend.conf" <<EOF
worker_processes 1; daemon on; pid $WORK/backend.pid; error_log $WORK/backend.err;
events { worker_connections 4096; }
http { access_log off;
  server { listen 127.0.0.1:$BACKEND; keepalive_requests 100000000; location / { return 200 "hello\n"; } } }
EOF
cat >"$WORK/nginx.conf" <<EOF
load_module $NDK_MODULE;
load_module $NGINX_LUA_MODULE;
worker_processes 1; daemon on; pid $WORK/nginx.pid; error_log $WORK/nginx.err;
events { worker_connections 4096; }
http { access_log off;
  upstream be { server 127.0.0.1:$BACKEND; keepalive 64; }
  server { listen 127.0.0.1:$NGINX; keepalive_requests 100000000;
    location / {
      access_by_lua_block {
        ngx.req.set_header("X-Lua-In", "1")
        if ngx.var.http_x_block then return ngx.exit(403) end
      }
      header_filter_by_lua_block { ngx.header["X-Lua-Out"] = "1" }
      proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection "";
    } } }
EOF
taskset -c 1 nginx -p "$WORK" -c "$WORK/backend.conf"
taskset -c 0 nginx -p "$WORK" -c "$WORK/nginx.conf"

taskset -c 0 "$EG_SERVER" --data-dir "$WORK/eg-data" --api-addr "127.0.0.1:$API" --workers 1 \
    --disable-access-log >"$WORK/eg.log" 2>&1 &
PIDS+=($!)
EG_MASTER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$API/apis/v2/healthz" >/dev/null && break; sleep 0.05; done
"$EGCTL" --server "127.0.0.1:$API" create -f - >/dev/null <<EOF
kind: HTTPServer
name: bench
port: $OURS
rules:
- paths:
  - pathPrefix: /
    backend: scripted
EOF
"$EGCTL" --server "127.0.0.1:$API" create -f - >/dev/null <<EOF
name: scripted
kind: Pipeline
flow:
- filter: set-request-header
- filter: check
  jumpIf: { blocked: END }
- filter: proxy
- filter: set-response-header
filters:
- name: set-request-header
  kind: Lua
  code: ctx.req:set_header("X-Lua-In", "1")
- name: check
  kind: Lua
  results: [blocked]
  code: |
    if ctx.req:header("X-Block") then ctx:respond(403, "") return "blocked" end
- name: proxy
  kind: Proxy
  pools:
  - servers:
    - url: http://127.0.0.1:$BACKEND
- name: set-response-header
  kind: Lua
  code: ctx.resp:set_header("X-Lua-Out", "1")
EOF
EG_SERVER_PID=$(pgrep -P "$EG_MASTER")

check() { # port: both paths behave
    local out
    out=$(curl -s -D - "http://127.0.0.1:$1/")
    grep -qi "^X-Lua-Out: 1" <<<"$out" && grep -q "^hello" <<<"$out" || { echo "port $1: wrong answer: $out" >&2; exit 1; }
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Block: 1' "http://127.0.0.1:$1/")" = 403 ] ||
        { echo "port $1: X-Block not answered 403" >&2; exit 1; }
}
check "$NGINX"
check "$OURS"

cpu_ticks() { # pids...: utime+stime in clock ticks
    local t=0 p
    for p in "$@"; do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "$t"
}
HZ=$(getconf CLK_TCK)
NGINX_PIDS="$(cat "$WORK/nginx.pid") $(pgrep -P "$(cat "$WORK/nginx.pid")")"

run() { # name port pids -> "req/s p99 cpu_us_per_req"
    local before after out rps reqs p99
    before=$(cpu_ticks $3)
    out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:$2/")
    after=$(cpu_ticks $3)
    grep -q "Non-2xx" <<<"$out" && { echo "$1: non-2xx answers" >&2; echo "$out" >&2; }
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    reqs=$(awk '/requests in/ {print $1}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    echo "$rps $p99 $(awk -v t=$((after - before)) -v hz="$HZ" -v n="$reqs" 'BEGIN {printf "%.2f", t / hz * 1e6 / n}')"
}

taskset -c 1 wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:$OURS/" >/dev/null
taskset -c 1 wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:$NGINX/" >/dev/null
: >"$WORK/ours" ; : >"$WORK/nginx"
for _ in $(seq "$ROUNDS"); do
    run ours "$OURS" "$EG_SERVER_PID" >>"$WORK/ours"
    run nginx "$NGINX" "$NGINX_PIDS" >>"$WORK/nginx"
done

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
col() { awk -v c="$2" '{print $c}' "$WORK/$1" | median; }
N_RPS=$(col nginx 1) N_CPU=$(col nginx 3)
echo "scripted pipeline (3 Lua filters + proxy), medians of $ROUNDS rounds, ratios to nginx+lua:"
echo "| name | req/s | p99 | CPU us/req |"
echo "|---|---|---|---|"
for n in ours nginx; do
    rps=$(col $n 1) p99=$(awk '{print $2}' "$WORK/$n" | sort | sed -n "$(( (ROUNDS + 1) / 2 ))p") cpu=$(col $n 3)
    printf "| %s | %s (%.2fx) | %s | %s (%.2fx) |\n" "$( [ $n = nginx ] && echo 'nginx + lua' || echo ours)" \
        "$rps" "$(awk -v a="$rps" -v b="$N_RPS" 'BEGIN {print a / b}')" "$p99" \
        "$cpu" "$(awk -v a="$cpu" -v b="$N_CPU" 'BEGIN {print a / b}')"
done
