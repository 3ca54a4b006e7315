#!/usr/bin/env bash
# Load test: requests/s of examples/basic on loopback, measured with wrk in
# interleaved rounds (the median of each is kept, since a shared machine
# drifts), printed as ratios within the run:
#
#   - a protected route with a session (/dashboard) against the public route
#     that serves the same JSON (/whoami), on the memory store. The public
#     route is measured twice: with no cookie, and with an unrelated cookie as
#     long as the session cookie. The second makes the requests the same size,
#     so its ratio is the cost of the session check alone; a bigger request
#     costs the HTTP server (and wrk) more whatever the middleware does.
#   - the protected route on the Redis store with its local cache (REDIS_URL
#     set) against the same route on the memory store: a second example
#     server, on the same core, with the same secret and cookie. Skipped
#     without redis-server.
#
#   scripts/loadtest.sh [seconds per run, default 5] [rounds, default 5]
#
# Needs wrk (apt-get install wrk), curl and python3; redis-server for the
# Redis comparison. Traffic goes to 127.0.0.1 only, and every run stops by
# itself.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-5}"
rounds="${2:-5}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Servers on one core, wrk (and redis-server) on another, when possible, so
# that they do not take CPU from each other unevenly between runs.
pin_server=() pin_load=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_server=(taskset -c 0 env GOMAXPROCS=1) pin_load=(taskset -c 1)
fi

go build -o "$work/basic" ./examples/basic

# start_example NAME [VAR=value…]: serves the example; its base URL is in $base.
start_example() {
  local name=$1 port
  shift
  port=$(free_port)
  env ADDR="127.0.0.1:$port" AUTH_SECRET="loadtest-secret-0123456789abcdef" "$@" \
    "${pin_server[@]}" "$work/basic" >"$work/$name.log" 2>&1 &
  pids+=($!)
  base="http://127.0.0.1:$port"
  for _ in $(seq 50); do curl -fs "$base/" >/dev/null 2>&1 && break; sleep 0.1; done
}

start_example memory
memory=$base
redis=""
if command -v redis-server >/dev/null; then
  redis_port=$(free_port)
  "${pin_load[@]}" redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$work" --daemonize no --logfile "$work/redis.log" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
  start_example redis REDIS_URL="redis://127.0.0.1:$redis_port/0"
  redis=$base
else
  echo "redis-server is not installed: the Redis store is not measured" >&2
fi

curl -fs -o /dev/null -c "$work/jar" -d username=alice -d password=alice "$memory/login"
cookie=$(awk '$6 ~ /session-token/ {printf "%s%s=%s", sep, $6, $7; sep="; "}' "$work/jar")
[ -n "$cookie" ] || { echo "sign-in failed" >&2; exit 1; }
for base in "$memory" $redis; do
  [ "$(curl -fs -H "Cookie: $cookie" "$base/dashboard")" = '{"x-user-id":"alice","x-user-role":"admin"}' ] ||
    { echo "the session does not reach $base/dashboard" >&2; exit 1; }
done

rps() { "${pin_load[@]}" wrk -t1 -c32 -d"${duration}s" "$@" | awk '/^Requests\/sec/ {print $2}'; }
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
for base in "$memory" $redis; do
  "${pin_load[@]}" wrk -t1 -c32 -d2s -H "Cookie: $cookie" "$base/dashboard" >/dev/null # warm up
done
filler="other=$(python3 -c "print('x' * (len('$cookie') - 6))")"
for round in $(seq "$rounds"); do
  rps "$memory/whoami" >>"$work/public"
  rps -H "Cookie: $filler" "$memory/whoami" >>"$work/public-sized"
  # Alternate which server goes first: a shared machine's load drifts within
  # a round, and the first and second run of a pair differ even for one server.
  if [ -z "$redis" ] || [ $((round % 2)) -eq 1 ]; then
    m=$(rps -H "Cookie: $cookie" "$memory/dashboard")
    [ -n "$redis" ] && r=$(rps -H "Cookie: $cookie" "$redis/dashboard")
  else
    r=$(rps -H "Cookie: $cookie" "$redis/dashboard")
    m=$(rps -H "Cookie: $cookie" "$memory/dashboard")
  fi
  echo "$m" >>"$work/protected"
  if [ -n "$redis" ]; then
    echo "$r" >>"$work/protected-redis"
    awk -v r="$r" -v m="$m" 'BEGIN {print r/m}' >>"$work/redis-ratio"
  fi
done
public=$(median <"$work/public")
sized=$(median <"$work/public-sized")
protected=$(median <"$work/protected")
awk -v pub="$public" -v sized="$sized" -v prot="$protected" -v n="$rounds" -v d="$duration" 'BEGIN {
  printf "wrk (median of %d × %ss): protected /dashboard with session %.0f req/s; public /whoami %.0f req/s with a same-size cookie (ratio %.1f%%), %.0f req/s with none (ratio %.1f%%)\n", n, d, prot, sized, 100*prot/sized, pub, 100*prot/pub }'
if [ -n "$redis" ]; then
  redis_rps=$(median <"$work/protected-redis")
  ratio=$(median <"$work/redis-ratio")
  awk -v red="$redis_rps" -v prot="$protected" -v ratio="$ratio" -v n="$rounds" -v d="$duration" 'BEGIN {
    printf "wrk (median of %d × %ss): protected /dashboard on the Redis store with its local cache %.0f req/s, on the memory store %.0f req/s (ratio %.1f%%; median of the rounds'"'"' ratios %.1f%%)\n", n, d, red, prot, 100*red/prot, 100*ratio }'
  # Every warm request must have been served without Redis: the scripts ran
  # only for the first requests and the sign-in check.
  scripts=$(redis-cli -p "$redis_port" info commandstats | awk -F'[=,:]' '/^cmdstat_eval/ {n += $3} END {print n+0}')
  echo "redis ran $scripts scripts in all"
fi
