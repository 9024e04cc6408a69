"""The Pulumi package schema of the plugin, derived from :mod:`pulumi_aoai_finetune.schema`.

Property names are the camelCase of the Python keywords (``baseModel``); objects that are the
service's own keep its keys (``hyperparameters.n_epochs``). Replacements are decided by the
provider's diff (which knows that the same data re-uploaded is no new training run), so the schema
carries no ``replaceOnChanges``: the descriptions say what a change does.
"""

from __future__ import annotations

from typing import Any

from ... import schema
from ...schema import ANY, ListOf, MapOf, Object, OneOf, Primitive

PYTHON_PACKAGE = "pulumi_aoai_finetune_plugin"  # not pulumi_aoai_finetune: that is the dynamic resources' package
NODE_PACKAGE = "@pulumi/aoai-finetune"
NODE_PULUMI = "^3.270.0"  # the @pulumi/pulumi the Node.js SDK needs

_CHANGE = {
    "replace": "Changing it replaces the {what}.",
    "content": "A change of its content replaces the {what}; the same content under a new name updates it in place.",
    "none": "",
    "update": "",
}


def type_token(obj: Object) -> str:
    return f"{schema.PACKAGE}:{schema.MODULE}:{obj.name}"


def type_spec(t: schema.Type) -> dict[str, Any]:
    if t is ANY:
        return {"$ref": "pulumi.json#/Any"}
    if isinstance(t, Primitive):
        return {"type": t.name}
    if isinstance(t, Object):
        return {"$ref": f"#/types/{type_token(t)}"}
    if isinstance(t, ListOf):
        return {"type": "array", "items": type_spec(t.items)}
    if isinstance(t, MapOf):
        return {"type": "object", "additionalProperties": type_spec(t.values)}
    if isinstance(t, OneOf):
        options = [type_spec(o) for o in t.options]
        return {"type": options[0].get("type", "object"), "oneOf": options}
    raise TypeError(t)


def property_spec(f: schema.Field, *, what: str = "", with_default: bool = True) -> dict[str, Any]:
    text = schema.render(f.description, "camel")
    extra = _CHANGE[f.replace].format(what=what) if what else ""
    if f.default_note:
        extra = f"{extra} Default: {f.default_note}.".strip()
    elif f.default is not None and not isinstance(f.default, (str, int, float, bool)):
        extra = f"{extra} Default: {schema.render(str(f.default), 'camel')}.".strip()
    spec = {**type_spec(f.type), "description": f"{text} {extra}".strip()}
    if with_default and isinstance(f.default, (str, int, float, bool)) and isinstance(f.type, Primitive):
        spec["default"] = f.default
    if f.secret:
        spec["secret"] = True
    return spec


def _object_spec(obj: Object) -> dict[str, Any]:
    return {
        "type": "object",
        "description": schema.render(obj.description, "camel"),
        "properties": {(f.name if obj.api_keys else f.camel): property_spec(f) for f in obj.fields},
        "required": [(f.name if obj.api_keys else f.camel) for f in obj.fields if f.required],
    }


def _resource_spec(res: schema.Resource) -> dict[str, Any]:
    what = res.name
    inputs = {f.camel: property_spec(f, what=what) for f in res.inputs}
    outputs = {**{f.camel: property_spec(f, what=what, with_default=False) for f in res.inputs},
               **{f.camel: property_spec(f) for f in res.outputs}}
    always = [f.camel for f in res.inputs if f.required or f.default is not None or f.default_note]
    return {
        "description": schema.render(res.description, "camel")
        + f"\n\n## Import\n\n```sh\npulumi import {res.token} <name> '{res.import_id}'\n```\n",
        "inputProperties": inputs,
        "requiredInputs": [f.camel for f in res.inputs if f.required],
        "properties": outputs,
        "required": sorted(set(always + [f.camel for f in res.outputs if f.required])),
    }


def _settings_spec() -> dict[str, Any]:
    out = {}
    for s in schema.SETTINGS:
        spec: dict[str, Any] = {**type_spec(s.type), "description": f"{schema.render(s.description, 'camel')} "
                                                                     f"Environment variable: `{s.env}`."}
        if s.default is not None:
            spec["default"] = s.default
            spec["defaultInfo"] = {"environment": [s.env]}
        if s.secret:
            spec["secret"] = True
        out[s.key] = spec
    return out


def package_schema(version: str) -> dict[str, Any]:
    """The package schema (``pulumi package get-schema``), for the plugin's ``GetSchema``."""
    types = {type_token(obj): _object_spec(obj) for obj in schema.object_types().values()}
    settings = _settings_spec()
    return {
        "name": schema.PACKAGE,
        "displayName": "Azure OpenAI fine-tuning",
        "version": version,
        "description": "Azure OpenAI fine-tuning as infrastructure: training files, fine-tuning jobs and model "
                       "deployments, with data validated at preview and no paid run started twice.",
        "keywords": ["pulumi", "azure", "openai", "fine-tuning", "category/ai", "kind/native"],
        "license": "Apache-2.0",
        "publisher": "pulumi-aoai-finetune",
        "config": {"variables": settings},
        "provider": {
            "description": "The provider's settings: stack config `aoai-finetune:<key>` or their environment "
                           "variables (config wins).",
            "inputProperties": settings,
        },
        "types": types,
        "resources": {res.token: _resource_spec(res) for res in schema.RESOURCES},
        "language": {
            "python": {"packageName": PYTHON_PACKAGE, "respectSchemaVersion": True,
                       "requires": {"pulumi": ">=3.146,<4"}, "pyproject": {"enabled": True}},
            # @pulumi/pulumi 3.249 and later ask for Node.js 22 (engines); npm then picks 3.248, which lacks
            # what the generated code calls (existsResource): name a version that has it
            "nodejs": {"packageName": NODE_PACKAGE, "respectSchemaVersion": True,
                       "dependencies": {"@pulumi/pulumi": NODE_PULUMI},
                       "devDependencies": {"typescript": "^5.4.0", "@types/node": "^20"}},
        },
    }
