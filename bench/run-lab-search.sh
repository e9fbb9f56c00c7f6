#!/usr/bin/env bash
# Patient-scoped laboratory search on the 1,000,000-resource database (issue 3): GET /fhir/Observation?category=laboratory
# with the access token of a patient user, target p99 <= 60 ms.
#   bench/run-lab-search.sh      env: N_USERS (64) RUNS (3) WRK_DURATION (15) WRK_WARMUP (5) SKIP_BUILD LAB_SRC LAB_DATA
# The 1M database (bench/build-db.sh) is copied once to LAB_DATA (default bench/data/lab-1m, git-ignored; the copy is
# migrated and gets users, the original is left alone; delete the copy with `rm -rf bench/data/lab-1m`). On the copy,
# with the server stopped, the ignis CLI registers a public PKCE client, a confidential client_credentials client
# (system/*.rs, to check the answers) and N_USERS patient users, user i linked to an evenly spaced Patient of the
# database. Ignis then starts with access control on (Ignis:Fhir:Anonymous=Reject); each user signs in through the real
# /oauth/authorize flow (bench/Ignis.Bench.TokenLoad: login form, consent, PKCE, code exchange) with
# "launch/patient patient/*.rs". Every user's answer is checked against the system token's
# Observation?patient=X&category=laboratory before any load. wrk then rotates over the (token, search) pairs with one
# connection and with 32; the system-token search of the same patients is measured beside it.
# Results: bench/results/<utc time>/summary.tsv (git-ignored).
IGNIS_ARGS=${IGNIS_ARGS:-"--Ignis:Fhir:Anonymous=Reject"}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PORT=5441
BASE="http://127.0.0.1:$PORT"
N_USERS=${N_USERS:-64}
LAB_SRC=${LAB_SRC:-"$BENCH_DIR/data/db-1000000"}
[ -f "$LAB_SRC/ignis.db" ] || LAB_SRC=/work/wt/bench/bench/data/db-1000000
LAB_DATA=${LAB_DATA:-"$BENCH_DIR/data/lab-1m"}
SETUP="$LAB_DATA/lab-bench"
CLI_DLL="$REPO_DIR/src/Ignis.Cli/bin/Release/net10.0/ignis.dll"
TOKENLOAD_DLL="$BENCH_DIR/Ignis.Bench.TokenLoad/bin/Release/net10.0/Ignis.Bench.TokenLoad.dll"
SEARCH="/fhir/Observation?category=laboratory"

ensure_tools
if [ -n "${SKIP_BUILD:-}" ]; then build_info; else
  log "building Ignis.Server, the CLI and TokenLoad (Release)"
  for p in src/Ignis.Server src/Ignis.Cli bench/Ignis.Bench.TokenLoad; do
    (cd "$REPO_DIR" && timeout 900 dotnet build "$p" -c Release -nologo -v q >"$LOG_DIR/build.$(basename "$p").log" 2>&1) \
      || { tail -30 "$LOG_DIR/build.$(basename "$p").log"; exit 1; }
  done
  build_info
fi

if [ ! -f "$LAB_DATA/ignis.db" ]; then
  [ -f "$LAB_SRC/ignis.db" ] || { echo "no 1M database at $LAB_SRC: run bench/build-db.sh 1000000 first" >&2; exit 1; }
  log "copying $LAB_SRC to $LAB_DATA ($(du -sh "$LAB_SRC/ignis.db" | cut -f1))"
  mkdir -p "$LAB_DATA"
  cp --reflink=auto -r "$LAB_SRC/." "$LAB_DATA/"
fi

cli() { timeout 120 dotnet "$CLI_DLL" "$@" --data "$LAB_DATA"; }
if [ ! -f "$SETUP/done" ]; then
  log "setting up clients and $N_USERS patient users on the copy (server stopped)"
  rm -rf "$SETUP"; mkdir -p "$SETUP"
  cli clients add --name "Lab search bench" --public --redirect-uri http://127.0.0.1/callback \
    --scope "launch/patient patient/*.rs openid fhirUser" --json >"$SETUP/app.json"
  cli clients add --name "Lab search bench backend" --secret --grant client_credentials --scope "system/*.rs" --json >"$SETUP/backend.json"
  total=$(wc -l <"$LAB_DATA/lists/patients.txt")
  step=$((total / N_USERS))
  : >"$SETUP/users.tsv"
  for i in $(seq 0 $((N_USERS - 1))); do
    patient=$(sed -n "$((i * step + 1))p" "$LAB_DATA/lists/patients.txt")
    user=$(printf 'lab%03d' "$i")
    # A bench-only password, generated per setup, kept in the git-ignored data folder.
    pass="lab-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    cli users add "$user" --password "$pass" --role patient --fhir-user "Patient/$patient" >/dev/null
    printf '%s\t%s\t%s\n' "$user" "$pass" "$patient" >>"$SETUP/users.tsv"
  done
  touch "$SETUP/done"
fi
jfield() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
APP_ID=$(jfield "$SETUP/app.json" clientId)
BACKEND_ID=$(jfield "$SETUP/backend.json" clientId)
BACKEND_SECRET=$(jfield "$SETUP/backend.json" clientSecret)

log "machine before start: $(uptime)"
start_ignis ignis-lab "$PORT" "$LAB_DATA"; pid=$LAST_PID
log "Ignis started on the copy: $(rss_parts "$pid")"

