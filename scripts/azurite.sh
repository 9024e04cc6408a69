#!/usr/bin/env bash
# Provide Azurite, the Azure Storage emulator (npm package `azurite`), for the tests that keep Pulumi
# state in Azure Blob Storage (tests/e2e/test_team.py), and print the directory that holds
# `azurite-blob`. Installed once with npm from the lock file in scripts/azurite/ into the cache
# (~/.cache/pulumi-aoai-finetune/azurite-<version>), never into the repository; scripts/test.sh
# runs it, the demo does not need it. Progress goes to stderr; stdout is only the directory.
# Usage: dir=$(bash scripts/azurite.sh) && "$dir/azurite-blob" --help
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
manifest="$root/scripts/azurite"
version="$(sed -n 's/.*"azurite": *"\([^"]*\)".*/\1/p' "$manifest/package.json" | head -n 1)"
CACHE="${PULUMI_AOAI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-aoai-finetune}"
dest="$CACHE/azurite-$version"
bin="$dest/node_modules/.bin"
stamp="$dest/.complete"
log() { printf 'azurite: %s\n' "$*" >&2; }

# A cached install counts only if it was made from the same lock file.
if [ -f "$stamp" ] && cmp -s "$stamp" "$manifest/package-lock.json" && [ -x "$bin/azurite-blob" ]; then
  echo "$bin"; exit 0
fi
command -v npm >/dev/null 2>&1 || { log "npm (Node.js 18 or later) is needed to install Azurite"; exit 1; }
mkdir -p "$CACHE"
exec 9>"$CACHE/azurite.lock"
flock 9  # two test runs never install into the same directory at once
if ! { [ -f "$stamp" ] && cmp -s "$stamp" "$manifest/package-lock.json"; }; then
  log "installing azurite $version into $dest (once; later runs reuse it)"
  rm -rf "$dest"
  mkdir -p "$dest"
  cp "$manifest/package.json" "$manifest/package-lock.json" "$dest/"
  # --ignore-scripts: no package in the tree needs its install script to run Azurite's blob service
  (cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  cp "$manifest/package-lock.json" "$stamp"
fi
echo "$bin"
