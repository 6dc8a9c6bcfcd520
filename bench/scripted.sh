#!/usr/bin/env bash
# bench/scripted.sh — the scripted pipeline side by side: three small Lua filters (set a
# request header; check a header and reject with 403; set a response header) plus the
# proxy, in Easegress-C and in nginx with its Lua module (access_by_lua_block +
# header_filter_by_lua_block), both to the same nginx backend answering "hello\n".
#
#   bench/scripted.sh [--rounds N] [--duration SECONDS] [--connections N]
#                     [--callgrind [--requests N]] [--keep]
#
# Placement as bench/run.sh: the proxy alone on CPU 0, wrk and the backend on CPU 1; after a
# 2 s warm-up each, the proxies take turns, --rounds (3) times; medians. CPU us/req =
# utime+stime of all the proxy's processes during a wrk run / requests; RSS = their VmRSS
# summed after the last round (ours: master + server; nginx: master + worker).
# --callgrind  also counts instructions per request the way bench/run.sh does: each proxy
#              alone under valgrind's callgrind (ours --no-master, nginx master_process off),
#              --requests (20000) GETs over one keep-alive connection, minus an identical run
#              without them.
# Every process started here is stopped on exit. EG_SERVER / EGCTL choose other binaries.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EG_SERVER=${EG_SERVER:-$ROOT/bin/easegress-server}
EGCTL=${EGCTL:-$ROOT/bin/egctl}
ROUNDS=3 DURATION=10 CONNS=50 DO_CALLGRIND=0 CG_REQUESTS=20000 KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --callgrind) DO_CALLGRIND=1; shift ;;
    --requests) CG_REQUESTS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "scripted.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
NAME=scripted
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
NGINX_LUA_MODULE=/usr/lib/nginx/modules/ngx_http_lua_module.so
NDK_MODULE=/usr/lib/nginx/modules/ndk_http_module.so
needed=()
[ $DO_CALLGRIND = 0 ] || needed+=(valgrind)
bench_require "${needed[@]+"${needed[@]}"}"
[ -f "$NGINX_LUA_MODULE" ] || make -s -C "$ROOT" bench-deps >&2
[ -f "$NGINX_LUA_MODULE" ] || die "$NGINX_LUA_MODULE missing (libnginx-mod-http-lua)"
HZ=$(getconf CLK_TCK)
bench_start
mkdir -p "$WORK/tmp"

BACKEND=$(port) P_NGINX=$(port) P_OURS=$(port) API=$(port) CG_PORT=$(port)

nginx_temp_paths() {
    echo "client_body_temp_path $WORK/tmp/cb; proxy_temp_path $WORK/tmp/p; fastcgi_temp_path $WORK/tmp/f;"
    echo "uwsgi_temp_path $WORK/tmp/u; scgi_temp_path $WORK/tmp/s;"
}
cat >"$WORK/backend.conf" <<EOF
worker_processes 1; daemon off; pid $WORK/backend.pid; error_log $WORK/backend.err warn;
events { worker_connections 4096; }
http { access_log off; $(nginx_temp_paths)
  keepalive_requests 1000000000; keepalive_timeout 75s;
  server { listen 127.0.0.1:$BACKEND; default_type text/plain; location / { return 200 "hello\n"; } } }
EOF
nginx_lua_conf() { # NAME PORT MASTER(on|off)
    cat <<EOF
load_module $NDK_MODULE;
load_module $NGINX_LUA_MODULE;
worker_processes 1; daemon off; master_process $3; pid $WORK/$1.pid; error_log $WORK/$1.err warn;
events { worker_connections 4096; }
http { access_log off; $(nginx_temp_paths)
  keepalive_requests 1000000000; keepalive_timeout 75s;
  upstream be { server 127.0.0.1:$BACKEND; keepalive 64; keepalive_requests 1000000000; }
  server { listen 127.0.0.1:$2;
    location / {
      access_by_lua_block {
        ngx.req.set_header("X-Lua-In", "1")
        if ngx.var.http_x_block then return ngx.exit(403) end
      }
      header_filter_by_lua_block { ngx.header["X-Lua-Out"] = "1" }
      proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection "";
    } } }
EOF
}
nginx_lua_conf nginx "$P_NGINX" on >"$WORK/nginx.conf"
nginx_lua_conf nginx-cg "$CG_PORT" off >"$WORK/nginx-cg.conf"

