#!/usr/bin/env bash
# bench/workers.sh — worker scaling (issue 4, target 6): requests/s of the plain proxy with
# --workers 2 against --workers 1, on whatever CPUs the machine has.
#
#   bench/workers.sh [--rounds N] [--duration SECONDS] [--connections N]
#                    [--placements "shared split cpu0 pipelined"] [--no-callgrind] [--requests N]
#
# Four placements are run, --workers 1 and 2 alternating, --rounds (3) times each, medians:
#   shared  gateway, wrk (-t2) and the backend nginx (2 workers) all unpinned over every CPU:
#           the load generator and the backend compete with the gateway for the same cores;
#   split   the gateway allowed on CPUs 0 and 1, wrk -t1 and the backend pinned to CPU 1:
#           one worker runs alone on CPU 0; a second worker can only get what wrk and the
#           backend leave of CPU 1, so the measured ratio is a lower bound;
#   cpu0    the gateway pinned to CPU 0, wrk -t1 and the backend to CPU 1 (as bench/run.sh):
#           a second worker has no second core, so this measures what the second worker
#           costs per request (CPU us/req with 2 workers against 1), not scaling.
#   pipelined  no backend: the Pipeline answers itself (a Mock filter), wrk -t1 sends 16
#           pipelined requests per write, everything unpinned: the load generator's share
#           of the CPU is smallest here, so this is the closest to "the load generator is
#           not the bottleneck" that 2 cores allow; the note gives req/s per gateway core.
# For each run the table gives req/s, p99, the gateway's CPU (% of one core, utime+stime from
# /proc), its CPU us/request, the CPU of wrk + backend (so one sees who saturated the
# machine), and how evenly the work was spread over the worker threads (per-thread CPU from
# /proc/PID/task: the busiest thread's share; 50 % is an even split of 2).
# On 2 cores the 1.7x target cannot be measured: the gateway would need 2 cores to itself.
# What the script derives instead, and labels as a projection, is what 2 workers on 2 free
# cores would serve relative to 1, if the load generator were elsewhere:
#   2 x (Ir/request with --workers 1 / with --workers 2) x (50 % / the busiest worker's share
#   in shared, where both threads can run on either core),
# the instructions per request counted under callgrind as bench/run.sh --callgrind does
# (--requests (20000) over one keep-alive connection, minus a run without them; with
# --no-callgrind the CPU us/req of the cpu0 placement is used instead, which the other load
# on a shared machine disturbs). So what a second worker adds to each request and the
# imbalance between the workers (the kernel's SO_REUSEPORT spread of the connections) are
# counted; the workers share nothing else
#   (docs/architecture.md: one loop, one VM, one listening socket in an SO_REUSEPORT group
#   and one upstream pool per worker), which is the assumption the projection rests on.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EG_SERVER=${EG_SERVER:-$ROOT/bin/easegress-server}
EGCTL=${EGCTL:-$ROOT/bin/egctl}
ROUNDS=3 DURATION=8 CONNS=100 PLACEMENTS="shared split cpu0 pipelined" DO_CALLGRIND=1 CG_REQUESTS=20000
while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --placements) PLACEMENTS=$2; shift 2 ;;
    --no-callgrind) DO_CALLGRIND=0; shift ;;
    --requests) CG_REQUESTS=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "workers.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
NAME=workers
source "$(dirname "$0")/lib.sh"
if [ $DO_CALLGRIND = 1 ]; then bench_require valgrind; else bench_require; fi
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)
bench_start
cat >"$WORK/pipeline16.lua" <<'EOF'
-- 16 requests per write: the load generator's cost per request shrinks, the gateway's not
init = function()
  local r = {}
  for i = 1, 16 do r[i] = wrk.format(nil, "/") end
  req = table.concat(r)
end
request = function() return req end
EOF

start_hello_backend 2
BMASTER=$BACKEND_PID
BPIDS="$BMASTER $(pgrep -P $BMASTER | tr '\n' ' ')"

