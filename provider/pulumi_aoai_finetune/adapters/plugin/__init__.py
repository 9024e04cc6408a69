"""The resources as a Pulumi resource provider plugin, ``pulumi-resource-aoai-finetune``: every Pulumi
language (YAML, TypeScript, the generated Python SDK) and ``pulumi import``.

- :mod:`.provider`: the protocol over the controllers (check, diff, create, read, update, delete,
  import), served with ``pulumi.provider.experimental``;
- :mod:`.wire`: camelCase wire values <-> the controllers' snake_case dicts;
- :mod:`.pulumi_schema`: the package schema, derived from :mod:`pulumi_aoai_finetune.schema`.

``python -m pulumi_aoai_finetune.adapters.plugin schema`` prints the package schema (the SDKs are
generated from it); without arguments the engine's address is expected, as the engine starts it.
"""

from __future__ import annotations

import sys


def version() -> str:
    from importlib.metadata import PackageNotFoundError, version as installed

    try:
        return installed("pulumi-aoai-finetune")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "0.0.0"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["schema"]:
        import json

        from .pulumi_schema import package_schema

        print(json.dumps(package_schema(version()), indent=2))
        return
    from .provider import serve

    serve(argv, version())
