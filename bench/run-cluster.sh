#!/usr/bin/env bash
# Issue 9 benchmark (see docs/benchmarks.md, "Issue 9 — PostgreSQL and two nodes"): the same requests against
#   sqlite   one node on SQLite
#   pg1      one node on PostgreSQL (node 1, addressed directly)
#   pg2      two nodes on the same PostgreSQL database behind Debian's nginx (round robin, keepalive upstream)
# in interleaved passes, so each sees the same shared machine. Requests:
#   read     GET /fhir/Patient/{id}, rotating over the generated Patients, with a bearer token
#   search   GET /fhir/Observation?patient={id}&category=vital-signs&_count=50, rotating, with a bearer token
#   token    POST /oauth/token, client_credentials, client_secret_basic (demo-backend)
# The nodes run with --Ignis:Fhir:Anonymous=Allow only so that the generator can load data without a token;
# every measured FHIR request carries the demo-backend's access token, which the node validates (checked below).
# Per row: req/s, latency, and CPU per request of the Ignis node(s), of PostgreSQL and of nginx, from /proc.
#
# usage: bench/run-cluster.sh
# env: PASSES (3) RESOURCES (4000) WRK_THREADS (2) WRK_CONNS (32) WRK_DURATION (10) WRK_WARMUP (5) SKIP_BUILD
#      QUIET_MAX (5: seconds to wait for a quiet machine before each run; the rows show the other load)
# PostgreSQL: a throwaway cluster from scripts/postgres.sh on PG_PORT (54380), removed at the end.
# Results: bench/results/cluster-<utc time>/ (cluster.tsv, machine.txt, logs/), git-ignored.
export QUIET_MAX=${QUIET_MAX:-5}
RESULTS_DIR=${RESULTS_DIR:-"$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/results/cluster-$(date -u +%Y%m%dT%H%M%SZ)"}
WRK_DURATION=${WRK_DURATION:-10}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PASSES=${PASSES:-3}
RESOURCES=${RESOURCES:-4000}
PG_PORT=${PG_PORT:-54380}
SQ_PORT=5441 N1_PORT=5442 N2_PORT=5443 LB_PORT=5440
WORK=$(mktemp -d /tmp/ignis-cluster-bench.XXXXXX); chmod 755 "$WORK"  # PostgreSQL runs as its own user
PGDIR="$WORK/pg"
OUT="$RESULTS_DIR/cluster.tsv"
BASIC=$(printf 'demo-backend:demo-backend-secret' | base64 -w0)

ensure_tools
[ -x /usr/sbin/nginx ] || { log "installing nginx-light"; apt-get install -y -qq nginx-light >/dev/null; }
if [ -z "${SKIP_BUILD:-}" ]; then
  for p in src/Ignis.Server bench/Ignis.Bench.Generator; do
    (cd "$REPO_DIR" && timeout 600 dotnet build "$p" -c Release -nologo -v q >"$LOG_DIR/build.$(basename "$p").log" 2>&1) \
      || { tail -30 "$LOG_DIR/build.$(basename "$p").log"; exit 1; }
  done
fi
build_info

