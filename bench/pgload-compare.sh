#!/usr/bin/env bash
# Checks the PostgreSQL bulk loader (bench/Ignis.Bench.PgLoad) against the server's own store: loads the same
# first N generated resources once through PostgresFhirStore (one PUT at a time, as the server writes) and once
# with the bulk loader, then compares every row of every table (bodies, versions, history, all index rows,
# keyed by type/id) and the schema (columns, constraints, index definitions). Only meta.lastUpdated and the
# _lastUpdated index values differ (the time of the write); they are masked.
# usage: bench/pgload-compare.sh [N]     env: PGPORT (54340), PGHOST (127.0.0.1)
set -euo pipefail
N=${1:-3000}
H=${PGHOST:-127.0.0.1}; PORT=${PGPORT:-54340}
P="psql -h $H -p $PORT -U postgres -qtA -v ON_ERROR_STOP=1"
DLL="$(dirname "${BASH_SOURCE[0]}")/Ignis.Bench.PgLoad/bin/Release/net10.0/Ignis.Bench.PgLoad.dll"
for d in pgload_ref pgload_bulk; do $P -c "DROP DATABASE IF EXISTS $d" -c "CREATE DATABASE $d"; done
dotnet "$DLL" engine "Host=$H;Port=$PORT;Username=postgres;Database=pgload_ref" --resources "$N"
dotnet "$DLL" load "Host=$H;Port=$PORT;Username=postgres;Database=pgload_bulk" --resources "$N" --batch 500 --workers 2 \
  --lists "$(mktemp -d)" >/dev/null
dump() { $P -d "$1" <<'SQL'
\copy (SELECT 'res', type, id, version, deleted, (body::jsonb #- '{meta,lastUpdated}')::text FROM resources ORDER BY 2,3) TO STDOUT
\copy (SELECT 'hist', type, id, version, method, (body::jsonb #- '{meta,lastUpdated}')::text, (res_key = (SELECT res_key FROM resources r WHERE r.type=h.type AND r.id=h.id))::text FROM history h ORDER BY 2,3) TO STDOUT
\copy (SELECT 'string', r.type, r.id, x.param_id, x.value_norm, x.value FROM idx_string x JOIN resources r USING (res_key) ORDER BY 2,3,4,5,6) TO STDOUT
\copy (SELECT 'token', r.type, r.id, x.param_id, x.system, x.code, x.text, x.type_system, x.type_code FROM idx_token x JOIN resources r USING (res_key) ORDER BY 2,3,4,5,6,7,8,9) TO STDOUT
\copy (SELECT 'date', r.type, r.id, x.param_id, CASE WHEN x.lo = r.last_updated THEN 'LU' ELSE x.lo::text END, CASE WHEN x.hi = r.last_updated THEN 'LU' ELSE x.hi::text END FROM idx_date x JOIN resources r USING (res_key) ORDER BY 2,3,4,5,6) TO STDOUT
\copy (SELECT 'number', r.type, r.id, x.param_id, x.lo, x.hi FROM idx_number x JOIN resources r USING (res_key) ORDER BY 2,3,4,5,6) TO STDOUT
\copy (SELECT 'quantity', r.type, r.id, x.param_id, x.system, x.code, x.lo, x.hi FROM idx_quantity x JOIN resources r USING (res_key) ORDER BY 2,3,4,5,6,7,8) TO STDOUT
\copy (SELECT 'reference', r.type, r.id, x.param_id, x.target_type, x.target_id, x.url, x.url_version FROM idx_reference x JOIN resources r USING (res_key) ORDER BY 2,3,4,5,6,7,8) TO STDOUT
\copy (SELECT 'uri', r.type, r.id, x.param_id, x.uri FROM idx_uri x JOIN resources r USING (res_key) ORDER BY 2,3,4,5) TO STDOUT
\copy (SELECT 'composite', r.type, r.id, x.param_id, x.c1_system, x.c1_code, x.c1_lo, x.c1_hi, x.c2_system, x.c2_code, x.c2_lo, x.c2_hi, x.c3_system, x.c3_code, x.c3_lo, x.c3_hi FROM idx_composite x JOIN resources r USING (res_key) ORDER BY 2,3,4,5,6,7,8,9,10,11,12,13,14,15,16) TO STDOUT
\copy (SELECT 'index', tablename, indexname, indexdef FROM pg_indexes WHERE schemaname='public' ORDER BY 2,3) TO STDOUT
\copy (SELECT 'column', table_name, column_name, data_type, collation_name, is_nullable, column_default, is_identity, identity_generation FROM information_schema.columns WHERE table_schema='public' ORDER BY 2,3) TO STDOUT
\copy (SELECT 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace='public'::regnamespace ORDER BY 2,3) TO STDOUT
\copy (SELECT 'schema', version FROM ignis_fhir_schema ORDER BY 2) TO STDOUT
SQL
}
ref=$(mktemp); bulk=$(mktemp)
dump pgload_ref >"$ref"; dump pgload_bulk >"$bulk"
echo "rows compared per kind:"; cut -f1 "$ref" | sort | uniq -c
if diff -q "$ref" "$bulk" >/dev/null; then echo "IDENTICAL: $(wc -l <"$ref") rows"; else diff "$ref" "$bulk" | head -40; echo "DIFFERENT"; exit 1; fi
