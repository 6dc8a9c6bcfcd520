# shellcheck shell=bash
# bench/lib.sh — what the bench scripts share: a work directory and the processes started in
# it, stopped in reverse order on any exit; free ports; waiting; /proc readings.
#
# Source it after setting NAME (for log lines) and KEEP (1: keep the work directory), then
# call bench_start. Add each started pid to PIDS.

PY=/usr/bin/python3

log() { printf '[%s] %s\n' "$NAME" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$NAME" "$*" >&2; exit 1; }

# The packages are listed once, in the Makefile (DEB_PACKAGES, BENCH_PACKAGES): when a command
# a script needs is missing, `make deps bench-deps` installs both lists. Then insist on a
# built gateway.
bench_install() { # COMMAND...: install the Makefile's packages if one of them is missing
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 && continue
        [ "$(id -u)" = 0 ] || die "$c is missing; run 'make deps bench-deps' as root"
        log "$c is missing: make deps bench-deps"
        make -s -C "$(dirname "${BASH_SOURCE[0]}")/.." deps bench-deps >&2 || die "make deps bench-deps failed"
        return 0
    done
}
bench_require() {
    bench_install nginx wrk curl taskset pgrep "$@"
    [ -x "$EG_SERVER" ] && [ -x "$EGCTL" ] || die "run 'make all' first"
}

# One line per measured figure set, for bench/all.sh's combined table: appended to
# $BENCH_RESULTS when it is set (tab-separated; "-" where a figure does not apply).
#   bench_result CASE PEER REQ/S P50_MS P99_MS CPU_US/REQ IR/REQ RSS_MB NOTE
bench_result() {
    [ -n "${BENCH_RESULTS:-}" ] || return 0
    local IFS=$'\t'
    echo "$*" >>"$BENCH_RESULTS"
}

# alive PID: the process exists and has not exited (an exited child stays a zombie until it is
# waited for, and kill -0 still succeeds on a zombie)
alive() { [ -r "/proc/$1/stat" ] && [ "$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]; }

stop_pid() {
    local pid=$1 i
    alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
    kill "$pid" 2>/dev/null || true
    # up to 30 s: a server under valgrind takes a while to write its profile and exit
    for i in $(seq 300); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
        log "pid $pid did not stop on SIGTERM in 30 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
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

# The plain-proxy Pipeline `bench-pipeline`: one Proxy to the backend on 127.0.0.1:$BACKEND.
proxy_pipeline_yaml() {
    cat <<EOF
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
}

# nginx answering "hello\n" on 127.0.0.1:$BACKEND (chosen here) with WORKERS worker
# processes, under `taskset -c CPUS` when given; the master's pid is BACKEND_PID (in PIDS).
start_hello_backend() { # WORKERS [CPUS]
    BACKEND=$(port)
    mkdir -p "$WORK/tmp"
    cat >"$WORK/backend.conf" <<EOF
worker_processes $1;
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
    if [ -n "${2:-}" ]; then
        taskset -c "$2" nginx -p "$WORK" -c "$WORK/backend.conf" >"$WORK/backend.out" 2>&1 &
    else
        nginx -p "$WORK" -c "$WORK/backend.conf" >"$WORK/backend.out" 2>&1 &
    fi
    BACKEND_PID=$!
    PIDS+=($BACKEND_PID)
    wait_hello "http://127.0.0.1:$BACKEND/" 10 || die "backend did not start"
}
# utime + stime in clock ticks, summed over the pids
cpu_ticks() { local p s=0; for p in "$@"; do s=$((s + $(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat"))); done; echo $s; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.6g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

forget_pid() {
    local p keep=()
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

# ---------------------------------------------------------------- callgrind
# Instructions per request, deterministically: the server runs under valgrind's callgrind, a
# client sends N GETs over one keep-alive connection, and the total Ir of an identical run with
# no requests (same start-up, same objects, same readiness probe) is subtracted.

# cg_client PORT PATH N [HEADER:VALUE]: N GETs on one connection; fails on anything but
# 200 "hello\n".
cg_client() {
    $PY - "$@" <<'EOF'
import http.client, sys
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
headers = dict([sys.argv[4].split(":", 1)]) if len(sys.argv) > 4 else {}
c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
bad = 0
for _ in range(n):
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    body = r.read()
    if r.status != 200 or body != b"hello\n":
        bad += 1
        if bad <= 3:
            print("unexpected response: %d %r" % (r.status, body[:200]), file=sys.stderr)
c.close()
sys.exit(1 if bad else 0)
EOF
}

cg_total() { awk '/^(summary|totals):/ {print $2; exit}' "$1"; }

# cg_ours TAG N PATH YAML...: easegress-server (--no-master --workers ${CG_WORKERS:-1}) under callgrind, the
# YAML files created in order, N requests on PATH of the HTTPServer whose port is CG_PORT.
# Sets CG_RESULT (total Ir). Not in a subshell, so that the trap knows the valgrind process.
cg_ours() {
    local tag=$1 n=$2 path=$3 out="$WORK/callgrind.$1.out" api pid f
    shift 3
    api=$(port)
    rm -rf "$WORK/cg-data"
    valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$EG_SERVER" --no-master --workers "${CG_WORKERS:-1}" --data-dir "$WORK/cg-data" \
        --api-addr "127.0.0.1:$api" --disable-access-log >"$WORK/callgrind.$tag.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_port "$api" 120 || die "ours did not start under valgrind: $(tail -5 "$WORK/callgrind.$tag.log")"
    for f in "$@"; do
        "$EGCTL" --server "127.0.0.1:$api" create -f "$f" >>"$WORK/callgrind.$tag.log" 2>&1 \
            || die "egctl create $f under valgrind: $(tail -5 "$WORK/callgrind.$tag.log")"
    done
    wait_hello "http://127.0.0.1:$CG_PORT$path" 300 || die "ours under valgrind does not answer $path"
    cg_finish "$tag" "$n" "$path" "$pid" "$out"
}

# cg_nginx TAG N PATH CONF: nginx (master_process off; daemon off in CONF) under callgrind,
# listening on CG_PORT. Sets CG_RESULT.
cg_nginx() {
    local tag=$1 n=$2 path=$3 out="$WORK/callgrind.$1.out" pid
    valgrind --tool=callgrind --callgrind-out-file="$out" \
        nginx -p "$WORK" -c "$4" >"$WORK/callgrind.$tag.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_hello "http://127.0.0.1:$CG_PORT$path" 120 || die "nginx under valgrind does not answer: $(tail -5 "$WORK/callgrind.$tag.log")"
    cg_finish "$tag" "$n" "$path" "$pid" "$out"
}

# stop_valgrind PID PORT: SIGTERM to a server running under valgrind, then stop_pid. A signal
# that arrives under valgrind just before the server blocks in epoll_wait can stay pending
# until the next event (seen with nginx, with and without lua: it then sat out the 30 s and
# was killed without writing its profile), so a connection to PORT every 2 s wakes its loop.
stop_valgrind() {
    local i
    kill "$1" 2>/dev/null || true
    for i in $(seq 150); do
        alive "$1" || break
        [ $((i % 20)) != 0 ] || (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null || true
        sleep 0.1
    done
    stop_pid "$1"
}

cg_finish() { # TAG N PATH PID OUT
    if [ "$2" -gt 0 ]; then
        cg_client "$CG_PORT" "$3" "$2" || die "$1 under callgrind: bad responses"
    fi
    stop_valgrind "$4" "$CG_PORT"
    forget_pid "$4"
    [ -s "$5" ] || die "no callgrind output for $1"
    CG_RESULT=$(cg_total "$5")
}

# cg_per_request KIND TAG N PATH ARGS...: the baseline run and the N-request run of cg_KIND
# (ours or nginx, ARGS as they take); sets CG_IR to the instructions per request.
cg_per_request() {
    local kind=$1 tag=$2 n=$3 path=$4 base
    shift 4
    log "callgrind $tag: baseline run"
    "cg_$kind" "$tag.base" 0 "$path" "$@"
    base=$CG_RESULT
    log "callgrind $tag: $n requests"
    "cg_$kind" "$tag.run" "$n" "$path" "$@"
    CG_IR=$(awk -v t="$CG_RESULT" -v b="$base" -v n="$n" 'BEGIN {printf "%.0f", (t - b) / n}')
    log "callgrind $tag: $CG_IR Ir/request"
}
