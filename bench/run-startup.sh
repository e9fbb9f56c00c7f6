#!/usr/bin/env bash
# Start-up time and idle memory with --demo (issue 2: process start to the first /fhir/metadata 200 <= 3 s, idle RSS
# <= 200 MB): STARTUP_RUNS times, a fresh data folder (schema, migrations and demo data created), then a restart on
# that folder. Times from just before the fork to the first 200 (polled every 10 ms); the server's CPU time (user +
# system, /proc/PID/stat) up to then; RSS (anon / file-backed) STARTUP_IDLE_1 (5) and STARTUP_IDLE_2 (30) s after
# the first 200. Before each start the script waits (at most QUIET_MAX s) for the machine to be quiet, and each row
# has the load average and the share of the machine other processes took during the start (other_cpu_pct): wall
# times from a busy machine are not start-up times, the CPU time is.
# The server measured is what `dotnet publish -c Release` makes (ReadyToRun code, see the csproj), published to
# bench/bin/publish; STARTUP_BUILD=build measures the plain `dotnet build` output (JIT only) instead.
# env: STARTUP_RUNS (3) STARTUP_IDLE_1 (5) STARTUP_IDLE_2 (30) STARTUP_BUILD (publish|build) IGNIS_DLL SKIP_BUILD
# IGNIS_EXTRA (more server arguments; runtime settings such as DOTNET_gcServer go in this script's environment)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PORT=${STARTUP_PORT:-5436}
DATA="$BENCH_DIR/data/startup-demo"
PUBLISH_DIR="$BENCH_DIR/bin/publish"
if [ "${STARTUP_BUILD:-publish}" = publish ]; then
  IGNIS_DLL="$PUBLISH_DIR/Ignis.Server.dll"
  [ -n "${SKIP_BUILD:-}" ] || (cd "$REPO_DIR" && rm -rf "$PUBLISH_DIR" && timeout 1800 dotnet publish src/Ignis.Server -c Release -o "$PUBLISH_DIR" -nologo -v q >"$LOG_DIR/build.log" 2>&1) || { tail -20 "$LOG_DIR/build.log"; exit 1; }
else
  [ -n "${SKIP_BUILD:-}" ] || (cd "$REPO_DIR" && timeout 600 dotnet build src/Ignis.Server -c Release -nologo -v q >"$LOG_DIR/build.log" 2>&1) || { tail -20 "$LOG_DIR/build.log"; exit 1; }
fi
build_info
echo "server $IGNIS_DLL (${STARTUP_BUILD:-publish})" >>"$RESULTS_DIR/build.txt"
OUT="$RESULTS_DIR/startup-demo.tsv"
I1=${STARTUP_IDLE_1:-5}
I2=${STARTUP_IDLE_2:-30}
printf 'utc\tcase\tstart_to_first_200_ms\tcpu_ms_to_first_200\trss_mib_%ss\tanon_mib_%ss\tfile_mib_%ss\trss_mib_%ss\tanon_mib_%ss\tfile_mib_%ss\tcpu_ms_at_%ss\tload_avg_1m\tother_cpu_pct\n' \
  "$I1" "$I1" "$I1" "$I2" "$I2" "$I2" "$I2" >"$OUT"
mem() { awk '/^VmRSS/ {t=$2} /^RssAnon/ {a=$2} /^RssFile/ {f=$2} END {printf "%.0f\t%.0f\t%.0f", t/1024, a/1024, f/1024}' "/proc/$1/status"; }
once() {
  local label=$1 t0 t1 ms=NA cpu=NA code pid deadline load m1 m2 mb0 mt0 mb1 mt1 other=NA
  wait_quiet
  load=$(cut -d' ' -f1 /proc/loadavg)
  read -r mb0 mt0 _ < <(machine_ticks)
  t0=$(date +%s%N)
  # shellcheck disable=SC2086
  dotnet "$IGNIS_DLL" --urls "http://127.0.0.1:$PORT" --data "$DATA" --demo --Ignis:Fhir:Anonymous=Allow ${IGNIS_EXTRA:-} >>"$LOG_DIR/$label.log" 2>&1 &
  pid=$!; STARTED_PIDS+=("$pid")
  deadline=$((SECONDS + 60))
  while [ $SECONDS -lt $deadline ] && kill -0 "$pid" 2>/dev/null; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$PORT/fhir/metadata" || true)
    if [ "$code" = 200 ]; then
      t1=$(date +%s%N); ms=$(( (t1 - t0) / 1000000 )); cpu=$(( $(cpu_ticks "$pid") * 1000 / CLK_TCK ))
      read -r mb1 mt1 _ < <(machine_ticks)
      # other processes' share of the machine while this one started (the server's own CPU taken out)
      other=$(awk -v b="$((mb1 - mb0))" -v t="$((mt1 - mt0))" -v s="$(cpu_ticks "$pid")" 'BEGIN { if (t > 0) printf "%.0f", (b - s) * 100 / t; else print "NA" }')
      break
    fi
    sleep 0.01
  done
  sleep "$I1"; m1=$(mem "$pid")
  sleep $((I2 - I1)); m2=$(mem "$pid")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$label" "$ms" "$cpu" "$m1" "$m2" \
    "$(( $(cpu_ticks "$pid") * 1000 / CLK_TCK ))" "$load" "$other" | tee -a "$OUT"
  stop_pid "$pid"
}
rm -rf "$DATA"; mkdir -p "$DATA"; I2_SAVED=$I2; I2=$I1; once warmup-unrecorded >/dev/null; I2=$I2_SAVED
for r in $(seq 1 "${STARTUP_RUNS:-3}"); do
  rm -rf "$DATA"; mkdir -p "$DATA"
  once fresh-demo
  once restart-demo
done
rm -rf "$DATA"
