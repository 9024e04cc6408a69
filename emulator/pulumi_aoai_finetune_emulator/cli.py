"""``aoai-ft emulator``: run the emulator in the foreground."""

from __future__ import annotations

from pathlib import Path

import click

from .config import DEFAULT_ACCOUNTS, DEFAULT_RESOURCE_GROUP, DEFAULT_SUBSCRIPTION, EmulatorConfig


def _parse_account(value: str) -> tuple[str, str]:
    name, sep, region = value.partition("=")
    if not sep or not name or not region:
        raise click.BadParameter(f"{value!r}: expected NAME=REGION, e.g. aoai-ncus=northcentralus")
    return name.strip(), region.strip().lower()


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback).")
@click.option("--port", default=0, show_default=True, type=click.IntRange(0, 65535), help="Port; 0 = a free port.")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where state is persisted (a restart keeps it). Default: a temporary directory.")
@click.option("--time-scale", default=100.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Emulator seconds per real second; 100 makes a default job last a few seconds.")
@click.option("--account", "accounts", multiple=True, metavar="NAME=REGION",
              help="An account that exists from the start (repeatable). "
                   f"Default: {' '.join(f'{n}={r}' for n, r in DEFAULT_ACCOUNTS)}.")
@click.option("--api-key", default=None, envvar="AOAI_EMULATOR_API_KEY",
              help="Require this api-key / bearer token (default: any non-empty value).")
@click.option("--subscription", default=DEFAULT_SUBSCRIPTION, show_default=True, help="Subscription of the seeded accounts.")
@click.option("--resource-group", default=DEFAULT_RESOURCE_GROUP, show_default=True, help="Resource group of the seeded accounts.")
@click.option("--strict-contract/--no-strict-contract", default=None,
              help="Answer 400 to any request the official spec of its api-version does not define, and 500 to "
                   "any answer of the emulator that breaks it (default: the environment variable "
                   "AOAI_EMULATOR_STRICT_CONTRACT).")
def emulator(host, port, state_dir, time_scale, accounts, api_key, subscription, resource_group, strict_contract):
    """Run a local emulator of Azure OpenAI (ARM management plane and authoring data plane).

    Prints `emulator ready: http://HOST:PORT ...` when it accepts requests; stops on SIGTERM/SIGINT.
    Accounts' data-plane endpoints are http://HOST:PORT/accounts/NAME/ ; ARM is served at
    http://HOST:PORT/subscriptions/... ; emulator controls at /_emulator/ (see ARCHITECTURE.md).
    """
    from .server import EmulatorServer

    config = EmulatorConfig(
        host=host, port=port, state_dir=state_dir, time_scale=time_scale,
        accounts=tuple(_parse_account(a) for a in accounts) or DEFAULT_ACCOUNTS,
        api_key=api_key, subscription_id=subscription, resource_group=resource_group,
    )
    if strict_contract is not None:
        config.strict_contract = strict_contract
    EmulatorServer(config).serve_forever()
