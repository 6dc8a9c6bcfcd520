#!/usr/bin/env bash
# bench/run.sh — side-by-side benchmark of the plain proxy path: Easegress-C against nginx
# (and haproxy with --haproxy, Caddy with --caddy), all proxying to the same nginx backend
# that answers "hello\n".
#
#   bench/run.sh [--rounds N] [--duration SECONDS] [--connections N] [--haproxy] [--caddy]
#                [--max-others PERCENT] [--retries N]
#                [--callgrind [--requests N]] [--perf] [--keep]
#
# Placement (2 cores assumed): the proxy under test runs alone on CPU 0; wrk and the backend
# share CPU 1. Each proxy gets a 2 s warm-up, then the proxies are measured alternately,
# --rounds (3) times each; the table shows the medians. CPU time is utime+stime of all the
# proxy's processes (/proc/PID/stat) between the start and the end of a wrk run; RSS is the
# sum of their VmRSS after the last run. Ratios are against nginx.
#
# Other processes on the machine disturb the figures: a round in which they took more than
# --max-others (10) percent of either CPU (from /proc/stat, less the time of the proxy, wrk
# and the backend) is repeated, up to --retries (3) attempts; a round still disturbed after
# that is kept, marked with * and counted in the table's "disturbed" column.
#
# --callgrind  also counts instructions per request: the proxy runs under valgrind's
#              callgrind (ours with --no-master, nginx with master_process off) and a
#              keep-alive client sends --requests requests; an otherwise identical run without
#              them is the baseline that is subtracted.
# --perf       also samples each proxy with `perf record -e cpu-clock -g` (hardware counters
#              may be missing in a VM) during one extra wrk run and prints its 15 hottest
#              functions, then counts system calls per request with `perf trace -s`.
# --haproxy    haproxy 1 thread (nbthread 1), master-worker mode, http-reuse always.
# --caddy      Caddy (GOMAXPROCS=1), reverse_proxy with 64 idle keep-alive connections to the
#              backend, admin endpoint and automatic HTTPS off, bound to 127.0.0.1.
# --keep       keep the work directory (logs, wrk outputs, profiles); it is always kept
#              when a run saw errors.
# EG_SERVER / EGCTL choose other binaries than bin/ (e.g. a build of another commit).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EG_SERVER=${EG_SERVER:-$ROOT/bin/easegress-server}
EGCTL=${EGCTL:-$ROOT/bin/egctl}

ROUNDS=3
DURATION=10
CONNS=50
CG_REQUESTS=20000
DO_CALLGRIND=0
DO_PERF=0
DO_HAPROXY=0
DO_CADDY=0
KEEP=0
MAX_OTHERS=10
RETRIES=3
PROXY_CPU=0
LOAD_CPU=1

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --requests) CG_REQUESTS=$2; shift 2 ;;
    --callgrind) DO_CALLGRIND=1; shift ;;
    --perf) DO_PERF=1; shift ;;
    --haproxy) DO_HAPROXY=1; shift ;;
    --caddy) DO_CADDY=1; shift ;;
    --keep) KEEP=1; shift ;;
    --max-others) MAX_OTHERS=$2; shift 2 ;;
    --retries) RETRIES=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- dependencies
# lib.sh: the package check (make deps bench-deps when a command is missing) and
# bench_result, which feeds bench/all.sh's table; this script has its own process helpers.
NAME=bench
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
needed=(nginx wrk taskset curl python3 pgrep)
[ $DO_HAPROXY = 0 ] || needed+=(haproxy)
[ $DO_CADDY = 0 ] || needed+=(caddy)
[ $DO_CALLGRIND = 0 ] || needed+=(valgrind)
[ $DO_PERF = 0 ] || needed+=(perf)
bench_install "${needed[@]}"
[ -x "$EG_SERVER" ] && [ -x "$EGCTL" ] || die "$EG_SERVER or $EGCTL missing: run 'make all' first"
NGINX=$(command -v nginx)
CPUS=$(nproc)
[ "$CPUS" -ge 2 ] || die "needs at least 2 CPUs (proxy on CPU $PROXY_CPU, load on CPU $LOAD_CPU)"
[ "$CPUS" -eq 2 ] || log "note: $CPUS CPUs; only CPUs $PROXY_CPU and $LOAD_CPU are used"
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------- process bookkeeping
WORK=$(mktemp -d /tmp/eg-bench.XXXXXX)
SAW_ERRORS=0
PIDS=()   # every process this script started, stopped in reverse order

