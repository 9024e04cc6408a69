"""What the Terraform provider serves (GetProviderSchema) against the project's single source of truth
(pulumi_aoai_finetune/schema.py), so the Terraform, Pulumi and Python front ends cannot drift."""

from __future__ import annotations

import json

import pytest

from pulumi_aoai_finetune import schema as source
from pulumi_aoai_finetune.adapters.terraform import schema
from pulumi_aoai_finetune.adapters.terraform.wire import Nested

from .conftest import plugin_env
from .plugin import Plugin

TYPES = {"string": "string", "integer": "number", "number": "number", "boolean": "bool", "any": "dynamic"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("schema")
    p = Plugin(plugin_env(tmp), tmp)
    try:
        yield p.schema()
    finally:
        p.close()


def attributes(block) -> dict:
    return {a.name: a for a in block.attributes}


@pytest.mark.parametrize("res", source.RESOURCES, ids=[r.name for r in source.RESOURCES])
def test_every_field_of_the_source_is_served_under_its_name_with_its_flags(served, res) -> None:
    block = served.resource_schemas[res.terraform_name].block
    got = attributes(block)
    hidden = set(schema.PRIVATE_ONLY)
    expected = {"id"} | {f.name for f in res.inputs + res.outputs + res.state} - hidden
    assert set(got) == expected
    inputs = {f.name for f in res.inputs}
    for f in res.inputs:
        a = got[f.name]
        assert a.optional or a.required, f.name
        required_here = f.name in schema.REQUIRED_HERE.get(res.name, ())
        assert a.required == (f.required or required_here), f.name
        assert a.computed == (not a.required and (f.default is not None or f.computed)), f.name
        assert a.sensitive == f.secret, f.name
        assert a.description == f.description
    for f in res.outputs + res.state:
        if f.name in inputs or f.name in hidden:
            continue
        a = got[f.name]
        assert a.computed and not a.optional and not a.required, f.name
    assert block.description == res.description


@pytest.mark.parametrize("res", source.RESOURCES, ids=[r.name for r in source.RESOURCES])
def test_types_follow_the_source(served, res) -> None:
    got = attributes(served.resource_schemas[res.terraform_name].block)
    for f in res.inputs + res.outputs:
        a = got[f.name]
        if isinstance(f.type, source.Primitive):
            assert json.loads(a.type) == TYPES[f.type.name], f.name
        elif isinstance(f.type, source.Object) and isinstance(schema.terraform_type(f.type), Nested):
            nested = {n.name: n for n in a.nested_type.attributes}
            assert set(nested) == {g.name for g in f.type.fields}, f.name
            for g in f.type.fields:
                assert nested[g.name].required == (g.required and f not in res.outputs), (f.name, g.name)
        elif isinstance(f.type, source.ListOf) and isinstance(f.type.items, source.Primitive):
            assert json.loads(a.type) == ["list", TYPES[f.type.items.name]], f.name
        elif isinstance(f.type, source.MapOf) and isinstance(f.type.values, source.Primitive):
            assert json.loads(a.type) == ["map", TYPES[f.type.values.name]], f.name
        else:
            assert json.loads(a.type) == "dynamic", f.name


def test_the_provider_block_is_the_settings(served) -> None:
    got = attributes(served.provider.block)
    assert set(got) == {s.name for s in source.SETTINGS}
    for s in source.SETTINGS:
        assert got[s.name].optional and got[s.name].sensitive == s.secret
        assert s.env in got[s.name].description


def test_resource_type_names_belong_to_the_provider_type() -> None:
    # Terraform infers the provider of a resource from the part of its type before the first "_"
    assert set(schema.RESOURCES) == {r.terraform_name for r in source.RESOURCES}
    assert all(name.split("_", 1)[0] == schema.PROVIDER_TYPE for name in schema.RESOURCES)
    assert schema.SOURCE_ADDRESS.endswith("/" + schema.PROVIDER_TYPE)
