"""Values on the Terraform plugin protocol's wire (msgpack, cty types) <-> the controllers' dicts.

A value decoded from the wire keeps its wire form (:func:`unpack`): msgpack maps, lists and
scalars, with unknowns as msgpack extension objects and ``dynamic`` values as ``[type, value]``
pairs. The adapter hands that form back unchanged where Terraform wants the configuration echoed
(a planned value must equal the value the user wrote). :func:`to_python` turns it into what the
controllers take: plain Python, with :data:`UNKNOWN` (the controllers' sentinel) for any value not
known yet. :func:`from_python` goes the other way for the values the provider computes.

Unknowns: Terraform sends an unknown value as msgpack extension 0, and Terraform >= 1.6 and
OpenTofu as extension 12 when they know something about it ("not null", "starts with ..."), a
*refined* unknown. Both are unknown here (the PyPI ``tf`` library, whose generated protocol stubs
this package uses, recognises only extension 0: its defect 2).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import msgpack

from ...controller import UNKNOWN

UNKNOWN_EXT = 0  # msgpack extension code of an unknown value
REFINED_UNKNOWN_EXT = 12  # an unknown with refinements (Terraform >= 1.6, OpenTofu)
UNKNOWN_WIRE = msgpack.ExtType(UNKNOWN_EXT, b"\x00")


def is_wire_unknown(value: Any) -> bool:
    return isinstance(value, msgpack.ExtType) and value.code in (UNKNOWN_EXT, REFINED_UNKNOWN_EXT)


def unpack(data: bytes) -> Any:
    """A DynamicValue's msgpack bytes -> wire form (extension objects kept as they are)."""
    if not data:
        return None
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


def pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


# -- types -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Nested:
    """A nested attribute (protocol 6, nesting SINGLE): an object whose attributes the schema names."""

    attributes: tuple  # of schema.Attr


def type_json(kind: Any) -> Any:
    """The cty type of a schema type as JSON (nested attributes as the object type they imply)."""
    if isinstance(kind, Nested):
        return ["object", {a.name: type_json(a.type) for a in kind.attributes}]
    return kind


# -- wire -> python ------------------------------------------------------------------------------
def to_python(value: Any, kind: Any) -> Any:
    """The controllers' form of a wire value of type ``kind`` (a cty type JSON or :class:`Nested`)."""
    if value is None:
        return None
    if isinstance(value, msgpack.ExtType):
        if is_wire_unknown(value):
            return UNKNOWN
        raise ValueError(f"unexpected msgpack extension {value.code}")
    if isinstance(kind, Nested):
        return {a.name: to_python(value.get(a.name), a.type) for a in kind.attributes}
    if kind == "dynamic":
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise ValueError("a dynamic value must come as [type, value]")
        raw_type, inner = value
        return to_python(inner, json.loads(raw_type))
    if kind == "number":
        return _number(value)
    if kind in ("string", "bool"):
        return value
    if isinstance(kind, list):
        head = kind[0]
        if head in ("list", "set"):
            return [to_python(v, kind[1]) for v in value]
        if head == "tuple":
            return [to_python(v, t) for v, t in zip(value, kind[1])]
        if head == "map":
            return {k: to_python(v, kind[1]) for k, v in value.items()}
        if head == "object":
            return {k: to_python(value.get(k), t) for k, t in kind[1].items()}
    raise ValueError(f"unsupported type {kind!r}")


def _number(value: Any) -> Any:
    if isinstance(value, str):  # cty sends numbers that do not fit a float64 as strings
        value = float(value) if any(c in value for c in ".eE") else int(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def drop_nulls(value: Any) -> Any:
    """Object attributes that are null are absent for the controllers (they apply their defaults to
    missing keys); unknowns stay."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


# -- python -> wire ------------------------------------------------------------------------------
def from_python(value: Any, kind: Any) -> Any:
    """The wire form of a controller value for an attribute of type ``kind``."""
    if value is None:
        return None
    if isinstance(value, str) and value == UNKNOWN:
        return UNKNOWN_WIRE
    if isinstance(kind, Nested):
        if not isinstance(value, dict):
            raise ValueError(f"expected an object, got {type(value).__name__}")
        return {a.name: from_python(value.get(a.name), a.type) for a in kind.attributes}
    if kind == "dynamic":
        cty_type, wire = infer(value)
        return [json.dumps(cty_type, separators=(",", ":")).encode(), wire]
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {value!r}")
        return _finite(value)
    if kind == "string":
        return value if isinstance(value, str) else str(value)
    if kind == "bool":
        return bool(value)
    if isinstance(kind, list) and kind[0] in ("list", "set"):
        return [from_python(v, kind[1]) for v in value]
    if isinstance(kind, list) and kind[0] == "map":
        return {k: from_python(v, kind[1]) for k, v in value.items()}
    raise ValueError(f"unsupported type {kind!r}")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("Terraform numbers are finite")
    return value


def infer(value: Any) -> tuple[Any, Any]:
    """(cty type, wire value) of a plain value, for a ``dynamic`` attribute: objects for dicts (keys
    whose value is None left out), tuples for lists."""
    if isinstance(value, str) and value == UNKNOWN:
        return "dynamic", UNKNOWN_WIRE
    if isinstance(value, bool):
        return "bool", value
    if isinstance(value, (int, float)):
        return "number", _finite(value)
    if isinstance(value, str):
        return "string", value
    if isinstance(value, dict):
        types, wire = {}, {}
        for key, item in value.items():
            if item is None:
                continue
            types[str(key)], wire[str(key)] = infer(item)
        return ["object", types], wire
    if isinstance(value, (list, tuple)):
        pairs = [infer(item) if item is not None else ("string", None) for item in value]
        return ["tuple", [t for t, _ in pairs]], [w for _, w in pairs]
    raise ValueError(f"cannot send a {type(value).__name__} to Terraform")


def from_json_state(value: Any, kind: Any) -> Any:
    """A value of a state stored as JSON (UpgradeResourceState) -> wire form: cty's JSON gives a
    dynamic value as ``{"value": ..., "type": ...}``."""
    if value is None:
        return None
    if isinstance(kind, Nested):
        return {a.name: from_json_state(value.get(a.name), a.type) for a in kind.attributes}
    if kind == "dynamic":
        return [json.dumps(value["type"], separators=(",", ":")).encode(), _json_typed(value["value"], value["type"])]
    return value


def _json_typed(value: Any, kind: Any) -> Any:
    if value is None:
        return None
    if kind == "dynamic":
        return from_json_state(value, "dynamic")
    if isinstance(kind, list):
        head = kind[0]
        if head in ("list", "set"):
            return [_json_typed(v, kind[1]) for v in value]
        if head == "tuple":
            return [_json_typed(v, t) for v, t in zip(value, kind[1])]
        if head == "map":
            return {k: _json_typed(v, kind[1]) for k, v in value.items()}
        if head == "object":
            return {k: _json_typed(value.get(k), t) for k, t in kind[1].items()}
    if kind == "number" and isinstance(value, str):
        return _number(value)
    return value
