#!/usr/bin/env bash
# Builds the large benchmark database once: a fresh Ignis on bench/data/db-<N>/ fed N generated
# resources (default 1,000,000 ~ 40,000 patients) through transaction Bundles of 100, and keeps it
# (bench/data/ is git-ignored) together with the id / name lists the query benchmarks rotate over.
# The load itself is an ingest measurement on a growing database; its RESULT line is kept in
# bench/data/db-<N>/built.txt. Rebuild with FORCE=1 (e.g. after a schema change on main).
# usage: bench/build-db.sh [RESOURCES]     env: CONCURRENCY (4) BUNDLE_SIZE (100) PORT (5402) FORCE
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=${1:-1000000}
DB_DIR="$BENCH_DIR/data/db-$N"
PORT=${PORT:-5402}
if [ -f "$DB_DIR/built.txt" ] && [ -z "${FORCE:-}" ]; then
  log "$DB_DIR already built: $(tail -1 "$DB_DIR/built.txt")"; exit 0
fi
ensure_tools
[ -n "${SKIP_BUILD:-}" ] && build_info || build_all
rm -rf "$DB_DIR"; mkdir -p "$DB_DIR"
start_ignis ignis-build-db "$PORT" "$DB_DIR"
pid=$LAST_PID
wait_quiet
log "loading $N resources into $DB_DIR (server pid $pid)"
timeout 7200 dotnet "$GEN_DLL" --base "http://127.0.0.1:$PORT/fhir" --resources "$N" \
  --bundle-size "${BUNDLE_SIZE:-100}" --concurrency "${CONCURRENCY:-4}" --lists "$DB_DIR/lists" --progress 30 \
  --time-limit 7000 | tee "$LOG_DIR/build-db.generator.txt"
rc=${PIPESTATUS[0]}
log "server RSS after load: $(rss_mib "$pid") MiB (peak $(peak_rss_mib "$pid") MiB), CPU $(( $(cpu_ticks "$pid") / CLK_TCK )) s"
stop_pid "$pid"
[ "$rc" -eq 0 ] || { log "load failed (exit $rc); database left incomplete"; exit 1; }
{ cat "$RESULTS_DIR/build.txt"; echo "db size $(du -sh "$DB_DIR/ignis.db" | cut -f1)"; grep '^RESULT' "$LOG_DIR/build-db.generator.txt"; } >"$DB_DIR/built.txt"
log "built: $(tr '\n' ' ' <"$DB_DIR/built.txt")"
