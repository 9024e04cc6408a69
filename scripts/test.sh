#!/usr/bin/env bash
# Run the test suite: sets up what is missing (scripts/setup.sh, scripts/azurite.sh, and for the
# Terraform tests scripts/tofu-cli.sh), then pytest.
# Extra arguments go to pytest. Fails when a test fails and when no test ran.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
pulumi_bin="$(bash scripts/setup.sh)"
azurite_bin="$(bash scripts/azurite.sh)"  # the Azure Storage emulator, for the tests of shared state
export PATH="$pulumi_bin:$azurite_bin:$PATH"
export PULUMI_SKIP_UPDATE_CHECK=1 PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# The OpenTofu CLI of the Terraform tests (scripts/tofu-cli.sh, cached once built): for a full run it
# is built in the background while the other tests run; the Terraform tests wait for it (the script
# takes a lock). A partial run builds it on demand, only if it runs a Terraform test.
tofu_build=""
if [ "$#" -eq 0 ]; then
  setsid nice -n 5 bash scripts/tofu-cli.sh >/dev/null 2>"${TMPDIR:-/tmp}/pulumi-aoai-finetune-tofu-build.log" &
  tofu_build=$!  # its own process group: stopped with the go build under it if the tests end first
  trap 'kill -- "-$tofu_build" 2>/dev/null || true' EXIT
fi
set +e
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then echo "test.sh: no test ran" >&2; exit 1; fi
exit "$rc"
