#!/usr/bin/env bash
# Provide the Pulumi CLI and print the directory that holds `pulumi`, the Python language host
# and the `pulumi-resource-pulumi-python` launcher. Order of preference:
#   1. `pulumi` already on PATH (with its language host beside it);
#   2. a cached build from an earlier run;
#   3. the official installer, where get.pulumi.com is reachable;
#   4. a build of the pinned version from its Go modules with the ordinary `go` client.
# Usage: dir=$(bash scripts/pulumi-cli.sh) && export PATH="$dir:$PATH"
# Progress goes to stderr; stdout is only the directory.
set -euo pipefail

VERSION="${PULUMI_CLI_VERSION:-v3.274.1}"
LANGHOST_VERSION="${PULUMI_LANGHOST_VERSION:-v3.79.0}"
CACHE="${PULUMI_AOAI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-aoai-finetune}"
DEST="$CACHE/pulumi-$VERSION/bin"
log() { printf 'pulumi-cli: %s\n' "$*" >&2; }

if [ -z "${PULUMI_CLI_FORCE_BUILD:-}" ] && command -v pulumi >/dev/null 2>&1 \
   && command -v pulumi-language-python >/dev/null 2>&1; then
  dirname "$(command -v pulumi)"; exit 0
fi

BUILD_REVISION=3  # bump when what this script builds changes: cached copies are then redone
WRAPPER_REVISION=1  # bump when only the language host's wrapper (below) changes: rewritten in place