stop_pid() { # PID [SIGNAL]: signal it, wait up to 30 s (valgrind is slow to exit), then KILL
    local pid=$1 sig=${2:-TERM} i
    alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }   # alive: lib.sh (not a zombie)
    kill -"$sig" "$pid" 2>/dev/null || true
    for i in $(seq 300); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        log "pid $pid did not stop on SIG$sig; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

forget_pid() {
    local p keep=()
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

cleanup() {
    local rc=$? i
    trap - EXIT INT TERM
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}"; done
    if [ $KEEP = 1 ] || [ $SAW_ERRORS = 1 ] || [ $rc != 0 ]; then
        log "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- helpers
free_ports() { # N: N TCP ports on 127.0.0.1 that can be bound now (below the ephemeral range)
    python3 - "$1" <<'EOF'
import socket, sys
n, out, port = int(sys.argv[1]), [], 20000
while len(out) < n and port < 32000:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port)); out.append(port)
    except OSError:
        pass
    finally:
        s.close()
    port += 1
print(" ".join(map(str, out)))
EOF
}

wait_port() { # PORT TIMEOUT_S
    local i
    for i in $(seq $(($2 * 10))); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

wait_hello() { # URL TIMEOUT_S: until the URL answers 200 "hello"
    local i
    for i in $(seq $(($2 * 5))); do
        [ "$(curl -s -m 2 "$1" 2>/dev/null || true)" = hello ] && return 0
        sleep 0.2
    done
    return 1
}

cpu_ticks() { # PID...: utime+stime summed, in clock ticks (fields 14, 15 of /proc/PID/stat)
    local pid sum=0 rest
    for pid in "$@"; do
        rest=$(sed 's/^.*) //' "/proc/$pid/stat")      # drops "pid (comm) ", comm may hold spaces
        set -- $rest
        sum=$((sum + ${12} + ${13}))
    done
    echo $sum
}

cpu_stat() { # CPU: "busy idle steal" ticks of one CPU from /proc/stat (busy excludes steal)
    awk -v c="cpu$1" '$1 == c {print $2 + $3 + $4 + $7 + $8, $5 + $6, $9; exit}' /proc/stat
}

rss_kb() { # PID...: VmRSS summed, kB
    local pid sum=0 v
    for pid in "$@"; do
        v=$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status")
        sum=$((sum + ${v:-0}))
    done
    echo $sum
}

to_ms() { # "1.04ms" / "455.00us" / "1.20s" -> milliseconds
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
        else printf "nan" }'
}

