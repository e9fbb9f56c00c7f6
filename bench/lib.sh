# Helpers for the Ignis benchmarks; `source` it. Adapted from /work/shared/peers/lib.sh (same
# accounting, so rows compare with the peer figures): every load run is bounded (wrk -d under
# `timeout`), loopback only, and every process started here is stopped by its PID.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
RESULTS_DIR=${RESULTS_DIR:-"$BENCH_DIR/results/$(date -u +%Y%m%dT%H%M%SZ)"}
LOG_DIR="$RESULTS_DIR/logs"
mkdir -p "$LOG_DIR"

WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNS=${WRK_CONNS:-32}
WRK_DURATION=${WRK_DURATION:-15}
WRK_WARMUP=${WRK_WARMUP:-5}
RUNS=${RUNS:-3}
SUMMARY="$RESULTS_DIR/summary.tsv"
CLK_TCK=$(getconf CLK_TCK)

IGNIS_DLL=${IGNIS_DLL:-"$REPO_DIR/src/Ignis.Server/bin/Release/net10.0/Ignis.Server.dll"}
GEN_DLL="$BENCH_DIR/Ignis.Bench.Generator/bin/Release/net10.0/Ignis.Bench.Generator.dll"
CEILING_DLL="$BENCH_DIR/Ignis.Bench.Ceiling/bin/Release/net10.0/Ignis.Bench.Ceiling.dll"

# Access control is on by default on main; the benchmarks read and write anonymously through the
# loopback-only opt-in (the ceiling has no auth either); the read phase adds a bearer-token row.
IGNIS_ARGS=${IGNIS_ARGS:-"--Ignis:Fhir:Anonymous=Allow"}

STARTED_PIDS=()
LAST_PID=""

log() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$RESULTS_DIR/run.log" >&2; }

ensure_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v hyperfine >/dev/null || missing+=(hyperfine)
  command -v curl >/dev/null || missing+=(curl)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get install -y "${missing[@]}" >/dev/null 2>&1 || { $sudo apt-get update -qq && $sudo apt-get install -y "${missing[@]}" >/dev/null; }
  fi
}

# build : Ignis Release, the generator and the ceiling (the bench projects are not in Ignis.sln)
build_info() { echo "commit $(git -C "$REPO_DIR" rev-parse --short HEAD) $(git -C "$REPO_DIR" log -1 --format=%s | cut -c1-80)" >"$RESULTS_DIR/build.txt"; }

build_all() {
  log "building Ignis.Server, generator and ceiling (Release)"
  local p
  for p in src/Ignis.Server bench/Ignis.Bench.Generator bench/Ignis.Bench.Ceiling; do
    (cd "$REPO_DIR" && timeout 600 dotnet build "$p" -c Release -nologo -v q >"$LOG_DIR/build.$(basename "$p").log" 2>&1) \
      || { tail -30 "$LOG_DIR/build.$(basename "$p").log"; exit 1; }
  done
  build_info
}

# start_bg NAME CMD... : start a process in the background, log to LOG_DIR/NAME.log
start_bg() {
  local name=$1; shift
  "$@" >"$LOG_DIR/$name.log" 2>&1 &
  LAST_PID=$!
  STARTED_PIDS+=("$LAST_PID")
  log "started $name pid=$LAST_PID"
}

# stop_pid PID : TERM, wait up to 10 s, then KILL (only PIDs this script started)
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_all() {
  local pid
  for pid in "${STARTED_PIDS[@]:-}"; do [ -n "$pid" ] && stop_pid "$pid"; done
  STARTED_PIDS=()
}
trap stop_all EXIT

# start_ignis NAME PORT DATA_DIR [ARGS...] : start the Release server and wait for /fhir/metadata (bounded)
start_ignis() {
  local name=$1 port=$2 data=$3
  shift 3
  mkdir -p "$data"
  # shellcheck disable=SC2086
  start_bg "$name" dotnet "$IGNIS_DLL" --urls "http://127.0.0.1:$port" --data "$data" $IGNIS_ARGS "$@"
  wait_http "http://127.0.0.1:$port/fhir/metadata" 60
}

# wait_http URL [SECONDS] : poll until a 2xx answer (bounded)
wait_http() {
  local url=$1 secs=${2:-60}
  local deadline=$((SECONDS + secs)) code
  while [ $SECONDS -lt $deadline ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
    case "$code" in 2??) return 0 ;; esac
    sleep 0.1
  done
  echo "timed out waiting for $url" >&2
  return 1
}

cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
machine_ticks() { awk '/^cpu / {t = $2+$3+$4+$5+$6+$7+$8+$9; print t - $5 - $6, t, $7 + $8}' /proc/stat; }
rss_mib() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
# rss_parts PID : "RSS 123 MiB (anon 80, file 40, shmem 3)": file pages include the mmap'ed database
# PSS from smaps_rollup shares each file page among its mappings: SQLite maps the database once per
# pooled connection (PRAGMA mmap_size), and RSS counts a page once per mapping.
rss_parts() {
  awk '/^VmRSS/ {t=$2} /^RssAnon/ {a=$2} /^RssFile/ {f=$2} /^RssShmem/ {s=$2} END {printf "RSS %.0f MiB (anon %.0f, file %.0f, shmem %.0f)", t/1024, a/1024, f/1024, s/1024}' "/proc/$1/status"
  awk '/^Pss:/ {printf ", PSS %.0f MiB", $2/1024}' "/proc/$1/smaps_rollup" 2>/dev/null || true
  printf ', %s mappings of ignis.db' "$(grep -c 'ignis\.db$' "/proc/$1/maps" 2>/dev/null || true)"
}
peak_rss_mib() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

