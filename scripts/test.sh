#!/usr/bin/env bash
# Run the test suite: sets up what is missing (scripts/setup.sh, scripts/azurite.sh), then pytest.
# Extra arguments go to pytest. Fails when a test fails and when no test ran.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
pulumi_bin="$(bash scripts/setup.sh)"
azurite_bin="$(bash scripts/azurite.sh)"  # the Azure Storage emulator, for the tests of shared state
export PATH="$pulumi_bin:$azurite_bin:$PATH"
export PULUMI_SKIP_UPDATE_CHECK=1 PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
set +e
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then echo "test.sh: no test ran" >&2; exit 1; fi
exit "$rc"
