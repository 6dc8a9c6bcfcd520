#!/usr/bin/env bash
# bench/workers.sh — worker scaling (issue 4, target 6): requests/s of the plain proxy with
# --workers 2 against --workers 1, on whatever CPUs the machine has.
#
#   bench/workers.sh [--rounds N] [--duration SECONDS] [--connections N]
#
# Two placements are run, --workers 1 and 2 alternating, --rounds (3) times each, medians:
#   shared  gateway, wrk (-t2) and the backend nginx (2 workers) all unpinned over every CPU:
#           the load generator and the backend compete with the gateway for the same cores;
#   cpu0    the gateway pinned to CPU 0, wrk -t1 and the backend to CPU 1 (as bench/run.sh):
#           a second worker has no second core here, so this shows the cost of the extra
#           thread, not scaling.
# For each run the table gives req/s, the gateway's CPU (% of one core, utime+stime from
# /proc) and the CPU of wrk + backend, so one can see who saturated the machine. On a 2-core
# machine the 1.7x target cannot be shown: the gateway would need ~2 cores for itself.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EG_SERVER=${EG_SERVER:-$ROOT/bin/easegress-server}
EGCTL=${EGCTL:-$ROOT/bin/egctl}
ROUNDS=3 DURATION=8 CONNS=100
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "workers.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
NAME=workers
source "$(dirname "$0")/lib.sh"
bench_require
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)
bench_start

BACKEND=$(port)
mkdir -p "$WORK/tmp"
cat >"$WORK/backend.conf" <<EOF
worker_processes 2;
daemon off;
pid $WORK/backend.pid;
error_log $WORK/backend.err warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $WORK/tmp/cb; proxy_temp_path $WORK/tmp/p; fastcgi_temp_path $WORK/tmp/f;
    uwsgi_temp_path $WORK/tmp/u; scgi_temp_path $WORK/tmp/s;
    keepalive_requests 1000000000; keepalive_timeout 75s;
    server { listen 127.0.0.1:$BACKEND; default_type text/plain; location / { return 200 "hello\n"; } }
}
EOF
nginx -p "$WORK" -c "$WORK/backend.conf" >"$WORK/backend.out" 2>&1 &
BMASTER=$!
PIDS+=($BMASTER)
wait_hello "http://127.0.0.1:$BACKEND/" 10 || die "backend did not start"
BPIDS="$BMASTER $(pgrep -P $BMASTER | tr '\n' ' ')"

start_ours() { # WORKERS CPUS
    local api=$(port)
    OPORT=$(port)
    rm -rf "$WORK/data"
    taskset -c "$2" "$EG_SERVER" --data-dir "$WORK/data" --api-addr "127.0.0.1:$api" \
        --workers "$1" --disable-access-log >"$WORK/eg.log" 2>&1 &
    OMASTER=$!
    PIDS+=($OMASTER)
    local i; for i in $(seq 100); do curl -s "http://127.0.0.1:$api/apis/v2/healthz" >/dev/null && break; sleep 0.1; done
    "$EGCTL" --server "127.0.0.1:$api" create -f - >/dev/null <<EOF
name: bench-pipeline
kind: Pipeline
flow:
  - filter: proxy
filters:
  - name: proxy
    kind: Proxy
    pools:
    - servers:
      - url: http://127.0.0.1:$BACKEND
EOF
    "$EGCTL" --server "127.0.0.1:$api" create -f - >/dev/null <<EOF
kind: HTTPServer
name: bench-server
port: $OPORT
keepAlive: true
https: false
rules:
  - paths:
    - pathPrefix: /
      backend: bench-pipeline
EOF
    wait_hello "http://127.0.0.1:$OPORT/" 20 || die "ours does not proxy"
    OPID=$(pgrep -P $OMASTER | head -1)
}

echo "## Worker scaling ($(date -u +%Y-%m-%dT%H:%MZ), $NCPU CPUs, $("$EG_SERVER" --version 2>&1 | head -1)); medians of $ROUNDS rounds of ${DURATION}s, $CONNS connections"
echo
echo "| placement | --workers | req/s | gateway CPU % | wrk + backend CPU % | req/s per round |"
echo "|---|---|---|---|---|---|"
for placement in shared cpu0; do
    declare -A RPS=() GW=() LG=()
    for r in $(seq "$ROUNDS"); do
        for w in 1 2; do
            if [ $placement = shared ]; then
                start_ours $w "0-$((NCPU - 1))"; WRK=(wrk -t2 -c"$CONNS")
                taskset -a -p -c "0-$((NCPU - 1))" $BMASTER >/dev/null; for p in $BPIDS; do taskset -p -c "0-$((NCPU - 1))" $p >/dev/null; done
            else
                start_ours $w 0; WRK=(taskset -c 1 wrk -t1 -c"$CONNS")
                for p in $BPIDS; do taskset -p -c 1 $p >/dev/null; done
            fi
            "${WRK[@]}" -d2s "http://127.0.0.1:$OPORT/" >/dev/null 2>&1
            g0=$(cpu_ticks $OPID) b0=$(cpu_ticks $BPIDS)
            c0=$(awk '{sub(/^.*\) /, ""); print $14 + $15}' /proc/$$/stat)
            "${WRK[@]}" -d"${DURATION}s" "http://127.0.0.1:$OPORT/" >"$WORK/wrk.$placement.$w.$r" 2>&1
            c1=$(awk '{sub(/^.*\) /, ""); print $14 + $15}' /proc/$$/stat)
            g1=$(cpu_ticks $OPID) b1=$(cpu_ticks $BPIDS)
            RPS[$w]+="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$WORK/wrk.$placement.$w.$r") "
            GW[$w]+="$(awk -v t=$((g1 - g0)) -v hz=$HZ -v d=$DURATION 'BEGIN {printf "%.0f", 100 * t / hz / d}') "
            LG[$w]+="$(awk -v t=$((b1 - b0 + c1 - c0)) -v hz=$HZ -v d=$DURATION 'BEGIN {printf "%.0f", 100 * t / hz / d}') "
            stop_pid $OMASTER
        done
    done
    for w in 1 2; do
        echo "| $placement | $w | $(median ${RPS[$w]}) | $(median ${GW[$w]}) | $(median ${LG[$w]}) | ${RPS[$w]}|"
    done
    echo "| $placement | ratio 2/1 | $(awk -v a="$(median ${RPS[2]})" -v b="$(median ${RPS[1]})" 'BEGIN {printf "%.2fx", a / b}') | | | |"
    unset RPS GW LG
done