median() { # numbers...
    printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {
        if (NR % 2) print a[(NR + 1) / 2]; else printf "%.6g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

proxy_pids() { # MASTER_PID: the master and its children
    echo "$1" $(pgrep -P "$1" | sort -n)
}

# ---------------------------------------------------------------- configurations
read -r P_BACKEND P_NGINX P_OURS P_ADMIN P_HAPROXY P_CG_OURS P_CG_ADMIN P_CG_NGINX P_CADDY <<<"$(free_ports 9)"
[ -n "${P_CADDY:-}" ] || die "could not find free ports"

nginx_common() { # NAME: the parts of an nginx config every instance here shares
    cat <<EOF
pid $WORK/$1.pid;
error_log $WORK/$1.error.log warn;
events { worker_connections 8192; }
EOF
}
nginx_http_common() {
    cat <<EOF
    access_log off;
    client_body_temp_path $WORK/tmp/client_body;
    proxy_temp_path $WORK/tmp/proxy;
    fastcgi_temp_path $WORK/tmp/fastcgi;
    uwsgi_temp_path $WORK/tmp/uwsgi;
    scgi_temp_path $WORK/tmp/scgi;
    keepalive_requests 1000000000;
    keepalive_timeout 75s;
EOF
}
mkdir -p "$WORK/tmp"

cat >"$WORK/backend.conf" <<EOF
worker_processes 1;
daemon off;
$(nginx_common backend)
http {
$(nginx_http_common)
    server {
        listen 127.0.0.1:$P_BACKEND;
        default_type text/plain;
        location / { return 200 "hello\n"; }
    }
}
EOF

nginx_proxy_conf() { # NAME PORT MASTER(on|off)
    cat <<EOF
worker_processes 1;
daemon off;
master_process $3;
$(nginx_common "$1")
http {
$(nginx_http_common)
    upstream backend {
        server 127.0.0.1:$P_BACKEND;
        keepalive 64;
        keepalive_requests 1000000000;
    }
    server {
        listen 127.0.0.1:$2;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
}
nginx_proxy_conf nginx "$P_NGINX" on >"$WORK/nginx.conf"
nginx_proxy_conf nginx-cg "$P_CG_NGINX" off >"$WORK/nginx-cg.conf"

ours_objects() { # PORT
    cat <<EOF
kind: HTTPServer
name: bench-server
port: $1
keepAlive: true
https: false
rules:
  - paths:
    - pathPrefix: /
      backend: bench-pipeline
---
name: bench-pipeline
kind: Pipeline
flow:
  - filter: proxy
filters:
  - name: proxy
    kind: Proxy
    pools:
    - servers:
      - url: http://127.0.0.1:$P_BACKEND
      loadBalance:
        policy: roundRobin
EOF
}
ours_objects "$P_OURS" >"$WORK/ours.yaml"
ours_objects "$P_CG_OURS" >"$WORK/ours-cg.yaml"

cat >"$WORK/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 75s
    timeout server 75s
    http-reuse always
frontend fe
    bind 127.0.0.1:$P_HAPROXY
    default_backend be
backend be
    server b1 127.0.0.1:$P_BACKEND
EOF

# Caddy: the site block without a host name, so that no Host matcher runs (the others do
# not match on Host either); automatic HTTPS and the admin endpoint off; storage and $HOME in
# the work directory. Caddy's reverse_proxy adds X-Forwarded-For/-Proto/-Host (ours adds
# X-Forwarded-Proto; nginx adds none here).
cat >"$WORK/Caddyfile" <<EOF
{
	admin off
	auto_https off
	storage file_system $WORK/caddy/data
}
:$P_CADDY {
	bind 127.0.0.1
	reverse_proxy 127.0.0.1:$P_BACKEND {
		transport http {
			keepalive 75s
			keepalive_idle_conns 64
			keepalive_idle_conns_per_host 64
		}
	}
}
EOF

# ---------------------------------------------------------------- start everything
log "work directory $WORK"
log "backend nginx on 127.0.0.1:$P_BACKEND (CPU $LOAD_CPU)"
taskset -c $LOAD_CPU "$NGINX" -p "$WORK" -c "$WORK/backend.conf" >"$WORK/backend.out" 2>&1 &
BACKEND_MASTER=$!
PIDS+=("$BACKEND_MASTER")
wait_hello "http://127.0.0.1:$P_BACKEND/" 10 || die "backend did not start: $(cat "$WORK/backend.out" "$WORK/backend.error.log" 2>/dev/null)"

log "easegress-server on 127.0.0.1:$P_OURS, admin $P_ADMIN (CPU $PROXY_CPU, --workers 1)"
taskset -c $PROXY_CPU "$EG_SERVER" --data-dir "$WORK/eg-data" --api-addr "127.0.0.1:$P_ADMIN" \
    --workers 1 --disable-access-log >"$WORK/ours.log" 2>&1 &
OURS_MASTER=$!
PIDS+=("$OURS_MASTER")
wait_port "$P_ADMIN" 20 || die "easegress-server did not start: $(tail -20 "$WORK/ours.log")"
"$EGCTL" --server "127.0.0.1:$P_ADMIN" create -f "$WORK/ours.yaml" >>"$WORK/ours.log" 2>&1 \
    || die "egctl create failed: $(tail -20 "$WORK/ours.log")"
wait_hello "http://127.0.0.1:$P_OURS/" 20 || die "ours does not proxy: $(tail -20 "$WORK/ours.log")"
[ -n "$(pgrep -P $OURS_MASTER)" ] || die "no server process under the master $OURS_MASTER"

log "nginx proxy on 127.0.0.1:$P_NGINX (CPU $PROXY_CPU, 1 worker)"
taskset -c $PROXY_CPU "$NGINX" -p "$WORK" -c "$WORK/nginx.conf" >"$WORK/nginx.out" 2>&1 &
NGINX_MASTER=$!
PIDS+=("$NGINX_MASTER")
wait_hello "http://127.0.0.1:$P_NGINX/" 10 || die "nginx proxy did not start: $(cat "$WORK/nginx.out" "$WORK/nginx.error.log" 2>/dev/null)"

NAMES=(ours nginx)
declare -A URL MASTER
URL[ours]="http://127.0.0.1:$P_OURS/"
URL[nginx]="http://127.0.0.1:$P_NGINX/"
MASTER[ours]=$OURS_MASTER
MASTER[nginx]=$NGINX_MASTER

if [ $DO_HAPROXY = 1 ]; then
    log "haproxy on 127.0.0.1:$P_HAPROXY (CPU $PROXY_CPU, 1 thread)"
    # -W: master-worker mode, so the CPU and RSS accounting matches nginx's (master + worker).
    taskset -c $PROXY_CPU haproxy -W -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.out" 2>&1 &
    HAPROXY_MASTER=$!
    PIDS+=("$HAPROXY_MASTER")
    wait_hello "http://127.0.0.1:$P_HAPROXY/" 10 || die "haproxy did not start: $(cat "$WORK/haproxy.out")"
    NAMES+=(haproxy)
    URL[haproxy]="http://127.0.0.1:$P_HAPROXY/"
    MASTER[haproxy]=$HAPROXY_MASTER
fi

if [ $DO_CADDY = 1 ]; then
    log "caddy on 127.0.0.1:$P_CADDY (CPU $PROXY_CPU, GOMAXPROCS=1)"
    mkdir -p "$WORK/caddy"
    taskset -c $PROXY_CPU env GOMAXPROCS=1 HOME="$WORK/caddy" XDG_DATA_HOME="$WORK/caddy" \
        XDG_CONFIG_HOME="$WORK/caddy" caddy run --config "$WORK/Caddyfile" --adapter caddyfile \
        >"$WORK/caddy.out" 2>&1 &
    CADDY_PID=$!
    PIDS+=("$CADDY_PID")
    wait_hello "http://127.0.0.1:$P_CADDY/" 20 || die "caddy did not start: $(tail -20 "$WORK/caddy.out")"
    NAMES+=(caddy)
    URL[caddy]="http://127.0.0.1:$P_CADDY/"
    MASTER[caddy]=$CADDY_PID
fi

# ---------------------------------------------------------------- wrk rounds
WRK=(taskset -c $LOAD_CPU wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency)

declare -A CG_PER=()
declare -A R_DISTURBED R_ENV R_RPS R_P50 R_P99 R_CPU R_UTIL R_RSS R_NON2XX R_SOCK

parse_wrk() { # FILE -> "requests rps p50 p99 non2xx socket_errors"
    local f=$1 req rps p50 p99 non2xx sock
    req=$(awk '/requests in/ {print $1; exit}' "$f")
    rps=$(awk '/^Requests\/sec:/ {print $2; exit}' "$f")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2; exit}' "$f")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2; exit}' "$f")")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF; exit}' "$f")
    sock=$(awk '/Socket errors:/ {gsub(/,/, ""); print $4 + $6 + $8 + $10; exit}' "$f")
    echo "${req:-0} ${rps:-0} $p50 $p99 ${non2xx:-0} ${sock:-0}"
}

tcp_out_segs() { # TCP segments sent on this machine so far (loopback: each is also received once)
    awk '$1 == "Tcp:" && $12 ~ /^[0-9]+$/ {print $12; exit}' /proc/net/snmp
}

self_child_ticks() { # cutime+cstime of this shell: the CPU time of the children it has waited for
    local rest
    rest=$(sed 's/^.*) //' "/proc/$$/stat")
    set -- $rest
    echo $((${14} + ${15}))
}

measure_one() { # NAME TAG: one wrk run against NAME; sets the W_* variables
    local name=$1 tag=$2 pids bpids t0 t1 b0 b1 c0 c1 s0 s1 l0 l1 g0 g1
    pids=$(proxy_pids "${MASTER[$name]}")
    bpids=$(proxy_pids "$BACKEND_MASTER")
    W_OUT="$WORK/wrk.$name.$tag.txt"
    s0=$(cpu_stat $PROXY_CPU)
    l0=$(cpu_stat $LOAD_CPU)
    b0=$(cpu_ticks $bpids)
    c0=$(self_child_ticks)
    g0=$(tcp_out_segs)
    t0=$(cpu_ticks $pids)
    "${WRK[@]}" "${URL[$name]}" >"$W_OUT" 2>&1 || { cat "$W_OUT" >&2; die "wrk failed against $name"; }
    t1=$(cpu_ticks $pids)
    g1=$(tcp_out_segs)
    c1=$(self_child_ticks)
    b1=$(cpu_ticks $bpids)
    s1=$(cpu_stat $PROXY_CPU)
    l1=$(cpu_stat $LOAD_CPU)
    read -r W_REQ W_RPS W_P50 W_P99 W_NON2XX W_SOCK <<<"$(parse_wrk "$W_OUT")"
    [ "$W_REQ" -gt 0 ] || { cat "$W_OUT" >&2; die "no requests completed against $name"; }
    W_CPU=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$W_REQ" 'BEGIN {printf "%.2f", t * 1e6 / hz / n}')
    W_UTIL=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v d="$DURATION" 'BEGIN {printf "%.0f", 100 * t / hz / d}')
    W_RSS=$(rss_kb $pids)
    W_SEGS=$(awk -v g=$((g1 - g0)) -v n="$W_REQ" 'BEGIN {printf "%.2f", g / n}')
    # What else ran: on the proxy's CPU, busy time not taken by the proxy; on the load CPU,
    # busy time not taken by wrk and the backend (steal counts as taken by others).
    read -r W_OTHERS0 W_OTHERS1 W_ENV <<<"$(echo "$s0 $s1 $l0 $l1" | awk -v p=$((t1 - t0)) -v q=$((c1 - c0 + b1 - b0)) \
        -v pc=$PROXY_CPU -v lc=$LOAD_CPU '{
        t0 = ($4 + $5 + $6) - ($1 + $2 + $3); t1 = ($10 + $11 + $12) - ($7 + $8 + $9)
        if (t0 <= 0) t0 = 1; if (t1 <= 0) t1 = 1
        o0 = ($4 - $1 + $6 - $3 - p) * 100 / t0; if (o0 < 0) o0 = 0
        o1 = ($10 - $7 + $12 - $9 - q) * 100 / t1; if (o1 < 0) o1 = 0
        printf "%.0f %.0f cpu%s[others %.0f%% idle %.0f%%]/cpu%s[others %.0f%% idle %.0f%%]",
            o0, o1, pc, o0, ($5 - $2) * 100 / t0, lc, o1, ($11 - $8) * 100 / t1 }')"
}

