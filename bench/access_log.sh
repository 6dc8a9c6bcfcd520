#!/usr/bin/env bash
# bench/access_log.sh — the CPU cost of access logging: the plain proxy path with the access
# log off, in Easegress's default layout to a file, and as JSON lines to a file.
#
#   bench/access_log.sh [--rounds N] [--duration SECONDS] [--connections N] [--keep]
#                       [--callgrind [--requests N]]
#
# Placement as bench/run.sh: the gateway (--workers 1) alone on CPU 0, wrk -t1 and the nginx
# backend on CPU 1. The three configurations alternate, --rounds (5) times each, each run
# after a 2 s warm-up on a fresh gateway; the table shows medians. CPU per request is the
# gateway's utime+stime (/proc) during the wrk run divided by the requests wrk completed;
# the cost of logging is the difference to "off". The machine may be shared: the medians and
# the per-round figures are both shown so the noise can be judged.
#
# --callgrind  also counts user-space instructions per request, which no other load on the
#              machine disturbs: each configuration runs under valgrind's callgrind
#              (--no-master), once without requests and once with --requests (5000) over one
#              keep-alive connection; the difference divided by the requests. The kernel's
#              share of the writes is not in it (one write per 32 KiB of lines).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EG_SERVER=${EG_SERVER:-$ROOT/bin/easegress-server}
EGCTL=${EGCTL:-$ROOT/bin/egctl}
ROUNDS=5 DURATION=8 CONNS=50 KEEP=0 DO_CALLGRIND=0 CG_REQUESTS=5000
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --callgrind) DO_CALLGRIND=1; shift ;;
    --requests) CG_REQUESTS=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "access_log.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
NAME=access_log
source "$(dirname "$0")/lib.sh"
bench_require
HZ=$(getconf CLK_TCK)
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (gateway on CPU 0, load on CPU 1)"
bench_start

start_hello_backend 1 1

start_ours() { # CONFIG [valgrind args...]: off | default | json
    local config=$1 api=$(port) flags=() extra=""
    shift
    OPORT=$(port)
    rm -rf "$WORK/data" "$WORK/access.log"
    case "$config" in
    off) flags=(--disable-access-log) ;;
    default) flags=(--access-log "$WORK/access.log") ;;
    json) flags=(--access-log "$WORK/access.log"); extra="accessLogFormat: json" ;;
    esac
    if [ $# -gt 0 ]; then
        "$@" "$EG_SERVER" --no-master --data-dir "$WORK/data" --api-addr "127.0.0.1:$api" --workers 1 \
            "${flags[@]}" >"$WORK/eg.log" 2>&1 &
    else
        taskset -c 0 "$EG_SERVER" --data-dir "$WORK/data" --api-addr "127.0.0.1:$api" --workers 1 \
            "${flags[@]}" >"$WORK/eg.log" 2>&1 &
    fi
    OMASTER=$!
    PIDS+=($OMASTER)
    local i; for i in $(seq 600); do curl -s "http://127.0.0.1:$api/apis/v2/healthz" >/dev/null && break; sleep 0.1; done
    proxy_pipeline_yaml | "$EGCTL" --server "127.0.0.1:$api" create -f - >/dev/null
    "$EGCTL" --server "127.0.0.1:$api" create -f - >/dev/null <<EOF
kind: HTTPServer
name: bench-server
port: $OPORT
$extra
rules:
  - paths:
    - pathPrefix: /
      backend: bench-pipeline
EOF
    wait_hello "http://127.0.0.1:$OPORT/" 60 || die "the gateway does not proxy"
    OPID=$(pgrep -P $OMASTER | head -1 || true)
}

