# HTTP benchmarks (sourced by bench/run): lifecycle writes, verify and authz, and their references
# (a plain RocksDB synced-write loop; nginx answering a fixed 200). One http_run is one run of all
# of them: a fresh server on an empty data directory, its creations taking turns with the RocksDB
# loop, its verify loads, then nginx; the references on the same cores.
#
# Pinning: the server (every thread of it) and each reference on CPU $SERVER_CPU, wrk on $LOAD_CPU.
# wrk: one thread, $CONNECTIONS keep-alive connections, $DURATION seconds, --latency. The paced
# loads (verify_paced, nginx_paced) pause $PACE_MS ms after each response on every connection.

# start_server DATA_DIR LOG: sets SERVER_PID, SERVER_URL, OPERATOR_TOKEN.
start_server() {
  taskset -c "$SERVER_CPU" "$KEYLEDGER" serve --data "$1" --listen 127.0.0.1:0 --threads 1 2>"$2" &
  SERVER_PID=$!
  STARTED_PIDS+=("$SERVER_PID")
  wait_until 120 grep -q 'listening on http://' "$2" || { cat "$2" >&2; die "keyledger serve did not start"; }
  SERVER_URL="$(grep -o 'listening on http://[0-9.:]*' "$2" | head -1)"
  SERVER_URL="${SERVER_URL#listening on }"
  OPERATOR_TOKEN="$(grep -o 'klo_[0-9A-Za-z]*' "$2" | head -1)"
  [[ -n "$OPERATOR_TOKEN" ]] || die "no operator token in the server's output"
  wait_until 60 status_is 200 "$SERVER_URL/readyz" || die "keyledger never became ready"
}

# stop_pid PID: SIGTERM and wait; fails when the process does not exit 0.
stop_pid() {
  kill -TERM "$1"
  local status=0
  wait "$1" || status=$?
  forget_pid "$1"
  ((status == 0)) || die "process $1 exited with status $status"
}

metric() { curl -sf "$SERVER_URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

# run_wrk OUT URL SCRIPT: wrk on the load CPU; the output goes to OUT.
run_wrk() {
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$3" "$2" >"$1" 2>&1 ||
    { cat "$1" >&2; die "wrk failed"; }
}

# record_wrk RUN PREFIX OUT TICKS: requests/s, p50, p99 and server CPU per request. Every answer
# must have been a 2xx, the references' included: a reference answering errors measures something
# else (the eighteenth session found nginx answering 400 to requests wrk sent without Host).
record_wrk() {
  local name value requests
  (($(wrk_figure "$3" non2xx) == 0)) || { cat "$3" >&2; die "$2: answered with errors (non-2xx)"; }
  for name in rps p50_ms p99_ms requests; do
    value="$(wrk_figure "$3" "$name")" || { cat "$3" >&2; die "no $name in wrk output $3"; }
    record "$1" "$2.$name" "$value"
  done
  requests="$(wrk_figure "$3" requests)"
  ((requests > 0)) || die "$2: wrk completed no request"
  record_cpu "$1" "$2" "$4" "$requests"
  warn_socket_errors "$2" "$3"
}

# record_cpu RUN PREFIX TICKS REQUESTS: server CPU per request (TICKS of it over REQUESTS).
record_cpu() {
  local cpu_us
  cpu_us="$(awk -v t="$3" -v hz="$CLK_TCK" -v n="$4" 'BEGIN { print t * 1e6 / hz / n }')"
  record "$1" "$2.cpu_us" "$cpu_us"
  # Requests one fully busy server core would serve at that cost: independent of the load generator.
  awk -v c="$cpu_us" 'BEGIN { exit !(c > 0) }' &&
    record "$1" "$2.capacity" "$(awk -v c="$cpu_us" 'BEGIN { print 1e6 / c }')"
}

# warn_socket_errors PREFIX OUT: logs the socket errors of wrk output OUT, if any.
warn_socket_errors() {
  local errors
  errors="$(wrk_figure "$2" socket_errors)"
  ((errors == 0)) || log "warning: $1: $errors socket errors (see wrk output $2)"
}

# server_p99_ms BEFORE AFTER: the p99 of the requests the server timed between two /metrics
# dumps (keyledger_http_request_duration_seconds): the upper bound, in ms, of the first bucket
# that holds 99% of them. Time inside the server only, from a request's first byte read to its
# response's last byte written; wrk's figure adds the kernel, the network stack and wrk itself.
server_p99_ms() {
  awk -v q=0.99 '
    /^keyledger_http_request_duration_seconds_bucket/ {
      le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le)
      if (FNR == NR) { before[le] = $2 } else { order[++n] = le; diff[le] = $2 - before[le] }
    }
    END {
      total = diff["+Inf"]
      if (total <= 0) exit 1
      for (i = 1; i <= n; i++) if (diff[order[i]] >= q * total) { print (order[i] == "+Inf" ? "inf" : order[i] * 1000); exit 0 }
      exit 1
    }' "$1" "$2"
}

