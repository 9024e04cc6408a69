#!/usr/bin/env bash
# Provide the OpenTofu CLI (the Terraform-compatible CLI the Terraform provider's tests and example
# use) and print the directory that holds `tofu`. Order of preference:
#   1. `tofu` already on PATH;
#   2. a cached build from an earlier run;
#   3. a build of the pinned version from its Go modules with the ordinary `go` client (once,
#      ~6 min cold on 2 cores), into ~/.cache/pulumi-aoai-finetune, under a lock so that two
#      builds never race (a second caller waits for the first and reuses its binary).
# Usage: dir=$(bash scripts/tofu-cli.sh) && export PATH="$dir:$PATH"
# Progress goes to stderr; stdout is only the directory. The main job (scripts/demo.sh) never
# calls this: only the Terraform tests and examples/terraform-quickstart need it.
set -euo pipefail

VERSION="${TOFU_VERSION:-v1.12.6}"
CACHE="${PULUMI_AOAI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-aoai-finetune}"
DEST="$CACHE/tofu-$VERSION/bin"
BUILD_REVISION=1  # bump when what this script writes changes: cached copies are then redone
log() { printf 'tofu-cli: %s\n' "$*" >&2; }

if [ -z "${TOFU_CLI_FORCE_BUILD:-}" ] && command -v tofu >/dev/null 2>&1; then
  dirname "$(command -v tofu)"; exit 0
fi
if [ -f "$DEST/.complete-r$BUILD_REVISION" ]; then
  echo "$DEST"; exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/tofu-$VERSION.lock"
if ! flock -n 9; then
  log "another process is building OpenTofu $VERSION; waiting for it"
  flock 9
fi
if [ -f "$DEST/.complete-r$BUILD_REVISION" ]; then  # built by the process we waited for
  echo "$DEST"; exit 0
fi

command -v go >/dev/null 2>&1 || { log "no tofu and no Go toolchain: cannot provide the OpenTofu CLI"; exit 1; }
log "building OpenTofu $VERSION from its Go modules into $DEST (once; later runs reuse it)"
started=$(date +%s)
export GOFLAGS="${GOFLAGS:-} -mod=mod" CGO_ENABLED=0
mkdir -p "$DEST"
rm -f "$DEST/tofu"

# `go install .../cmd/tofu@VERSION` is refused: OpenTofu's go.mod has replace directives. A main
# module of our own requires OpenTofu, copies those replace lines (the ones that name another
# module, not a local directory) and builds cmd/tofu.
build="$CACHE/build-tofu-$VERSION"
mkdir -p "$build"
gomod=$(cd "$build" && go mod download -json "github.com/opentofu/opentofu@$VERSION" \
        | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
[ -f "$gomod" ] || { log "could not download github.com/opentofu/opentofu@$VERSION"; exit 1; }
replaces=$(awk '
  /^replace[[:space:]]*\($/ { block = 1; next }
  block && /^\)/ { block = 0; next }
  block { print "replace " $0; next }
  /^replace[[:space:]]/ { print }
' "$gomod" | grep -v '=>[[:space:]]*\.' || true)
{
  printf 'module tofu-build\n\ngo 1.24\n\nrequire github.com/opentofu/opentofu %s\n\n' "$VERSION"
  printf '%s\n' "$replaces"
} > "$build/go.mod"
printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/opentofu/opentofu/cmd/tofu"\n' > "$build/tools.go"
(cd "$build" && go mod tidy >&2 \
  && go build -trimpath -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
       -o "$DEST/tofu.partial" github.com/opentofu/opentofu/cmd/tofu >&2)
mv "$DEST/tofu.partial" "$DEST/tofu"
"$DEST/tofu" version >&2
log "built in $(( $(date +%s) - started )) s"
touch "$DEST/.complete-r$BUILD_REVISION"
echo "$DEST"
