#!/usr/bin/env bash
# Token endpoint benchmark (issue 3): authorization code exchange and refresh of the public demo client.
# Starts Ignis (Release) on a fresh --demo data folder at 127.0.0.1:5701, runs Ignis.Bench.TokenLoad against it
# with the server's PID (CPU time per token), stops the server by its PID. Loopback only; bounded in time.
#   bench/run-token.sh [loader options]   e.g. --codes 4000 --concurrency 16
# Env: SKIP_BUILD=1, PORT, SERVER_ARGS (extra Ignis arguments), RESULTS_DIR, IGNIS_DLL (another build, for A/B runs).
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
PORT=${PORT:-5701}
RESULTS_DIR=${RESULTS_DIR:-"$BENCH_DIR/results/token-$(date -u +%Y%m%dT%H%M%SZ)"}
mkdir -p "$RESULTS_DIR"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  for p in src/Ignis.Server bench/Ignis.Bench.TokenLoad; do
    (cd "$REPO_DIR" && timeout 600 dotnet build "$p" -c Release -nologo -v q >"$RESULTS_DIR/build.$(basename "$p").log" 2>&1) \
      || { tail -30 "$RESULTS_DIR/build.$(basename "$p").log"; exit 1; }
  done
fi
DATA=$(mktemp -d /tmp/ignis-token-bench.XXXXXX)
# Codes must outlive the minting of thousands of them before the exchange phase starts.
dotnet "${IGNIS_DLL:-$REPO_DIR/src/Ignis.Server/bin/Release/net10.0/Ignis.Server.dll}" --demo --urls "http://127.0.0.1:$PORT" --data "$DATA" \
  --Ignis:Auth:AuthorizationCodeLifetime=00:30:00 ${SERVER_ARGS:-} >"$RESULTS_DIR/server.log" 2>&1 &
SERVER_PID=$!
cleanup() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
{ echo "commit $(git -C "$REPO_DIR" rev-parse --short HEAD) server ${IGNIS_DLL:-this tree}"; echo "load $(cut -d' ' -f1-3 /proc/loadavg)"; } >"$RESULTS_DIR/run.txt"
timeout 900 dotnet "$BENCH_DIR/Ignis.Bench.TokenLoad/bin/Release/net10.0/Ignis.Bench.TokenLoad.dll" \
  --base "http://127.0.0.1:$PORT" --server-pid "$SERVER_PID" "$@" | tee "$RESULTS_DIR/token.tsv"
echo "load after $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS_DIR/run.txt"
