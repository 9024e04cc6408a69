"""Front ends over the same controllers (:mod:`..controller`), one package per protocol.

- :mod:`.dynamic`: Pulumi's dynamic providers; the Python API (``from pulumi_aoai_finetune import
  TrainingFile``) registers its resources through it.
- :mod:`.plugin`: a Pulumi resource provider plugin (``pulumi-resource-aoai-finetune``) with a schema
  derived from :mod:`..schema`: YAML, TypeScript, Python (generated SDK) and ``pulumi import``.
"""
