#!/usr/bin/env bash
# bench/tracing.sh — the cost of tracing: CPU time per proxied request with an HTTPServer's
# `tracing` on (sampleRate 1, OTLP/HTTP JSON to a collector; also sampleRate 0) against off.
#
#   bench/tracing.sh [--rounds N] [--duration SECONDS] [--connections N] [--callgrind [--requests N]]
#
# One gateway (--workers 1, pinned to CPU 0) serves three HTTPServers on the same Proxy
# Pipeline: `off` (no tracing), `unsampled` (tracing, sampleRate 0: ids made and propagated,
# nothing recorded) and `sampled` (sampleRate 1: every request exports 2 spans). wrk (-t1),
# the nginx backend and the collector share CPU 1. The three are measured alternately,
# --rounds (5) times each, after a warm-up; the table shows medians of req/s and of the
# gateway's CPU microseconds per request (utime+stime from /proc over the wrk run / requests).
# The collector only counts spans (it does not parse them), so it keeps up; the table says
# how many spans arrived and how many the gateway dropped (queue full), to show the sampled
# figure includes the export work.
#
# CPU time on a shared 2-core machine is noisy, and a slower collector or backend lowers the
# request rate, which by itself raises the gateway's CPU per request (fewer requests per loop
# turn). --callgrind adds the deterministic figure: instructions per request, counted by
# valgrind's callgrind in four runs of the same gateway (a baseline with no requests, then
# --requests (5000) requests over one keep-alive connection to each server); the sampled
# run includes exporting the spans (sent at the latest when the gateway stops).
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
    *) echo "tracing.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
NAME=tracing
source "$(dirname "$0")/lib.sh"
bench_require
HZ=$(getconf CLK_TCK)
bench_start

# ---- backend: nginx answering "hello\n" on CPU 1
start_hello_backend 1 1

# ---- collector: counts spans per POST, answers 200
COLLECTOR=$(port)
cat >"$WORK/collector.py" <<'EOF'
import http.server, sys, threading
count = [0]
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with lock:
            count[0] += body.count(b'"spanId"')
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"{}")
    def do_GET(self):
        b = str(count[0]).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
s.daemon_threads = True
s.serve_forever()
EOF
taskset -c 1 $PY "$WORK/collector.py" $COLLECTOR >"$WORK/collector.log" 2>&1 &
PIDS+=($!)
wait_port $COLLECTOR 10 || die "collector did not start"
spans() { curl -s "http://127.0.0.1:$COLLECTOR/"; }

# ---- the gateway
API=$(port)
taskset -c 0 "$EG_SERVER" --data-dir "$WORK/data" --api-addr "127.0.0.1:$API" --workers 1 \
    --disable-access-log >"$WORK/eg.log" 2>&1 &
OMASTER=$!
PIDS+=($OMASTER)
for i in $(seq 100); do curl -s "http://127.0.0.1:$API/apis/v2/healthz" >/dev/null && break; sleep 0.1; done
proxy_pipeline_yaml >"$WORK/pipeline.yaml"
"$EGCTL" --server "127.0.0.1:$API" create -f "$WORK/pipeline.yaml" >/dev/null
declare -A PORT
for mode in off unsampled sampled; do
    PORT[$mode]=$(port)
    case $mode in
    off) tracing="" ;;
    unsampled) tracing="tracing: {serviceName: bench, sampleRate: 0, exporter: {otlp: {protocol: http, endpoint: \"http://127.0.0.1:$COLLECTOR/v1/traces\"}}}" ;;
    sampled) tracing="tracing: {serviceName: bench, sampleRate: 1, exporter: {otlp: {protocol: http, endpoint: \"http://127.0.0.1:$COLLECTOR/v1/traces\"}}}" ;;
    esac
    cat >"$WORK/server-$mode.yaml" <<EOF
kind: HTTPServer
name: bench-$mode
port: ${PORT[$mode]}
keepAlive: true
$tracing
rules:
  - paths:
    - pathPrefix: /
      backend: bench-pipeline
EOF
    "$EGCTL" --server "127.0.0.1:$API" create -f "$WORK/server-$mode.yaml" >/dev/null
    wait_hello "http://127.0.0.1:${PORT[$mode]}/" 20 || die "bench-$mode does not proxy"
done
OPID=$(pgrep -P $OMASTER | head -1)

