#!/usr/bin/env bash
# Install a directory's npm packages exactly as its committed package-lock.json says (`npm ci`), then
# load the module its programs load first, so a broken package shows here rather than when a program
# runs. npm's shared cache (~/.npm) can hold a damaged package (one once broke @opentelemetry/api under
# the TypeScript example): when either step fails, both are tried once more with a clean, temporary
# cache, which is then removed. Progress goes to stderr.
# Usage: bash scripts/npm-ci.sh <directory> <module to load>
set -euo pipefail
dir="${1:?usage: npm-ci.sh <directory> <module to load>}"
module="${2:?usage: npm-ci.sh <directory> <module to load>}"
log() { printf 'npm-ci: %s\n' "$*" >&2; }
command -v npm >/dev/null 2>&1 || { log "npm (Node.js 20 or later) is needed to install $dir"; exit 1; }
[ -f "$dir/package-lock.json" ] || { log "$dir has no package-lock.json to install from"; exit 1; }

install() {  # install [npm option...]
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error "$@" >&2 \
     && node -e 'require(process.argv[1])' "$module" >&2)
}

if install; then exit 0; fi
fresh="$(mktemp -d)"
trap 'rm -rf "$fresh"' EXIT
log "installing $dir failed (above); once more with a clean npm cache"
install --cache "$fresh" || { log "installing $dir failed twice; nothing more to try"; exit 1; }
