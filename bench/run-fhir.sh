#!/usr/bin/env bash
# Ignis FHIR benchmarks on loopback (see docs/benchmarks.md for the method and the results).
# usage: bench/run-fhir.sh [startup] [ingest] [read] [search]      (default: all four)
#   startup  process start -> first 200 on /fhir/metadata, and idle RSS 5 s later; on an empty data
#            folder, on the ingest database and on the large database (when built)
#   ingest   fresh database, INGEST_RESOURCES generated resources posted as transaction Bundles of 100
#            by INGEST_CONCURRENCY clients; RSS idle before and 10 s after the load
#   read     GET /fhir/Patient/{id} with wrk against the ingest database, interleaved with the ceiling
#            (bench/Ignis.Bench.Ceiling serving the same Patient bytes) in the same run
#   search   the three query benchmarks on the large database built by bench/build-db.sh
# env: INGEST_RESOURCES (100000) INGEST_CONCURRENCY (4) STARTUP_RUNS (5) BIG_DB (bench/data/db-1000000)
#      RUNS (3) WRK_THREADS (2) WRK_CONNS (32) WRK_DURATION (15) WRK_WARMUP (5) SKIP_BUILD
# Results: bench/results/<utc time>/ (summary.tsv, startup.tsv, ingest.tsv, logs/), git-ignored.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PHASES=${*:-startup ingest read search}
INGEST_N=${INGEST_RESOURCES:-100000}
BIG_DB=${BIG_DB:-"$BENCH_DIR/data/db-1000000"}
ING_DIR="$BENCH_DIR/data/ingest"
PORT=5401 CEILING_PORT=5411
BASE="http://127.0.0.1:$PORT/fhir"

ensure_tools
[ -n "${SKIP_BUILD:-}" ] && build_info || build_all
{ echo "nproc $(nproc)"; grep -m1 'model name' /proc/cpuinfo; grep MemTotal /proc/meminfo; . /etc/os-release; echo "os $PRETTY_NAME";
  echo "dotnet sdk $(dotnet --version)"; dotnet --list-runtimes | grep AspNetCore || true; (wrk -v 2>&1 || true) | head -1; } >"$RESULTS_DIR/machine.txt"
log "results in $RESULTS_DIR; phases: $PHASES"

# ---------------------------------------------------------------------------------------------
# startup_once LABEL DATA_DIR : one cold start, timed from fork to the first 200 on /fhir/metadata
startup_once() {
  local label=$1 data=$2 t0 t1 code pid ms rss deadline
  wait_quiet
  t0=$(date +%s%N)
  # shellcheck disable=SC2086
  dotnet "$IGNIS_DLL" --urls "http://127.0.0.1:$PORT" --data "$data" $IGNIS_ARGS >>"$LOG_DIR/startup.$label.log" 2>&1 &
  pid=$!; STARTED_PIDS+=("$pid")
  deadline=$((SECONDS + 60)); ms=NA
  while [ $SECONDS -lt $deadline ] && kill -0 "$pid" 2>/dev/null; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$BASE/metadata" || true)
    if [ "$code" = 200 ]; then t1=$(date +%s%N); ms=$(( (t1 - t0) / 1000000 )); break; fi
    sleep 0.01
  done
  sleep 5
  rss=$(rss_mib "$pid" 2>/dev/null || echo NA)
  stop_pid "$pid"
  printf '%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$label" "$ms" "$rss" | tee -a "$RESULTS_DIR/startup.tsv"
}

phase_startup() {
  local r runs=${STARTUP_RUNS:-5} empty="$BENCH_DIR/data/startup-empty"
  printf 'utc\tlabel\tstart_to_first_200_ms\tidle_rss_mib_after_5s\n' >"$RESULTS_DIR/startup.tsv"
  rm -rf "$empty"; mkdir -p "$empty"; startup_once warmup-unrecorded "$empty" >/dev/null
  for r in $(seq 1 "$runs"); do rm -rf "$empty"; mkdir -p "$empty"; startup_once empty-db "$empty"; done
  if [ -f "$ING_DIR/ignis.db" ]; then for r in $(seq 1 "$runs"); do startup_once "ingest-db" "$ING_DIR"; done; fi
  if [ -f "$BIG_DB/built.txt" ]; then for r in $(seq 1 "$runs"); do startup_once "big-db" "$BIG_DB"; done; fi
  rm -rf "$empty"
}