echo "## Tracing cost ($(date -u +%Y-%m-%dT%H:%MZ), $("$EG_SERVER" --version 2>&1 | head -1)); --workers 1 on CPU 0; medians of $ROUNDS rounds of ${DURATION}s, $CONNS connections"
echo
echo "| tracing | req/s | gateway CPU µs/request | vs off | µs/request per round |"
echo "|---|---|---|---|---|"
declare -A RPS=() US=()
for mode in off unsampled sampled; do taskset -c 1 wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:${PORT[$mode]}/" >/dev/null 2>&1; done
sleep 6 # the warm-up's spans are in
s0=$(spans)
sampled_requests=0
for r in $(seq "$ROUNDS"); do
    for mode in off unsampled sampled; do
        g0=$(cpu_ticks $OPID)
        taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:${PORT[$mode]}/" >"$WORK/wrk.$mode.$r" 2>&1
        g1=$(cpu_ticks $OPID)
        n=$(awk '/requests in/ {print $1}' "$WORK/wrk.$mode.$r")
        grep -q "Non-2xx\|Socket errors" "$WORK/wrk.$mode.$r" && log "errors in $mode round $r: $(grep -h 'Non-2xx\|Socket errors' "$WORK/wrk.$mode.$r")"
        [ $mode = sampled ] && sampled_requests=$((sampled_requests + n))
        RPS[$mode]+="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$WORK/wrk.$mode.$r") "
        US[$mode]+="$(awk -v t=$((g1 - g0)) -v hz=$HZ -v n=$n 'BEGIN {printf "%.2f", 1e6 * t / hz / n}') "
    done
done
sleep 6 # the last batch (batchTimeout 5 s)
got=$(( $(spans) - s0 ))
base=$(median ${US[off]})
for mode in off unsampled sampled; do
    m=$(median ${US[$mode]})
    echo "| $mode | $(median ${RPS[$mode]}) | $m | $(awk -v a=$m -v b=$base 'BEGIN {printf "%+.1f%%", 100 * (a - b) / b}') | ${US[$mode]}|"
done
echo
echo "Spans at the collector from the sampled rounds: $got of $((2 * sampled_requests)) expected; warnings: $(grep -c 'export queue full\|export of' "$WORK/eg.log" || true)."

[ $DO_CALLGRIND = 1 ] || exit 0
# ---- callgrind: instructions per request
command -v valgrind >/dev/null 2>&1 || die "valgrind is not installed (apt-get install valgrind)"
stop_pid $OMASTER
cat >"$WORK/client.py" <<'EOF'
# Sends N GET requests over one keep-alive connection; fails on anything but 200 "hello\n".
import http.client, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
bad = 0
for _ in range(n):
    c.request("GET", "/")
    r = c.getresponse()
    if r.status != 200 or r.read() != b"hello\n":
        bad += 1
c.close()
sys.exit(1 if bad else 0)
EOF
cg_run() { # TAG MODE REQUESTS: sets CG_RESULT to the run's total Ir
    local out="$WORK/callgrind.$1.out" api=$(port) pid m f i
    rm -rf "$WORK/cg-data"
    valgrind --tool=callgrind --callgrind-out-file="$out" "$EG_SERVER" --no-master --workers 1 \
        --data-dir "$WORK/cg-data" --api-addr "127.0.0.1:$api" --disable-access-log >"$WORK/callgrind.$1.log" 2>&1 &
    pid=$!
    PIDS+=($pid)
    wait_port $api 120 || die "the gateway did not start under valgrind"
    for f in pipeline server-off server-unsampled server-sampled; do
        # a port just freed by the previous run (or taken meanwhile as some client's source
        # port) may take a moment
        local created=0
        for i in $(seq 20); do "$EGCTL" --server "127.0.0.1:$api" create -f "$WORK/$f.yaml" >/dev/null 2>&1 && { created=1; break; }; sleep 0.5; done
        [ $created = 1 ] || die "egctl create $f under valgrind"
    done
    for m in off unsampled sampled; do wait_hello "http://127.0.0.1:${PORT[$m]}/" 120 || die "bench-$m under valgrind"; done
    if [ "$3" -gt 0 ]; then
        taskset -c 1 $PY "$WORK/client.py" "${PORT[$2]}" "$3" || log "bad responses from bench-$2 under callgrind"
    fi
    stop_pid $pid
    CG_RESULT=$(awk '/^(summary|totals):/ {print $2; exit}' "$out")
}
log "callgrind: baseline"
cg_run base off 0
CG_BASE=$CG_RESULT
s1=$(spans)
declare -A CG
for mode in off unsampled sampled; do
    log "callgrind: $CG_REQUESTS requests to bench-$mode"
    cg_run $mode $mode $CG_REQUESTS
    CG[$mode]=$(awk -v t=$CG_RESULT -v b=$CG_BASE -v n=$CG_REQUESTS 'BEGIN {printf "%.0f", (t - b) / n}')
done
echo
echo "callgrind: instructions per request, $CG_REQUESTS requests over one keep-alive connection (baseline run subtracted)"
echo
echo "| tracing | Ir/request | vs off |"
echo "|---|---|---|"
for mode in off unsampled sampled; do
    echo "| $mode | ${CG[$mode]} | $(awk -v a=${CG[$mode]} -v b=${CG[off]} 'BEGIN {printf "%+d (%+.1f%%)", a - b, 100 * (a - b) / b}') |"
done
echo
echo "Spans at the collector from the sampled callgrind run: $(( $(spans) - s1 )) of $((2 * CG_REQUESTS)) expected."
