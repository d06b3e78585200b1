# Helpers for bench/run (sourced): logging, processes, figures and the results table.
# Figures are recorded as "run <TAB> figure <TAB> value" lines in $RESULTS; bench/figures.tsv says
# which figures make the table's rows, with their references and goals.

log() { echo "[bench $(date -u +%H:%M:%S)] $*" >&2; }
die() { echo "bench/run: $*" >&2; exit 1; }

# Processes started by this script, stopped (by PID) on exit.
STARTED_PIDS=()
forget_pid() {
  local pid kept=()
  for pid in "${STARTED_PIDS[@]}"; do [[ "$pid" == "$1" ]] || kept+=("$pid"); done
  STARTED_PIDS=("${kept[@]}")
}
cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${STARTED_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -n "${TMP:-}" && -d "$TMP" ]]; then
    # Keep the raw outputs (wrk reports, program output) of the last session next to the table.
    if [[ -n "${OUT_DIR:-}" ]]; then
      rm -rf "$OUT_DIR/logs" && mkdir -p "$OUT_DIR/logs"
      find "$TMP" -maxdepth 1 -type f \( -name '*.txt' -o -name '*.out' -o -name '*.csv' -o -name '*.err' \) \
        -exec cp {} "$OUT_DIR/logs/" \;
    fi
    rm -rf "$TMP"
  fi
}

# wait_until TIMEOUT_S COMMAND...: polls COMMAND every 50 ms until it succeeds; fails on timeout.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# A loopback TCP port nobody uses now (no socket in /proc/net/tcp{,6} has it).
free_port() {
  local port
  for _ in $(seq 200); do
    port=$((20000 + RANDOM % 40000))
    grep -qi ":$(printf '%04X' "$port") " /proc/net/tcp /proc/net/tcp6 2>/dev/null || { echo "$port"; return; }
  done
  die "no free port found"
}

http_status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
status_is() { [[ "$(http_status "$2")" == "$1" ]]; }  # status_is CODE URL

# utime + stime (clock ticks) of a process and all its threads; with several PIDs, their sum.
# steal_ticks: "total steal" clock ticks of all CPUs since boot, from /proc/stat's "cpu" line
# (user nice system idle iowait irq softirq steal): steal is the time the hypervisor gave a vCPU
# that wanted to run to something else, the shared machine's noise made visible.
steal_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $9; exit }' /proc/stat; }

# steal_pct BEFORE AFTER [BEFORE AFTER ...]: steal as a percentage of all CPU time within one
# interval or several together, each given by the steal_ticks at its start and end.
steal_pct() {
  awk 'BEGIN { for (i = 1; i < ARGC; i += 2) { split(ARGV[i], x, " "); split(ARGV[i + 1], y, " ");
    total += y[1] - x[1]; steal += y[2] - x[2] } print (total > 0 ? 100 * steal / total : 0) }' "$@"
}

cpu_ticks() {
  local pid total=0 stat fields
  for pid in "$@"; do
    stat="$(cat "/proc/$pid/stat")" || die "process $pid is gone"
    read -r -a fields <<<"${stat##*) }"   # fields after "pid (comm) ": state is fields[0]
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}
CLK_TCK="$(getconf CLK_TCK)"

record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }

# record_program_results RUN PREFIX FILE: "RESULT name value" lines of a bench program → PREFIX.name
record_program_results() {
  local name value
  while read -r tag name value; do
    if [[ "$tag" == RESULT ]]; then record "$1" "$2.$name" "$value"; fi
  done <"$3"
}

# wrk_figure FILE NAME: one figure from `wrk --latency` output: rps, p50_ms, p99_ms, requests,
# non2xx, socket_errors.
wrk_figure() {
  awk -v want="$2" '
    function ms(t) {
      if (t ~ /us$/) return substr(t, 1, length(t) - 2) / 1000
      if (t ~ /ms$/) return substr(t, 1, length(t) - 2) + 0
      if (t ~ /m$/) return substr(t, 1, length(t) - 1) * 60000
      if (t ~ /s$/) return substr(t, 1, length(t) - 1) * 1000
      return t + 0
    }
    $1 == "Requests/sec:" { v["rps"] = $2 }
    $1 == "50%" { v["p50_ms"] = ms($2) }
    $1 == "99%" { v["p99_ms"] = ms($2) }
    $2 == "requests" && $3 == "in" { v["requests"] = $1 }
    /Non-2xx or 3xx responses:/ { v["non2xx"] = $NF }
    /Socket errors:/ { gsub(",", ""); v["socket_errors"] = $4 + $6 + $8 + $10 }
    END {
      if (want == "non2xx" || want == "socket_errors") { print v[want] + 0; exit }
      if (!(want in v)) exit 1
      print v[want]
    }' "$1"
}

machine_line() {
  local cpu
  cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "$(nproc) x ${cpu:-unknown CPU}, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r)"
}

