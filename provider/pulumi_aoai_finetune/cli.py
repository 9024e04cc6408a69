"""``aoai-ft``: the project's command line.

Subcommands are defined next to what they drive and registered here lazily, so importing the
provider never imports the emulator (a separate package) or the CLI's heavier dependencies.
"""

from __future__ import annotations

import importlib

import click

# name -> (module, attribute): each a click command.
_COMMANDS = {
    "emulator": ("pulumi_aoai_finetune_emulator.cli", "emulator"),
    "eval": ("pulumi_aoai_finetune.evaluation.command", "evaluate"),
    "validate": ("pulumi_aoai_finetune.data.command", "validate"),
    "report": ("pulumi_aoai_finetune.report_command", "report"),
    "review": ("pulumi_aoai_finetune.review_command", "review"),
    "ci": ("pulumi_aoai_finetune.ci_command", "ci"),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(_COMMANDS)

    def get_command(self, ctx, name):
        target = _COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target
        return getattr(importlib.import_module(module), attr)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pulumi-aoai-finetune")
def main() -> None:
    """Infrastructure as code for Azure OpenAI fine-tuning: tools around the Pulumi provider."""


if __name__ == "__main__":  # pragma: no cover
    main()
