#!/usr/bin/env bash
# Provide the YAML and Node.js language hosts beside the Pulumi CLI, so `runtime: yaml` and
# `runtime: nodejs` programs run. Usage: bash scripts/language-hosts.sh <directory of pulumi>
#   1. hosts already beside `pulumi` that this script did not build (an official install ships both):
#      nothing to do;
#   2. otherwise each is built once from its Go module with the ordinary `go` client into that
#      directory (a cache outside the repository), under a lock so parallel setups never race:
#      - YAML:    github.com/pulumi/pulumi-yaml v1.25.0 (cmd/pulumi-language-yaml), with its own pins;
#      - Node.js: the host inside github.com/pulumi/pulumi/sdk/v3 v3.68.0, the last version that has it
#                 (later ones are separate modules the proxy does not serve). It starts the program;
#                 the program runs on @pulumi/pulumi from npm.
# Progress goes to stderr.
set -euo pipefail

DEST="${1:?usage: language-hosts.sh <directory of pulumi>}"
YAML_VERSION="${PULUMI_YAML_VERSION:-v1.25.0}"
NODEJS_VERSION="${PULUMI_NODEJS_HOST_VERSION:-v3.68.0}"
CACHE="${PULUMI_AOAI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-aoai-finetune}"
log() { printf 'language-hosts: %s\n' "$*" >&2; }

# a host there that this script did not build (no stamp of ours) came with the CLI: it is used as it is
have() { [ -x "$DEST/$1" ] && { [ -f "$DEST/.$1-$2" ] || ! ls "$DEST/.$1-"* >/dev/null 2>&1; }; }
if have pulumi-language-yaml "$YAML_VERSION" && have pulumi-language-nodejs "$NODEJS_VERSION"; then exit 0; fi
[ -w "$DEST" ] || { log "$DEST is not writable and lacks the YAML/Node.js hosts: install them with the Pulumi CLI"; exit 1; }

mkdir -p "$CACHE"
exec 9>"$CACHE/.language-hosts.lock"
flock 9  # another setup may be building them: wait for it, then find them built

build() {  # build <binary> <version> <module> <package> <version variable> [replace directive]
  local bin=$1 version=$2 module=$3 package=$4 var=$5 replace=${6:-}
  if have "$bin" "$version"; then return; fi
  command -v go >/dev/null 2>&1 || { log "no Go toolchain to build $bin $version"; exit 1; }
  log "building $bin $version from the Go module proxy into $DEST (once; later runs reuse it)"
  local started=$SECONDS dir="$CACHE/build-$bin-$version"
  # A throwaway main module that requires the host's module, repeating the replace directive of the
  # module's own go.mod (`go install pkg@version` refuses modules that have one).
  mkdir -p "$dir"
  printf 'module %s-build\n\ngo 1.24\n\nrequire %s %s\n%s\n' "$bin" "$module" "$version" \
    "${replace:+replace $replace}" > "$dir/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$package" > "$dir/tools.go"
  (cd "$dir" && GOFLAGS="${GOFLAGS:-} -mod=mod" go mod tidy >&2 \
     && GOFLAGS="${GOFLAGS:-} -mod=mod" go build -ldflags "-s -w -X $var=$version" -o "$DEST/$bin.partial" "$package" >&2)
  mv "$DEST/$bin.partial" "$DEST/$bin"
  touch "$DEST/.$bin-$version"
  log "built $bin $version in $((SECONDS - started)) s"
}

build pulumi-language-yaml "$YAML_VERSION" github.com/pulumi/pulumi-yaml \
  github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml github.com/pulumi/pulumi-yaml/pkg/version.Version
build pulumi-language-nodejs "$NODEJS_VERSION" github.com/pulumi/pulumi/sdk/v3 \
  github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs \
  github.com/pulumi/pulumi/sdk/v3/go/common/version.Version "golang.org/x/text => golang.org/x/text v0.3.6"