# wait_quiet : wait (at most QUIET_MAX s, default 600) until the machine is below QUIET_PCT (10) %
# busy over 2 s; the 2 cores are shared with other sessions' builds and tests.
wait_quiet() {
  local deadline=$((SECONDS + ${QUIET_MAX:-600})) b0 t0 b1 t1 pct waited=0
  while :; do
    read -r b0 t0 _ < <(machine_ticks); sleep 2; read -r b1 t1 _ < <(machine_ticks)
    pct=$(( (b1 - b0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))
    if [ "$pct" -lt "${QUIET_PCT:-10}" ]; then
      [ $waited -eq 1 ] && log "machine quiet again ($pct% busy)"
      return 0
    fi
    if [ $SECONDS -ge $deadline ]; then log "machine still $pct% busy after waiting; running anyway (row will show other_cpu_pct)"; return 0; fi
    [ $waited -eq 0 ] && log "machine $pct% busy with other work; waiting for it to go quiet"
    waited=1; sleep 3
  done
}

to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else printf "NA" }'
}

# run_wrk LABEL SERVER_PID WRK-ARGS... : WRK_WARMUP s unrecorded, then RUNS x WRK_DURATION s.
# One row per run in summary.tsv: req/s, p50/p99, errors, server CPU per request, server RSS at the
# end of the run and its peak, and CPU shares (server / wrk / irq / other processes) of the machine.
run_wrk() {
  local label=$1 spid=$2; shift 2
  local r log t0 t1 reqs rps p50 p90 p99 non2xx sockerr cpu mb0 mt0 mi0 mb1 mt1 mi1 wrkcpu scpu wcpu irq other
  [ -f "$SUMMARY" ] || printf 'utc\tlabel\trun\tthreads\tconns\tdur_s\treq_per_s\tp50_ms\tp90_ms\tp99_ms\trequests\tnon2xx\tsocket_errors\tserver_cpu_ms_per_req\tserver_rss_mib\tserver_peak_rss_mib\tserver_cpu_pct\twrk_cpu_pct\tirq_cpu_pct\tother_cpu_pct\n' >"$SUMMARY"
  if [ "$WRK_WARMUP" -gt 0 ]; then
    wait_quiet
    timeout $((WRK_WARMUP + 30)) wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${WRK_WARMUP}s" "$@" >"$LOG_DIR/$label.warmup.txt" 2>&1 || true
  fi
  for r in $(seq 1 "$RUNS"); do
    log="$LOG_DIR/$label.run$r.txt"
    wait_quiet
    read -r mb0 mt0 mi0 < <(machine_ticks)
    t0=$(cpu_ticks "$spid")
    ( TIMEFORMAT='%U %S'; time timeout $((WRK_DURATION + 30)) wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${WRK_DURATION}s" --latency "$@" >"$log" 2>&1 ) 2>"$log.cputime" || true
    t1=$(cpu_ticks "$spid")
    read -r mb1 mt1 mi1 < <(machine_ticks)
    wrkcpu=$(awk '{print $1 + $2}' "$log.cputime")
    read -r scpu wcpu irq other < <(awk -v sb="$((t1 - t0))" -v w="$wrkcpu" -v mb="$((mb1 - mb0))" -v mt="$((mt1 - mt0))" \
      -v mi="$((mi1 - mi0))" -v hz="$CLK_TCK" \
      'BEGIN { wt = w * hz; printf "%.1f %.1f %.1f %.1f\n", sb * 100 / mt, wt * 100 / mt, mi * 100 / mt, (mb - sb - wt) * 100 / mt }')
    reqs=$(awk '/requests in/ {print $1}' "$log")
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$log")
    p50=$(to_ms "$(awk '$1=="50%" {print $2}' "$log")")
    p90=$(to_ms "$(awk '$1=="90%" {print $2}' "$log")")
    p99=$(to_ms "$(awk '$1=="99%" {print $2}' "$log")")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$log"); non2xx=${non2xx:-0}
    sockerr=$(awk -F'[ ,]+' '/Socket errors:/ {print $4+$6+$8+$10}' "$log"); sockerr=${sockerr:-0}
    cpu=$(awk -v a="$t0" -v b="$t1" -v n="${reqs:-0}" -v hz="$CLK_TCK" 'BEGIN { if (n > 0) printf "%.4f", (b - a) * 1000 / hz / n; else print "NA" }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$label" "$r" \
      "$WRK_THREADS" "$WRK_CONNS" "$WRK_DURATION" "$rps" "$p50" "$p90" "$p99" "$reqs" "$non2xx" "$sockerr" "$cpu" \
      "$(rss_mib "$spid")" "$(peak_rss_mib "$spid")" "$scpu" "$wcpu" "$irq" "$other" | tee -a "$SUMMARY"
  done
}