start_ours() { # WORKERS CPUS [mock]
    local api=$(port)
    OPORT=$(port)
    rm -rf "$WORK/data"
    taskset -c "$2" "$EG_SERVER" --data-dir "$WORK/data" --api-addr "127.0.0.1:$api" \
        --workers "$1" --disable-access-log >"$WORK/eg.log" 2>&1 &
    OMASTER=$!
    PIDS+=($OMASTER)
    local i; for i in $(seq 100); do curl -s "http://127.0.0.1:$api/apis/v2/healthz" >/dev/null && break; sleep 0.1; done
    if [ "${3:-}" = mock ]; then
        "$EGCTL" --server "127.0.0.1:$api" create -f - >/dev/null <<EOF
name: bench-pipeline
kind: Pipeline
flow:
  - filter: mock
filters:
  - name: mock
    kind: Mock
    rules:
    - match: { pathPrefix: / }
      code: 200
      body: "hello\n"
EOF
    else
        proxy_pipeline_yaml | "$EGCTL" --server "127.0.0.1:$api" create -f - >/dev/null
    fi
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

thread_ticks() { # PID: "tid ticks" for every thread of PID
    local t
    for t in /proc/$1/task/*; do
        echo "${t##*/} $(awk '{sub(/^.*\) /, ""); print $12 + $13}' "$t/stat")"
    done
}
busiest_share() { # BEFORE AFTER WORKERS: share of the busiest of the WORKERS busiest threads, %
    join <(sort "$1") <(sort "$2") | awk '{print $3 - $2}' | sort -g -r | head -"$3" |
        awk '{s += $1; if ($1 > m) m = $1} END {if (s > 0) printf "%.0f", 100 * m / s; else print "-"}'
}
to_ms() {
    awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.3f", v / 1000; else if (v ~ /ms$/) printf "%.3f", v + 0;
        else if (v ~ /s$/) printf "%.3f", v * 1000; else print "nan" }'
}

echo "## Worker scaling ($(date -u +%Y-%m-%dT%H:%MZ), $NCPU CPUs, $("$EG_SERVER" --version 2>&1 | head -1)); medians of $ROUNDS rounds of ${DURATION}s, $CONNS connections"
echo
echo "| placement | --workers | req/s | p99 ms | gateway CPU % | CPU us/req | busiest worker's share of its CPU | wrk + backend CPU % | req/s per round |"
echo "|---|---|---|---|---|---|---|---|---|"
declare -A M_RPS M_P99 M_CPU M_GW M_SHARE
for placement in $PLACEMENTS; do
    declare -A RPS=() GW=() LG=() P99=() CPU=() SHARE=()
    for r in $(seq "$ROUNDS"); do
        for w in 1 2; do
            case $placement in
            shared)
                start_ours $w "0-$((NCPU - 1))"; WRK=(wrk -t2 -c"$CONNS")
                for p in $BPIDS; do taskset -p -c "0-$((NCPU - 1))" $p >/dev/null; done ;;
            split)
                start_ours $w "0-1"; WRK=(taskset -c 1 wrk -t1 -c"$CONNS")
                for p in $BPIDS; do taskset -p -c 1 $p >/dev/null; done ;;
            cpu0)
                start_ours $w 0; WRK=(taskset -c 1 wrk -t1 -c"$CONNS")
                for p in $BPIDS; do taskset -p -c 1 $p >/dev/null; done ;;
            pipelined)
                start_ours $w "0-$((NCPU - 1))" mock; WRK=(wrk -t1 -c"$CONNS" -s "$WORK/pipeline16.lua") ;;
            *) die "unknown placement $placement" ;;
            esac
            "${WRK[@]}" -d2s "http://127.0.0.1:$OPORT/" >/dev/null 2>&1
            out="$WORK/wrk.$placement.$w.$r"
            thread_ticks $OPID >"$WORK/threads.0"
            g0=$(cpu_ticks $OPID) b0=$(cpu_ticks $BPIDS)
            c0=$(awk '{sub(/^.*\) /, ""); print $14 + $15}' /proc/$$/stat)
            "${WRK[@]}" -d"${DURATION}s" --latency "http://127.0.0.1:$OPORT/" >"$out" 2>&1
            c1=$(awk '{sub(/^.*\) /, ""); print $14 + $15}' /proc/$$/stat)
            g1=$(cpu_ticks $OPID) b1=$(cpu_ticks $BPIDS)
            thread_ticks $OPID >"$WORK/threads.1"
            grep -q "Non-2xx" "$out" && die "non-2xx answers: $(cat "$out")"
            n=$(awk '/requests in/ {print $1; exit}' "$out")
            [ "${n:-0}" -gt 0 ] || die "no requests completed: $(cat "$out")"
            RPS[$w]+="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out") "
            P99[$w]+="$(to_ms "$(awk '$1 == "99%" {print $2; exit}' "$out")") "
            GW[$w]+="$(awk -v t=$((g1 - g0)) -v hz=$HZ -v d=$DURATION 'BEGIN {printf "%.0f", 100 * t / hz / d}') "
            CPU[$w]+="$(awk -v t=$((g1 - g0)) -v hz=$HZ -v n="$n" 'BEGIN {printf "%.2f", t * 1e6 / hz / n}') "
            LG[$w]+="$(awk -v t=$((b1 - b0 + c1 - c0)) -v hz=$HZ -v d=$DURATION 'BEGIN {printf "%.0f", 100 * t / hz / d}') "
            SHARE[$w]+="$(busiest_share "$WORK/threads.0" "$WORK/threads.1" $w) "
            stop_pid $OMASTER
            forget_pid $OMASTER
        done
    done
    for w in 1 2; do
        k="$placement.$w"
        M_RPS[$k]=$(median ${RPS[$w]}) M_P99[$k]=$(median ${P99[$w]}) M_CPU[$k]=$(median ${CPU[$w]})
        M_GW[$k]=$(median ${GW[$w]}) M_SHARE[$k]=$(median ${SHARE[$w]})
        echo "| $placement | $w | ${M_RPS[$k]} | ${M_P99[$k]} | ${M_GW[$k]} | ${M_CPU[$k]} | ${M_SHARE[$k]} % | $(median ${LG[$w]}) | ${RPS[$w]}|"
    done
    echo "| $placement | ratio 2/1 | $(awk -v a="${M_RPS[$placement.2]}" -v b="${M_RPS[$placement.1]}" 'BEGIN {printf "%.2fx", a / b}') | | | $(awk -v a="${M_CPU[$placement.2]}" -v b="${M_CPU[$placement.1]}" 'BEGIN {printf "%.2fx", a / b}') | | | |"
    unset RPS GW LG P99 CPU SHARE
