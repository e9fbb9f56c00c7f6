#!/usr/bin/env bash
# Issue 9: the three search queries of the FHIR core issue on the large PostgreSQL database that
# bench/Ignis.Bench.PgLoad built (see docs/benchmarks.md, "Issue 9"). One client, one query at a time.
#   engine  SearchParser + SearchEngine against PostgreSQL in process (bench/Ignis.Bench.SearchPath);
#           COLD=1 restarts PostgreSQL first (empty shared_buffers; the OS page cache is not dropped)
#   http    the Release server on the database (IGNIS_DLL: a server build that runs on PostgreSQL),
#           wrk with 1 thread and 1 connection rotating over the same query lists
# usage: bench/run-pg10m.sh engine|http      env: PG_CONN, PG_DATA, LISTS, N (queries per list, 500),
#        EXPLAIN_MIN_MS (auto_explain threshold for the engine run), COLD, PORT (5690), IGNIS_DLL,
#        SEARCHPATH_DLL (another build of bench/Ignis.Bench.SearchPath, e.g. the code before a change),
#        HTTP_N (http: rotate over the first HTTP_N queries of each list, e.g. the engine run's N, instead of all),
#        HTTP_FROM (http: start the patient list at this line, e.g. past the queries earlier runs have read)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PG_CONN=${PG_CONN:-"Host=127.0.0.1;Port=54340;Username=postgres;Database=ignis"}
PG_DATA=${PG_DATA:-"$BENCH_DIR/data/pg10m"}
LISTS=${LISTS:-"$BENCH_DIR/data/pg10m-lists"}
N=${N:-500}
PORT=${PORT:-5690}
SEARCHPATH_DLL=${SEARCHPATH_DLL:-"$BENCH_DIR/Ignis.Bench.SearchPath/bin/Release/net10.0/Ignis.Bench.SearchPath.dll"}

# The query lists, shuffled with a fixed seed (the same order on every run).
make_lists() {
  local rnd="$RESULTS_DIR/random-source"
  head -c 1048576 /dev/zero | openssl enc -aes-128-ctr -pass pass:20251 -nosalt -pbkdf2 2>/dev/null >"$rnd"
  sed 's|.*|/fhir/Observation?patient=&\&category=vital-signs\&_count=50|' "$LISTS/patients.txt" | shuf --random-source="$rnd" >"$RESULTS_DIR/obs-patient.txt"
  sed 's|.*|/fhir/Patient?name=&|' "$LISTS/name-prefixes.txt" | shuf --random-source="$rnd" >"$RESULTS_DIR/patient-name.txt"
  local y m
  for y in $(seq 2015 2025); do for m in 01 02 03 04 05 06 07 08 09 10 11 12; do
    echo "/fhir/Observation?code=http://loinc.org%7C8480-6&date=ge$y-$m-01"; done; done \
    | shuf --random-source="$rnd" >"$RESULTS_DIR/obs-code-date.txt"
  log "lists: $(wc -l <"$RESULTS_DIR/obs-patient.txt") patients, $(wc -l <"$RESULTS_DIR/patient-name.txt") name prefixes, 132 months"
}

pg_restart() {
  log "restarting PostgreSQL (cold shared_buffers)"
  su postgres -s /bin/bash -c "/usr/lib/postgresql/15/bin/pg_ctl -D '$PG_DATA' -l '$PG_DATA/../pglog/pg.log' -w restart -m fast" >>"$LOG_DIR/pg_ctl.log" 2>&1
}

phase_engine() {
  [ -n "${COLD:-}" ] && pg_restart
  local f
  for f in obs-patient patient-name obs-code-date; do
    local n=$N lines; lines=$(wc -l <"$RESULTS_DIR/$f.txt"); [ "$lines" -lt "$n" ] && n=$lines
    # A cold run starts at once (the restart is what it measures); a warm one waits for a quiet moment first.
    [ -z "${COLD:-}" ] && wait_quiet
    log "load before $f: $(cut -d' ' -f1-3 /proc/loadavg)"
    # WARMUP=0 on a cold run: every query is measured, the first ones included.
    WARMUP=${WARMUP:-$([ -n "${COLD:-}" ] && echo 0 || echo 50)} PER_QUERY=1 \
      dotnet "$SEARCHPATH_DLL" "$PG_CONN" "$n" "$RESULTS_DIR/$f.txt" >"$RESULTS_DIR/engine-$f.txt"
    log "engine $([ -n "${COLD:-}" ] && echo cold || echo warm): $(tail -1 "$RESULTS_DIR/engine-$f.txt")  (load after: $(cut -d' ' -f1-3 /proc/loadavg))"
    sort -k1,1 -g -r "$RESULTS_DIR/engine-$f.txt" | grep ' ms ' | head -3 | sed 's/^/    slowest: /' | tee -a "$RESULTS_DIR/run.log" >&2 || true
  done
}

phase_http() {
  local pid
  mkdir -p "$RESULTS_DIR/server-data"
  start_ignis ignis-pg "$PORT" "$RESULTS_DIR/server-data" --Ignis:Storage:Provider=postgres "--Ignis:Storage:ConnectionString=$PG_CONN"
  pid=$LAST_PID
  WRK_THREADS=1 WRK_CONNS=1
  if [ -n "${HTTP_FROM:-}" ]; then
    tail -n "+$HTTP_FROM" "$RESULTS_DIR/obs-patient.txt" >"$RESULTS_DIR/obs-patient.tmp" && mv "$RESULTS_DIR/obs-patient.tmp" "$RESULTS_DIR/obs-patient.txt"
    log "http: the patient list from line $HTTP_FROM"
  fi
  if [ -n "${HTTP_N:-}" ]; then
    local f; for f in obs-patient patient-name obs-code-date; do
      head -n "$HTTP_N" "$RESULTS_DIR/$f.txt" >"$RESULTS_DIR/$f.tmp" && mv "$RESULTS_DIR/$f.tmp" "$RESULTS_DIR/$f.txt"; done
    log "http: the first $HTTP_N queries of each list"
  fi
  run_wrk pg-obs-patient-vitals "$pid" -s "$BENCH_DIR/lua/rotate.lua" "http://127.0.0.1:$PORT" -- "$RESULTS_DIR/obs-patient.txt"
  run_wrk pg-patient-name "$pid" -s "$BENCH_DIR/lua/rotate.lua" "http://127.0.0.1:$PORT" -- "$RESULTS_DIR/patient-name.txt"
  run_wrk pg-obs-code-date "$pid" -s "$BENCH_DIR/lua/rotate.lua" "http://127.0.0.1:$PORT" -- "$RESULTS_DIR/obs-code-date.txt"
  stop_pid "$pid"
}

make_lists
for phase in "$@"; do log "phase $phase"; "phase_$phase"; done
log "results in $RESULTS_DIR"