NGINX_PID="" 
finish() {
  stop_all
  [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null && /usr/sbin/nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -s stop 2>/dev/null || true
  "$REPO_DIR/scripts/postgres.sh" stop "$PGDIR" || true
  rm -rf "$WORK"
}
trap finish EXIT

PG_CS=$("$REPO_DIR/scripts/postgres.sh" start "$PGDIR" "$PG_PORT")
PG_PORT=$(sed -n 's/.*Port=\([0-9]*\).*/\1/p' <<<"$PG_CS")
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
{ echo "nproc $(nproc)"; grep -m1 'model name' /proc/cpuinfo; grep MemTotal /proc/meminfo; . /etc/os-release; echo "os $PRETTY_NAME";
  echo "dotnet sdk $(dotnet --version)"; dotnet --list-runtimes | grep AspNetCore || true; (wrk -v 2>&1 || true) | head -1;
  echo "$("$PG_BIN/postgres" --version) (scripts/postgres.sh: fsync=off, synchronous_commit=off)"; /usr/sbin/nginx -v 2>&1;
  echo "uptime at start: $(uptime)"; } >"$RESULTS_DIR/machine.txt"
log "results in $RESULTS_DIR; PostgreSQL on $PG_PORT"
PG_ARGS=(--Ignis:Storage:Provider=postgres "--Ignis:Storage:ConnectionString=Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
  "--Ignis:PublicBaseUrl=http://127.0.0.1:$LB_PORT")

# --- the nodes ------------------------------------------------------------------------------------------------
start_ignis sqlite "$SQ_PORT" "$WORK/sqlite" --demo; SQ_PID=$LAST_PID
start_ignis node1 "$N1_PORT" "$WORK/node1" --demo "${PG_ARGS[@]}"; N1_PID=$LAST_PID
start_ignis node2 "$N2_PORT" "$WORK/node2" "${PG_ARGS[@]}"; N2_PID=$LAST_PID

mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<NGINX
worker_processes 1;
error_log $WORK/nginx/error.log warn;
pid $WORK/nginx/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  upstream ignis {
    server 127.0.0.1:$N1_PORT;
    server 127.0.0.1:$N2_PORT;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$LB_PORT;
    location / {
      proxy_pass http://ignis;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
  }
}
NGINX
root_user=""; [ "$(id -u)" = 0 ] && root_user=" user root;"
start_bg nginx /usr/sbin/nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g "daemon off;$root_user"; NGINX_PID=$LAST_PID
wait_http "http://127.0.0.1:$LB_PORT/healthz" 30

# --- data: the same generated resources on SQLite and on PostgreSQL ---------------------------------------------
for target in "sqlite $SQ_PORT" "postgres $N1_PORT"; do
  set -- $target
  log "loading $RESOURCES generated resources into $1"
  timeout 900 dotnet "$GEN_DLL" --base "http://127.0.0.1:$2/fhir" --resources "$RESOURCES" --concurrency 4 --lists "$WORK/lists" \
    --progress 30 >"$LOG_DIR/load.$1.txt" 2>&1 || { tail -20 "$LOG_DIR/load.$1.txt"; exit 1; }
  grep '^RESULT' "$LOG_DIR/load.$1.txt" | tee -a "$RESULTS_DIR/run.log"
done
sed "s|^|/fhir/Patient/|" "$WORK/lists/patients.txt" | shuf --random-source=<(yes ignis) >"$RESULTS_DIR/read-paths.txt"
sed 's|.*|/fhir/Observation?patient=&\&category=vital-signs\&_count=50|' "$WORK/lists/patients.txt" | shuf --random-source=<(yes ignis) >"$RESULTS_DIR/search-paths.txt"

token_of() {
  curl -s -u demo-backend:demo-backend-secret -d grant_type=client_credentials -d "scope=system/*.cruds" "http://127.0.0.1:$1/oauth/token" \
    | python3 -c 'import json,sys; t=sys.stdin.read(); b=json.loads(t); print(b["access_token"]) if "access_token" in b else sys.exit("no token: " + t)'
}
SQ_TOKEN=$(token_of "$SQ_PORT")
PG_TOKEN=$(token_of "$LB_PORT")
one=$(head -1 "$RESULTS_DIR/read-paths.txt")
for p in "$SQ_PORT $SQ_TOKEN" "$N1_PORT $PG_TOKEN" "$N2_PORT $PG_TOKEN" "$LB_PORT $PG_TOKEN"; do
  set -- $p
  log "check :$1 $one: bad token -> $(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer x' "http://127.0.0.1:$1$one"),"\
" token -> $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $2" "http://127.0.0.1:$1$one"),"\
" search -> $(curl -s -H "Authorization: Bearer $2" "http://127.0.0.1:$1$(head -1 "$RESULTS_DIR/search-paths.txt")" | python3 -c 'import json,sys; b=json.load(sys.stdin); print(b.get("resourceType"), len(b.get("entry", [])), "entries")')"
done

# --- measurement -----------------------------------------------------------------------------------------------
# ticks PIDS... : CPU ticks (user+system) of these processes together
ticks() { local s=0 p t; for p in "$@"; do t=$(cpu_ticks "$p" 2>/dev/null || echo 0); s=$((s + t)); done; echo "$s"; }
# pg_ticks : CPU ticks of the whole PostgreSQL server: the postmaster with its reaped children (backends that ended)
# and every live child (backends that come and go with the pools are counted whichever way they went)
pg_ticks() {
  local main s p t
  main=$(head -1 "$PGDIR/cluster/postmaster.pid")
  s=$(sed 's/^.*) //' "/proc/$main/stat" | awk '{print $12 + $13 + $14 + $15}')
  for p in $(pgrep -P "$main" || true); do t=$(cpu_ticks "$p" 2>/dev/null || echo 0); s=$((s + t)); done
  echo "$s"
}
nginx_pids() { echo "$NGINX_PID" $(pgrep -P "$NGINX_PID" || true); }
rss_sum() { local s=0 p; for p in "$@"; do s=$((s + $(rss_mib "$p"))); done; echo "$s"; }
pg_backends() { "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'" 2>/dev/null || echo NA; }