run_one() { # NAME ROUND: one accepted round against NAME (repeated while others disturbed it)
    local name=$1 round=$2 try mark=""
    for try in $(seq "$RETRIES"); do
        measure_one "$name" "$round.$try"
        [ "$W_OTHERS0" -gt "$MAX_OTHERS" ] || [ "$W_OTHERS1" -gt "$MAX_OTHERS" ] || break
        if [ "$try" -lt "$RETRIES" ]; then
            log "$name round $round: other processes took ${W_OTHERS0}%/${W_OTHERS1}% of CPU $PROXY_CPU/$LOAD_CPU; repeating it"
        else
            mark="*"
            R_DISTURBED[$name]=$((${R_DISTURBED[$name]:-0} + 1))
        fi
    done
    R_RPS[$name]+="$W_RPS "
    R_P50[$name]+="$W_P50 "
    R_P99[$name]+="$W_P99 "
    R_CPU[$name]+="$W_CPU "
    R_UTIL[$name]+="$W_UTIL "
    R_ENV[$name]+="$W_ENV$mark "
    R_NON2XX[$name]=$((${R_NON2XX[$name]:-0} + W_NON2XX))
    R_SOCK[$name]=$((${R_SOCK[$name]:-0} + W_SOCK))
    R_RSS[$name]=$W_RSS
    if [ "$W_NON2XX" != 0 ] || [ "$W_SOCK" != 0 ]; then
        SAW_ERRORS=1
        log "$name round $round: $W_NON2XX non-2xx/3xx responses, $W_SOCK socket errors (see $W_OUT)"
    fi
    log "$(printf '%-8s round %d: %9.0f req/s  p50 %.3f ms  p99 %.3f ms  %6s CPU us/req  %s TCP segments/req  others %s%%/%s%%%s' \
        "$name" "$round" "$W_RPS" "$W_P50" "$W_P99" "$W_CPU" "$W_SEGS" "$W_OTHERS0" "$W_OTHERS1" "$mark")"
}