# ---------------------------------------------------------------------------------------------
phase_ingest() {
  local c pid t0 t1 rss0 rss1 peak result
  [ -f "$RESULTS_DIR/ingest.tsv" ] || printf 'utc\tresources\tconcurrency\tresources_per_s\tseconds\terrors\tbundle_p50_ms\tbundle_p99_ms\tserver_cpu_ms_per_resource\tidle_rss_before_mib\tidle_rss_after_mib\tpeak_rss_mib\tother_cpu_pct\n' >"$RESULTS_DIR/ingest.tsv"
  for c in ${INGEST_CONCURRENCY:-4}; do
    rm -rf "$ING_DIR"; mkdir -p "$ING_DIR"
    # --demo on the empty database seeds the demo records and the demo-backend client (token reads)
    start_ignis "ignis-ingest-c$c" "$PORT" "$ING_DIR" --demo; pid=$LAST_PID
    sleep 5; rss0=$(rss_mib "$pid")
    wait_quiet
    local mb0 mt0 mb1 mt1 gcpu
    read -r mb0 mt0 _ < <(machine_ticks); t0=$(cpu_ticks "$pid")
    ( TIMEFORMAT='%U %S'; time timeout 3700 dotnet "$GEN_DLL" --base "$BASE" --resources "$INGEST_N" --concurrency "$c" \
        --lists "$ING_DIR/lists" --progress 10 >"$LOG_DIR/ingest-c$c.txt" 2>&1 ) 2>"$LOG_DIR/ingest-c$c.cputime" || true
    t1=$(cpu_ticks "$pid"); read -r mb1 mt1 _ < <(machine_ticks)
    gcpu=$(awk '{print $1 + $2}' "$LOG_DIR/ingest-c$c.cputime")
    cat "$LOG_DIR/ingest-c$c.txt" >&2
    result=$(grep '^RESULT' "$LOG_DIR/ingest-c$c.txt" || echo "RESULT failed")
    peak=$(peak_rss_mib "$pid"); sleep 10; rss1=$(rss_mib "$pid")
    log "ingest: Ignis 10 s after the load: $(rss_parts "$pid"), peak $peak MiB"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$INGEST_N" "$c" \
      "$(sed -n 's/.*resources_per_s=\([0-9]*\).*/\1/p' <<<"$result")" "$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$result")" \
      "$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$result")" "$(sed -n 's/.*bundle_p50_ms=\([0-9.]*\).*/\1/p' <<<"$result")" \
      "$(sed -n 's/.*bundle_p99_ms=\([0-9.]*\).*/\1/p' <<<"$result")" \
      "$(awk -v a="$t0" -v b="$t1" -v n="$INGEST_N" -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", (b - a) * 1000 / hz / n }')" \
      "$rss0" "$rss1" "$peak" \
      "$(awk -v sb="$((t1 - t0))" -v g="$gcpu" -v mb="$((mb1 - mb0))" -v mt="$((mt1 - mt0))" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", (mb - sb - g * hz) * 100 / mt }')" \
      | tee -a "$RESULTS_DIR/ingest.tsv"
    stop_pid "$pid"
  done
}

# ---------------------------------------------------------------------------------------------
# shuffled_paths FILE : a fixed permutation of stdin (same order every run)
shuffled_paths() { shuf --random-source=<(yes ignis) >"$1"; }

phase_read() {
  local pid cpid etag lm one pass warm
  if [ ! -f "$ING_DIR/lists/patients.txt" ]; then log "no ingest database yet: running the ingest phase first"; phase_ingest; fi
  start_ignis ignis-read "$PORT" "$ING_DIR"; pid=$LAST_PID
  one=$(head -1 "$ING_DIR/lists/patients.txt")
  curl -s -D "$RESULTS_DIR/patient.headers" -o "$RESULTS_DIR/patient.json" "$BASE/Patient/$one"
  etag=$(awk -F': ' 'tolower($1)=="etag" {sub(/\r$/, "", $2); print $2}' "$RESULTS_DIR/patient.headers")
  lm=$(awk -F': ' 'tolower($1)=="last-modified" {sub(/\r$/, "", $2); print $2}' "$RESULTS_DIR/patient.headers")
  start_bg ceiling env CEILING_BODY="$RESULTS_DIR/patient.json" CEILING_ETAG="$etag" CEILING_LAST_MODIFIED="$lm" \
    dotnet "$CEILING_DLL" --urls "http://127.0.0.1:$CEILING_PORT"; cpid=$LAST_PID
  wait_http "http://127.0.0.1:$CEILING_PORT/healthz" 60
  curl -s "http://127.0.0.1:$CEILING_PORT/fhir/Patient/$one" | cmp - "$RESULTS_DIR/patient.json" \
    && log "ceiling serves the same $(wc -c <"$RESULTS_DIR/patient.json") bytes as Ignis's Patient/$one"
  sed "s|^|/fhir/Patient/|" "$ING_DIR/lists/patients.txt" | shuffled_paths "$RESULTS_DIR/read-paths.txt"
  # A system-scoped access token of the demo backend client (client_credentials), sent on every request.
  local token
  token=$(curl -s -u demo-backend:demo-backend-secret -d grant_type=client_credentials -d "scope=system/*.cruds" \
    "http://127.0.0.1:$PORT/oauth/token" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("access_token", ""))' 2>/dev/null || true)
  if [ -n "$token" ]; then
    curl -s -o /dev/null -w "token check: no token -> %{http_code}, " -H "Authorization: Bearer x" "$BASE/Patient/$one" | tee -a "$RESULTS_DIR/run.log"
    curl -s -o /dev/null -w "valid token -> %{http_code}\n" -H "Authorization: Bearer $token" "$BASE/Patient/$one" | tee -a "$RESULTS_DIR/run.log"
  else
    log "no access token from /oauth/token (demo-backend client missing?): the token row is skipped"
  fi
  log "read: Ignis before load: $(rss_parts "$pid")"
  # Interleaved passes so that the ceiling and Ignis see the same machine conditions.
  for pass in $(seq 1 "$RUNS"); do
    warm=0; [ "$pass" = 1 ] && warm=$WRK_WARMUP
    RUNS=1 WRK_WARMUP=$warm run_wrk ceiling "$cpid" "http://127.0.0.1:$CEILING_PORT/fhir/Patient/$one"
    RUNS=1 WRK_WARMUP=$warm run_wrk ignis-read-one "$pid" "$BASE/Patient/$one"
    RUNS=1 WRK_WARMUP=$warm run_wrk ignis-read-rotating "$pid" -s "$BENCH_DIR/lua/rotate.lua" "http://127.0.0.1:$PORT" -- "$RESULTS_DIR/read-paths.txt"
    [ -z "$token" ] || RUNS=1 WRK_WARMUP=$warm run_wrk ignis-read-one-token "$pid" -H "Authorization: Bearer $token" "$BASE/Patient/$one"
  done
  log "read: Ignis after load: $(rss_parts "$pid"), peak $(peak_rss_mib "$pid") MiB"
  stop_pid "$cpid"; stop_pid "$pid"
}

