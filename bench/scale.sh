#!/usr/bin/env bash
# bench/scale.sh — scale of configuration (issue 4, target 5):
#   (a) routes: one easegress-server (--workers 1, CPU 0) holds three HTTPServers on three
#       ports, all to the same proxy Pipeline: "1 route" (pathPrefix /), "10k prefix" (10,000
#       distinct pathPrefix rules /r00000/ ... /r09999/, the request matching the last one
#       defined) and "10k exact" (10,000 `path:` rules, the request on the last one). wrk
#       (-t1 -c50, CPU 1, with the nginx backend) loads each in turn, --rounds times; CPU
#       us/request = utime+stime of the server process during the run / requests. Medians.
#       Then, as the wall-clock figures on a shared VM cannot resolve 10 %, the deterministic
#       figure: instructions per request under valgrind's callgrind for each of the three
#       (a server with just that HTTPServer and the Pipeline, --requests (20000) GETs of the
#       same path over one keep-alive connection, minus an identical run without them; see
#       bench/run.sh --callgrind). --no-callgrind skips it.
#   (b) apply latency: a second server (--workers 2) holds 1,000 Pipelines p0000..p0999
#       (the proxy, then an inline Lua filter setting the response header X-Version) and one
#       HTTPServer with 1,000 rules /pNNNN -> pNNNN. A Python client keeps --probe-conns (32)
#       keep-alive connections on /p0500 (spread by the kernel over both workers) and, for
#       each of --applies (10) changes, starts `egctl apply` of p0500 with a new X-Version and
#       polls all its connections round-robin; the latency is from just before egctl starts
#       to the first moment every connection has answered with the new value. egctl's own
#       run time (process start, HTTP round trip, validation, store) is shown too.
#
#   bench/scale.sh [--rounds N] [--duration SECONDS] [--applies N] [--probe-conns N]
#                  [--no-callgrind] [--requests N] [--keep]
#
# Every process started here is stopped on exit. EG_SERVER / EGCTL choose other binaries.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EG_SERVER=${EG_SERVER:-$ROOT/bin/easegress-server}
EGCTL=${EGCTL:-$ROOT/bin/egctl}
ROUNDS=3 DURATION=8 APPLIES=10 PROBES=32 KEEP=0 NROUTES=10000 NPIPES=1000 DO_CALLGRIND=1 CG_REQUESTS=20000
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --applies) APPLIES=$2; shift 2 ;;
    --probe-conns) PROBES=$2; shift 2 ;;
    --no-callgrind) DO_CALLGRIND=0; shift ;;
    --requests) CG_REQUESTS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "scale.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
NAME=scale
source "$(dirname "$0")/lib.sh"
if [ $DO_CALLGRIND = 1 ]; then bench_require valgrind; else bench_require; fi
HZ=$(getconf CLK_TCK)
bench_start


# ---------------------------------------------------------------- backend
start_hello_backend 1 1

start_server() { # NAME WORKERS CPUS: sets S_MASTER S_PID S_API
    S_API=$(port)
    taskset -c "$3" "$EG_SERVER" --data-dir "$WORK/$1-data" --api-addr "127.0.0.1:$S_API" \
        --workers "$2" --disable-access-log >"$WORK/$1.log" 2>&1 &
    S_MASTER=$!
    PIDS+=("$S_MASTER")
    wait_port "$S_API" 20 || die "$1 did not start: $(tail "$WORK/$1.log")"
    S_PID=$(pgrep -P "$S_MASTER" | head -1)
}

# ---------------------------------------------------------------- (a) 10,000 routes
P1=$(port) PPRE=$(port) PEX=$(port)
start_server routes 1 0
A_MASTER=$S_MASTER A_PID=$S_PID A_API=$S_API
$PY - "$WORK" "$BACKEND" "$P1" "$PPRE" "$PEX" "$NROUTES" <<'EOF'
import sys
work, backend, p1, ppre, pex, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
with open(work + "/pipeline.yaml", "w") as f:
    f.write("""name: bench-pipeline
kind: Pipeline
flow:
  - filter: proxy
filters:
  - name: proxy
    kind: Proxy
    pools:
    - servers:
      - url: http://127.0.0.1:%s
""" % backend)
def server(name, port, paths):
    with open("%s/%s.yaml" % (work, name), "w") as f:
        f.write("kind: HTTPServer\nname: %s\nport: %s\nkeepAlive: true\nhttps: false\nrules:\n  - paths:\n" % (name, port))
        for p in paths:
            f.write("    - %s\n      backend: bench-pipeline\n" % p)
