#!/usr/bin/env bash
# Authorized read (issue 3): GET /fhir/Patient/{id} with a patient-scoped user JWT against the bare-Kestrel
# ceiling serving the same bytes, in interleaved passes of the same run.
#   bench/run-read-auth.sh            env: RUNS (3) WRK_THREADS (2) WRK_CONNS (32) WRK_DURATION (15) WRK_WARMUP (5) SKIP_BUILD
# Ignis runs on a fresh --demo data folder; alice (a patient user) signs in to the public demo-app through the real
# /oauth/authorize flow (bench/Ignis.Bench.TokenLoad: login form, consent, PKCE, code exchange) with the scopes
# "launch/patient patient/*.rs"; her access token is sent on every request for her own Patient/alice. The anonymous
# read of the same resource (loopback opt-in) is measured beside it.
# Results: bench/results/<utc time>/summary.tsv (git-ignored).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PORT=5421 CEILING_PORT=5431
BASE="http://127.0.0.1:$PORT/fhir"
TOKENLOAD_DLL="$BENCH_DIR/Ignis.Bench.TokenLoad/bin/Release/net10.0/Ignis.Bench.TokenLoad.dll"

ensure_tools
if [ -n "${SKIP_BUILD:-}" ]; then build_info; else
  build_all
  (cd "$REPO_DIR" && timeout 600 dotnet build bench/Ignis.Bench.TokenLoad -c Release -nologo -v q >"$LOG_DIR/build.tokenload.log" 2>&1) \
    || { tail -30 "$LOG_DIR/build.tokenload.log"; exit 1; }
fi
DATA=$(mktemp -d /tmp/ignis-read-auth.XXXXXX)
trap 'stop_all; rm -rf "$DATA"' EXIT
start_ignis ignis-read-auth "$PORT" "$DATA" --demo; pid=$LAST_PID

dotnet "$TOKENLOAD_DLL" --base "http://127.0.0.1:$PORT" --codes 1 --concurrency 1 --warmup 0 --phases code \
  --scope "launch/patient patient/*.rs" --access-token-out "$RESULTS_DIR/token.txt" >"$LOG_DIR/token.log" 2>&1
token=$(cat "$RESULTS_DIR/token.txt")
one=alice
curl -s -D "$RESULTS_DIR/patient.headers" -o "$RESULTS_DIR/patient.json" -H "Authorization: Bearer $token" "$BASE/Patient/$one"
etag=$(awk -F': ' 'tolower($1)=="etag" {sub(/\r$/, "", $2); print $2}' "$RESULTS_DIR/patient.headers")
lm=$(awk -F': ' 'tolower($1)=="last-modified" {sub(/\r$/, "", $2); print $2}' "$RESULTS_DIR/patient.headers")
curl -s -o /dev/null -w "token check: patient token on another patient -> %{http_code}; " -H "Authorization: Bearer $token" "$BASE/Patient/bob" | tee -a "$RESULTS_DIR/run.log"
curl -s -o /dev/null -w "own Patient -> %{http_code}\n" -H "Authorization: Bearer $token" "$BASE/Patient/$one" | tee -a "$RESULTS_DIR/run.log"
start_bg ceiling env CEILING_BODY="$RESULTS_DIR/patient.json" CEILING_ETAG="$etag" CEILING_LAST_MODIFIED="$lm" \
  dotnet "$CEILING_DLL" --urls "http://127.0.0.1:$CEILING_PORT"; cpid=$LAST_PID
wait_http "http://127.0.0.1:$CEILING_PORT/healthz" 60
curl -s "http://127.0.0.1:$CEILING_PORT/fhir/Patient/$one" | cmp - "$RESULTS_DIR/patient.json" \
  && log "ceiling serves the same $(wc -c <"$RESULTS_DIR/patient.json") bytes as Ignis's Patient/$one"
for pass in $(seq 1 "$RUNS"); do
  warm=0; [ "$pass" = 1 ] && warm=$WRK_WARMUP
  RUNS=1 WRK_WARMUP=$warm run_wrk ceiling "$cpid" "http://127.0.0.1:$CEILING_PORT/fhir/Patient/$one"
  RUNS=1 WRK_WARMUP=$warm run_wrk ignis-read-patient-token "$pid" -H "Authorization: Bearer $token" "$BASE/Patient/$one"
  RUNS=1 WRK_WARMUP=$warm run_wrk ignis-read-anonymous "$pid" "$BASE/Patient/$one"
done
log "Ignis after load: $(rss_parts "$pid"), peak $(peak_rss_mib "$pid") MiB"