# measure_keyledger RUN NAME SCRIPT: one wrk load on the running server, with the events it wrote.
measure_keyledger() {
  local out="$TMP/wrk-$2-$1.txt" events_before ticks_before ticks events requests server_p99 steal_before
  events_before="$(metric keyledger_events_appended_total)"
  curl -sf "$SERVER_URL/metrics" >"$TMP/metrics-$2-$1.before" || die "GET /metrics failed"
  ticks_before="$(cpu_ticks "$SERVER_PID")"
  steal_before="$(steal_ticks)"
  run_wrk "$out" "$SERVER_URL" "$3"
  ticks=$(($(cpu_ticks "$SERVER_PID") - ticks_before))
  record "$1" "$2.steal_pct" "$(steal_pct "$steal_before" "$(steal_ticks)")"
  curl -sf "$SERVER_URL/metrics" >"$TMP/metrics-$2-$1.after" || die "GET /metrics failed"
  server_p99="$(server_p99_ms "$TMP/metrics-$2-$1.before" "$TMP/metrics-$2-$1.after")" ||
    die "$2: no request durations in /metrics"
  record "$1" "$2.server_p99_ms" "$server_p99"
  events=$(($(metric keyledger_events_appended_total) - events_before))
  record_wrk "$1" "$2" "$out" "$ticks"
  requests="$(wrk_figure "$out" requests)"
  record "$1" "$2.events" "$events"
  # wrk counts completed requests; up to one per connection was still in flight when it stopped.
  if ((events >= requests && events <= requests + CONNECTIONS)); then
    record "$1" "$2.events_ok" 1
  else
    record "$1" "$2.events_ok" 0
    log "WARNING: $2 run $1: $requests requests served but $events events written"
  fi
}

# wait_for_idle PID: waits (at most 10 s) until the process has used no CPU for a quarter-second.
wait_for_idle() {
  local before after
  for _ in $(seq 40); do
    before="$(cpu_ticks "$1")"
    sleep 0.25
    after="$(cpu_ticks "$1")"
    ((after == before)) && return 0
  done
  return 1
}