server("one-route", p1, ["pathPrefix: /"])
server("prefix-10k", ppre, ["pathPrefix: /r%05d/" % i for i in range(n)])
server("exact-10k", pex, ["path: /r%05d/x" % i for i in range(n)])
EOF
for f in pipeline one-route prefix-10k exact-10k; do
    t0=$(date +%s%N)
    "$EGCTL" --server "127.0.0.1:$A_API" create -f "$WORK/$f.yaml" >>"$WORK/routes.egctl.log" 2>&1 || die "egctl create $f: $(tail -3 "$WORK/routes.egctl.log")"
    log "created $f ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
done
LAST=$(printf '/r%05d/x' $((NROUTES - 1)))
declare -A URL=([one-route]="http://127.0.0.1:$P1$LAST" [prefix-10k]="http://127.0.0.1:$PPRE$LAST" [exact-10k]="http://127.0.0.1:$PEX$LAST")
CASES=(one-route prefix-10k exact-10k)
for c in "${CASES[@]}"; do wait_hello "${URL[$c]}" 20 || die "$c does not proxy $LAST"; done
# The first route must not also match: /r00000/x on exact-10k answers, /nope answers 404.
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PEX/nope")" = 404 ] || die "exact-10k: /nope not 404"
RSS_ROUTES=$(awk '/^VmRSS:/{print $2}' "/proc/$A_PID/status")

declare -A R_CPU R_RPS R_P99
to_ms_list() { # wrk latencies ("1.04ms" "455.00us" ...) -> their median in ms
    local v out=()
    for v in "$@"; do
        out+=("$(awk -v v="$v" 'BEGIN { if (v ~ /us$/) printf "%.3f", v / 1000; else if (v ~ /ms$/) printf "%.3f", v + 0;
            else if (v ~ /s$/) printf "%.3f", v * 1000; else print "nan" }')")
    done
    median "${out[@]}"
}
for c in "${CASES[@]}"; do taskset -c 1 wrk -t1 -c50 -d2s "${URL[$c]}" >/dev/null 2>&1; done
for r in $(seq "$ROUNDS"); do
    for c in "${CASES[@]}"; do
        t0=$(cpu_ticks "$A_PID")
        taskset -c 1 wrk -t1 -c50 -d"${DURATION}s" --latency "${URL[$c]}" >"$WORK/wrk.$c.$r" 2>&1
        t1=$(cpu_ticks "$A_PID")
        n=$(awk '/requests in/ {print $1; exit}' "$WORK/wrk.$c.$r")
        grep -q "Non-2xx" "$WORK/wrk.$c.$r" && die "$c: non-2xx answers: $(cat "$WORK/wrk.$c.$r")"
        R_CPU[$c]+="$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$n" 'BEGIN {printf "%.2f", t * 1e6 / hz / n}') "
        R_RPS[$c]+="$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.$c.$r") "
        R_P99[$c]+="$(awk '$1 == "99%" {print $2}' "$WORK/wrk.$c.$r") "
    done
done
echo
echo "## (a) routes on one HTTPServer ($(date -u +%Y-%m-%dT%H:%MZ), $("$EG_SERVER" --version 2>&1 | head -1))"
echo "wrk -t1 -c50 -d${DURATION}s on $LAST, server --workers 1 on CPU 0, wrk + backend on CPU 1; medians of $ROUNDS rounds"
echo "(server RSS with all three HTTPServers loaded: $(awk -v k="$RSS_ROUTES" 'BEGIN {printf "%.1f", k / 1024}') MB)"
echo
echo "| HTTPServer | routes | req/s | CPU us/req | vs 1 route | per round (CPU us/req) | p99 per round |"
echo "|---|---|---|---|---|---|---|"
base=$(median ${R_CPU[one-route]})
for c in "${CASES[@]}"; do
    m=$(median ${R_CPU[$c]})
    nr=$NROUTES; [ $c = one-route ] && nr=1
    echo "| $c | $nr | $(median ${R_RPS[$c]}) | $m | $(awk -v a="$m" -v b="$base" 'BEGIN {printf "%+.1f%%", (a / b - 1) * 100}') | ${R_CPU[$c]}| ${R_P99[$c]}|"
