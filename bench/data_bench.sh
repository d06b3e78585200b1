# Data benchmarks (sourced by bench/run): replay, start-up and memory on one generated ledger, and
# the Google Benchmark micro-benchmarks. The micro-benchmarks run pinned to CPU $SERVER_CPU.

# Generates the ledger once per session (in $LEDGER) and checks it with `keyledger verify-log`.
# With --ledger DIR (KEEP_LEDGER), the ledger lives in DIR and is kept: generated (and checked) when
# DIR holds none of these sizes, reused otherwise (the benchmarks only read it; start-up appends
# nothing). DIR.gen.out records the generator's figures; it is written once the chain checks out.
generate_ledger() {
  LEDGER="${KEEP_LEDGER:-$TMP/ledger}"
  local info="$LEDGER.gen.out"
  if [[ -n "$KEEP_LEDGER" && -f "$info" && -f "$LEDGER/CURRENT" ]] && grep -q "^RESULT gen_events $EVENTS\$" "$info" &&
     grep -q "^# keys $KEYS\$" "$info"; then
    log "reusing the ledger in $LEDGER ($EVENTS events / $KEYS keys)"
  else
    rm -rf "$LEDGER" "$info"
    log "generating a ledger of $EVENTS events / $KEYS keys (once for every run)"
    "$BIN/bench_gen_ledger" --data "$LEDGER" --events "$EVENTS" --keys "$KEYS" >"$TMP/gen.out" ||
      die "bench_gen_ledger failed"
    echo "# keys $KEYS" >>"$TMP/gen.out"
    record_program_results gen gen "$TMP/gen.out"
    log "generated in $(awk '$2 == "gen_seconds" { print $3 }' "$TMP/gen.out") s; checking the chain"
    local started=$SECONDS
    "$KEYLEDGER" verify-log --data "$LEDGER" >"$TMP/verify-log.out" 2>&1 ||
      { cat "$TMP/verify-log.out" >&2; die "keyledger verify-log rejects the generated ledger"; }
    log "verify-log accepts it ($((SECONDS - started)) s): $(tail -1 "$TMP/verify-log.out")"
    cp "$TMP/gen.out" "$info"
  fi
  ACTIVE_KEYS="$(awk '$2 == "gen_active_keys" { print $3 }' "$info")"
  GEN_EVENTS="$(awk '$2 == "gen_events" { print $3 }' "$info")"
}

# Not pinned: a rebuild (keyledger replay, start-up) decodes on one thread and applies on another,
# and nothing else runs meanwhile; the bare iteration it is compared with is one thread by nature.
replay_run() {
  local out="$TMP/replay-$1.out"
  "$BIN/bench_replay" --data "$LEDGER" >"$out" || die "bench_replay failed"
  record_program_results "$1" replay "$out"
  local replayed
  replayed="$(awk '$2 == "replay_events" { print $3 }' "$out")"
  [[ "$replayed" == "$GEN_EVENTS" ]] || die "replay saw $replayed events, the ledger has $GEN_EVENTS"
  log "replay run $1: $(awk '$2 == "replay_events_per_s" { print $3 }' "$out") events/s, bare $(awk '$2 == "bare_events_per_s" { print $3 }' "$out")"
}

startup_run() {
  local out="$TMP/startup-$1.out"
  "$BIN/bench_startup" --data "$LEDGER" --active-keys "$ACTIVE_KEYS" >"$out" ||
    die "bench_startup failed"
  record_program_results "$1" startup "$out"
  local name
  for name in before after; do
    record "$1" "startup.rss_${name}_mib" "$(awk -v n="rss_${name}_bytes" '$2 == n { print $3 / 1048576 }' "$out")"
  done
  log "startup run $1: $(awk '$2 == "startup_seconds" { print $3 }' "$out") s, $(awk '$2 == "bytes_per_active_key" { print $3 }' "$out") B/key"
}

# Google Benchmark's CSV: name,iterations,real_time,cpu_time,time_unit,... → micro.NAME = cpu ns.
micro_run() {
  local out="$TMP/micro-$1.csv"
  taskset -c "$SERVER_CPU" "$BIN/bench_micro" --keys="$MICRO_KEYS" --benchmark_format=csv \
    --benchmark_min_time="$MICRO_MIN_TIME" >"$out" 2>"$TMP/micro-$1.err" ||
    { cat "$TMP/micro-$1.err" >&2; die "bench_micro failed"; }
  awk -F, '$1 ~ /^"?BM_/ && $9 == "true" { bad = 1 } END { exit bad }' "$out" ||
    { cat "$out" >&2; die "a micro-benchmark reported an error"; }
  awk -F, -v run="$1" '
    $1 ~ /^"?BM_/ && $3 != "" {
      name = $1; gsub(/"/, "", name)
      scale = ($5 ~ /us/) ? 1000 : ($5 ~ /ms/) ? 1e6 : 1
      printf "%s\tmicro.%s\t%s\n", run, name, $4 * scale
    }' "$out" >>"$RESULTS"
  log "micro run $1 done"
}