# The rows of bench/figures.tsv for the selected benchmarks.
selected_rows() {
  local bench rest
  while IFS=$'\t' read -r bench rest; do
    [[ "$bench" == "#"* || -z "$bench" ]] && continue
    if selected "$bench"; then printf '%s\t%s\n' "$bench" "$rest"; fi
  done <"$BENCH/figures.tsv"
}

# render_table text|markdown ROWS RESULTS
render_table() {
  awk -F'\t' -v format="$1" '
    function num(x) {
      if (x == "") return "-"
      if (x >= 100 || x <= -100) return sprintf("%.0f", x)
      if (x >= 1 || x <= -1) return sprintf("%.2f", x)
      return sprintf("%.3g", x)
    }
    function median(list,    n, a, i, j, t) {
      n = split(list, a, " ")
      if (n == 0) return ""
      for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    FNR == NR { runs[$1] = 1; value[$1, $2] = $3; values[$2] = values[$2] " " $3; next }
    {
      bench = $1; label = $2; key = $3; ref = $4; ref_label = $5; goals = $6
      med = median(values[key])
      ref_med = (ref != "-") ? median(values[ref]) : ""
      ratios = ""
      if (ref != "-") for (r in runs) if ((r, key) in value && (r, ref) in value && value[r, ref] != 0) ratios = ratios " " value[r, key] / value[r, ref]
      ratio = median(ratios)
      goal_text = ""; result = (goals == "-") ? "-" : "PASS"
      n = split(goals, g, ",")
      for (i = 1; i <= n && goals != "-"; i++) {
        split(g[i], kv, "=")
        if (kv[1] == "min") { goal_text = goal_text "; >= " kv[2]; if (med == "" || med + 0 < kv[2] + 0) result = "FAIL" }
        if (kv[1] == "max") { goal_text = goal_text "; < " kv[2]; if (med == "" || med + 0 >= kv[2] + 0) result = "FAIL" }
        if (kv[1] == "ratio") { goal_text = goal_text "; >= " kv[2] "x ref"; if (ratio == "" || ratio + 0 < kv[2] + 0) result = "FAIL" }
        if (kv[1] == "check") {
          goal_text = goal_text "; every run: requests <= events <= requests + connections"
          m = split(values[kv[2]], checks, " ")
          if (m == 0) result = "FAIL"
          for (j = 1; j <= m; j++) if (checks[j] != 1) result = "FAIL"
        }
      }
      sub(/^; /, "", goal_text)
      if (med == "") result = "MISSING"
      repro = "bench/run --only " bench
      if (bench == "micro") repro = "build-bench/bench/bench_micro --benchmark_filter=" substr(key, 7) "$"
      nrows++
      cell[nrows, 1] = bench; cell[nrows, 2] = label; cell[nrows, 3] = num(med)
      cell[nrows, 4] = (ref == "-") ? "" : ref_label; cell[nrows, 5] = (ref == "-") ? "" : num(ref_med)
      cell[nrows, 6] = (ref == "-") ? "" : (ratio == "") ? "-" : sprintf("%.2fx", ratio); cell[nrows, 7] = goal_text == "" ? "-" : goal_text
      cell[nrows, 8] = result; cell[nrows, 9] = repro
    }
    END {
      split("benchmark|figure|median|reference|ref. median|ratio|goal|result|reproduce", head, "|")
      for (c = 1; c <= 9; c++) { cell[0, c] = head[c]; w[c] = length(head[c]) }
      for (r = 1; r <= nrows; r++) for (c = 1; c <= 9; c++) if (length(cell[r, c]) > w[c]) w[c] = length(cell[r, c])
      for (r = 0; r <= nrows; r++) {
        line = ""
        for (c = 1; c <= 9; c++) {
          if (format == "markdown") line = line "| " (c == 9 && r > 0 ? "`" cell[r, c] "`" : cell[r, c]) " "
          else line = line sprintf("%-" w[c] "s  ", cell[r, c])
        }
        print (format == "markdown") ? line "|" : line
        if (r == 0 && format == "markdown") print "|---|---|--:|---|--:|--:|---|---|---|"
      }
    }' "$3" "$2"
}

# Exit 1 when a figure of the table is missing from any run, or a check row failed: a broken
# benchmark, never a slow one.
check_complete() {
  local bench label key ref ref_label goals run broken=0
  while IFS=$'\t' read -r bench label key ref ref_label goals; do
    for run in $(seq "$RUNS"); do
      if ! awk -F'\t' -v r="$run" -v k="$key" '$1 == r && $2 == k && $3 ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ { found = 1 } END { exit !found }' "$RESULTS"; then
        echo "bench/run: BROKEN: run $run has no figure $key ($bench: $label)" >&2
        broken=1
      fi
    done
    if [[ "$goals" == check=* ]] && awk -F'\t' -v k="${goals#check=}" '$2 == k && $3 != 1 { bad = 1 } END { exit !bad }' "$RESULTS"; then
      echo "bench/run: BROKEN: $bench: $label: events written do not match requests served" >&2
      broken=1
    fi
  done <"$1"
  ((broken == 0)) || exit 1
  log "every benchmark produced all its figures"
}
