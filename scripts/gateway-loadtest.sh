#!/usr/bin/env bash
# Load test of the gateway, in one run on loopback, with wrk:
#
#   - requests/s through "edgeauth proxy" (reverse proxy mode, the session
#     checked on a guarded path) against a bare httputil.ReverseProxy with the
#     same settings in front of the same upstream;
#   - requests/s through nginx with auth_request to edgeauth proxy
#     (examples/gateway/nginx.conf) against nginx alone.
#
# Every request carries the same session cookie. Rounds alternate between the
# four setups and the median of each is kept, since a shared machine drifts.
# The servers run on core 0 (one Go thread, one nginx worker), wrk on core 1.
#
#   scripts/gateway-loadtest.sh [seconds per run, default 5] [rounds, default 5]
#
# Needs wrk, nginx, curl and python3 (apt-get install wrk nginx curl python3).
# Traffic goes to 127.0.0.1 only, and every run stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-5}"
rounds="${2:-5}"
for tool in wrk nginx curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx-auth/nginx.pid" ] && kill "$(cat "$work/nginx-auth/nginx.pid")" 2>/dev/null || true
  [ -f "$work/nginx-plain/nginx.pid" ] && kill "$(cat "$work/nginx-plain/nginx.pid")" 2>/dev/null || true
  sleep 0.2
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/edgeauth" ./cmd/edgeauth
go build -o "$work/gatewaybench" ./scripts/gatewaybench
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up=$(port) bare=$(port) gw=$(port) fa=$(port) plain=$(port) auth=$(port)

pin_server=() pin_wrk=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_server=(taskset -c 0) pin_wrk=(taskset -c 1)
fi
export GOMAXPROCS=1 AUTH_SECRET="gateway-loadtest-secret-0123456789"
start() { "${pin_server[@]}" "$@" 2>>"$work/servers.log" & pids+=($!); }
start "$work/gatewaybench" upstream "127.0.0.1:$up"
start "$work/gatewaybench" bare "127.0.0.1:$bare" "http://127.0.0.1:$up"
# The example configuration; flags set the addresses (and no metrics listener
# is shared between the two instances).
config=examples/gateway/forward-auth.yaml
start "$work/edgeauth" proxy --config "$config" --listen "127.0.0.1:$gw" --metrics-listen 127.0.0.1:0 \
  --upstream "http://127.0.0.1:$up" --log-level warn
start "$work/edgeauth" proxy --config "$config" --listen "127.0.0.1:$fa" --metrics-listen 127.0.0.1:0 --log-level warn

# nginx as any user: its own prefix, pid, logs and temp paths.
nginx_start() { # name, http-level configuration
  local dir="$work/$1"
  mkdir -p "$dir"/{body,proxy,fastcgi,uwsgi,scgi}
  chmod 755 "$work" "$dir" && chmod 777 "$dir"/{body,proxy,fastcgi,uwsgi,scgi}
  printf '%s\n' "$2" >"$dir/site.conf"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    include $dir/site.conf;
}
CONF
  "${pin_server[@]}" nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log"
}
site=$(sed -e "s/listen 8080;/listen 127.0.0.1:$auth;/" -e "s/127.0.0.1:4180/127.0.0.1:$fa/" \
  -e "s/127.0.0.1:3000/127.0.0.1:$up/" examples/gateway/nginx.conf)
nginx_start nginx-auth "$site"
nginx_start nginx-plain "upstream app { server 127.0.0.1:$up; keepalive 64; }
server {
    listen 127.0.0.1:$plain;
    large_client_header_buffers 4 32k;
    location / {
        proxy_http_version 1.1;
        proxy_set_header Connection \"\";
        proxy_set_header Host \$host;
        proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        proxy_pass http://app;
    }
}"

cookie=$("$work/gatewaybench" cookie "$AUTH_SECRET")
for p in $up $bare $gw $fa $plain $auth; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$p/" && break; sleep 0.05; done
done
check() { # url, expected body
  local got
  got=$(curl -fs -H "Cookie: $cookie" "$1") || { echo "no answer from $1" >&2; cat "$work/servers.log" >&2; exit 1; }
  [ "$got" = "$2" ] || { echo "$1 answered '$got', want '$2'" >&2; exit 1; }
}
check "http://127.0.0.1:$bare/dashboard" "ok"
check "http://127.0.0.1:$gw/dashboard" "ok alice"
check "http://127.0.0.1:$plain/dashboard" "ok"
check "http://127.0.0.1:$auth/dashboard" "ok alice"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$gw/dashboard")" = 303 ] ||
  { echo "edgeauth proxy let an anonymous request through" >&2; exit 1; }

rps() { "${pin_wrk[@]}" wrk -t1 -c32 -d"${duration}s" -H "Cookie: $cookie" "$1" | awk '/^Requests\/sec/ {print $2}'; }
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
for p in $bare $gw $plain $auth; do "${pin_wrk[@]}" wrk -t1 -c32 -d2s -H "Cookie: $cookie" "http://127.0.0.1:$p/dashboard" >/dev/null; done
for _ in $(seq "$rounds"); do
  rps "http://127.0.0.1:$bare/dashboard" >>"$work/bare"
  rps "http://127.0.0.1:$gw/dashboard" >>"$work/gw"
  rps "http://127.0.0.1:$plain/dashboard" >>"$work/plain"
  rps "http://127.0.0.1:$auth/dashboard" >>"$work/auth"
done
awk -v bare="$(median <"$work/bare")" -v gw="$(median <"$work/gw")" -v plain="$(median <"$work/plain")" \
  -v auth="$(median <"$work/auth")" -v n="$rounds" -v d="$duration" 'BEGIN {
  printf "wrk (median of %d × %ss, 32 connections, session cookie on every request):\n", n, d
  printf "  bare httputil.ReverseProxy %.0f req/s; edgeauth proxy %.0f req/s (%.1f%%)\n", bare, gw, 100*gw/bare
  printf "  nginx alone %.0f req/s; nginx + auth_request to edgeauth proxy %.0f req/s (%.1f%%)\n", plain, auth, 100*auth/plain }'
