#!/usr/bin/env bash
# SMART Backend Services benchmark (see docs/benchmarks.md): POST /oauth/token, grant client_credentials,
# private_key_jwt with a fresh pre-signed ES256 assertion (unique jti) per request, against Ignis and
# against node oidc-provider configured the same way (the peer in /work/shared/peers), interleaved in one run.
#
# usage: bench/run-backend.sh
# env: PASSES (3) WRK_THREADS (2) WRK_CONNS (32) WRK_DURATION (15) WRK_WARMUP (10) POOL (120000 assertions per run)
#      IGNIS_VARIANTS ("rs256 es256": Ignis:Auth:AccessTokenSigningAlgorithm) PEER_FORMATS ("jwt opaque": oidc-provider's
#      access token formats) SKIP_BUILD
# The same client key signs both pools (the peer's node/keys.mjs made it); both servers register it inline
# with the same scopes; the assertions come from the peer's node/mint-assertions.mjs with aud = each server's
# token endpoint and exp 300 s ahead (SMART allows at most 5 minutes), and wrk sends each one once
# (the peer's lua/token-pkjwt.lua). Results: bench/results/<utc time>/ (summary.tsv, logs/), git-ignored.
WRK_WARMUP=${WRK_WARMUP:-10}   # before lib.sh: .NET's tiered JIT needs more than the peers' 5 s
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# absolute paths: the minting runs in the peer's folder
RESULTS_DIR=$(cd "$RESULTS_DIR" && pwd); LOG_DIR="$RESULTS_DIR/logs"; SUMMARY="$RESULTS_DIR/summary.tsv"
PASSES=${PASSES:-3}
POOL=${POOL:-120000}
PEER_FORMATS=${PEER_FORMATS:-"jwt opaque"}
IGNIS_VARIANTS=${IGNIS_VARIANTS:-"rs256 es256"}
PORT=5401 PEER_PORT=5090
SCOPES="system/Patient.rs system/Observation.rs"
CLIENT=bench-pkjwt
PEERS_SRC=${PEERS_SRC:-/work/shared/peers}
PEER="$BENCH_DIR/data/peer-oidc"        # a private copy: npm modules and keys stay out of the shared folder
BACKEND_DLL="$BENCH_DIR/Ignis.Bench.Backend/bin/Release/net10.0/Ignis.Bench.Backend.dll"
LUA="$PEER/lua/token-pkjwt.lua"

ensure_tools
if [ -z "${SKIP_BUILD:-}" ]; then
  log "building Ignis.Server and Ignis.Bench.Backend (Release)"
  for p in src/Ignis.Server bench/Ignis.Bench.Backend; do
    (cd "$REPO_DIR" && timeout 600 dotnet build "$p" -c Release -nologo -v q >"$LOG_DIR/build.$(basename "$p").log" 2>&1) \
      || { tail -30 "$LOG_DIR/build.$(basename "$p").log"; exit 1; }
  done
fi
build_info
{ echo "nproc $(nproc)"; grep -m1 'model name' /proc/cpuinfo; grep MemTotal /proc/meminfo; . /etc/os-release; echo "os $PRETTY_NAME";
  echo "dotnet sdk $(dotnet --version)"; dotnet --list-runtimes | grep AspNetCore || true; echo "node $(node --version)"; (wrk -v 2>&1 || true) | head -1;
  echo "uptime at start: $(uptime)"; } >"$RESULTS_DIR/machine.txt"

# --- the peer: copy of the shared scripts, its npm packages (same exact versions) and keys ----------------
mkdir -p "$PEER/node" "$PEER/lua"
cp "$PEERS_SRC"/node/{oidc-server.mjs,mint-assertions.mjs,keys.mjs} "$PEER/node/"
cp "$PEERS_SRC/lua/token-pkjwt.lua" "$PEER/lua/"
if [ ! -d "$PEER/node/node_modules/oidc-provider" ]; then
  oidc_version=$(sed -n 's/.*"oidc-provider": "\([^"]*\)".*/\1/p' "$PEERS_SRC/node/package.json")
  jose_version=$(sed -n 's/.*"jose": "\([^"]*\)".*/\1/p' "$PEERS_SRC/node/package.json")
  printf '{ "name": "ignis-bench-peer-oidc", "private": true, "type": "module",\n  "dependencies": { "oidc-provider": "%s", "jose": "%s" } }\n' \
    "$oidc_version" "$jose_version" >"$PEER/node/package.json"
  log "npm install oidc-provider@$oidc_version jose@$jose_version"
  (cd "$PEER/node" && timeout 300 npm install --no-fund --no-audit --loglevel=error >"$LOG_DIR/npm.log" 2>&1) || { cat "$LOG_DIR/npm.log"; exit 1; }