# ---------------------------------------------------------------------------------------------
# check_query LABEL PATHS_FILE : a few sample answers (status, time, Bundle.total, entries)
check_query() {
  local label=$1 file=$2 p
  for p in $(head -3 "$file"); do
    curl -s -o "$LOG_DIR/sample.json" -w "%{http_code} %{time_total}s %{size_download}B" "http://127.0.0.1:$PORT$p" >"$LOG_DIR/sample.meta" || true
    echo "$label $(cat "$LOG_DIR/sample.meta") $(python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); print("total=%s entries=%d" % (b.get("total"), len(b.get("entry", []))))' "$LOG_DIR/sample.json" 2>/dev/null || echo "(not a Bundle)") $p" \
      | tee -a "$RESULTS_DIR/search-samples.txt"
  done
}

phase_search() {
  local pid lists="$BIG_DB/lists" codes y m
  if [ ! -f "$BIG_DB/built.txt" ]; then log "no large database at $BIG_DB: run bench/build-db.sh first; search skipped"; return 0; fi
  start_ignis ignis-search "$PORT" "$BIG_DB"; pid=$LAST_PID
  log "search: Ignis idle on the large database: $(rss_parts "$pid")"
  sed 's|.*|/fhir/Observation?patient=&\&category=vital-signs\&_count=50|' "$lists/patients.txt" | shuffled_paths "$RESULTS_DIR/obs-patient.txt"
  sed 's|.*|/fhir/Patient?name=&|' "$lists/name-prefixes.txt" | shuffled_paths "$RESULTS_DIR/patient-name.txt"
  for y in $(seq 2015 2025); do for m in 01 02 03 04 05 06 07 08 09 10 11 12; do
    echo "/fhir/Observation?code=http://loinc.org%7C8480-6&date=ge$y-$m-01"; done; done | shuffled_paths "$RESULTS_DIR/obs-code-date.txt"
  sed "s|^|/fhir/Patient/|" "$lists/patients.txt" | shuffled_paths "$RESULTS_DIR/read-big-paths.txt"
  check_query obs-patient "$RESULTS_DIR/obs-patient.txt"
  check_query patient-name "$RESULTS_DIR/patient-name.txt"
  check_query obs-code-date "$RESULTS_DIR/obs-code-date.txt"
  run_wrk search-obs-patient-vitals "$pid" -s "$BENCH_DIR/lua/rotate.lua" "http://127.0.0.1:$PORT" -- "$RESULTS_DIR/obs-patient.txt"
  run_wrk search-patient-name "$pid" -s "$BENCH_DIR/lua/rotate.lua" "http://127.0.0.1:$PORT" -- "$RESULTS_DIR/patient-name.txt"
  run_wrk search-obs-code-date "$pid" -s "$BENCH_DIR/lua/rotate.lua" "http://127.0.0.1:$PORT" -- "$RESULTS_DIR/obs-code-date.txt"
  run_wrk read-big-rotating "$pid" -s "$BENCH_DIR/lua/rotate.lua" "http://127.0.0.1:$PORT" -- "$RESULTS_DIR/read-big-paths.txt"
  log "search: Ignis after load: $(rss_parts "$pid"), peak $(peak_rss_mib "$pid") MiB"
  stop_pid "$pid"
}

for phase in $PHASES; do
  case $phase in
    startup|ingest|read|search) log "phase $phase"; "phase_$phase" ;;
    *) echo "unknown phase $phase" >&2; exit 2 ;;
  esac
done
python3 "$BENCH_DIR/summarize.py" "$RESULTS_DIR" | tee "$RESULTS_DIR/summary.md"