log "signing in $(wc -l <"$SETUP/users.tsv") users through /oauth/authorize (TokenLoad, client $APP_ID)"
: >"$RESULTS_DIR/user-pairs.txt"; : >"$RESULTS_DIR/users.tsv"
while IFS=$'\t' read -r user pass patient; do
  rm -f "$RESULTS_DIR/token.tmp" # TokenLoad writes the file only when it does not exist yet
  timeout 120 dotnet "$TOKENLOAD_DLL" --base "$BASE" --codes 1 --concurrency 1 --warmup 0 --phases code --client-id "$APP_ID" \
    --user "$user" --password "$pass" --scope "launch/patient patient/*.rs" --access-token-out "$RESULTS_DIR/token.tmp" \
    >>"$LOG_DIR/tokens.log" 2>&1 </dev/null
  [ -s "$RESULTS_DIR/token.tmp" ] || { echo "no token for $user (see $LOG_DIR/tokens.log)" >&2; exit 1; }
  printf '%s %s\n' "$(cat "$RESULTS_DIR/token.tmp")" "$SEARCH" >>"$RESULTS_DIR/user-pairs.txt"
  printf '%s\t%s\t%s\n' "$user" "$patient" "$(cat "$RESULTS_DIR/token.tmp")" >>"$RESULTS_DIR/users.tsv"
done <"$SETUP/users.tsv"
rm -f "$RESULTS_DIR/token.tmp"

system_token=$(curl -s -u "$BACKEND_ID:$BACKEND_SECRET" -d grant_type=client_credentials --data-urlencode "scope=system/*.rs" \
  "$BASE/oauth/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
: >"$RESULTS_DIR/system-pairs.txt"
cut -f2 "$RESULTS_DIR/users.tsv" | while read -r patient; do
  printf '%s %s\n' "$system_token" "/fhir/Observation?patient=$patient&category=laboratory" >>"$RESULTS_DIR/system-pairs.txt"
done

# Correctness first: each user's Bundle holds exactly the Observations the system token finds for that patient with
# category=laboratory, and nothing of anyone else's; a user naming another patient gets none; no token gets 401.
log "checking every user's answer against the system token"
python3 - "$BASE" "$RESULTS_DIR/users.tsv" "$system_token" <<'EOF' | tee "$RESULTS_DIR/verify.txt" >&2
import json, sys, urllib.request, urllib.error
base, users_file, system = sys.argv[1], sys.argv[2], sys.argv[3]
LAB = "http://terminology.hl7.org/CodeSystem/observation-category"
def get(path, token):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token} if token else {})
    try:
        with urllib.request.urlopen(req) as r: return r.status, json.load(r)
    except urllib.error.HTTPError as e: return e.code, None
def ids(bundle): return sorted(e["resource"]["id"] for e in bundle.get("entry", []))
users = [l.rstrip("\n").split("\t") for l in open(users_file) if l.strip()]
bad, total, counts = 0, 0, []
for i, (user, patient, token) in enumerate(users):
    s, mine = get("/fhir/Observation?category=laboratory&_count=100", token)
    s2, ref = get(f"/fhir/Observation?patient={patient}&category=laboratory&_count=100", system)
    ok = s == 200 and s2 == 200 and ids(mine) == ids(ref) and mine.get("total") == ref.get("total")
    for e in mine.get("entry", []) if mine else []:
        r = e["resource"]
        cats = [c.get("code") for cat in r.get("category", []) for c in cat.get("coding", []) if c.get("system") == LAB]
        ok = ok and r["subject"]["reference"] == "Patient/" + patient and "laboratory" in cats
    other = users[(i + 1) % len(users)][1]
    s3, foreign = get(f"/fhir/Observation?patient={other}&category=laboratory", token)
    ok = ok and (s3 == 403 or (s3 == 200 and not foreign.get("entry")))
    counts.append(len(ids(mine)) if mine else -1); total += counts[-1]
    if not ok:
        bad += 1; print(f"MISMATCH {user} Patient/{patient}: user {s} {ids(mine) if mine else None} system {s2} {ids(ref) if ref else None} foreign {s3}")
s4, _ = get("/fhir/Observation?category=laboratory", None)
print(f"users {len(users)}, laboratory Observations per user: min {min(counts)} max {max(counts)} sum {total} "
      f"(users with none: {counts.count(0)}); mismatches {bad}; another patient's search -> none; no token -> {s4}")
sys.exit(1 if bad or s4 != 401 else 0)
EOF

for conns in 1 32; do
  threads=2; [ "$conns" = 1 ] && threads=1
  WRK_THREADS=$threads WRK_CONNS=$conns run_wrk "lab-search-patient-c$conns" "$pid" -s "$BENCH_DIR/lua/rotate-token.lua" "$BASE" -- "$RESULTS_DIR/user-pairs.txt"
  WRK_THREADS=$threads WRK_CONNS=$conns run_wrk "lab-search-system-c$conns" "$pid" -s "$BENCH_DIR/lua/rotate-token.lua" "$BASE" -- "$RESULTS_DIR/system-pairs.txt"
done
log "Ignis after load: $(rss_parts "$pid"), peak $(peak_rss_mib "$pid") MiB"
log "machine after: $(uptime)"
column -t -s $'\t' "$SUMMARY" | cut -c1-220
