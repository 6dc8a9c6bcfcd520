#!/usr/bin/env bash
# bench/route_match.sh — the route cache's effect, in-process: builds bench/route_match.c
# against build/libeg.a and prints ns per routing decision for the Ordered router (N
# pathRegexp rules, the worst case for its index) and the RadixTree router (N patterns with
# a regexp parameter and a wildcard), each without and with cacheSize 1024.
#
#   bench/route_match.sh [N_PATHS (1000)] [ITERATIONS (200000)]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
make -s all >/dev/null
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cc -O2 -std=gnu11 -Isrc $(pkg-config --cflags luajit libuv libpcre2-8 yaml-0.1) -o "$OUT/route_match" \
    bench/route_match.c build/libeg.a \
    $(pkg-config --libs luajit libuv libpcre2-8 yaml-0.1 zlib openssl) -lm -lpthread -ldl
"$OUT/route_match" "${1:-1000}" "${2:-200000}"
