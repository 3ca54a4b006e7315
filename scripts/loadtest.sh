#!/usr/bin/env bash
# Load test: requests/s of examples/basic on loopback, for a protected route
# with a session (/dashboard) against the public route that serves the same
# JSON (/whoami), measured with wrk in alternating rounds (the median of each
# is kept, since a shared machine drifts), printed as ratios.
#
# The public route is measured twice: with no cookie, and with an unrelated
# cookie as long as the session cookie. The second makes the requests the
# same size, so its ratio is the cost of the session check alone; a bigger
# request costs the HTTP server (and wrk) more whatever the middleware does.
#
#   scripts/loadtest.sh [seconds per run, default 5] [rounds, default 5]
#
# Needs wrk (apt-get install wrk), curl and python3. Traffic goes to
# 127.0.0.1 only, and every run stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-5}"
rounds="${2:-5}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/basic" ./examples/basic
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
# Server and load generator on separate cores when possible, so that they do
# not take CPU from each other unevenly between runs.
pin_server=() pin_wrk=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_server=(taskset -c 0 env GOMAXPROCS=1) pin_wrk=(taskset -c 1)
fi
ADDR="127.0.0.1:$port" AUTH_SECRET="loadtest-secret-0123456789abcdef" "${pin_server[@]}" "$work/basic" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 50); do curl -fs "$base/" >/dev/null 2>&1 && break; sleep 0.1; done

curl -fs -o /dev/null -c "$work/jar" -d username=alice -d password=alice "$base/login"
cookie=$(awk '$6 ~ /session-token/ {printf "%s%s=%s", sep, $6, $7; sep="; "}' "$work/jar")
[ -n "$cookie" ] || { echo "sign-in failed" >&2; exit 1; }
[ "$(curl -fs -H "Cookie: $cookie" "$base/dashboard")" = '{"x-user-id":"alice","x-user-role":"admin"}' ] ||
  { echo "the session does not reach /dashboard" >&2; exit 1; }

rps() { "${pin_wrk[@]}" wrk -t1 -c32 -d"${duration}s" "$@" | awk '/^Requests\/sec/ {print $2}'; }
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
"${pin_wrk[@]}" wrk -t1 -c32 -d2s -H "Cookie: $cookie" "$base/dashboard" >/dev/null # warm up
filler="other=$(python3 -c "print('x' * (len('$cookie') - 6))")"
for _ in $(seq "$rounds"); do
  rps "$base/whoami" >>"$work/public"
  rps -H "Cookie: $filler" "$base/whoami" >>"$work/public-sized"
  rps -H "Cookie: $cookie" "$base/dashboard" >>"$work/protected"
done
public=$(median <"$work/public")
sized=$(median <"$work/public-sized")
protected=$(median <"$work/protected")
awk -v pub="$public" -v sized="$sized" -v prot="$protected" -v n="$rounds" -v d="$duration" 'BEGIN {
  printf "wrk (median of %d × %ss): protected /dashboard with session %.0f req/s; public /whoami %.0f req/s with a same-size cookie (ratio %.1f%%), %.0f req/s with none (ratio %.1f%%)\n", n, d, prot, sized, 100*prot/sized, pub, 100*prot/pub }'