done

label() {
    case $1 in
    shared) echo "all unpinned, wrk -t2" ;;
    split) echo "gateway on CPUs 0-1, wrk + backend on CPU 1" ;;
    cpu0) echo "gateway on CPU 0, wrk + backend on CPU 1" ;;
    pipelined) echo "Mock answers, wrk -t1 16 pipelined requests per write, all unpinned" ;;
    esac
}
for placement in $PLACEMENTS; do
    for w in 1 2; do
        k="$placement.$w"
        note="gateway CPU ${M_GW[$k]} %, $(awk -v r="${M_RPS[$k]}" -v g="${M_GW[$k]}" 'BEGIN {printf "%.0f", (g > 0 ? r * 100 / g : 0)}') req/s per gateway core"
        [ $w = 2 ] && note+="; busiest worker ${M_SHARE[$k]} % of the gateway's CPU; req/s ratio 2/1: $(awk -v a="${M_RPS[$placement.2]}" -v b="${M_RPS[$placement.1]}" 'BEGIN {printf "%.2fx", a / b}')"
        bench_result "worker scaling: $(label $placement)" "ours --workers $w" "${M_RPS[$k]}" - "${M_P99[$k]}" \
            "${M_CPU[$k]}" - - "$note"
    done
done
declare -A CG_IRS
if [ $DO_CALLGRIND = 1 ]; then
    CG_PORT=$(port)
    proxy_pipeline_yaml >"$WORK/pipeline.yaml"
    printf 'kind: HTTPServer\nname: bench-server\nport: %s\nkeepAlive: true\nhttps: false\nrules:\n  - paths:\n    - pathPrefix: /\n      backend: bench-pipeline\n' "$CG_PORT" >"$WORK/server-cg.yaml"
    for w in 1 2; do
        CG_WORKERS=$w cg_per_request ours "workers-$w" "$CG_REQUESTS" / "$WORK/pipeline.yaml" "$WORK/server-cg.yaml"
        CG_IRS[$w]=$CG_IR
    done
    echo
    echo "callgrind: instructions per request, $CG_REQUESTS requests over one keep-alive connection (so on one worker), --no-master"
    echo
    echo "| --workers | Ir/request |"
    echo "|---|---|"
    for w in 1 2; do echo "| $w | ${CG_IRS[$w]} |"; done
    bench_result "worker scaling: instructions per request" "ours --workers 1" - - - - "${CG_IRS[1]}" - "callgrind, one keep-alive connection"
    bench_result "worker scaling: instructions per request" "ours --workers 2" - - - - "${CG_IRS[2]}" - "callgrind, one keep-alive connection (served by one of the two workers)"
fi

if [ -n "${M_SHARE[shared.2]:-}" ]; then
    if [ -n "${CG_IRS[2]:-}" ]; then
        a=${CG_IRS[1]} b=${CG_IRS[2]} what="Ir/request"
    elif [ -n "${M_CPU[cpu0.2]:-}" ]; then
        a=${M_CPU[cpu0.1]} b=${M_CPU[cpu0.2]} what="CPU us/req in cpu0 (disturbed by other load)"
    else
        a="" b=""
    fi
    if [ -n "$a" ]; then
        proj=$(awk -v c1="$a" -v c2="$b" -v s="${M_SHARE[shared.2]}" 'BEGIN {printf "%.2f", 2 * (c1 / c2) * (50 / s)}')
        echo
        echo "Projection for 2 free cores (not a measurement): 2 x ($what, 1 worker / 2 workers: $a / $b)"
        echo "x (50 % / busiest worker's share in shared: ${M_SHARE[shared.2]} %) = ${proj}x the requests/s of --workers 1"
        bench_result "worker scaling: projection for 2 free cores" "ours --workers 2 / --workers 1" - - - - - - \
            "${proj}x = 2 x $what 1 worker / 2 workers ($a / $b) x 50 % / busiest worker's share in shared (${M_SHARE[shared.2]} %); derived, not measured"
    fi
fi
