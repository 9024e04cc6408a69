"""Values on the protocol's wire (terraform/wire.py): unknowns, refined unknowns, dynamic values."""

from __future__ import annotations

import json

import msgpack

from pulumi_aoai_finetune.controller import UNKNOWN, is_unknown
from pulumi_aoai_finetune.adapters.terraform import schema, wire
from pulumi_aoai_finetune.adapters.terraform.wire import Nested


def refined_unknown() -> msgpack.ExtType:
    """What OpenTofu sends for an unknown it knows is not null and starts with "/subscriptions/"
    (cty's refinements, msgpack extension 12)."""
    return msgpack.ExtType(12, msgpack.packb({1: False, 2: "/subscriptions/"}))


def test_a_refined_unknown_is_unknown_at_any_depth() -> None:
    # tf 1.2.0 hands extension 12 to the resource as a raw ExtType (its defect 2)
    assert wire.to_python(refined_unknown(), "string") == UNKNOWN
    account = wire.to_python({"resource_id": refined_unknown(), "endpoint": None}, schema.ACCOUNT)
    assert is_unknown(account) and account["resource_id"] == UNKNOWN
    hp = wire.to_python([json.dumps(["object", {"n_epochs": "number"}]).encode(), {"n_epochs": refined_unknown()}],
                        "dynamic")
    assert hp == {"n_epochs": UNKNOWN}


def test_plain_unknowns_and_nulls() -> None:
    assert wire.to_python(msgpack.ExtType(0, b""), "number") == UNKNOWN
    assert wire.to_python(None, "dynamic") is None
    assert wire.from_python(UNKNOWN, "string") == wire.UNKNOWN_WIRE


def test_a_dynamic_value_round_trips_with_its_type() -> None:
    value = {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.1, "n_epochs": "auto"}}}
    packed = wire.pack(wire.from_python(value, "dynamic"))
    back = wire.unpack(packed)
    assert json.loads(back[0]) == ["object", {"type": "string", "dpo": ["object", {"hyperparameters": [
        "object", {"beta": "number", "n_epochs": "string"}]}]}]
    assert wire.to_python(back, "dynamic") == value


def test_numbers_come_back_as_integers_when_they_are() -> None:
    assert wire.to_python(3.0, "number") == 3 and isinstance(wire.to_python(3.0, "number"), int)
    assert wire.to_python("12345678901234567890", "number") == 12345678901234567890
    assert wire.to_python(0.5, "number") == 0.5


def test_object_outputs_leave_out_null_keys() -> None:
    cty_type, value = wire.infer({"final_valid_loss": 0.5, "best_step": None, "tags": ["a"]})
    assert cty_type == ["object", {"final_valid_loss": "number", "tags": ["tuple", ["string"]]}]
    assert value == {"final_valid_loss": 0.5, "tags": ["a"]}


def test_json_state_dynamic_values_become_wire_pairs() -> None:
    kind = Nested((schema.Attr("x", "dynamic", "optional", ""),))
    got = wire.from_json_state({"x": {"value": {"a": 1}, "type": ["object", {"a": "number"}]}}, kind)
    assert wire.to_python(got["x"], "dynamic") == {"a": 1}