# Other load on the machine disturbs everything below: measure it for a second and say so.
busy_pct() { # CPU: percent of the last second CPU was busy (steal counted as busy)
    local a b
    a=$(cpu_stat "$1"); sleep 1; b=$(cpu_stat "$1")
    echo "$a $b" | awk '{t = ($4 + $5 + $6) - ($1 + $2 + $3); if (t <= 0) t = 1
        printf "%.0f", (($4 - $1) + ($6 - $3)) * 100 / t}'
}
B0=$(busy_pct $PROXY_CPU)
B1=$(busy_pct $LOAD_CPU)
IDLE_BUSY="cpu$PROXY_CPU ${B0}% busy, cpu$LOAD_CPU ${B1}% busy"
log "before the runs, with everything idle: $IDLE_BUSY"
if [ "$B0" -gt 10 ] || [ "$B1" -gt 10 ]; then
    log "WARNING: other processes are using the CPUs; the figures will be disturbed (see 'others' below)"
fi

log "direct backend reference run (${DURATION}s)"
"${WRK[@]}" "http://127.0.0.1:$P_BACKEND/" >"$WORK/wrk.direct.txt" 2>&1
read -r D_REQ D_RPS D_P50 D_P99 D_NON2XX D_SOCK <<<"$(parse_wrk "$WORK/wrk.direct.txt")"

