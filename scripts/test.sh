#!/usr/bin/env bash
# Runs the whole test suite: installs what the tests need when it is missing (PostgreSQL through
# scripts/postgres.sh), then `dotnet test` on SQLite and the server tests again on PostgreSQL.
# Ends with one line "N passed, N failed" totalling both runs and exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v sqlite3 >/dev/null 2>&1 || need_apt+=(sqlite3)
# Browser tests (tests/Ignis.Server.Tests/Browser) drive Debian's Chromium through its ChromeDriver.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then need_apt+=(chromium chromium-driver); fi
# The SDK's Linux keyring test (tests/Ignis.Client.Tests/LibSecretTests.cs) runs a private D-Bus and GNOME Keyring.
[ -x /usr/bin/dbus-daemon ] || need_apt+=(dbus-daemon)
# The load-balancer test (tests/Ignis.Server.Tests/Cluster/NginxTwoNodeTests.cs) puts Debian's nginx in front of two nodes.
[ -x /usr/sbin/nginx ] || need_apt+=(nginx-light)
[ -x /usr/bin/gnome-keyring-daemon ] || need_apt+=(gnome-keyring)
[ -x /usr/bin/secret-tool ] || need_apt+=(libsecret-tools)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null; fi
fi

# The third-party client test (tests/Ignis.Server.Tests/Clients) runs a Node script with openid-client.
# Re-installed whenever package-lock.json changed since the last install.
if ! cmp -s tests/clients/package-lock.json tests/clients/node_modules/.ignis-installed-lock 2>/dev/null; then
  (cd tests/clients && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.ignis-installed-lock) \
    || echo "npm ci in tests/clients failed"
fi

# PostgreSQL (scripts/postgres.sh): a throwaway server for the second run and the multi-node tests, unless
# IGNIS_TEST_POSTGRES already names one.
pgdir=""
if [ -z "${IGNIS_TEST_POSTGRES:-}" ]; then
  pgdir=$(mktemp -d /tmp/ignis-pg.XXXXXX)
  if IGNIS_TEST_POSTGRES=$(scripts/postgres.sh start "$pgdir"); then
    export IGNIS_TEST_POSTGRES
  else
    echo "PostgreSQL could not be started; its tests are skipped (and fail when CI=true)"
    unset IGNIS_TEST_POSTGRES
  fi
fi
cleanup() { if [ -n "$pgdir" ]; then scripts/postgres.sh stop "$pgdir"; rm -rf "$pgdir"; fi; }
trap cleanup EXIT

dotnet build -c Release -nologo -v q 2>&1 | grep -E "error|Error" | grep -v "0 Error" || true

total_passed=0
total_failed=0
overall=0
# run NAME ARGS...: one dotnet test run; adds its counts to the totals.
run() {
  local name=$1 log status passed failed total
  shift
  log=$(mktemp)
  echo "== $name"
  dotnet test -c Release --no-build "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  passed=$(grep -E '^\s*succeeded:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  failed=$(grep -E '^\s*failed:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  total=$(grep -E '^\s*total:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  rm -f "$log"
  if [ "${total:-0}" = 0 ] && [ "$status" != 0 ]; then failed=1; fi
  total_passed=$((total_passed + ${passed:-0}))
  total_failed=$((total_failed + ${failed:-0}))
  if [ "$status" != 0 ] || [ "${failed:-0}" != 0 ]; then overall=1; fi
}

# Every test project on SQLite, then the server and engine tests again with every test server on PostgreSQL
# (the client SDK and SMART library tests do not touch storage).
run "SQLite" "$@"
if [ -n "${IGNIS_TEST_POSTGRES:-}" ]; then
  IGNIS_TEST_STORAGE=postgres run "PostgreSQL" --project tests/Ignis.Server.Tests "$@"
  if [ -d tests/Ignis.Fhir.Tests ] && grep -rqs "IGNIS_TEST_STORAGE" tests/Ignis.Fhir.Tests; then
    IGNIS_TEST_STORAGE=postgres run "PostgreSQL (engine)" --project tests/Ignis.Fhir.Tests "$@"
  fi
elif [ "${CI:-}" = true ]; then
  echo "CI=true but PostgreSQL is not available: the PostgreSQL run counts as failed"
  total_failed=$((total_failed + 1))
  overall=1
fi

echo "$total_passed passed, $total_failed failed"
exit $overall