done
stop_pid "$A_MASTER"
forget_pid "$A_MASTER"

declare -A CG_IRS
if [ $DO_CALLGRIND = 1 ]; then
    CG_PORT=$(port)
    for c in "${CASES[@]}"; do
        sed -e "s/^port: .*/port: $CG_PORT/" "$WORK/$c.yaml" >"$WORK/$c.cg.yaml"
        cg_per_request ours "routes-$c" "$CG_REQUESTS" "$LAST" "$WORK/pipeline.yaml" "$WORK/$c.cg.yaml"
        CG_IRS[$c]=$CG_IR
    done
    echo
    echo "callgrind: instructions per request on $LAST, $CG_REQUESTS requests over one keep-alive connection"
    echo "(each HTTPServer alone with the Pipeline in a --no-master --workers 1 server; minus a run without the requests)"
    echo
    echo "| HTTPServer | routes | Ir/request | vs 1 route |"
    echo "|---|---|---|---|"
    for c in "${CASES[@]}"; do
        nr=$NROUTES; [ $c = one-route ] && nr=1
        echo "| $c | $nr | ${CG_IRS[$c]} | $(awk -v a="${CG_IRS[$c]}" -v b="${CG_IRS[one-route]}" 'BEGIN {printf "%+.1f%%", (a / b - 1) * 100}') |"
    done
fi
for c in "${CASES[@]}"; do
    case $c in
    one-route) label="ours, 1 route (pathPrefix /)" ;;
    prefix-10k) label="ours, 10,000 pathPrefix routes" ;;
    exact-10k) label="ours, 10,000 exact path routes" ;;
    esac
    bench_result "config scale: routes" "$label" "$(median ${R_RPS[$c]})" - "$(to_ms_list ${R_P99[$c]})" \
        "$(median ${R_CPU[$c]})" "${CG_IRS[$c]:--}" "$(awk -v k="$RSS_ROUTES" 'BEGIN {printf "%.1f", k / 1024}')" \
        "request on the last rule defined ($LAST); RSS: one server holding all three HTTPServers"
done

# ---------------------------------------------------------------- (b) apply latency, 1,000 Pipelines
PA=$(port)
start_server pipes 2 0-1
B_API=$S_API B_PID=$S_PID
pipeline_yaml() { # N VERSION
    printf 'name: p%04d\nkind: Pipeline\nflow:\n  - filter: proxy\n  - filter: tag\nfilters:\n  - name: tag\n    kind: Lua\n    code: ctx.resp:set_header("X-Version", "%s")\n  - name: proxy\n    kind: Proxy\n    pools:\n    - servers:\n      - url: http://127.0.0.1:%s\n' "$1" "$2" "$BACKEND"
}
{
    for i in $(seq 0 $((NPIPES - 1))); do pipeline_yaml "$i" v0; echo ---; done
} >"$WORK/pipelines.yaml"
t0=$(date +%s%N)
"$EGCTL" --server "127.0.0.1:$B_API" create -f "$WORK/pipelines.yaml" >"$WORK/pipes.egctl.log" 2>&1 || die "egctl create pipelines: $(tail -3 "$WORK/pipes.egctl.log")"
log "created $NPIPES Pipelines in one egctl call ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
{
    printf 'kind: HTTPServer\nname: pipes\nport: %s\nkeepAlive: true\nhttps: false\nrules:\n  - paths:\n' "$PA"
    for i in $(seq 0 $((NPIPES - 1))); do printf '    - pathPrefix: /p%04d\n      backend: p%04d\n' "$i" "$i"; done
} >"$WORK/pipes-server.yaml"
"$EGCTL" --server "127.0.0.1:$B_API" create -f "$WORK/pipes-server.yaml" >>"$WORK/pipes.egctl.log" 2>&1 || die "egctl create server"
wait_hello "http://127.0.0.1:$PA/p0500" 20 || die "pipes server does not proxy"
loaded=$("$EGCTL" --server "127.0.0.1:$B_API" get pipeline 2>/dev/null | grep -c '^p[0-9]' || true)
log "Pipelines listed by egctl get: $loaded"
RSS_PIPES=$(awk '/^VmRSS:/{print $2}' "/proc/$B_PID/status")