for name in "${NAMES[@]}"; do
    log "warm-up $name (2s)"
    taskset -c $LOAD_CPU wrk -t1 -c"$CONNS" -d2s "${URL[$name]}" >"$WORK/wrk.$name.warmup.txt" 2>&1
done
for round in $(seq "$ROUNDS"); do
    for name in "${NAMES[@]}"; do run_one "$name" "$round"; done
done

# ---------------------------------------------------------------- table
declare -A M_RPS M_P50 M_P99 M_CPU M_UTIL B_CPU
for name in "${NAMES[@]}"; do
    M_RPS[$name]=$(median ${R_RPS[$name]})
    M_P50[$name]=$(median ${R_P50[$name]})
    M_P99[$name]=$(median ${R_P99[$name]})
    M_CPU[$name]=$(median ${R_CPU[$name]})
    B_CPU[$name]=$(printf '%s\n' ${R_CPU[$name]} | sort -g | head -1)
    M_UTIL[$name]=$(median ${R_UTIL[$name]})
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "-" }'; }

echo
echo "Proxy path: wrk -t1 -c$CONNS -d${DURATION}s --latency, medians of $ROUNDS rounds (best: the lowest round); ratio = x/nginx"
echo "(proxy alone on CPU $PROXY_CPU; wrk + backend nginx on CPU $LOAD_CPU; $(date -u +%Y-%m-%dT%H:%MZ);"
echo " $("$EG_SERVER" --version 2>&1 | head -1); $("$NGINX" -v 2>&1); machine before the runs: $IDLE_BUSY)"
echo
echo "| name | req/s | p50 ms | p99 ms | CPU us/req | best CPU us/req | proxy CPU % | RSS MB | non-2xx | socket errors | disturbed |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for name in "${NAMES[@]}"; do
    n=nginx
    printf '| %s | %.0f (%s) | %.3f (%s) | %.3f (%s) | %.2f (%s) | %.2f (%s) | %s | %.1f (%s) | %s | %s | %s/%s |\n' \
        "$name" \
        "${M_RPS[$name]}" "$(ratio "${M_RPS[$name]}" "${M_RPS[$n]}")" \
        "${M_P50[$name]}" "$(ratio "${M_P50[$name]}" "${M_P50[$n]}")" \
        "${M_P99[$name]}" "$(ratio "${M_P99[$name]}" "${M_P99[$n]}")" \
        "${M_CPU[$name]}" "$(ratio "${M_CPU[$name]}" "${M_CPU[$n]}")" \
        "${B_CPU[$name]}" "$(ratio "${B_CPU[$name]}" "${B_CPU[$n]}")" \
        "${M_UTIL[$name]}" \
        "$(awk -v k="${R_RSS[$name]}" 'BEGIN {print k / 1024}')" "$(ratio "${R_RSS[$name]}" "${R_RSS[$n]}")" \
        "${R_NON2XX[$name]}" "${R_SOCK[$name]}" "${R_DISTURBED[$name]:-0}" "$ROUNDS"
done
printf '| backend direct (no proxy) | %.0f | %.3f | %.3f | - | - | - | - | %s | %s | - |\n' \
    "$D_RPS" "$D_P50" "$D_P99" "$D_NON2XX" "$D_SOCK"
echo
echo "Per round (req/s | p50 ms | p99 ms | CPU us/req | CPU %):"
for name in "${NAMES[@]}"; do
    echo "  $name: ${R_RPS[$name]}| ${R_P50[$name]}| ${R_P99[$name]}| ${R_CPU[$name]}| ${R_UTIL[$name]}"
done
echo "Other load during each round (others: busy time not taken by the proxy on CPU $PROXY_CPU, by wrk + backend on CPU $LOAD_CPU; * = still above ${MAX_OTHERS}% after $RETRIES attempts):"
for name in "${NAMES[@]}"; do
    echo "  $name: ${R_ENV[$name]}"
done
echo "RSS = VmRSS summed over the proxy's processes (ours: master + server; nginx and haproxy: master + worker; caddy: its one process) after the last round."

