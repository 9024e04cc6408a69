"""The official specs shipped with the emulator, and its strict contract mode.

The spec copies are the project's own files: each must be there with the sha256 its provenance README
records (a missing or altered file fails here; nothing skips). The strict mode (on for the whole suite,
tests/conftest.py) answers 400 to a request its api-version's spec does not define and 500 to an answer
of the emulator that breaks that spec."""

from __future__ import annotations

import hashlib
import json
import re

import httpx
import openai
import pytest
from openai import AzureOpenAI

from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer, contract, dataplane

README = contract.SPECS_DIR / "README.md"


def _recorded() -> dict[str, str]:
    rows = re.findall(r"^\| `([^`]+)` \| `[^`]+` \| `[0-9a-f]{40}` \| `([0-9a-f]{64})` \|$", README.read_text(), re.M)
    return dict(rows)


def test_every_spec_copy_is_here_unchanged():
    recorded = _recorded()
    assert len(recorded) >= 7
    for name, digest in recorded.items():
        path = contract.SPECS_DIR / name
        assert path.is_file(), f"{name} is missing from {contract.SPECS_DIR}"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{name} differs from its recorded sha256"
    shipped = {str(p.relative_to(contract.SPECS_DIR)) for p in contract.SPECS_DIR.rglob("*.json")}
    assert shipped == set(recorded), "every spec file shipped is listed in specs/README.md with its source"
    for plane_version, name in contract.SPECS.items():
        assert name in recorded, plane_version


def test_a_missing_copy_is_an_error_not_a_skip(monkeypatch, tmp_path):
    monkeypatch.setattr(contract, "SPECS_DIR", tmp_path)
    contract.load_document.cache_clear()
    try:
        with pytest.raises(contract.ContractError, match="missing"):
            contract.load_document("azureopenai-dataplane-2024-10-21.json")
    finally:
        contract.load_document.cache_clear()


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            elif key != "x-ms-examples":
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


@pytest.mark.parametrize("spec", sorted(set(contract.SPECS.values())))
def test_every_ref_of_the_specs_resolves_inside_the_project(spec):
    doc = json.loads((contract.SPECS_DIR / spec).read_text(encoding="utf-8"))
    refs = set(_refs(doc))
    assert refs
    for ref in refs:
        contract.resolve(ref, spec)


@pytest.mark.parametrize("common", sorted(str(p.relative_to(contract.SPECS_DIR))
                                          for p in (contract.SPECS_DIR / "common-types").rglob("*.json")))
def test_every_ref_of_the_common_types_resolves(common):
    for ref in set(_refs(json.loads((contract.SPECS_DIR / common).read_text(encoding="utf-8")))):
        contract.resolve(ref, common)


def test_every_api_version_the_provider_sends_has_its_spec():
    """No api-version the provider uses is served unchecked: data plane 2024-10-21 and
    2025-04-01-preview, ARM 2025-06-01 and (the developer tier) 2025-07-01-preview."""
    from pulumi_aoai_finetune import availability, settings

    assert contract.UNCHECKED == set()
    assert ("arm", availability.DEVELOPER_TIER_ARM_API_VERSION) in contract.SPECS
    defaults = settings.ProviderSettings()
    assert ("arm", defaults.arm_api_version) in contract.SPECS
    assert ("data", defaults.api_version) in contract.SPECS
    preview = contract.load_document("cognitiveservices-arm-2025-07-01-preview.json")
    # the developer tier's spec: v3 common types (and v2 in its quotaTiers operations)
    refs = set(_refs(preview))
    assert any("resource-management/v3/types.json" in r for r in refs)
    assert any("resource-management/v3/privatelinks.json" in r for r in refs)


# -- the strict mode, through the real clients -------------------------------------------------------
@pytest.fixture
def strict_server(tmp_path):
    config = EmulatorConfig(state_dir=tmp_path / "s", time_scale=0.001, strict_contract=True)
    with EmulatorServer(config) as server, httpx.Client(base_url=server.base_url, timeout=30) as control:
        server.control = control
        yield server


def _client(server, version="2024-10-21"):
    return AzureOpenAI(azure_endpoint=server.backend.account_endpoint("aoai-ncus"), api_key="k",
                       api_version=version, max_retries=0)


