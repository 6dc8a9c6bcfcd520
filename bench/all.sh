#!/usr/bin/env bash
# bench/all.sh — every benchmark case of issue 4 in one run (what `make bench` runs), then ONE
# combined table. Each case is a script that also runs alone (see its --help):
#
#   plain     bench/run.sh --haproxy --caddy --callgrind   ours, nginx, haproxy, Caddy
#   scripted  bench/scripted.sh --callgrind                 ours vs nginx + lua
#   memory    bench/memory.sh                               idle, 10,000 idle connections, streaming
#   scale     bench/scale.sh                                10,000 routes (callgrind), apply latency
#   workers   bench/workers.sh                              --workers 2 vs 1 (and Ir/request)
#
#   bench/all.sh [--quick] [--cases "plain scripted memory scale workers"] [--out DIR]
#
# --quick  a short run (1 round of 3 s, 2,000 callgrind requests, 2,000 idle connections,
#          3 applies): checks that everything works, the figures are rough.
# --out    keep every script's full output and the results there (default: a new
#          /tmp/eg-bench-all.XXXXXX, printed at the end).
#
# Within each case the peers and ours take turns (rounds alternate); each script starts its
# own backend and peers on free loopback ports and stops every process it started, also on
# Ctrl-C (this script forwards the signal to the running case and waits for its cleanup).
# The table: medians, and each figure as a ratio to the case's reference row (nginx where
# the case has one; otherwise the first row: 1 route, --workers 1). See docs/performance.md.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
QUICK=0 CASES="plain scripted memory scale workers" OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) QUICK=1; shift ;;
    --cases) CASES=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "all.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
if [ -n "$OUT" ]; then mkdir -p "$OUT"; else OUT=$(mktemp -d /tmp/eg-bench-all.XXXXXX); fi
export BENCH_RESULTS="$OUT/results.tsv"
: >"$BENCH_RESULTS"

if [ $QUICK = 1 ]; then
    declare -A ARGS=(
        [plain]="--haproxy --caddy --callgrind --requests 2000 --rounds 1 --duration 3 --retries 1"
        [scripted]="--callgrind --requests 2000 --rounds 1 --duration 3"
        [memory]="--conns 2000 --duration 3"
        [scale]="--requests 2000 --rounds 1 --duration 3 --applies 3"
        [workers]="--rounds 1 --duration 3 --requests 2000")
else
    declare -A ARGS=(
        [plain]="--haproxy --caddy --callgrind --perf"
        [scripted]="--callgrind"
        [memory]=""
        [scale]=""
        [workers]="")
fi
declare -A SCRIPT=([plain]=run.sh [scripted]=scripted.sh [memory]=memory.sh [scale]=scale.sh [workers]=workers.sh)

CHILD=""
on_signal() {
    trap - INT TERM
    if [ -n "$CHILD" ]; then kill -TERM "$CHILD" 2>/dev/null || true; wait "$CHILD" 2>/dev/null || true; fi
    echo "[all] interrupted; outputs in $OUT" >&2
    exit 130
}
trap on_signal INT TERM

FAILED=()
START=$(date -u +%Y-%m-%dT%H:%MZ)
for c in $CASES; do
    [ -n "${SCRIPT[$c]:-}" ] || { echo "[all] unknown case $c" >&2; exit 2; }
    echo "[all] $c: bench/${SCRIPT[$c]} ${ARGS[$c]}" >&2
    t0=$SECONDS
    # shellcheck disable=SC2086  # ARGS are words
    "$BENCH/${SCRIPT[$c]}" ${ARGS[$c]} >"$OUT/$c.txt" 2>"$OUT/$c.log" &
    CHILD=$!
    rc=0
    wait "$CHILD" || rc=$?
    if [ $rc = 0 ]; then
        echo "[all] $c done in $((SECONDS - t0)) s" >&2
    else
        FAILED+=("$c")
        echo "[all] $c FAILED (exit $rc); its log:" >&2
        tail -15 "$OUT/$c.log" >&2
    fi
    CHILD=""
done

echo
echo "# Easegress-C benchmark ($START, $(nproc) CPUs: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo))"
echo "$("$BENCH/../bin/easegress-server" --version 2>&1 | head -1), commit $(git -C "$BENCH/.." rev-parse --short HEAD 2>/dev/null || echo '?')$([ $QUICK = 1 ] && echo '; QUICK run: rough figures')"
echo
/usr/bin/python3 "$BENCH/table.py" "$BENCH_RESULTS"
echo
echo "Full outputs (per-round figures, profiles, other load on the CPUs): $OUT"
if [ ${#FAILED[@]} -gt 0 ]; then
    echo "FAILED cases: ${FAILED[*]} (see $OUT/<case>.log)"
    exit 1
fi
