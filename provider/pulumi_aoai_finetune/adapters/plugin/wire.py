"""Property values on the wire (camelCase, ``PropertyValue``) <-> the controllers' plain snake_case dicts.

Names come from :mod:`pulumi_aoai_finetune.schema`: a property is found by its camelCase name or by its
snake_case one, so a stack moved over from the dynamic resources (whose state is snake_case and holds
``__provider``) reads as well as the plugin's own. Types too: numbers arrive as floats and integers
are given back their type; an unknown value (at preview) is the engine's sentinel string, which is
also what the plugin sends back for an output not known yet (``PropertyValue.computed()`` cannot be
marshalled by the SDK: defect 1 in the docs). Secrets are unwrapped on the way in and wrapped again
on the way out: the schema's secret properties, and any input the program sent as a secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Iterable, Optional

from pulumi.provider.experimental.property_value import Computed, PropertyValue, ResourceReference

from ... import schema
from ...controller import UNKNOWN
from ...schema import INTEGER, ListOf, MapOf, Object, OneOf

Fields = tuple[schema.Field, ...]
DYNAMIC_STATE = "__provider"  # the pickled provider a dynamic resource's state holds


def _fields_of(res: schema.Resource) -> Fields:
    return res.inputs + res.outputs + res.state


def _lookup(fields: Fields, key: str, api_keys: bool = False) -> Optional[schema.Field]:
    for f in fields:
        if key == f.name or (not api_keys and key == f.camel):
            return f
    return None


def _integer(t: Optional[schema.Type]) -> bool:
    return t is INTEGER or (isinstance(t, OneOf) and INTEGER in t.options)


def _plain(pv: PropertyValue, t: Optional[schema.Type]) -> Any:
    value = pv.value
    if isinstance(value, Computed):
        return UNKNOWN
    if isinstance(value, ResourceReference):
        rid = value.resource_id
        return _plain(rid, t) if rid is not None else UNKNOWN
    if isinstance(value, float):
        if value.is_integer() and (_integer(t) or t is schema.ANY):
            return int(value)
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence):
        item = t.items if isinstance(t, ListOf) else None
        return [_plain(v, item) for v in value]
    if isinstance(value, Mapping):
        if isinstance(t, Object):
            out = {}
            for key, v in value.items():
                f = _lookup(t.fields, key, t.api_keys)
                out[f.name if f else key] = _plain(v, f.type if f else None)
            return out
        inner = t.values if isinstance(t, MapOf) else (schema.ANY if t is schema.ANY else None)
        return {key: _plain(v, inner) for key, v in value.items()}
    return value


def from_wire(props: dict[str, PropertyValue], res: schema.Resource) -> tuple[dict[str, Any], set[str]]:
    """Wire properties -> (the controller's dict, the names of those that came as secrets)."""
    out: dict[str, Any] = {}
    secret: set[str] = set()
    for key, pv in (props or {}).items():
        if key.startswith("__"):  # __provider (a dynamic resource's state), __defaults...
            continue
        f = _lookup(_fields_of(res), key)
        name = f.name if f else key
        out[name] = _plain(pv, f.type if f else None)
        if pv.contains_secret():
            secret.add(name)
    return out, secret


def _value(value: Any, t: Optional[schema.Type]) -> PropertyValue:
    if isinstance(value, PropertyValue):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return PropertyValue(value)
    if isinstance(value, (int, float)):
        return PropertyValue(float(value))
    if isinstance(value, (list, tuple)):
        item = t.items if isinstance(t, ListOf) else None
        return PropertyValue([_value(v, item) for v in value])
    if isinstance(value, dict):
        if isinstance(t, Object):
            out = {}
            for key, v in value.items():
                f = _lookup(t.fields, key, t.api_keys)
                out[(f.name if t.api_keys else f.camel) if f else key] = _value(v, f.type if f else None)
            return PropertyValue(out)
        inner = t.values if isinstance(t, MapOf) else None
        return PropertyValue({str(k): _value(v, inner) for k, v in value.items()})
    raise TypeError(f"cannot send a {type(value).__name__} to the engine")


def to_wire(values: dict[str, Any], res: schema.Resource, secret: Iterable[str] = ()) -> dict[str, PropertyValue]:
    """The controller's dict -> wire properties (camelCase; secrets wrapped)."""
    secret = set(secret)
    out: dict[str, PropertyValue] = {}
    for key, value in values.items():
        f = _lookup(_fields_of(res), key)
        pv = _value(value, f.type if f else None)
        if (f is not None and f.secret) or key in secret:
            pv = pv.with_secret(True)
        out[f.camel if f else key] = pv
    return out


def unknown_inputs(values: dict[str, Any], res: schema.Resource) -> list[tuple[str, str]]:
    """Failures for properties a program set that the resource does not have, with a suggestion."""
    import difflib

    known = {f.name for f in res.inputs + res.state}
    names = [f.camel for f in res.inputs]
    failures = []
    for key in values:
        if key not in known:
            shown = schema.camel(key)
            close = difflib.get_close_matches(shown, names, n=1)
            hint = f"; did you mean {close[0]}?" if close else f"; {res.name} takes {', '.join(names)}"
            failures.append((shown, f"{res.name} has no property {shown}{hint}"))
    return failures


def camel_path(path: str, res: schema.Resource) -> str:
    """A failure's property path (``hyperparameters.n_epochs``, ``sku.capacity``) in Pulumi's names."""
    if not path:
        return path
    parts = path.split(".")
    fields: Fields = res.inputs + res.state
    api_keys = False
    out = []
    for part in parts:
        f = _lookup(fields, part, api_keys) if fields else None
        if f is None:
            out.append(part)
            fields = ()
            continue
        out.append(f.name if api_keys else f.camel)
        fields, api_keys = (f.type.fields, f.type.api_keys) if isinstance(f.type, Object) else ((), False)
    return ".".join(out)


def camel_text(text: str, res: schema.Resource) -> str:
    """A message with the resource's snake_case property names written as Pulumi's (``training_file``
    -> ``trainingFile``); a name inside a path or a word (``my_training_file.jsonl``) is left alone."""
    names = {f.name for f in res.inputs + res.outputs if "_" in f.name}
    for obj in schema.object_types().values():
        if not obj.api_keys:
            names.update(f.name for f in obj.fields if "_" in f.name)
    if not names:
        return text
    pattern = re.compile(r"(?<![\w/.\-])(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True))
                         + r")(?![\w/\-]|\.\w)")
    return pattern.sub(lambda m: schema.camel(m[1]), text)
