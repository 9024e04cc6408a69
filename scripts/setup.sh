#!/usr/bin/env bash
# Set up from nothing: a virtualenv in .venv with the project (editable) and its test extras, the
# Pulumi CLI (scripts/pulumi-cli.sh) with the YAML and Node.js language hosts beside it
# (scripts/language-hosts.sh), and the provider plugin with its generated SDKs, installed where the
# engine finds it (scripts/plugin.sh). Idempotent; prints the directory of the Pulumi CLI last.
# Reinstalls when pyproject.toml or the validator's C extension source changes (the editable
# install builds the extension in place, when a C compiler is there).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$py" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] \
    || [ provider/pulumi_aoai_finetune/data/_speedups.c -nt "$stamp" ]; then
  echo "setup: installing the project and its dependencies into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip >&2
  .venv/bin/python -m pip install -q -e ".[test,azure,tokens,terraform]" >&2
  touch "$stamp"
fi
bin="$(bash scripts/pulumi-cli.sh)"
bash scripts/language-hosts.sh "$bin"
bash scripts/plugin.sh "$bin"
echo "$bin"