fi
[ -f "$PEER/run/keys/client-pkjwt.pub.json" ] || (cd "$PEER/node" && node keys.mjs)
echo "oidc-provider $(node -p "require('$PEER/node/node_modules/oidc-provider/package.json').version")" >>"$RESULTS_DIR/machine.txt"

# mint COUNT FILE AUDIENCE : pre-signed ES256 assertions, one per line, unique jti, exp in 300 s
mint() { (cd "$PEER/node" && node mint-assertions.mjs "$1" "$2" "$CLIENT" "$3" 300 2>>"$LOG_DIR/mint.log"); }

# check LABEL URL : one assertion accepted, the same one refused, before loading a server
check() {
  local label=$1 url=$2 a body
  mint 1 "$RESULTS_DIR/check.txt" "$url"
  a=$(head -1 "$RESULTS_DIR/check.txt")
  body="grant_type=client_credentials&scope=system%2FPatient.rs&client_id=$CLIENT&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=$a"
  log "$label first use: $(curl -s -d "$body" "$url" | cut -c1-100)"
  log "$label replayed:  $(curl -s -d "$body" "$url" | cut -c1-160)"
}

# load LABEL PID URL : a warm-up with its own pool, then one recorded run with a fresh pool
load() {
  local label=$1 pid=$2 url=$3 pool="$RESULTS_DIR/pool.txt"
  if [ "$WRK_WARMUP" -gt 0 ]; then
    mint "$POOL" "$pool" "$url"
    wait_quiet
    timeout $((WRK_WARMUP + 30)) wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${WRK_WARMUP}s" -s "$LUA" "$url" -- "$pool" "$WRK_THREADS" "$CLIENT" \
      >"$LOG_DIR/$label.warmup.txt" 2>&1 || true
  fi
  mint "$POOL" "$pool" "$url"
  RUNS=1 WRK_WARMUP=0 run_wrk "$label" "$pid" -s "$LUA" "$url" -- "$pool" "$WRK_THREADS" "$CLIENT"
  grep -h 'exhausted 1' "$LOG_DIR/$label.run1.txt" && log "WARNING: $label used up its pool; raise POOL"
  mv "$LOG_DIR/$label.run1.txt" "$LOG_DIR/$label.$(date -u +%H%M%S).txt"
}

# --- Ignis: a fresh data folder with the benchmark client, per access-token signing algorithm -----------
ignis_pids=()
i=0
for variant in $IGNIS_VARIANTS; do
  port=$((PORT + i)); data="$BENCH_DIR/data/backend-$variant"
  rm -rf "$data"; mkdir -p "$data"
  dotnet "$BACKEND_DLL" register --data "$data" --client-id "$CLIENT" --jwks "$PEER/run/keys/client-pkjwt.pub.json" --scopes "$SCOPES" \
    >"$LOG_DIR/register.log" 2>&1 || { cat "$LOG_DIR/register.log"; exit 1; }
  alg=$(echo "$variant" | tr '[:lower:]' '[:upper:]')
  IGNIS_ARGS="" start_ignis "ignis-$variant" "$port" "$data" "--Ignis:Auth:AccessTokenSigningAlgorithm=$alg"
  ignis_pids+=("$LAST_PID")
  check "ignis-$variant" "http://127.0.0.1:$port/oauth/token"
  i=$((i + 1))
done

peer_pids=()
for fmt in $PEER_FORMATS; do
  port=$((PEER_PORT + ${#peer_pids[@]}))
  start_bg "oidc-$fmt" env OIDC_PORT=$port OIDC_AT_FORMAT="$fmt" node "$PEER/node/oidc-server.mjs"
  peer_pids+=("$LAST_PID")
  for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$port/.well-known/openid-configuration" && break; sleep 0.2; done
  check "oidc-$fmt" "http://127.0.0.1:$port/token"
done

for pass in $(seq 1 "$PASSES"); do
  log "pass $pass / $PASSES"
  i=0
  for variant in $IGNIS_VARIANTS; do
    load "ignis-$variant-pkjwt" "${ignis_pids[$i]}" "http://127.0.0.1:$((PORT + i))/oauth/token"
    i=$((i + 1))
  done
  i=0
  for fmt in $PEER_FORMATS; do
    load "oidc-$fmt-pkjwt" "${peer_pids[$i]}" "http://127.0.0.1:$((PEER_PORT + i))/token"
    i=$((i + 1))
  done
done
log "rows: $SUMMARY"
column -t -s $'\t' "$SUMMARY" | cut -c1-220