CONFIGS=(off default json)
declare -A US=() RPS=()
for r in $(seq "$ROUNDS"); do
    for c in "${CONFIGS[@]}"; do
        for attempt in 1 2 3; do # a stalled machine shows as wrk timeouts: run again
            start_ours "$c"
            taskset -c 1 wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:$OPORT/" >/dev/null 2>&1
            t0=$(cpu_ticks $OPID)
            taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$OPORT/" >"$WORK/wrk.$c.$r" 2>&1
            t1=$(cpu_ticks $OPID)
            n=$(awk '/requests in/ {print $1}' "$WORK/wrk.$c.$r")
            stop_pid $OMASTER
            grep -q "Non-2xx" "$WORK/wrk.$c.$r" && die "non-2xx answers in $WORK/wrk.$c.$r"
            grep -q "Socket errors" "$WORK/wrk.$c.$r" || break
            log "round $r, $c: socket errors (attempt $attempt); again"
        done
        if [ "$c" != off ]; then # every request was logged, the warm-up's too
            lines=$(wc -l <"$WORK/access.log")
            [ "$lines" -ge "$n" ] || die "$c: $lines lines for $n requests"
        fi
        US[$c]+="$(awk -v t=$((t1 - t0)) -v hz=$HZ -v n=$n 'BEGIN {printf "%.2f", 1e6 * t / hz / n}') "
        RPS[$c]+="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$WORK/wrk.$c.$r") "
    done
done

base=$(median ${US[off]})
echo "## Access log cost ($(date -u +%Y-%m-%dT%H:%MZ), $("$EG_SERVER" --version 2>&1 | head -1)); medians of $ROUNDS rounds of ${DURATION}s, $CONNS connections, --workers 1"
echo
echo "| access log | gateway CPU µs/request | vs off | req/s | µs/request per round |"
echo "|---|---|---|---|---|"
for c in "${CONFIGS[@]}"; do
    m=$(median ${US[$c]})
    echo "| $c | $m | $(awk -v a="$m" -v b="$base" 'BEGIN {printf "%+.2f µs (%+.1f%%)", a - b, 100 * (a - b) / b}') | $(median ${RPS[$c]}) | ${US[$c]}|"
done

[ $DO_CALLGRIND = 1 ] || exit 0
command -v valgrind >/dev/null 2>&1 || die "--callgrind needs valgrind (apt-get install valgrind)"
cat >"$WORK/client.py" <<'EOF'
# N GET requests over one keep-alive connection; fails on anything but 200 "hello\n".
import http.client, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for _ in range(n):
    c.request("GET", "/")
    r = c.getresponse()
    if r.status != 200 or r.read() != b"hello\n":
        sys.exit("unexpected response %d" % r.status)
EOF
cg_run() { # CONFIG REQUESTS: CG_RESULT = total Ir of the run (not a subshell: the trap must
    #                       know the valgrind process)
    local out="$WORK/callgrind.$1.$2.out"
    start_ours "$1" valgrind --tool=callgrind --callgrind-out-file="$out"
    [ "$2" = 0 ] || $PY "$WORK/client.py" "$OPORT" "$2" || die "$1 under callgrind: bad responses"
    stop_pid $OMASTER
    CG_RESULT=$(awk '/^(summary|totals):/ {print $2; exit}' "$out")
}
echo
echo "callgrind: user-space instructions per request, $CG_REQUESTS requests over one keep-alive connection"
echo
echo "| access log | Ir/request | vs off |"
echo "|---|---|---|"
for c in "${CONFIGS[@]}"; do
    log "callgrind: $c"
    cg_run "$c" 0
    b=$CG_RESULT
    cg_run "$c" "$CG_REQUESTS"
    per=$(awk -v t="$CG_RESULT" -v b="$b" -v n="$CG_REQUESTS" 'BEGIN {printf "%.0f", (t - b) / n}')
    [ "$c" = off ] && CG_OFF=$per
    echo "| $c | $per | $(awk -v a="$per" -v b="$CG_OFF" 'BEGIN {printf "%+d (%+.1f%%)", a - b, 100 * (a - b) / b}') |"
done
