#!/usr/bin/env bash
# The provider plugin for every Pulumi language, set up from the project's virtualenv (.venv, which
# holds the plugin's executable `pulumi-resource-aoai-finetune`). Idempotent; redoes what the schema
# changed. Usage: bash scripts/plugin.sh <directory of pulumi>
#   1. sdk/schema.json: the package schema, from provider/pulumi_aoai_finetune/schema.py;
#   2. sdk/python, sdk/nodejs: the SDKs generated from it by scripts/sdkgen (a small Go program over
#      the pinned CLI's code generators, built once into the cache). Generated, not committed: they
#      follow the schema by construction, and they carry Pulumi's codegen templates;
#   3. the Python SDK (pulumi_aoai_finetune_plugin) installed into .venv; the Node.js SDK
#      (@pulumi/aoai-finetune) compiled with its npm dependencies (@pulumi/pulumi, typescript), and
#      examples/typescript-quickstart's dependencies installed, both with `npm ci` from committed lock
#      files (scripts/npm-ci.sh);
#   4. the plugin installed where the engine finds it: `pulumi plugin install resource aoai-finetune
#      <version> --file sdk/pulumi-resource-aoai-finetune.tar.gz` into $PULUMI_HOME (~/.pulumi).
# Progress goes to stderr.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
BIN="${1:?usage: plugin.sh <directory of pulumi>}"
export PATH="$BIN:$PATH"
CLI_VERSION="${PULUMI_CLI_VERSION:-v3.274.1}"
CACHE="${PULUMI_AOAI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-aoai-finetune}"
log() { printf 'plugin: %s\n' "$*" >&2; }
py=.venv/bin/python
version=$($py -c 'from pulumi_aoai_finetune.adapters.plugin import version; print(version())')

# 1-2. The schema, and the SDKs generated from it (when it changed).
mkdir -p sdk
$py -m pulumi_aoai_finetune.adapters.plugin schema > sdk/schema.json.new
gen="$CACHE/sdkgen-$CLI_VERSION"
stamp="$(cat sdk/schema.json.new scripts/sdkgen/main.go | sha256sum | cut -c1-16)-$CLI_VERSION"
if [ ! -f sdk/.generated ] || [ "$(cat sdk/.generated)" != "$stamp" ]; then
  if [ ! -x "$gen/sdkgen" ] || ! cmp -s scripts/sdkgen/main.go "$gen/main.go"; then
    command -v go >/dev/null 2>&1 || { log "no Go toolchain to build the SDK generator"; exit 1; }
    mkdir -p "$gen"
    exec 9>"$CACHE/.sdkgen.lock"
    flock 9
    if [ ! -x "$gen/sdkgen" ] || ! cmp -s scripts/sdkgen/main.go "$gen/main.go"; then
      log "building the SDK generator (pkg/v3 $CLI_VERSION codegen) into $gen (once)"
      started=$SECONDS
      cp scripts/sdkgen/main.go "$gen/main.go"
      # the module of the pinned CLI's build (scripts/pulumi-cli.sh), so its module cache serves this too
      printf 'module sdkgen\n\ngo 1.24\n\nrequire github.com/pulumi/pulumi/pkg/v3 %s\n\nreplace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e\n' \
        "$CLI_VERSION" > "$gen/go.mod"
      (cd "$gen" && GOFLAGS="${GOFLAGS:-} -mod=mod" go mod tidy >&2 \
         && GOFLAGS="${GOFLAGS:-} -mod=mod" go build -o sdkgen.partial . >&2 && mv sdkgen.partial sdkgen)
      log "built the SDK generator in $((SECONDS - started)) s"
    fi
    exec 9>&-
  fi
  log "generating the Python and Node.js SDKs from the schema into sdk/"
  rm -rf sdk/python sdk/nodejs sdk/.generated
  "$gen/sdkgen" sdk/schema.json.new sdk
  mv sdk/schema.json.new sdk/schema.json
  rm -f .venv/.plugin-sdk sdk/nodejs/.built
  echo "$stamp" > sdk/.generated
else
  mv sdk/schema.json.new sdk/schema.json
fi

# 3. The SDKs, ready to use.
if [ ! -f .venv/.plugin-sdk ] || [ "$(cat .venv/.plugin-sdk)" != "$stamp" ]; then
  log "installing the Python SDK (pulumi_aoai_finetune_plugin) into .venv"
  $py -m pip install -q --no-deps --force-reinstall ./sdk/python >&2
  echo "$stamp" > .venv/.plugin-sdk
fi
# npm packages come from committed lock files (scripts/npm-ci.sh: `npm ci`, retried once with a clean
# cache): the SDK's build from scripts/sdkgen/nodejs.package-lock.json, the example's from its own.
lock=scripts/sdkgen/nodejs.package-lock.json
built="$stamp $(sha256sum < "$lock" | cut -c1-16)"
if [ ! -f sdk/nodejs/.built ] || [ "$(cat sdk/nodejs/.built)" != "$built" ]; then
  log "building the Node.js SDK (@pulumi/aoai-finetune) with npm"
  cp "$lock" sdk/nodejs/package-lock.json
  bash scripts/npm-ci.sh sdk/nodejs @pulumi/pulumi
  (cd sdk/nodejs && npx tsc >&2 && cp package.json bin/)
  echo "$built" > sdk/nodejs/.built
fi
for example in examples/typescript-quickstart; do
  if [ -d "$example" ] && { [ ! -d "$example/node_modules" ] || [ "$example/package.json" -nt "$example/node_modules" ] \
      || [ "$example/package-lock.json" -nt "$example/node_modules" ] || [ sdk/nodejs/.built -nt "$example/node_modules" ]; }; then
    log "installing the npm dependencies of $example"
    bash scripts/npm-ci.sh "$example" @pulumi/aoai-finetune
    touch "$example/node_modules"
  fi
done

# 4. The plugin, where the engine finds it. The tarball holds the virtualenv's console script (its
#    shebang is this virtualenv's python), so it is made per machine.
tarball=sdk/pulumi-resource-aoai-finetune.tar.gz
if [ ! -f "$tarball" ] || [ .venv/bin/pulumi-resource-aoai-finetune -nt "$tarball" ]; then
  tar -C .venv/bin -czf "$tarball" pulumi-resource-aoai-finetune
fi
home="${PULUMI_HOME:-$HOME/.pulumi}"
if [ ! -x "$home/plugins/resource-aoai-finetune-v$version/pulumi-resource-aoai-finetune" ] \
    || ! cmp -s .venv/bin/pulumi-resource-aoai-finetune "$home/plugins/resource-aoai-finetune-v$version/pulumi-resource-aoai-finetune"; then
  log "installing the plugin aoai-finetune v$version into $home/plugins"
  pulumi plugin install resource aoai-finetune "$version" --file "$tarball" --reinstall >&2
fi
