# bench/lib.sh — what the bench scripts share: a work directory and the processes started in
# it, stopped in reverse order on any exit; free ports; waiting; /proc readings.
#
# Source it after setting NAME (for log lines) and KEEP (1: keep the work directory), then
# call bench_start. Add each started pid to PIDS.

PY=/usr/bin/python3

log() { printf '[%s] %s\n' "$NAME" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$NAME" "$*" >&2; exit 1; }

# Install what is missing (nginx, wrk, curl), then insist on a built gateway.
bench_require() {
    local need=()
    command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
    command -v wrk >/dev/null 2>&1 || need+=(wrk)
    command -v curl >/dev/null 2>&1 || need+=(curl)
    if [ ${#need[@]} -gt 0 ]; then
        [ "$(id -u)" = 0 ] || die "missing packages (${need[*]}); install them as root"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    fi
    [ -x "$EG_SERVER" ] && [ -x "$EGCTL" ] || die "run 'make all' first"
}

stop_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null || true
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
    local rc=$? i
    trap - EXIT INT TERM
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}"; done
    if [ "${KEEP:-0}" = 1 ] || [ $rc != 0 ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
    exit $rc
}

bench_start() {
    WORK=$(mktemp -d "/tmp/eg-$NAME.XXXXXX")
    PIDS=()
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { local i; for i in $(seq $(($2 * 10))); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
wait_hello() { local i; for i in $(seq $(($2 * 10))); do [ "$(curl -s -m 2 "$1" 2>/dev/null)" = hello ] && return 0; sleep 0.1; done; return 1; }
# utime + stime in clock ticks, summed over the pids
cpu_ticks() { local p s=0; for p in "$@"; do s=$((s + $(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat"))); done; echo $s; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.6g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
