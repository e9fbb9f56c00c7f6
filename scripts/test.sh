#!/usr/bin/env bash
# Runs the whole test suite: installs what the tests need when it is missing, then `dotnet test`.
# Ends with one line "N passed, N failed" and exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v sqlite3 >/dev/null 2>&1 || need_apt+=(sqlite3)
# Browser tests (tests/Ignis.Server.Tests/Browser) drive Debian's Chromium through its ChromeDriver.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then need_apt+=(chromium chromium-driver); fi
# The SDK's Linux keyring test (tests/Ignis.Client.Tests/LibSecretTests.cs) runs a private D-Bus and GNOME Keyring.
[ -x /usr/bin/dbus-daemon ] || need_apt+=(dbus-daemon)
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

log=$(mktemp)
dotnet build -c Release -nologo -v q 2>&1 | grep -E "error|Error" | grep -v "0 Error" || true
dotnet test -c Release --no-build "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

passed=$(grep -E '^\s*succeeded:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(grep -E '^\s*failed:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
total=$(grep -E '^\s*total:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
rm -f "$log"
if [ "$total" = 0 ] && [ "$status" != 0 ]; then failed=1; fi
echo "${passed:-0} passed, ${failed:-0} failed"
if [ "$status" != 0 ] || [ "${failed:-0}" != 0 ]; then exit 1; fi
