#!/usr/bin/env bash
# The main job on the embedded default: the `local` stack (stacks/Pulumi.local.yaml) against the local
# emulator, on a local file backend. From nothing: sets up .venv and the Pulumi CLI, starts the
# emulator in the background (state in .state/emulator), then `pulumi up` -- a real training run on
# the emulator and a deployment in two regions -- and prints the stack outputs. Running it again is a
# no-op.
#
#   bash scripts/demo.sh            # up (the default)
#   bash scripts/demo.sh preview    # what would change
#   bash scripts/demo.sh down       # destroy the stack and stop the emulator
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
action="${1:-up}"
pulumi_bin="$(bash scripts/setup.sh)"
export PATH="$pulumi_bin:$root/.venv/bin:$PATH"
state="$root/.state"
mkdir -p "$state/pulumi" "$state/emulator"
export PULUMI_BACKEND_URL="file://$state/pulumi"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-local}"   # the local stack's passphrase
export PULUMI_SKIP_UPDATE_CHECK=1
# the provider plugin scripts/setup.sh installed, not the copy in .venv/bin (on PATH for aoai-ft): the
# engine loads it for every program of this virtualenv and warns about a plugin found on PATH
export PULUMI_IGNORE_AMBIENT_PLUGINS=true

emulator_url() {
  local url
  url="$(cat "$state/emulator.url" 2>/dev/null || true)"
  if [ -n "$url" ] && curl -fsS --max-time 2 "$url/_emulator/health" >/dev/null 2>&1; then
    echo "$url"; return 0
  fi
  local port=0 prev="${url##*:}"
  if [ -n "$prev" ] && ! (exec 3<>"/dev/tcp/127.0.0.1/$prev") 2>/dev/null; then port="$prev"; fi
  echo "demo: starting the emulator (log: .state/emulator.log)" >&2
  : > "$state/emulator.log"
  setsid nohup "$root/.venv/bin/aoai-ft" emulator --port "$port" --state-dir "$state/emulator" --time-scale 200 \
    --account aoai-ncus=northcentralus --account aoai-swc=swedencentral >>"$state/emulator.log" 2>&1 &
  echo $! > "$state/emulator.pid"
  for _ in $(seq 1 100); do
    url="$(sed -n 's/^emulator ready: \(http:[^ ]*\).*/\1/p' "$state/emulator.log" | head -n 1)"
    if [ -n "$url" ]; then echo "$url" > "$state/emulator.url"; echo "$url"; return 0; fi
    sleep 0.1
  done
  echo "demo: the emulator did not start; see .state/emulator.log" >&2; return 1
}

stop_emulator() {
  if [ -f "$state/emulator.pid" ]; then
    kill "$(cat "$state/emulator.pid")" 2>/dev/null || true
    rm -f "$state/emulator.pid" "$state/emulator.url"
  fi
}

url="$(emulator_url)"
export AOAI_FT_ARM_ENDPOINT="$url"
export AOAI_FT_ACCESS_TOKEN="${AOAI_FT_ACCESS_TOKEN:-local-emulator-token}"   # any token: it is the emulator
export AZURE_OPENAI_API_KEY="${AZURE_OPENAI_API_KEY:-local-emulator-key}"
pulumi stack select local --create --non-interactive >/dev/null
case "$action" in
  up)
    pulumi up --yes --non-interactive --stack local
    pulumi stack output --json --stack local ;;
  preview)
    pulumi preview --diff --non-interactive --stack local ;;
  down)
    pulumi destroy --yes --non-interactive --stack local
    stop_emulator ;;
  *)
    echo "usage: bash scripts/demo.sh [up|preview|down]" >&2; exit 2 ;;
esac
