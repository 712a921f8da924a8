#!/usr/bin/env bash
# Installs what the end-to-end test rig needs, idempotently:
#   - a Python venv at .tools/venv (repo root) with moto's server and Cognito extras,
#   - the npm packages listed in tests/e2e/package.json (from its lockfile): playwright-core,
#     typescript, and oidc-provider (the OpenID Connect provider of tests/e2e/oidc.test.mjs);
#   - those of tests/e2e/adopt-libs (the libraries tests/e2e/adopt.test.mjs adopts sessions from).
# Reaches only the package registries; skips every step whose result is already there.
# Never downloads a browser: playwright-core is driven with Debian's /usr/bin/chromium.
set -euo pipefail

MOTO_SPEC='moto[server,cognitoidp]==5.2.5'
MOTO_VERSION="${MOTO_SPEC##*==}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
VENV="$ROOT/.tools/venv"
E2E="$ROOT/tests/e2e"
PY="${PYTHON:-python3}"

log() { printf 'rig setup: %s\n' "$*" >&2; }

# --- moto in a venv --------------------------------------------------------
have_moto() {
  [ -x "$VENV/bin/moto_server" ] &&
    [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" = "$MOTO_VERSION" ] &&
    "$VENV/bin/python" -c 'import flask, flask_cors, joserfc' >/dev/null 2>&1
}

if have_moto; then
  log "moto $MOTO_VERSION already in $VENV"
else
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating venv $VENV"
    mkdir -p "$ROOT/.tools"
    "$PY" -m venv "$VENV"
  fi
  log "installing $MOTO_SPEC"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$MOTO_SPEC"
  have_moto || { log "moto install did not produce a working moto_server"; exit 1; }
fi

# --- npm packages -----------------------------------------------------------
# Up to date when every package the lockfile in $1 pins is installed at the pinned version.
npm_up_to_date() {
  [ -f "$1/package-lock.json" ] && [ -d "$1/node_modules" ] &&
    (cd "$1" && node -e '
      const fs = require("fs");
      const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
      for (const [p, meta] of Object.entries(lock.packages || {})) {
        if (!p || meta.dev || meta.optional) continue;
        const file = p + "/package.json";
        if (!fs.existsSync(file) || JSON.parse(fs.readFileSync(file, "utf8")).version !== meta.version) process.exit(1);
      }
    ')
}

# Installs the packages locked in $1 (from npm's cache first) unless they are there.
npm_install() {
  if npm_up_to_date "$1"; then
    log "npm packages already installed in $1/node_modules"
    return
  fi
  log "installing npm packages in $1"
  (cd "$1" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --prefer-offline --ignore-scripts --loglevel=error)
  npm_up_to_date "$1" || { log "npm install in $1 did not produce the locked packages"; exit 1; }
}

npm_install "$E2E"
# The libraries whose sessions tests/e2e/adopt.test.mjs adopts (Amplify v6,
# amazon-cognito-identity-js, oidc-client-ts), apart so that the other tests' install stays small.
npm_install "$E2E/adopt-libs"

log "ready: $VENV/bin/moto_server, $E2E/node_modules"
