"""The Terraform schema of the provider block and the resources, derived from the project's
single source of truth (:mod:`pulumi_aoai_finetune.schema`), so the Terraform, Pulumi and Python
front ends cannot drift (tests/provider/adapters/terraform/test_schema.py compares what the plugin serves
with that source).

Names are the source's snake_case (:attr:`Field.name`): the Python keyword, the Terraform attribute
and the key the controllers read. Kinds:

- ``required`` / ``optional``: the user's, echoed unchanged in plans and state;
- ``optional_computed``: the user's if set, else the default the controller fills in (a
  :attr:`Field.default`) or the service's value (:attr:`Field.computed`);
- ``computed``: outputs, and the values check derives (a file's ``content_sha256``).

Types: string, number (integer and number), bool; ``dynamic`` for free-form values (the source's
``any``, the hyperparameters whose values are a number or "auto", lists of objects), written in HCL
as in Python (``hyperparameters = { n_epochs = 3 }``); :class:`~.wire.Nested` attributes for the
source's objects (an account, a sku, a quality gate), whose keys Terraform checks itself.

What Terraform cannot take from the source, and why (:data:`REQUIRED_HERE`, :data:`PRIVATE_ONLY`):
a deployment's name defaults to the Pulumi resource's name, which a provider never sees in
Terraform: it is required there; a check-time flag (``redeploy_expired``) and the mark of an
imported object (``imported``) live only in the provider's private state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ... import schema as source
from .wire import Nested, type_json

PROVIDER_TYPE = "aoai"
SOURCE_ADDRESS = "terraform.local/aoai-finetune/aoai"
PREFIX = "aoai_finetune_"
REQUIRED_HERE = {"ModelDeployment": ("deployment_name",)}
# check-time flags and marks the controllers keep for themselves: in the provider's private state only
PRIVATE_ONLY = ("redeploy_expired", "imported")


@dataclass(frozen=True)
class Attr:
    name: str
    type: Any
    kind: str  # required | optional | optional_computed | computed
    description: str
    sensitive: bool = False

    @property
    def is_input(self) -> bool:
        return self.kind != "computed"

    @property
    def is_computed(self) -> bool:
        return self.kind in ("computed", "optional_computed")


def terraform_type(t: source.Type, *, computed: bool = False) -> Any:
    """The Terraform type of a source type (``computed``: of an output, whose nested keys are computed)."""
    if isinstance(t, source.Primitive):
        return {"string": "string", "integer": "number", "number": "number", "boolean": "bool",
                "any": "dynamic"}[t.name]
    if isinstance(t, source.Object):
        if t.api_keys or any(isinstance(f.type, (source.OneOf, source.Object, source.ListOf)) for f in t.fields):
            return "dynamic"  # the service's own keys, values of several types
        return Nested(tuple(_attr(f, computed=computed, nested=True) for f in t.fields))
    if isinstance(t, source.ListOf) and isinstance(t.items, source.Primitive) and t.items.name != "any":
        return ["list", terraform_type(t.items)]
    if isinstance(t, source.MapOf) and isinstance(t.values, source.Primitive) and t.values.name != "any":
        return ["map", terraform_type(t.values)]
    return "dynamic"  # one of several types, lists of objects


def _kind(f: source.Field, *, output: bool = False, required_here: bool = False) -> str:
    if output:
        return "computed"
    if f.required or required_here:
        return "required"
    if f.default is not None or f.computed:
        return "optional_computed"
    return "optional"


def _attr(f: source.Field, *, output: bool = False, computed: bool = False, nested: bool = False,
          required_here: bool = False) -> Attr:
    kind = "computed" if computed else _kind(f, output=output, required_here=required_here)
    return Attr(f.name, terraform_type(f.type, computed=kind == "computed"), kind, f.description, sensitive=f.secret)


_ID = Attr("id", "string", "computed", "The object's id in the service (for a deployment, its ARM id); the id "
                                       "`tofu import` takes is described with the resource.")


def resource_attrs(res: source.Resource) -> tuple[Attr, ...]:
    required_here = REQUIRED_HERE.get(res.name, ())
    hidden = PRIVATE_ONLY
    names = {f.name for f in res.inputs}
    return ((_ID,)
            + tuple(_attr(f, required_here=f.name in required_here) for f in res.inputs)
            + tuple(_attr(f, output=True) for f in res.outputs if f.name not in names)
            + tuple(_attr(f, output=True) for f in res.state if f.name not in hidden))


RESOURCES = {PREFIX + res.module: resource_attrs(res) for res in source.RESOURCES}
SOURCES = {PREFIX + res.module: res for res in source.RESOURCES}
TRAINING_FILE = RESOURCES[PREFIX + "training_file"]
FINE_TUNING_JOB = RESOURCES[PREFIX + "fine_tuning_job"]
MODEL_DEPLOYMENT = RESOURCES[PREFIX + "model_deployment"]
ACCOUNT = terraform_type(source.ACCOUNT)

# The provider block: the Pulumi provider's settings under their snake_case names, with the same
# environment variables (the provider block wins over the environment, as stack config does).
PROVIDER = tuple(Attr(s.name, terraform_type(s.type), "optional",
                      f"{s.description} Environment variable: {s.env}. Pulumi: aoai-finetune:{s.key}.",
                      sensitive=s.secret) for s in source.SETTINGS)
PROVIDER_KEYS = {s.name: s.key for s in source.SETTINGS}


def snake(key: str) -> str:
    """The snake_case name of a setting's Pulumi key (``pollInterval`` -> ``poll_interval``)."""
    for s in source.SETTINGS:
        if s.key == key:
            return s.name
    return key


def block_pb(attrs: tuple, description: str = "") -> Any:
    """The protocol's Schema.Block of a table of attributes."""
    from tf.gen import tfplugin_pb2 as pb

    return pb.Schema.Block(attributes=[attribute_pb(a) for a in attrs], description=description,
                           description_kind=pb.StringKind.MARKDOWN)


def attribute_pb(attr: Attr) -> Any:
    import json

    from tf.gen import tfplugin_pb2 as pb

    fields: dict[str, Any] = {
        "name": attr.name, "description": attr.description, "description_kind": pb.StringKind.MARKDOWN,
        "required": attr.kind == "required", "optional": attr.kind in ("optional", "optional_computed"),
        "computed": attr.is_computed, "sensitive": attr.sensitive,
    }
    if isinstance(attr.type, Nested):
        fields["nested_type"] = pb.Schema.Object(attributes=[attribute_pb(a) for a in attr.type.attributes],
                                                 nesting=pb.Schema.Object.NestingMode.SINGLE)
    else:
        fields["type"] = json.dumps(type_json(attr.type)).encode()
    return pb.Schema.Attribute(**fields)