server_yaml() { # PORT
    cat <<EOF
kind: HTTPServer
name: bench
port: $1
keepAlive: true
https: false
rules:
- paths:
  - pathPrefix: /
    backend: scripted
EOF
}
cat >"$WORK/pipeline.yaml" <<EOF
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
server_yaml "$P_OURS" >"$WORK/server.yaml"
server_yaml "$CG_PORT" >"$WORK/server-cg.yaml"

taskset -c 1 nginx -p "$WORK" -c "$WORK/backend.conf" >"$WORK/backend.out" 2>&1 &
PIDS+=($!)
wait_hello "http://127.0.0.1:$BACKEND/" 10 || die "backend did not start: $(cat "$WORK/backend.out" "$WORK/backend.err" 2>/dev/null)"
taskset -c 0 nginx -p "$WORK" -c "$WORK/nginx.conf" >"$WORK/nginx.out" 2>&1 &
NGINX_MASTER=$!
PIDS+=($NGINX_MASTER)
taskset -c 0 "$EG_SERVER" --data-dir "$WORK/eg-data" --api-addr "127.0.0.1:$API" --workers 1 \
    --disable-access-log >"$WORK/eg.log" 2>&1 &
EG_MASTER=$!
PIDS+=($EG_MASTER)
wait_port "$API" 20 || die "easegress-server did not start: $(tail "$WORK/eg.log")"
for f in pipeline server; do
    "$EGCTL" --server "127.0.0.1:$API" create -f "$WORK/$f.yaml" >>"$WORK/eg.log" 2>&1 || die "egctl create $f: $(tail -3 "$WORK/eg.log")"
done
wait_hello "http://127.0.0.1:$P_NGINX/" 10 || die "nginx + lua did not start: $(cat "$WORK/nginx.out" "$WORK/nginx.err" 2>/dev/null)"
wait_hello "http://127.0.0.1:$P_OURS/" 20 || die "ours does not proxy: $(tail "$WORK/eg.log")"

check() { # PORT: both behave the same: the response header on a proxied answer, 403 on X-Block
    local out
    out=$(curl -s -D - "http://127.0.0.1:$1/")
    grep -qi "^X-Lua-Out: 1" <<<"$out" && grep -q "^hello" <<<"$out" || die "port $1: wrong answer: $out"
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Block: 1' "http://127.0.0.1:$1/")" = 403 ] ||
        die "port $1: X-Block not answered 403"
}
check "$P_NGINX"
check "$P_OURS"

declare -A URL=([ours]="http://127.0.0.1:$P_OURS/" [nginx]="http://127.0.0.1:$P_NGINX/")
declare -A PROCS=([ours]="$EG_MASTER $(pgrep -P $EG_MASTER | tr '\n' ' ')" [nginx]="$NGINX_MASTER $(pgrep -P $NGINX_MASTER | tr '\n' ' ')")
declare -A R_RPS R_P50 R_P99 R_CPU R_RSS
NAMES=(ours nginx)

to_ms() { # "1.04ms" / "455.00us" / "1.20s" -> milliseconds
    awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.3f", v / 1000; else if (v ~ /ms$/) printf "%.3f", v + 0;
        else if (v ~ /s$/) printf "%.3f", v * 1000; else printf "nan" }'
}
run_round() { # NAME ROUND
    local name=$1 out="$WORK/wrk.$1.$2" t0 t1 n
    t0=$(cpu_ticks ${PROCS[$name]})
    taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "${URL[$name]}" >"$out" 2>&1 || die "wrk failed: $(cat "$out")"
    t1=$(cpu_ticks ${PROCS[$name]})
    grep -q "Non-2xx" "$out" && die "$name: non-2xx answers: $(cat "$out")"
    n=$(awk '/requests in/ {print $1; exit}' "$out")
    [ "${n:-0}" -gt 0 ] || die "$name: no requests completed: $(cat "$out")"
    R_RPS[$name]+="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out") "
    R_P50[$name]+="$(to_ms "$(awk '$1 == "50%" {print $2; exit}' "$out")") "
    R_P99[$name]+="$(to_ms "$(awk '$1 == "99%" {print $2; exit}' "$out")") "
    R_CPU[$name]+="$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$n" 'BEGIN {printf "%.2f", t * 1e6 / hz / n}') "
    local p rss=0
    for p in ${PROCS[$name]}; do rss=$((rss + $(rss_kb "$p"))); done
    R_RSS[$name]=$rss
    log "$name round $2: $(echo "${R_RPS[$name]}" | awk '{print $NF}') req/s, $(echo "${R_CPU[$name]}" | awk '{print $NF}') CPU us/req"
}