for v in $(seq 1 "$APPLIES"); do pipeline_yaml 500 "v$v" >"$WORK/apply.$v.yaml"; done
$PY - "$PA" "$PROBES" "$APPLIES" "$EGCTL" "127.0.0.1:$B_API" "$WORK" "$B_PID" >"$WORK/apply.out" <<'EOF'
import http.client, os, statistics, subprocess, sys, time
port, nconn, napply, egctl, api, work, spid = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(nconn)]
def probe(c):
    c.request("GET", "/p0500")
    r = c.getresponse(); r.read()
    return r.getheader("X-Version")
def thread_ticks():  # per worker thread CPU, to show that the probe connections reach both
    out = {}
    for t in os.listdir("/proc/%s/task" % spid):
        with open("/proc/%s/task/%s/stat" % (spid, t)) as f:
            s = f.read()
        name = s[s.index("(") + 1:s.rindex(")")]
        f = s[s.rindex(")") + 2:].split()
        out[t + ":" + name] = int(f[11]) + int(f[12])
    return out
for c in conns: assert probe(c) == "v0"
before = thread_ticks()
for _ in range(200):
    for c in conns: probe(c)
after = thread_ticks()
busy = {k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0) > 0}
print("threads that served 200 rounds of probes (CPU ticks):", busy)
lat, eg = [], []
for v in range(1, napply + 1):
    want = "v%d" % v
    done = [False] * nconn
    t0 = time.monotonic()
    p = subprocess.Popen([egctl, "--server", api, "apply", "-f", "%s/apply.%d.yaml" % (work, v)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    egt = None
    while not all(done):
        for i, c in enumerate(conns):
            if not done[i] and probe(c) == want:
                done[i] = True
        if egt is None and p.poll() is not None:
            egt = time.monotonic() - t0
        if time.monotonic() - t0 > 10:
            print("apply %d: not live on %d connections after 10 s" % (v, done.count(False)))
            break
    t1 = time.monotonic() - t0
    if p.wait() != 0:
        print("egctl apply failed:", p.stderr.read().decode()[:300])
    if egt is None:
        egt = time.monotonic() - t0
    lat.append(t1 * 1000); eg.append(egt * 1000)
    time.sleep(0.3)
print("live_ms", " ".join("%.1f" % x for x in lat))
print("egctl_ms", " ".join("%.1f" % x for x in eg))
q = sorted(lat)
print("summary min %.1f median %.1f p90 %.1f max %.1f" % (q[0], statistics.median(q), q[int(0.9 * (len(q) - 1))], q[-1]))
EOF
echo
echo "## (b) apply of one changed Pipeline among $NPIPES (--workers 2, CPUs 0-1)"
echo "(server RSS with $NPIPES Pipelines (Lua filter + Proxy each) and a $NPIPES-rule HTTPServer loaded: $(awk -v k="$RSS_PIPES" 'BEGIN {printf "%.1f", k / 1024}') MB)"
echo "$PROBES keep-alive probe connections; ms from the start of 'egctl apply' until every connection answers with the new X-Version"
echo
cat "$WORK/apply.out"
bench_result "config scale: apply" "ours, 1 changed Pipeline among $NPIPES, --workers 2" - - - - - \
    "$(awk -v k="$RSS_PIPES" 'BEGIN {printf "%.1f", k / 1024}')" \
    "ms until live in every worker: $(sed -n 's/^summary //p' "$WORK/apply.out")"