def test_a_request_outside_the_spec_is_answered_400_naming_the_problem(strict_server):
    client = _client(strict_server)
    data = b'{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}\n' * 10
    train = client.files.create(file=("t.jsonl", data), purpose="fine-tune")
    strict_server.control.post("/_emulator/clock", json={"advance_seconds": 15})
    cases = [
        # a field 2024-10-21 does not define (documented for 2025-04-01-preview only)
        (lambda: client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=train.id,
                                                extra_body={"trainingType": "GlobalStandard"}),
         "body: not in the contract ('trainingType' was unexpected)"),
        # "auto" where the spec has an integer
        (lambda: client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=train.id,
                                                hyperparameters={"n_epochs": "auto"}),
         "body.hyperparameters.n_epochs: 'auto' is not of type 'integer'"),
        # a required field missing
        (lambda: client.post("/fine_tuning/jobs", cast_to=object, body={"model": "gpt-4o-mini-2024-07-18"}),
         "'training_file' is a required property"),
        # an operation the spec does not have
        (lambda: client.models.delete("gpt-4o-mini-2024-07-18.ft-x"), "this path has no such method"),
        # a query parameter it does not declare
        (lambda: client.files.list(extra_query={"after": train.id}), "query after: not a parameter of Files_List"),
        # an api-version the emulator has no spec of
        (lambda: _client(strict_server, "2024-02-01").files.list(), "no data-plane spec of api-version '2024-02-01'"),
    ]
    for call, fragment in cases:
        with pytest.raises(openai.BadRequestError) as err:
            call()
        assert err.value.body["code"] == "EmulatorStrictContract" and fragment in err.value.body["message"], \
            err.value.body
    assert len(strict_server.backend.contract_violations) == len(cases)
    assert not strict_server.backend.store["jobs"]  # refused before any behaviour ran


def test_an_answer_that_breaks_the_spec_is_a_500(strict_server, monkeypatch):
    client = _client(strict_server)
    train = client.files.create(file=("t.jsonl", b"{}\n"), purpose="fine-tune")
    real = dataplane.get_file
    monkeypatch.setattr(dataplane, "get_file", lambda *a, **k: {**real(*a, **k), "invented": True})
    with pytest.raises(openai.InternalServerError) as err:
        client.files.retrieve(train.id)
    assert err.value.body["code"] == "EmulatorContractViolation"
    assert "body: not in the contract ('invented' was unexpected)" in err.value.body["message"]


def test_documented_fields_outside_the_spec_are_overlays_with_their_source():
    preview = contract.contract("data", "2025-04-01-preview")
    body = {"model": "gpt-4.1-mini-2025-04-14", "training_file": "file-1", "trainingType": "developerTier",
            "method": {"type": "reinforcement", "reinforcement": {"grader": {"type": "string_check"}}}}
    assert preview.check_request("POST", "/fine_tuning/jobs", "api-version=2025-04-01-preview", body, None) == []
    schema = contract.load_document("azureopenai-dataplane-2025-04-01-preview.json")["definitions"]
    assert "includes/fine-tuning-rest.md" in schema["FineTuningJobCreation"]["properties"]["trainingType"]["description"]
    wrong = dict(body, trainingType="developertier")
    assert preview.check_request("POST", "/fine_tuning/jobs", "api-version=2025-04-01-preview", wrong, None)
    # the file itself is unchanged: the overlay lives in the loaded copy only
    raw = json.loads((contract.SPECS_DIR / "azureopenai-dataplane-2025-04-01-preview.json").read_text())
    assert "trainingType" not in raw["definitions"]["FineTuningJobCreation"]["properties"]


def test_arm_preview_requests_and_answers_are_checked(strict_server):
    """ARM 2025-07-01-preview (developer-tier deployments) is checked like the other api-versions: a body
    its Deployment schema does not define is refused, a valid developer-tier PUT is served and its answers
    (the PUT, the GET, the list) validate against the same spec."""
    backend = strict_server.backend
    deployment = backend.account("aoai-ncus")["id"] + "/deployments/dev"
    query = {"api-version": "2025-07-01-preview"}
    arm = httpx.Client(base_url=strict_server.base_url, headers={"Authorization": "Bearer token"}, timeout=30)
    bad = {"sku": {"name": "DeveloperTier", "capacity": 1},
           "properties": {"model": {"format": "OpenAI", "name": "gpt-4.1-mini", "version": "2025-04-14"},
                          "invented": True}}
    refused = arm.put(deployment, params=query, json=bad)
    assert refused.status_code == 400, refused.text
    body = refused.json()["error"]
    assert body["code"] == "EmulatorStrictContract"
    assert "cognitiveservices-arm-2025-07-01-preview.json" in body["message"]
    assert "'invented' was unexpected" in body["message"]
    from .conftest import train_fine_tuned_model

    model = train_fine_tuned_model(strict_server, base="gpt-4.1-mini-2025-04-14", n_epochs=1)["model"]
    good = {"sku": {"name": "DeveloperTier", "capacity": 1},
            "properties": {"model": {"format": "OpenAI", "name": model, "version": "1"}}}
    created = arm.put(deployment, params=query, json=good)
    assert created.status_code in (200, 201), created.text
    strict_server.control.post("/_emulator/clock", json={"advance_seconds": 30})
    got = arm.get(deployment, params=query)
    assert got.status_code == 200 and got.json()["sku"]["name"] == "DeveloperTier", got.text
    listed = arm.get(deployment.rsplit("/", 1)[0], params=query)
    assert listed.status_code == 200 and [d["name"] for d in listed.json()["value"]] == ["dev"], listed.text
    account = arm.get(backend.account("aoai-ncus")["id"], params=query)
    assert account.status_code == 200, account.text
    assert [v for v in backend.contract_violations if v["kind"] == "response"] == []
