#!/usr/bin/env bash
# Starts keyledger pinned to core 1 on a fresh data dir and prepares it (setup.py); prints the PID.
#   bash serve_fresh.sh BIN DIR PORT [N_KEYS]      (tokens in DIR/tokens.txt, admin in DIR/admin.txt)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$1 dir=$2 port=$3 n=${4:-1000}
if [[ -f $dir/pid ]]; then kill "$(cat "$dir/pid")" 2>/dev/null && sleep 1 || true; fi
rm -rf "$dir"; mkdir -p "$dir"
token=$(python3 "$here/token.py" klo)
KEYLEDGER_BOOTSTRAP_TOKEN=$token nohup taskset -c 1 "$bin" serve --data "$dir/data" \
  --listen 127.0.0.1:$port --threads 1 > "$dir/server.log" 2>&1 &
echo $! > "$dir/pid"
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/readyz >/dev/null && break; sleep 0.1; done
python3 "$here/setup.py" http://127.0.0.1:$port "$token" "$dir" "$n"
cat "$dir/pid"