printf 'utc\tlabel\tpass\tconns\tdur_s\treq_per_s\tp50_ms\tp99_ms\trequests\tnon2xx\tsocket_errors\tignis_cpu_ms_per_req\tpg_cpu_ms_per_req\tnginx_cpu_ms_per_req\tmachine_busy_pct\tignis_rss_mib\tpg_backends\tloadavg_1m\n' >"$OUT"
# measure LABEL "IGNIS_PIDS" USE_PG USE_NGINX WRK-ARGS...
measure() {
  local label=$1 ipids=$2 use_pg=$3 use_ngx=$4; shift 4
  local log="$LOG_DIR/$label.pass$pass.txt" i0 i1 g0 g1 n0 n1 mb0 mt0 mb1 mt1 ngp reqs
  if [ "$warm" -gt 0 ]; then timeout $((warm + 30)) wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${warm}s" "$@" >"$log.warmup" 2>&1 || true; fi
  wait_quiet
  ngp=""; [ "$use_ngx" = 1 ] && ngp=$(nginx_pids)
  read -r mb0 mt0 _ < <(machine_ticks); i0=$(ticks $ipids); g0=$(pg_ticks); n0=$(ticks $ngp)
  timeout $((WRK_DURATION + 30)) wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${WRK_DURATION}s" --latency "$@" >"$log" 2>&1 || true
  read -r mb1 mt1 _ < <(machine_ticks); i1=$(ticks $ipids); g1=$(pg_ticks); n1=$(ticks $ngp)
  reqs=$(awk '/requests in/ {print $1}' "$log")
  per() { awk -v d="$1" -v n="${reqs:-0}" -v hz="$CLK_TCK" 'BEGIN { if (n > 0) printf "%.3f", d * 1000 / hz / n; else print "NA" }'; }
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$label" "$pass" "$WRK_CONNS" "$WRK_DURATION" \
    "$(awk '/^Requests\/sec:/ {print $2}' "$log")" "$(to_ms "$(awk '$1=="50%" {print $2}' "$log")")" "$(to_ms "$(awk '$1=="99%" {print $2}' "$log")")" \
    "$reqs" "$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$log" | grep . || echo 0)" \
    "$(awk -F'[ ,]+' '/Socket errors:/ {print $4+$6+$8+$10}' "$log" | grep . || echo 0)" \
    "$(per $((i1 - i0)))" "$( [ "$use_pg" = 1 ] && per $((g1 - g0)) || echo -)" "$( [ "$use_ngx" = 1 ] && per $((n1 - n0)) || echo -)" \
    "$(awk -v b=$((mb1 - mb0)) -v t=$((mt1 - mt0)) 'BEGIN { printf "%.0f", b * 100 / t }')" "$(rss_sum $ipids)" \
    "$( [ "$use_pg" = 1 ] && pg_backends || echo -)" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$OUT"
}

READ_LUA="$BENCH_DIR/lua/rotate-bearer.lua" TOKEN_LUA="$BENCH_DIR/lua/token-basic.lua"
for pass in $(seq 1 "$PASSES"); do
  warm=0; [ "$pass" = 1 ] && warm=$WRK_WARMUP
  log "pass $pass of $PASSES (load $(cut -d' ' -f1-3 /proc/loadavg))"
  measure read-sqlite "$SQ_PID" 0 0 -s "$READ_LUA" "http://127.0.0.1:$SQ_PORT" -- "$RESULTS_DIR/read-paths.txt" "$SQ_TOKEN"
  measure read-pg-1node "$N1_PID" 1 0 -s "$READ_LUA" "http://127.0.0.1:$N1_PORT" -- "$RESULTS_DIR/read-paths.txt" "$PG_TOKEN"
  measure read-pg-2nodes-nginx "$N1_PID $N2_PID" 1 1 -s "$READ_LUA" "http://127.0.0.1:$LB_PORT" -- "$RESULTS_DIR/read-paths.txt" "$PG_TOKEN"
  measure search-sqlite "$SQ_PID" 0 0 -s "$READ_LUA" "http://127.0.0.1:$SQ_PORT" -- "$RESULTS_DIR/search-paths.txt" "$SQ_TOKEN"
  measure search-pg-1node "$N1_PID" 1 0 -s "$READ_LUA" "http://127.0.0.1:$N1_PORT" -- "$RESULTS_DIR/search-paths.txt" "$PG_TOKEN"
  measure search-pg-2nodes-nginx "$N1_PID $N2_PID" 1 1 -s "$READ_LUA" "http://127.0.0.1:$LB_PORT" -- "$RESULTS_DIR/search-paths.txt" "$PG_TOKEN"
  measure token-sqlite "$SQ_PID" 0 0 -s "$TOKEN_LUA" "http://127.0.0.1:$SQ_PORT/oauth/token" -- "$BASIC" "system%2F*.cruds"
  measure token-pg-1node "$N1_PID" 1 0 -s "$TOKEN_LUA" "http://127.0.0.1:$N1_PORT/oauth/token" -- "$BASIC" "system%2F*.cruds"
  measure token-pg-2nodes-nginx "$N1_PID $N2_PID" 1 1 -s "$TOKEN_LUA" "http://127.0.0.1:$LB_PORT/oauth/token" -- "$BASIC" "system%2F*.cruds"
done
log "RSS after the load: sqlite $(rss_parts "$SQ_PID"); node1 $(rss_parts "$N1_PID"); node2 $(rss_parts "$N2_PID"); peaks $(peak_rss_mib "$SQ_PID")/$(peak_rss_mib "$N1_PID")/$(peak_rss_mib "$N2_PID") MiB"
log "PostgreSQL client connections now: $(pg_backends) (pools of both nodes plus their listeners)"
echo "uptime at end: $(uptime)" >>"$RESULTS_DIR/machine.txt"
column -t -s $'\t' "$OUT"