for name in "${NAMES[@]}"; do taskset -c 1 wrk -t1 -c"$CONNS" -d2s "${URL[$name]}" >/dev/null 2>&1; done
for r in $(seq "$ROUNDS"); do
    for name in "${NAMES[@]}"; do run_round "$name" "$r"; done
done

declare -A CG
if [ $DO_CALLGRIND = 1 ]; then
    # the measured servers are stopped first so that the callgrind runs have the machine
    stop_pid "$EG_MASTER"; forget_pid "$EG_MASTER"
    stop_pid "$NGINX_MASTER"; forget_pid "$NGINX_MASTER"
    cg_per_request ours scripted-ours "$CG_REQUESTS" / "$WORK/pipeline.yaml" "$WORK/server-cg.yaml"
    CG[ours]=$CG_IR
    cg_per_request nginx scripted-nginx "$CG_REQUESTS" / "$WORK/nginx-cg.conf"
    CG[nginx]=$CG_IR
    for name in ours nginx; do
        echo "$name: where a request's instructions go (self Ir per request, the $CG_REQUESTS-request run minus the baseline; bench/cg_diff.py):"
        echo
        $PY "$ROOT/bench/cg_diff.py" "$WORK/callgrind.scripted-$name.base.out" "$WORK/callgrind.scripted-$name.run.out" "$CG_REQUESTS" 25 || true
        echo
    done
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b > 0) printf "%.2fx", a / b; else printf "-" }'; }
echo
echo "Scripted pipeline (3 Lua filters + proxy) ($(date -u +%Y-%m-%dT%H:%MZ), $("$EG_SERVER" --version 2>&1 | head -1)):"
echo "wrk -t1 -c$CONNS -d${DURATION}s, medians of $ROUNDS rounds; ratios to nginx + lua"
echo
echo "| name | req/s | p50 ms | p99 ms | CPU us/req | Ir/request | RSS MB | CPU us/req per round |"
echo "|---|---|---|---|---|---|---|---|"
declare -A M_RPS M_P50 M_P99 M_CPU
for name in "${NAMES[@]}"; do
    M_RPS[$name]=$(median ${R_RPS[$name]}) M_P50[$name]=$(median ${R_P50[$name]})
    M_P99[$name]=$(median ${R_P99[$name]}) M_CPU[$name]=$(median ${R_CPU[$name]})
done
for name in "${NAMES[@]}"; do
    label=$name; [ $name = nginx ] && label="nginx + lua"
    ir=${CG[$name]:--}
    printf '| %s | %s (%s) | %s (%s) | %s (%s) | %s (%s) | %s (%s) | %s (%s) | %s|\n' "$label" \
        "${M_RPS[$name]}" "$(ratio "${M_RPS[$name]}" "${M_RPS[nginx]}")" \
        "${M_P50[$name]}" "$(ratio "${M_P50[$name]}" "${M_P50[nginx]}")" \
        "${M_P99[$name]}" "$(ratio "${M_P99[$name]}" "${M_P99[nginx]}")" \
        "${M_CPU[$name]}" "$(ratio "${M_CPU[$name]}" "${M_CPU[nginx]}")" \
        "$ir" "$(ratio "$ir" "${CG[nginx]:-0}")" \
        "$(mb "${R_RSS[$name]}")" "$(ratio "${R_RSS[$name]}" "${R_RSS[nginx]}")" "${R_CPU[$name]}"
    bench_result "scripted (3 Lua filters + proxy)" "$label" "${M_RPS[$name]}" "${M_P50[$name]}" "${M_P99[$name]}" \
        "${M_CPU[$name]}" "$ir" "$(mb "${R_RSS[$name]}")" "CPU us/req per round: ${R_CPU[$name]% }"
done
