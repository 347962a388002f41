#!/usr/bin/env bash
# System-level dependencies the suite cannot get from pip: Debian's Chromium (Playwright cannot
# download its own browser on closed networks) and the Allure 3 npm tooling for the HTML report.
# Idempotent: each step checks first and does nothing when it is already satisfied.
# Chromium is required where apt-get exists; the report tooling is optional (a warning without npm).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'install-system-deps: %s\n' "$*"; }
warn() { printf 'install-system-deps: WARNING: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    return 127
  fi
}

install_chromium() {
  if [ -n "${PKCONF_CHROMIUM:-}" ] && command -v "${PKCONF_CHROMIUM}" >/dev/null 2>&1; then
    say "chromium: using PKCONF_CHROMIUM=${PKCONF_CHROMIUM}"
    return
  fi
  if command -v chromium >/dev/null 2>&1; then
    say "chromium: present ($(command -v chromium))"
    return
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    warn "chromium: no apt-get here; install Chromium yourself or run 'playwright install chromium'"
    return
  fi
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    warn "chromium: not root and no sudo; run 'apt-get install -y chromium' as root"
    return
  fi
  say "chromium: installing with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  say "chromium: installed ($(chromium --version 2>/dev/null || echo 'version unknown'))"
}

install_allure() {
  local dir=tools/allure
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    warn "allure: Node.js/npm missing; the HTML report is skipped (results stay in reports/allure-results)"
    return
  fi
  # npm writes node_modules/.package-lock.json on every install: older than the lock means stale.
  if [ -f "$dir/node_modules/.package-lock.json" ] \
    && [ ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "allure: present ($dir/node_modules)"
    return
  fi
  say "allure: npm ci --prefix $dir"
  if ! npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null; then
    warn "allure: npm ci failed; the HTML report is skipped (results stay in reports/allure-results)"
  fi
}

install_chromium
install_allure
