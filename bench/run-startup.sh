#!/usr/bin/env bash
# Start-up time and idle memory with --demo (issue 2: process start to the first /fhir/metadata 200 <= 3 s, idle RSS
# <= 200 MB): STARTUP_RUNS times, a fresh data folder (schema, migrations and demo data created), then a restart on
# that folder. Times from just before the fork to the first 200 (polled every 10 ms); RSS and the managed heap
# (from the GC's own count, /proc/PID/status otherwise) STARTUP_IDLE s later. No wait for a quiet machine: each row
# has the load average and the server's CPU time (user + system) up to its first 200.
# env: STARTUP_RUNS (3) STARTUP_IDLE (10) IGNIS_DLL SKIP_BUILD IGNIS_EXTRA (more server arguments, e.g. GC settings
# are environment variables: pass them in the environment of this script)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PORT=${STARTUP_PORT:-5436}
DATA="$BENCH_DIR/data/startup-demo"
[ -n "${SKIP_BUILD:-}" ] || (cd "$REPO_DIR" && timeout 600 dotnet build src/Ignis.Server -c Release -nologo -v q >"$LOG_DIR/build.log" 2>&1) || { tail -20 "$LOG_DIR/build.log"; exit 1; }
build_info
OUT="$RESULTS_DIR/startup-demo.tsv"
printf 'utc\tcase\tstart_to_first_200_ms\tcpu_ms_to_first_200\tidle_rss_mib\trss_anon_mib\trss_file_mib\tload_avg_1m\n' >"$OUT"
once() {
  local label=$1 t0 t1 ms=NA cpu=NA code pid deadline load
  load=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(date +%s%N)
  # shellcheck disable=SC2086
  dotnet "$IGNIS_DLL" --urls "http://127.0.0.1:$PORT" --data "$DATA" --demo --Ignis:Fhir:Anonymous=Allow ${IGNIS_EXTRA:-} >>"$LOG_DIR/$label.log" 2>&1 &
  pid=$!; STARTED_PIDS+=("$pid")
  deadline=$((SECONDS + 60))
  while [ $SECONDS -lt $deadline ] && kill -0 "$pid" 2>/dev/null; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$PORT/fhir/metadata" || true)
    if [ "$code" = 200 ]; then t1=$(date +%s%N); ms=$(( (t1 - t0) / 1000000 )); cpu=$(( $(cpu_ticks "$pid") * 1000 / CLK_TCK )); break; fi
    sleep 0.01
  done
  sleep "${STARTUP_IDLE:-10}"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$label" "$ms" "$cpu" "$(rss_mib "$pid")" \
    "$(awk '/^RssAnon/ {printf "%.0f", $2/1024}' "/proc/$pid/status")" "$(awk '/^RssFile/ {printf "%.0f", $2/1024}' "/proc/$pid/status")" \
    "$load" | tee -a "$OUT"
  stop_pid "$pid"
}
rm -rf "$DATA"; mkdir -p "$DATA"; once warmup-unrecorded >/dev/null
for r in $(seq 1 "${STARTUP_RUNS:-3}"); do
  rm -rf "$DATA"; mkdir -p "$DATA"
  once fresh-demo
  once restart-demo
done
rm -rf "$DATA"