# ---------------------------------------------------------------- perf (optional)
perf_window() { # NAME TAG CMD...: runs CMD (a perf command) on the load CPU for DURATION+1 s
    #                 while wrk loads NAME for DURATION s; echoes the number of wrk requests
    local name=$1 tag=$2; shift 2
    taskset -c $LOAD_CPU "$@" -- sleep $((DURATION + 1)) >"$WORK/perf.$name.$tag.out" 2>&1 &
    local perf_pid=$!
    PIDS+=("$perf_pid")
    sleep 0.5
    "${WRK[@]}" "${URL[$name]}" >"$WORK/wrk.$name.$tag.txt" 2>&1
    wait $perf_pid || true
    forget_pid $perf_pid
    awk '/requests in/ {print $1; exit}' "$WORK/wrk.$name.$tag.txt"
}

perf_profile() { # NAME PID...
    local name=$1; shift
    local pidlist req
    pidlist=$(echo "$@" | tr ' ' ',')
    req=$(perf_window "$name" record perf record -q -e cpu-clock -F 2000 -g -p "$pidlist" -o "$WORK/perf.$name.data")
    echo
    echo "perf: $name, top 15 functions by self time (cpu-clock samples; $(awk '/^Requests\/sec:/{print $2}' "$WORK/wrk.$name.record.txt") req/s while sampled):"
    perf report -i "$WORK/perf.$name.data" --stdio --no-children --sort dso,symbol -g none 2>/dev/null \
        | grep -v -e '^#' -e '^$' | sed 's/ *- *- *$//' >"$WORK/perf.$name.top.txt" || true
    head -15 "$WORK/perf.$name.top.txt"
    perf report -i "$WORK/perf.$name.data" --stdio --no-children --sort dso -g none 2>/dev/null \
        | grep -v -e '^#' -e '^$' | sed 's/ *- *- *$//' >"$WORK/perf.$name.dso.txt" || true
    echo "  by object: $(head -6 "$WORK/perf.$name.dso.txt" | awk '{printf "%s %s  ", $2, $1}')"
    # System calls per request (perf trace -s slows the proxy down; only the ratios are used).
    req=$(perf_window "$name" trace perf trace -s -p "$pidlist")
    awk -v n="$req" '$1 ~ /^[a-z_0-9]+$/ && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ {c[$1] += $2; t += $2}
        END { for (k in c) printf "%s %.3f\n", k, c[k] / n; printf "TOTAL %.3f\n", t / n }' \
        "$WORK/perf.$name.trace.out" | sort -k2 -g -r >"$WORK/syscalls.$name.txt"
}

if [ $DO_PERF = 1 ]; then
    for name in "${NAMES[@]}"; do
        perf_profile "$name" $(pgrep -P "${MASTER[$name]}" || echo "${MASTER[$name]}")  # caddy: one process
    done
    echo
    echo "System calls per request (perf trace -s over a wrk run, all threads of the serving processes; those under 0.01 left out):"
    echo
    printf '| syscall |'; printf ' %s |' "${NAMES[@]}"; echo
    printf '|---|'; printf -- '---|%.0s' "${NAMES[@]}"; echo
    for sc in $(for name in "${NAMES[@]}"; do cat "$WORK/syscalls.$name.txt"; done \
        | awk '{s[$1] += $2} END {for (k in s) print s[k], k}' | sort -g -r | awk '$1 >= 0.01 {print $2}'); do
        printf '| %s |' "$sc"
        for name in "${NAMES[@]}"; do
            printf ' %s |' "$(awk -v k="$sc" '$1 == k {v = $2} END {print (v == "" ? "0" : v)}' "$WORK/syscalls.$name.txt")"
        done
        echo
    done
fi

# ---------------------------------------------------------------- callgrind (optional)
# Our proxied endpoints are stopped first so that the callgrind runs have the machine.
if [ $DO_CALLGRIND = 1 ]; then
    for name in "${NAMES[@]}"; do stop_pid "${MASTER[$name]}"; forget_pid "${MASTER[$name]}"; done

    cat >"$WORK/client.py" <<'EOF'
# Sends N GET requests over one keep-alive connection; fails on anything but 200 "hello\n".
import http.client, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
bad = 0
for _ in range(n):
    c.request("GET", "/")
    r = c.getresponse()
    body = r.read()
    if r.status != 200 or body != b"hello\n":
        bad += 1
        if bad <= 3:
            print("unexpected response: %d %r" % (r.status, body[:200]), file=sys.stderr)
