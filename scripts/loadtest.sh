#!/usr/bin/env bash
# Load test: requests/s of examples/basic on loopback, for a protected route
# with a session (/dashboard) against the public route that serves the same
# JSON (/whoami), measured with wrk in alternating rounds (the median of each
# is kept, since a shared machine drifts), printed as a ratio.
#
#   scripts/loadtest.sh [seconds per run, default 5] [rounds, default 5]
#
# Needs wrk (apt-get install wrk) and curl. Traffic goes to 127.0.0.1 only,
# and every run stops by itself.
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
ADDR="127.0.0.1:$port" AUTH_SECRET="loadtest-secret-0123456789abcdef" "$work/basic" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 50); do curl -fs "$base/" >/dev/null 2>&1 && break; sleep 0.1; done

curl -fs -o /dev/null -c "$work/jar" -d username=alice -d password=alice "$base/login"
cookie=$(awk '$6 ~ /session-token/ {printf "%s%s=%s", sep, $6, $7; sep="; "}' "$work/jar")
[ -n "$cookie" ] || { echo "sign-in failed" >&2; exit 1; }
[ "$(curl -fs -H "Cookie: $cookie" "$base/dashboard")" = '{"x-user-id":"alice","x-user-role":"admin"}' ] ||
  { echo "the session does not reach /dashboard" >&2; exit 1; }

rps() { wrk -t2 -c32 -d"${duration}s" "$@" | awk '/^Requests\/sec/ {print $2}'; }
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
wrk -t2 -c32 -d2s -H "Cookie: $cookie" "$base/dashboard" >/dev/null # warm up
for _ in $(seq "$rounds"); do
  rps "$base/whoami" >>"$work/public"
  rps -H "Cookie: $cookie" "$base/dashboard" >>"$work/protected"
done
public=$(median <"$work/public")
protected=$(median <"$work/protected")
awk -v pub="$public" -v prot="$protected" -v n="$rounds" -v d="$duration" 'BEGIN {
  printf "wrk (median of %d × %ss): protected /dashboard with session %.0f req/s; public /whoami %.0f req/s; ratio %.1f%%\n", n, d, prot, pub, 100*prot/pub }'