# The v3.79 host takes the project's virtualenv as a `-virtualenv` flag, which today's CLI no longer
# passes (it sends it in the RunRequest). This wrapper passes it: from PULUMI_RUNTIME_VIRTUALENV, else
# from the `virtualenv:` runtime option of the Pulumi.yaml in the directory the engine starts it in.
# It also gives SIGINT its default action back: a `pulumi` started with SIGINT ignored (`cmd &` in a
# script, nohup-style CI runners) hands SIG_IGN on, the Go host then ignores the SIGINT the engine
# stops it with, and every command waited 5 s for the engine's SIGKILL (an empty preview: 6.3 s
# instead of 1.5 s). Written to a temporary name, then moved: running copies never see half a file.
write_langhost_wrapper() {
  local default_int=""
  if env --default-signal=INT true 2>/dev/null; then default_int="env --default-signal=INT "; fi
  cat > "$DEST/pulumi-language-python.tmp.$$" <<SH
#!/bin/sh
# runs the $LANGHOST_VERSION Python language host
host="\$(dirname "\$0")/pulumi-language-python-$LANGHOST_VERSION"
venv="\${PULUMI_RUNTIME_VIRTUALENV:-}"
if [ -z "\$venv" ] && [ -f Pulumi.yaml ]; then
  venv=\$(sed -n 's/^[[:space:]]*virtualenv:[[:space:]]*["'"'"']\{0,1\}\([^"'"'"' #]*\).*/\1/p' Pulumi.yaml | head -n 1)
fi
case "\$venv" in ""|/*) ;; *) venv="\$PWD/\$venv" ;; esac  # absolute: providers start in other directories
if [ -n "\$venv" ]; then exec ${default_int}"\$host" -root="\$PWD" -virtualenv="\$venv" "\$@"; fi
exec ${default_int}"\$host" "\$@"
SH
  chmod +x "$DEST/pulumi-language-python.tmp.$$"
  mv -f "$DEST/pulumi-language-python.tmp.$$" "$DEST/pulumi-language-python"
  touch "$DEST/.wrapper-r$WRAPPER_REVISION"
}

if [ -f "$DEST/.complete-r$BUILD_REVISION" ] || [ -f "$DEST/.official-install" ]; then
  if [ -f "$DEST/.complete-r$BUILD_REVISION" ] && [ ! -f "$DEST/.wrapper-r$WRAPPER_REVISION" ]; then
    exec 8>"$CACHE/.wrapper.lock"
    flock 8
    [ -f "$DEST/.wrapper-r$WRAPPER_REVISION" ] || { log "updating the language host's wrapper"; write_langhost_wrapper; }
    exec 8>&-
  fi
  echo "$DEST"; exit 0
fi

mkdir -p "$DEST"
rm -f "$DEST/pulumi-language-python"  # a partial earlier build

if [ -z "${PULUMI_CLI_FORCE_BUILD:-}" ] && command -v curl >/dev/null 2>&1 \
   && curl -fsS --max-time 10 -o "$CACHE/install.sh" https://get.pulumi.com 2>/dev/null; then
  log "installing $VERSION with the official installer"
  if sh "$CACHE/install.sh" --version "${VERSION#v}" --install-root "$CACHE/pulumi-$VERSION" --no-edit-path >&2; then
    touch "$DEST/.official-install"; echo "$DEST"; exit 0
  fi
  log "the official installer failed; building from Go modules"
fi

command -v go >/dev/null 2>&1 || { log "no pulumi, no installer and no Go toolchain: cannot provide the CLI"; exit 1; }
log "building pulumi $VERSION from its Go modules into $DEST (once; later runs reuse it)"
export GOFLAGS="${GOFLAGS:-} -mod=mod"
ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$VERSION"

# The CLI (the engine) at the pinned version.
cli="$CACHE/build-cli-$VERSION"
mkdir -p "$cli"
cat > "$cli/go.mod" <<GOMOD
module pulumi-cli-build

go 1.24

require github.com/pulumi/pulumi/pkg/v3 $VERSION

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
GOMOD
printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n' > "$cli/tools.go"
(cd "$cli" && go mod tidy >&2 && go build -ldflags "$ldflags" -o "$DEST/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2)

# The Python language host. Since v3.80 it is a Go module of its own that the module proxy does
# not serve; up to v3.79.0 it is a package of github.com/pulumi/pulumi/sdk/v3, which is served.
# The host only starts the program and talks the stable LanguageRuntime protocol; the program
# itself runs on the pulumi SDK installed from PyPI, with the exec script of the pinned version.
lh="$CACHE/build-langhost-$LANGHOST_VERSION"
mkdir -p "$lh"
cat > "$lh/go.mod" <<GOMOD
module pulumi-langhost-build

go 1.24

require github.com/pulumi/pulumi/sdk/v3 $LANGHOST_VERSION
GOMOD
printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python"\n' > "$lh/tools.go"
(cd "$lh" && go mod tidy >&2 && go build -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$LANGHOST_VERSION" \
   -o "$DEST/pulumi-language-python" github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python >&2)
sdkdir=$(cd "$cli" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
install -m 0755 "$sdkdir/python/cmd/pulumi-language-python-exec" "$DEST/pulumi-language-python-exec"

# The launcher the engine runs for dynamic providers, shipped in the pinned SDK module. The engine
# hands it the Pulumi.yaml `virtualenv` option as given and starts it in the program directory
# (`main:`), where a relative path means something else: this wrapper resolves it against the
# project directory, as Pulumi documents the option, then runs the shipped launcher.
install -m 0755 "$sdkdir/python/dist/pulumi-resource-pulumi-python" "$DEST/pulumi-resource-pulumi-python-launcher"
cat > "$DEST/pulumi-resource-pulumi-python" <<'SH'
#!/bin/sh
venv="${PULUMI_RUNTIME_VIRTUALENV:-}"
case "$venv" in
  ""|/*) ;;
  *) dir="$PWD"
     while [ "$dir" != "/" ] && [ ! -f "$dir/Pulumi.yaml" ] && [ ! -f "$dir/Pulumi.yml" ]; do dir=$(dirname "$dir"); done
     if [ -f "$dir/Pulumi.yaml" ] || [ -f "$dir/Pulumi.yml" ]; then
       PULUMI_RUNTIME_VIRTUALENV="$dir/$venv"; export PULUMI_RUNTIME_VIRTUALENV
     fi ;;
esac
exec "$(dirname "$0")/pulumi-resource-pulumi-python-launcher" "$@"
SH
chmod +x "$DEST/pulumi-resource-pulumi-python"

mv "$DEST/pulumi-language-python" "$DEST/pulumi-language-python-$LANGHOST_VERSION"
write_langhost_wrapper
"$DEST/pulumi" version >&2
touch "$DEST/.complete-r$BUILD_REVISION"
echo "$DEST"