c.close()
sys.exit(1 if bad else 0)
EOF

    cg_total() { # callgrind out file -> total Ir
        awk '/^(summary|totals):/ {print $2; exit}' "$1"
    }

    cg_run() { # NAME TAG REQUESTS: sets CG_RESULT to the total Ir (not in a subshell, so
        #                         that the trap still knows the valgrind process)
        local name=$1 tag=$2 n=$3 pid port out="$WORK/callgrind.$1.$2.out"
        case $name in
        ours)
            rm -rf "$WORK/cg-data"
            valgrind --tool=callgrind --callgrind-out-file="$out" \
                "$EG_SERVER" --no-master --workers 1 --data-dir "$WORK/cg-data" \
                --api-addr "127.0.0.1:$P_CG_ADMIN" --disable-access-log \
                >"$WORK/callgrind.$name.$tag.log" 2>&1 &
            pid=$!
            PIDS+=("$pid")
            wait_port "$P_CG_ADMIN" 120 || die "ours did not start under valgrind"
            "$EGCTL" --server "127.0.0.1:$P_CG_ADMIN" create -f "$WORK/ours-cg.yaml" \
                >>"$WORK/callgrind.$name.$tag.log" 2>&1 || die "egctl create failed under valgrind"
            wait_hello "http://127.0.0.1:$P_CG_OURS/" 120 || die "ours under valgrind does not proxy"
            port=$P_CG_OURS
            ;;
        nginx)
            valgrind --tool=callgrind --callgrind-out-file="$out" \
                "$NGINX" -p "$WORK" -c "$WORK/nginx-cg.conf" >"$WORK/callgrind.$name.$tag.log" 2>&1 &
            pid=$!
            PIDS+=("$pid")
            wait_hello "http://127.0.0.1:$P_CG_NGINX/" 120 || die "nginx under valgrind does not proxy"
            port=$P_CG_NGINX
            ;;
        esac
        if [ "$n" -gt 0 ]; then
            python3 "$WORK/client.py" "$port" "$n" || { SAW_ERRORS=1; log "$name under callgrind: bad responses"; }
        fi
        stop_valgrind $pid $port   # lib.sh: SIGTERM, and a connection now and then to deliver it
        forget_pid $pid
        [ -s "$out" ] || die "no callgrind output for $name ($tag)"
        CG_RESULT=$(cg_total "$out")
    }

    declare -A CG_PER CG_TOT CG_BASE
    for name in ours nginx; do
        log "callgrind $name: baseline run"
        cg_run "$name" base 0
        base=$CG_RESULT
        log "callgrind $name: $CG_REQUESTS requests"
        cg_run "$name" run "$CG_REQUESTS"
        total=$CG_RESULT
        CG_PER[$name]=$(awk -v t="$total" -v b="$base" -v n="$CG_REQUESTS" 'BEGIN {printf "%.0f", (t - b) / n}')
        CG_TOT[$name]=$total
        CG_BASE[$name]=$base
    done
    echo
    echo "callgrind: instructions per request, $CG_REQUESTS requests over one keep-alive connection"
    echo
    echo "| name | Ir total | Ir baseline (no requests) | Ir/request | ratio |"
    echo "|---|---|---|---|---|"
    for name in ours nginx; do
        printf '| %s | %s | %s | %s | %s |\n' "$name" "${CG_TOT[$name]}" "${CG_BASE[$name]}" \
            "${CG_PER[$name]}" "$(ratio "${CG_PER[$name]}" "${CG_PER[nginx]}")"
    done
    echo
    for name in ours nginx; do
        echo "$name: where a request's instructions go (self Ir per request, the $CG_REQUESTS-request run minus the baseline; bench/cg_diff.py):"
        echo
        python3 "$(dirname "${BASH_SOURCE[0]}")/cg_diff.py" "$WORK/callgrind.$name.base.out" "$WORK/callgrind.$name.run.out" "$CG_REQUESTS" 20 || true
        echo
    done
    KEEP=1
fi

# ---------------------------------------------------------------- results for bench/all.sh
for name in "${NAMES[@]}"; do
    label=$name
    [ "$name" = haproxy ] && label="haproxy (nbthread 1)"
    [ "$name" = caddy ] && label="caddy (GOMAXPROCS=1)"
    bench_result "plain proxy" "$label" "$(printf %.0f "${M_RPS[$name]}")" "${M_P50[$name]}" "${M_P99[$name]}" \
        "${M_CPU[$name]}" "${CG_PER[$name]:--}" "$(mb "${R_RSS[$name]}")" \
        "best round ${B_CPU[$name]} us/req; ${R_DISTURBED[$name]:-0}/$ROUNDS rounds disturbed"
done