# lifecycle_slices RUN DIR ADMIN_TOKEN TOKENS_FILE: the creations and their reference, the plain
# RocksDB loop (a fresh database each time, on the server's core while the server idles), taking
# turns in $LIFECYCLE_SLICES slices of $DURATION / $LIFECYCLE_SLICES seconds each: the shared
# machine's noise (hypervisor steal moved from 1% to 23% between the two 10 s loads of one run)
# then falls on both alike. Each loop slice waits for the server to go idle (a memtable flush
# it started), and writes a fresh database, too little to fill a memtable: the loop pays for no
# flush, where one 10 s load paid for two. The loop's value size is measured on the server's
# data after the first slice. Figures over all slices: rates are total operations over total
# time, CPU per operation total CPU over total operations, steal over all the slices of each side;
# the p50 and p99 are the highest of the slices' (the p99 over all of them lies at or below it).
lifecycle_slices() {
  local run="$1" dir="$2" admin="$3" tokens="$4" slices="$LIFECYCLE_SLICES" slice
  # Run only for the verify benchmarks' token pool: one slice, no reference.
  selected lifecycle || slices=1
  local seconds=$((DURATION / slices))
  ((seconds >= 1)) || seconds=1
  local requests=0 wrk_seconds=0 ticks=0 p50=0 p99=0 steal_before steal_ours=() steal_ref=()
  local writes=0 loop_seconds=0 loop_cpu=0 value_bytes="" out ticks_before saved size_flag
  for ((slice = 1; slice <= slices; slice++)); do
    out="$TMP/wrk-create-$run-$slice.txt"
    saved="$(wc -l <"$tokens")"
    ticks_before="$(cpu_ticks "$SERVER_PID")"
    steal_before="$(steal_ticks)"
    KL_WS=bench KL_ADMIN="$admin" KL_TOKENS_OUT="$tokens" KL_TOKENS_MAX=$((20000 - saved)) KL_NAME_PREFIX="$slice-" \
      DURATION="$seconds" run_wrk "$out" "$SERVER_URL" "$BENCH/wrk/create.lua"
    ticks=$((ticks + $(cpu_ticks "$SERVER_PID") - ticks_before))
    steal_ours+=("$steal_before" "$(steal_ticks)")
    (($(wrk_figure "$out" non2xx) == 0)) || { cat "$out" >&2; die "key creation answered with errors"; }
    warn_socket_errors lifecycle "$out"
    local n rps
    n="$(wrk_figure "$out" requests)" && rps="$(wrk_figure "$out" rps)" || { cat "$out" >&2; die "no figures in $out"; }
    ((n > 0)) || die "lifecycle: wrk completed no creation"
    requests=$((requests + n))
    read -r wrk_seconds p50 p99 < <(awk -v s="$wrk_seconds" -v n="$n" -v r="$rps" -v a="$p50" -v b="$p99" \
      -v c="$(wrk_figure "$out" p50_ms)" -v d="$(wrk_figure "$out" p99_ms)" \
      'BEGIN { print s + n / r, (c > a ? c : a), (d > b ? d : b) }')

    selected lifecycle || continue
    # The server's memtable flush or compaction, if the slice started one, finishes first: on
    # the loop's core and disk it would count against the reference.
    wait_for_idle "$SERVER_PID" || log "warning: the server still works 10 s after creation slice $slice"
    local ref="$dir/rocksdb-$slice.out"
    if [[ -z "$value_bytes" ]]; then size_flag=(--size-from "$dir/data"); else size_flag=(--value-bytes "$value_bytes"); fi
    steal_before="$(steal_ticks)"
    taskset -c "$SERVER_CPU" "$BIN/bench_rocksdb_synced_writes" --dir "$dir/rocksdb" --threads "$CONNECTIONS" \
      --seconds "$seconds" "${size_flag[@]}" >"$ref" || die "bench_rocksdb_synced_writes failed"
    steal_ref+=("$steal_before" "$(steal_ticks)")
    rm -rf "$dir/rocksdb"
    value_bytes="$(awk '$2 == "value_bytes" { print $3 }' "$ref")"
    read -r writes loop_seconds loop_cpu < <(awk -v w="$writes" -v s="$loop_seconds" -v c="$loop_cpu" '
      $2 == "writes" { n = $3 } $2 == "writes_per_s" { r = $3 } $2 == "cpu_us_per_write" { u = $3 }
      END { print w + n, s + n / r, c + n * u }' "$ref")
  done
  local rate
  rate="$(awk -v n="$requests" -v s="$wrk_seconds" 'BEGIN { print n / s }')"
  record "$run" lifecycle.requests "$requests"
  record "$run" lifecycle.creates_per_s "$rate"
  record "$run" lifecycle.rps "$rate"
  record "$run" lifecycle.p50_ms "$p50"
  record "$run" lifecycle.p99_ms "$p99"
  record_cpu "$run" lifecycle "$ticks" "$requests"
  record "$run" lifecycle.steal_pct "$(steal_pct "${steal_ours[@]}")"
  selected lifecycle || return 0
  local ref_rate
  ref_rate="$(awk -v n="$writes" -v s="$loop_seconds" 'BEGIN { print n / s }')"
  record "$run" rocksdb.value_bytes "$value_bytes"
  record "$run" rocksdb.writes "$writes"
  record "$run" rocksdb.writes_per_s "$ref_rate"
  record "$run" rocksdb.cpu_us_per_write "$(awk -v n="$writes" -v c="$loop_cpu" 'BEGIN { print c / n }')"
  record "$run" rocksdb.steal_pct "$(steal_pct "${steal_ref[@]}")"
  log "http run $run: creates $rate/s, plain RocksDB $ref_rate/s ($slices slices each)"
}

# audit_page_ms ADMIN_TOKEN: the time (ms, curl's total) of the newest page of the bench
# workspace's audit timeline (key.used left out, as by default) once the verify loads have
# appended their uses: the timeline must not read back through them (README, "The audit timeline
# never reads past uses"). The page must hold key creations.
audit_page_ms() {
  local seconds
  seconds="$(curl -sf -o "$TMP/audit-page.json" -w '%{time_total}' -H "Authorization: Bearer $1" \
    "$SERVER_URL/admin/v1/workspaces/bench/audit?order=desc&limit=50")" || die "GET the audit timeline failed"
  grep -q '"type":"key.created"' "$TMP/audit-page.json" || die "the audit page holds no key creation"
  awk -v s="$seconds" 'BEGIN { print s * 1000 }'
}

# admin_read_load RUN ADMIN_TOKEN TOKENS_FILE FIGURE PATH READS: the paced verify load again,
# while one client (a single curl, one keep-alive connection, on the load CPU) GETs PATH under
# the bench workspace back to back: each a read over all its keys or their rows, which must not
# hold up the verifies (README, "For compliance reviewers"). Records the load's figures
# as FIGURE and the reads' count and mean time as READS.count and READS.mean_ms; every read must
# answer 200.
admin_read_load() {
  local run="$1" figure="$4" path="$5" reads="$6"
  local urls="$TMP/$reads-urls-$run.txt" out="$TMP/$reads-$run.txt" pid
  for _ in $(seq 20000); do
    printf 'url = "%s"\noutput = "/dev/null"\n' "$SERVER_URL/admin/v1/workspaces/bench/$path"
  done >"$urls"
  taskset -c "$LOAD_CPU" stdbuf -oL curl -s -K "$urls" -H "Authorization: Bearer $2" \
    -w '%{http_code} %{time_total}\n' >"$out" 2>/dev/null &
  pid=$!
  STARTED_PIDS+=("$pid")
  KL_PACE_MS="$PACE_MS" KL_TOKENS="$3" measure_keyledger "$run" "$figure" "$BENCH/wrk/verify.lua"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
  local count mean
  read -r count mean < <(awk '$1 == 200 { n++; s += $2 } END { print n + 0, (n ? s / n * 1000 : 0) }' "$out")
  ((count > 0)) || die "$figure: no GET $path answered during the load"
  # The last line may be the read cut short when curl was stopped; any other must be a 200.
  (($(head -n -1 "$out" | awk '$1 != 200' | wc -l) == 0)) || { head "$out" >&2; die "GET $path answered an error"; }
  record "$run" "$reads.count" "$count"
  record "$run" "$reads.mean_ms" "$mean"
}

http_run() {
  local run="$1" dir="$TMP/http-$run"
  mkdir -p "$dir"
  log "http run $run: keyledger serve on CPU $SERVER_CPU, wrk on CPU $LOAD_CPU"
  start_server "$dir/data" "$dir/server.log"
  curl -sf -X POST "$SERVER_URL/admin/v1/workspaces" -H "Authorization: Bearer $OPERATOR_TOKEN" \
    -H 'Content-Type: application/json' -d '{"id":"bench","name":"Bench","plan":"pro"}' >/dev/null ||
    die "creating the workspace failed"
  local admin
  admin="$(curl -sf -X POST "$SERVER_URL/admin/v1/workspaces/bench/admin-keys" \
    -H "Authorization: Bearer $OPERATOR_TOKEN" -H 'Content-Type: application/json' \
    -d '{"name":"bench dashboard","role":"admin"}' | grep -o '"token":"kla_[0-9A-Za-z]*"' | cut -d'"' -f4)"
  [[ -n "$admin" ]] || die "creating the admin key failed"

  # Lifecycle writes, interleaved with the reference; their tokens are the verify benchmarks' pool.
  local tokens="$dir/tokens.txt"
  : >"$tokens"
  lifecycle_slices "$run" "$dir" "$admin" "$tokens"
  local pool
  pool="$(wc -l <"$tokens")"
  ((pool >= MIN_TOKENS)) || die "only $pool tokens created (need $MIN_TOKENS for the verify pool)"

  if selected verify; then
    # One verify by hand first: the pool's tokens must verify as VALID.
    curl -sf -X POST "$SERVER_URL/v1/keys/verify" -H 'Content-Type: application/json' \
      -d "{\"token\":\"$(head -1 "$tokens")\",\"ability\":\"invoices:read\"}" | grep -q '"code":"VALID"' ||
      die "a created token does not verify as VALID"
    KL_TOKENS="$tokens" measure_keyledger "$run" verify "$BENCH/wrk/verify.lua"
    KL_TOKENS="$tokens" measure_keyledger "$run" authz "$BENCH/wrk/authz.lua"
    KL_PACE_MS="$PACE_MS" KL_TOKENS="$tokens" measure_keyledger "$run" verify_paced "$BENCH/wrk/verify.lua"
    admin_read_load "$run" "$admin" "$tokens" verify_reviewed review review
    # An actor nobody is: every lifecycle row of the workspace read, each event decoded.
    admin_read_load "$run" "$admin" "$tokens" verify_audited 'audit?actor=nobody' audit_scan
    record "$run" audit.page_ms "$(audit_page_ms "$admin")"
    log "http run $run: verify $(wrk_figure "$TMP/wrk-verify-$run.txt" rps) req/s, authz $(wrk_figure "$TMP/wrk-authz-$run.txt" rps) req/s, $pool keys"
  fi
  stop_pid "$SERVER_PID"

  if selected verify; then nginx_run "$run"; fi
  rm -rf "$dir"
}

nginx_run() {
  local run="$1" dir="$TMP/nginx-$run" port pid out="$TMP/wrk-nginx-$run.txt"
  mkdir -p "$dir"
  port="$(free_port)"
  sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" "$BENCH/nginx.conf.in" >"$dir/nginx.conf"
  taskset -c "$SERVER_CPU" nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" &
  pid=$!
  STARTED_PIDS+=("$pid")
  wait_until 30 status_is 200 "http://127.0.0.1:$port/" ||
    { cat "$dir/error.log" >&2; die "nginx did not start"; }
  local pids ticks_before ticks
  pids=("$pid" $(cat /proc/"$pid"/task/*/children))  # the master and its worker
  ticks_before="$(cpu_ticks "${pids[@]}")"
  run_wrk "$out" "http://127.0.0.1:$port" "$BENCH/wrk/nginx.lua"
  ticks=$(($(cpu_ticks "${pids[@]}") - ticks_before))
  record_wrk "$run" nginx "$out" "$ticks"
  out="$TMP/wrk-nginx-paced-$run.txt"
  ticks_before="$(cpu_ticks "${pids[@]}")"
  KL_PACE_MS="$PACE_MS" run_wrk "$out" "http://127.0.0.1:$port" "$BENCH/wrk/nginx.lua"
  ticks=$(($(cpu_ticks "${pids[@]}") - ticks_before))
  record_wrk "$run" nginx_paced "$out" "$ticks"
  stop_pid "$pid"
  log "http run $run: nginx $(wrk_figure "$out" rps) req/s"
  rm -rf "$dir"
}
