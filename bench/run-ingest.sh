#!/usr/bin/env bash
# Ingest benchmark, repeated: for each run a fresh data folder, the Release server started with the loopback
# opt-in, INGEST_RESOURCES resources posted as transaction Bundles of 100 by INGEST_CONCURRENCY clients
# (bench/Ignis.Bench.Generator), and the server's CPU time per resource from /proc/PID/stat around the load.
# Does not wait for a quiet machine (the shared VM seldom is): each row records the load average and the
# share of the machine other processes took, so rows can be compared.
# INGEST_WARMUP=W first posts W resources (W a multiple of 100) to the fresh server and measures only the
# INGEST_RESOURCES after them (the generator's next Bundles: new resources): the sustained rate once the JIT has
# compiled the write path, as the read benchmarks measure after WRK_WARMUP. The CPU of the warm-up is recorded too.
# gate_held_ms_per_resource: how long the server's SQLite write gate was held (its shutdown log line), per resource
# posted (warm-up included): the single writer's serial time.
# usage: bench/run-ingest.sh            env: INGEST_RESOURCES (50000) INGEST_CONCURRENCY (4) INGEST_RUNS (3)
#        INGEST_WARMUP (0) IGNIS_DLL (another build) SKIP_BUILD IGNIS_EXTRA (more server arguments)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=${INGEST_RESOURCES:-50000}
RUNS_N=${INGEST_RUNS:-3}
WARM=${INGEST_WARMUP:-0}
[ $((WARM % 100)) -eq 0 ] || { echo "INGEST_WARMUP must be a multiple of 100" >&2; exit 2; }
PORT=${INGEST_PORT:-5437}
DATA="$BENCH_DIR/data/ingest-runs"
if [ -z "${SKIP_BUILD:-}" ]; then
  for p in src/Ignis.Server bench/Ignis.Bench.Generator; do
    (cd "$REPO_DIR" && timeout 600 dotnet build "$p" -c Release -nologo -v q >"$LOG_DIR/build.$(basename "$p").log" 2>&1) \
      || { tail -30 "$LOG_DIR/build.$(basename "$p").log"; exit 1; }
  done
fi
build_info
OUT="$RESULTS_DIR/ingest-runs.tsv"
printf 'utc\tresources\tconcurrency\tresources_per_s\tseconds\terrors\tbundle_p50_ms\tbundle_p99_ms\tserver_cpu_ms_per_resource\tserver_cpu_pct\tgenerator_cpu_pct\tother_cpu_pct\tload_avg_1m\tpeak_rss_mib\twarmup_resources\twarmup_cpu_ms_per_resource\tgate_held_ms_per_resource\n' >"$OUT"
for c in ${INGEST_CONCURRENCY:-4}; do
  for r in $(seq 1 "$RUNS_N"); do
    rm -rf "$DATA"; mkdir -p "$DATA"
    # shellcheck disable=SC2086
    start_ignis "ignis-ingest-c$c-r$r" "$PORT" "$DATA" ${IGNIS_EXTRA:-}; pid=$LAST_PID
    sleep 2
    wcpu=""
    if [ "$WARM" -gt 0 ]; then
      w0=$(cpu_ticks "$pid")
      timeout 900 dotnet "$GEN_DLL" --base "http://127.0.0.1:$PORT/fhir" --resources "$WARM" --concurrency "$c" \
        --time-limit 600 --progress 60 >"$LOG_DIR/ingest-warmup-c$c-r$r.txt" 2>&1 || true
      wcpu=$(awk -v a="$w0" -v b="$(cpu_ticks "$pid")" -v n="$WARM" -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", (b - a) * 1000 / hz / n }')
    fi
    load=$(cut -d' ' -f1 /proc/loadavg)
    read -r mb0 mt0 _ < <(machine_ticks); t0=$(cpu_ticks "$pid")
    ( TIMEFORMAT='%U %S'; time timeout 900 dotnet "$GEN_DLL" --base "http://127.0.0.1:$PORT/fhir" --resources "$((WARM + N))" \
        --from-bundle "$((WARM / 100))" --concurrency "$c" --time-limit 600 --progress 60 >"$LOG_DIR/ingest-c$c-r$r.txt" 2>&1 ) 2>"$LOG_DIR/ingest-c$c-r$r.cputime" || true
    t1=$(cpu_ticks "$pid"); read -r mb1 mt1 _ < <(machine_ticks)
    gcpu=$(awk '{print $1 + $2}' "$LOG_DIR/ingest-c$c-r$r.cputime")
    result=$(grep '^RESULT' "$LOG_DIR/ingest-c$c-r$r.txt" || echo "RESULT failed")
    f() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$result"; }
    # The generator builds its Bundles before the clock starts: its CPU share includes that.
    peak=$(peak_rss_mib "$pid")
    stop_pid "$pid"
    # The server logs at shutdown how long its SQLite write gate was held in all (warm-up included): per resource posted.
    held=$(sed -n 's/.*SQLite write gate held \([0-9.]*\) ms.*/\1/p' "$LOG_DIR/ignis-ingest-c$c-r$r.log" | tail -1)
    held=$(awk -v h="${held:-}" -v n="$((WARM + N))" 'BEGIN { if (h == "") print "-"; else printf "%.3f", h / n }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$N" "$c" \
      "$(f resources_per_s)" "$(f seconds)" "$(f errors)" "$(f bundle_p50_ms)" "$(f bundle_p99_ms)" \
      "$(awk -v a="$t0" -v b="$t1" -v n="$N" -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", (b - a) * 1000 / hz / n }')" \
      "$(awk -v sb="$((t1 - t0))" -v mt="$((mt1 - mt0))" 'BEGIN { printf "%.1f", sb * 100 / mt }')" \
      "$(awk -v g="$gcpu" -v mt="$((mt1 - mt0))" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", g * hz * 100 / mt }')" \
      "$(awk -v sb="$((t1 - t0))" -v g="$gcpu" -v mb="$((mb1 - mb0))" -v mt="$((mt1 - mt0))" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", (mb - sb - g * hz) * 100 / mt }')" \
      "$load" "$peak" "$WARM" "${wcpu:--}" "$held" | tee -a "$OUT"
  done
done
rm -rf "$DATA"
