#!/usr/bin/env bash
# 1,000 dynamic client registrations in a row (RFC 7591, open registration of --demo), and the token
# endpoint and a FHIR read measured before and after with the same sequential client.
# usage: bench/run-registration.sh      env: REGISTRATIONS (1000) SAMPLES (300) SKIP_BUILD
# Results: bench/results/<utc time>/registration.tsv (+ logs/), git-ignored. Run only on a quiet machine.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PORT=5421
DATA="$RESULTS_DIR/data"
BENCH_DLL="$BENCH_DIR/Ignis.Bench.Registration/bin/Release/net10.0/Ignis.Bench.Registration.dll"

if [ -z "${SKIP_BUILD:-}" ]; then
  for p in src/Ignis.Server bench/Ignis.Bench.Registration; do
    (cd "$REPO_DIR" && timeout 600 dotnet build "$p" -c Release -nologo -v q >"$LOG_DIR/build.$(basename "$p").log" 2>&1) \
      || { tail -30 "$LOG_DIR/build.$(basename "$p").log"; exit 1; }
  done
fi
build_info
log "results in $RESULTS_DIR"

IGNIS_ARGS="" start_ignis ignis "$PORT" "$DATA" --demo
SPID=$LAST_PID
sleep 3
wait_quiet
RSS0=$(rss_mib "$SPID"); CPU0=$(cpu_ticks "$SPID")
timeout 1200 dotnet "$BENCH_DLL" --base "http://127.0.0.1:$PORT" --registrations "${REGISTRATIONS:-1000}" --samples "${SAMPLES:-300}" \
  | tee "$RESULTS_DIR/registration.tsv"
CPU1=$(cpu_ticks "$SPID"); RSS1=$(rss_mib "$SPID")
printf 'server_rss_mib_before\t%s\tafter\t%s\tpeak\t%s\tserver_cpu_s\t%s\n' "$RSS0" "$RSS1" "$(peak_rss_mib "$SPID")" \
  "$(awk -v a="$CPU0" -v b="$CPU1" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", (b - a) / hz }')" | tee -a "$RESULTS_DIR/registration.tsv"
printf 'clients_in_db\t%s\n' "$(sqlite3 "$DATA/ignis.db" 'select count(*) from OpenIddictApplications' 2>/dev/null || echo NA)" | tee -a "$RESULTS_DIR/registration.tsv"
