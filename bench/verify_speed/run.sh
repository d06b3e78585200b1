#!/usr/bin/env bash
# Verify/authz/create throughput of keyledger beside nginx (one worker, fixed 200), same run.
#
#   bash bench/verify_speed/run.sh [BUILD_DIR] [DURATION]
#
# Server and nginx pinned to core 1, wrk to core 0 (-t1 -c64, keep-alive). For each run prints
# req/s, p50, p99 and the server's CPU per request (utime+stime of the whole process over the
# run, divided by the requests wrk completed). Needs wrk, nginx, python3, taskset.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build-v}
dur=${2:-10s}
conns=${CONNS:-64}
port=${PORT:-18080}
work=$(mktemp -d /tmp/kl-bench.XXXXXX)
bin=$build/tools/keyledger
hz=$(getconf CLK_TCK)
# The machine is shared: run everything of the benchmark at a higher priority than builds.
nice=(nice -n "${NICE:--10}")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run NAME PID SCRIPT URL
run() {
  local name=$1 pid=$2 script=$3 url=$4 t0 t1 out
  t0=$(ticks "$pid")
  out=$("${nice[@]}" taskset -c 0 wrk -t1 -c"$conns" -d"$dur" --latency -s "$script" "$url")
  t1=$(ticks "$pid")
  echo "$out" > "$work/$name.wrk"
  python3 - "$name" "$t0" "$t1" "$hz" "$work/$name.wrk" <<'PY'
import re, sys
name, t0, t1, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
out = open(sys.argv[5]).read()
req = int(re.search(r"(\d+) requests in", out).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
def pct(p):
    m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)\b" % p, out)
    v, u = float(m.group(1)), m.group(2)
    return v * {"us": 1e-3, "ms": 1, "s": 1e3}[u]
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
errs = re.search(r"Socket errors: (.*)", out)
cpu_us = (t1 - t0) / hz * 1e6 / max(req, 1)
print(f"{name:8s} {rps:10.0f} req/s  p50 {pct(50):6.2f} ms  p99 {pct(99):6.2f} ms  "
      f"server CPU {cpu_us:5.1f} us/req"
      + (f"  non-2xx {non2xx.group(1)}" if non2xx else "")
      + (f"  socket errors: {errs.group(1)}" if errs else ""))
PY
}

# keyledger
token=$(python3 "$here/token.py" klo)
KEYLEDGER_BOOTSTRAP_TOKEN=$token "${nice[@]}" taskset -c 1 "$bin" serve --data "$work/data" \
  --listen 127.0.0.1:$port --threads 1 2> "$work/server.log" &
kl=$!; pids+=("$kl")
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/readyz >/dev/null && break; sleep 0.1; done
python3 "$here/setup.py" http://127.0.0.1:$port "$token" "$work" "${KEYS:-1000}"
export KL_TOKENS=$work/tokens.txt KL_ADMIN=$work/admin.txt

# nginx
mkdir -p /tmp/kl-bench-nginx
"${nice[@]}" taskset -c 1 nginx -c "$here/nginx.conf" -p /tmp/kl-bench-nginx 2>/dev/null &
ng=$!; pids+=("$ng")
for _ in $(seq 50); do curl -sf http://127.0.0.1:18099/ >/dev/null && break; sleep 0.1; done

for what in ${RUNS:-nginx verify authz nginx create}; do
  case $what in
    nginx)  run nginx "$ng" "$here/verify.lua" http://127.0.0.1:18099 ;;
    verify) run verify "$kl" "$here/verify.lua" http://127.0.0.1:$port ;;
    authz)  run authz "$kl" "$here/authz.lua" http://127.0.0.1:$port ;;
    create) run create "$kl" "$here/create.lua" http://127.0.0.1:$port ;;
  esac
done
if [[ -n ${KEEP:-} ]]; then cp -r "$work" "$KEEP"; fi
