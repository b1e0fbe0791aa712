#!/usr/bin/env bash
# Gateway throughput and latency with wrk, in one run against the seed's
# own deployment: the same JSON echo as a Flask app (gunicorn) behind nginx,
# and as a bare Hummingbird server (bench-echo-server: what the gateway is
# built on, with nothing in front of the echo).
# Paddock: wrk → paddock-gateway → paddockd → the echo tool of a sandboxed
# Python plugin, and of examples/echo-swift. Everything on loopback.
#   Tests/bench/gateway.sh RELEASE_DIR [SECONDS]
set -euo pipefail
bin=$(realpath "$1")
seconds=${2:-8}
root=$(pwd)
work=$(mktemp -d /tmp/paddock-gateway-bench-XXXXXX)
chmod 711 "$work"
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
body='{"text": "the quick brown fox jumps over the lazy dog, a hundred bytes of text to echo back"}'

# --- the seed's deployment: Flask under gunicorn, behind nginx -------------
mkdir -p "$work/flask" "$work/nginx"
cat >"$work/flask/app.py" <<'EOF'
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/echo")
def echo():
    return jsonify(request.get_json(force=True))
EOF
gunicorn_port=$(free_port)
nginx_port=$(free_port)
(cd "$work/flask" && exec gunicorn --workers 2 --threads 4 --bind "127.0.0.1:$gunicorn_port" --log-level warning app:app) &
pids+=($!)
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
error_log $work/nginx/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    upstream flask { server 127.0.0.1:$gunicorn_port; keepalive 32; }
    server {
        listen 127.0.0.1:$nginx_port;
        location / {
            proxy_pass http://flask;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
nginx -c "$work/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)

# --- bare Hummingbird: POST /echo answers with the body, default event loops
hummingbird_port=$(free_port)
"$bin/bench-echo-server" "$hummingbird_port" >"$work/bench-echo-server.log" 2>&1 &
pids+=($!)

# --- Paddock: paddockd, the gateway, a Python echo plugin and echo-swift ---
mkdir -p "$work/data" "$work/echo-python"
chmod 711 "$work/data"
cat >"$work/echo-python/manifest.yaml" <<'EOF'
name: echo-python
author: bench
version: "1.0.0"
type: tool
description: echoes its arguments
runner: {language: python, entrypoint: main.py}
resource: {workers: 8}
tools: [{provider: bench, items: [{name: echo, parameters: [{name: text, type: string}]}]}]
EOF
printf 'from paddock_plugin import Plugin\nplugin = Plugin()\n\n@plugin.tool("echo")\ndef echo(params, context):\n    return params\n' >"$work/echo-python/main.py"
chmod -R a+rX "$work/echo-python"
"$bin/paddockd" --data "$work/data" >"$work/paddockd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do "$bin/paddock" list --data "$work/data" >/dev/null 2>&1 && break; sleep 0.1; done
for plugin in "$work/echo-python" "$root/examples/echo-swift"; do "$bin/paddock" install --data "$work/data" "$plugin" >/dev/null; done
"$bin/paddock" activate --data "$work/data" echo-python >/dev/null
"$bin/paddock" activate --data "$work/data" echo-swift >/dev/null
key=$("$bin/paddock" keys create --data "$work/data" --admin 2>/dev/null)
gateway_port=$(free_port)
printf 'rate_limits: {per_key: {rate: 1000000, burst: 1000000}, per_plugin: {rate: 1000000, burst: 1000000}}\n' >"$work/gateway.yaml"
"$bin/paddock-gateway" --supervisor "$work/data/paddockd.sock" --listen "127.0.0.1:$gateway_port" --config "$work/gateway.yaml" >"$work/gateway.log" 2>&1 &
pids+=($!)

for port in $nginx_port $hummingbird_port $gateway_port; do
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done
sleep 1

cat >"$work/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
local shown = 0
function response(status, headers, body)
    if status ~= 200 and shown < 3 then
        shown = shown + 1
        io.stderr:write("non-2xx: " .. status .. " " .. body .. "\n")
    end
end
EOF

# wrk's requests/s, p50 and p99 (in ms) for one URL; non-2xx answers fail the run.
measure() {
	curl -fs -o /dev/null -X POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$body" "$1" ||
		{ echo "bench: $1 does not answer" >&2; exit 1; }
	wrk -t 2 -c 16 -d 2s -s "$work/post.lua" "$1" >/dev/null # warm-up
	wrk -t 2 -c 16 -d "${seconds}s" --latency -s "$work/post.lua" "$1" >"$work/wrk.out"
	if grep -q "Non-2xx" "$work/wrk.out"; then
		cat "$work/wrk.out" >&2
		cat "$work/data/logs/"*.log* | tail -n 30 >&2
		exit 1
	fi
	python3 - "$work/wrk.out" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
def ms(label):
    value, unit = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
print(f"{rps:.0f} {ms('50'):.3f} {ms('99'):.3f}")
EOF
}

read -r flask_rps flask_p50 flask_p99 < <(measure "http://127.0.0.1:$nginx_port/echo")
read -r bare_rps bare_p50 bare_p99 < <(measure "http://127.0.0.1:$hummingbird_port/echo")
read -r python_rps python_p50 python_p99 < <(measure "http://127.0.0.1:$gateway_port/v1/plugins/echo-python/tools/echo")
read -r swift_rps swift_p50 swift_p99 < <(measure "http://127.0.0.1:$gateway_port/v1/plugins/echo-swift/tools/echo")

echo "== gateway: wrk -t2 -c16 -d${seconds}s, a ~100 B JSON echo over loopback, $(nproc) CPUs for everything"
python3 - "$flask_rps" "$flask_p50" "$flask_p99" "$bare_rps" "$bare_p50" "$bare_p99" \
	"$python_rps" "$python_p50" "$python_p99" "$swift_rps" "$swift_p50" "$swift_p99" <<'EOF'
import sys
flask, bare, python, swift = (tuple(map(float, sys.argv[i:i + 3])) for i in range(1, 13, 3))
print("| deployment | req/s | p50 ms | p99 ms | req/s ÷ Flask | req/s ÷ bare Hummingbird | p50 ÷ Flask |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name, (rps, p50, p99) in [
    ("nginx → gunicorn → Flask (the seed's)", flask),
    ("bare Hummingbird (bench-echo-server)", bare),
    ("gateway → paddockd → Python plugin", python),
    ("gateway → paddockd → Swift plugin", swift),
]:
    print(f"| {name} | {rps:.0f} | {p50:.2f} | {p99:.2f} | {rps / flask[0]:.2f} | {rps / bare[0]:.2f} | {p50 / flask[1]:.2f} |")
print("issue 12 targets, req/s ratios:")
print(f"gateway → paddockd → Swift echo ÷ bare Hummingbird = {swift[0] / bare[0]:.2f} (target ≥ 0.5)")
print(f"gateway → paddockd → Swift echo ÷ Flask = {swift[0] / flask[0]:.2f} (target ≥ 2)")
print(f"Python plugin ÷ Flask = {python[0] / flask[0]:.2f} (target ≥ 1.5)")
EOF
