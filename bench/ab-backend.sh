#!/usr/bin/env bash
# Interleaved A/B of Ignis builds (or environment switches of one build) under the backend-services token load of
# bench/run-backend.sh (see docs/benchmarks.md, sessions 9 and 10): for each round, each variant in turn gets a fresh
# copy of one data folder, a warm-up with its own assertion pool, then a measured run with a fresh pool. Prints per run
# tokens/s, the server's CPU ms per token and the machine's idle share over the measured run.
#
# usage: bench/ab-backend.sh ROUNDS LABEL=DLL[,NAME=VALUE...] ...
#   e.g. bench/ab-backend.sh 3 main=/tmp/main/Ignis.Server.dll branch=src/Ignis.Server/bin/Release/net10.0/Ignis.Server.dll
#        bench/ab-backend.sh 2 a=$DLL b=$DLL,Ignis__Auth__GroupCommitDelay=00:00:00.001
# env: WARM (40 s) DURATION (20 s) CONNS (32) WARM_POOL (130000) POOL (80000) PORT (5411)
# Needs bench/data/peer-oidc (made by bench/run-backend.sh: the peer's minting script, wrk script and client key).
# Run it alone on the machine: the machine's speed drifts, so compare variants within a round only.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEER="$BENCH_DIR/data/peer-oidc"
CLIENT=bench-pkjwt
SCOPES="system/Patient.rs system/Observation.rs"
BACKEND_DLL="$BENCH_DIR/Ignis.Bench.Backend/bin/Release/net10.0/Ignis.Bench.Backend.dll"
WARM=${WARM:-40} DURATION=${DURATION:-20} CONNS=${CONNS:-32} WARM_POOL=${WARM_POOL:-130000} POOL=${POOL:-80000} PORT=${PORT:-5411}
[ $# -ge 2 ] || { sed -n '2,12p' "$0"; exit 2; }
[ -f "$PEER/node/mint-assertions.mjs" ] || { echo "run bench/run-backend.sh once first (it prepares $PEER)" >&2; exit 2; }
[ -f "$BACKEND_DLL" ] || { echo "build bench/Ignis.Bench.Backend first: dotnet build -c Release bench/Ignis.Bench.Backend" >&2; exit 2; }
ROUNDS=$1; shift
WORK=$(mktemp -d /tmp/ignis-ab.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
URL="http://127.0.0.1:$PORT/oauth/token"

# One data folder with the benchmark client, copied for every run.
dotnet "$BACKEND_DLL" register --data "$WORK/base" --client-id "$CLIENT" --jwks "$PEER/run/keys/client-pkjwt.pub.json" --scopes "$SCOPES" \
  >"$WORK/register.log" 2>&1 || { cat "$WORK/register.log"; exit 1; }

mint() { (cd "$PEER/node" && node mint-assertions.mjs "$1" "$2" "$CLIENT" "$URL" 300 2>/dev/null); }
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
machine() { awk '/^cpu /{print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat; }

run() { # LABEL DLL [NAME=VALUE...]
  local label=$1 dll=$2; shift 2
  local data="$WORK/data-$label" pid i0 i1 c0 c1 requests rps
  rm -rf "$data"; cp -r "$WORK/base" "$data"
  env "$@" dotnet "$dll" --urls "http://127.0.0.1:$PORT" --data "$data" --Ignis:Auth:AccessTokenSigningAlgorithm=ES256 >"$WORK/$label.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 150); do curl -s -o /dev/null "http://127.0.0.1:$PORT/fhir/metadata" && break; sleep 0.2; done
  mint "$WARM_POOL" "$WORK/warm.txt"
  timeout $((WARM + 30)) wrk -t2 -c"$CONNS" -d"${WARM}s" -s "$PEER/lua/token-pkjwt.lua" "$URL" -- "$WORK/warm.txt" 2 "$CLIENT" >/dev/null 2>&1 || true
  mint "$POOL" "$WORK/pool.txt"
  read -r i0 <<<"$(machine | tr ' ' ':')"; c0=$(cpu_ticks "$pid")
  timeout $((DURATION + 30)) wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$PEER/lua/token-pkjwt.lua" "$URL" -- "$WORK/pool.txt" 2 "$CLIENT" >"$WORK/$label.txt" 2>&1 || true
  read -r i1 <<<"$(machine | tr ' ' ':')"; c1=$(cpu_ticks "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  requests=$(awk '/requests in/ {print $1}' "$WORK/$label.txt"); rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/$label.txt")
  awk -v l="$label" -v rps="$rps" -v req="$requests" -v c=$((c1 - c0)) -v a="$i0" -v b="$i1" -v non="$(grep -c 'Non-2xx' "$WORK/$label.txt" || true)" 'BEGIN {
    split(a, x, ":"); split(b, y, ":");
    printf "%-16s tokens/s %8.0f  cpu_ms/token %.3f  machine_idle %4.1f%%  non2xx_lines %d\n", l, rps, c * 10 / req, 100 * (y[1] - x[1]) / (y[2] - x[2]), non }'
  rm -rf "$data"
}

for round in $(seq 1 "$ROUNDS"); do
  for variant in "$@"; do
    label=${variant%%=*}; rest=${variant#*=}
    IFS=, read -r -a parts <<<"$rest"
    run "$label-r$round" "${parts[0]}" "${parts[@]:1}"
  done
done
