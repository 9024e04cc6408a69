"""ARM deployments through the real azure-mgmt-cognitiveservices client: models, rules, LROs."""

from __future__ import annotations


import openai
import pytest
from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError, ResourceExistsError,
                                   ResourceNotFoundError)
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.core.rest import HttpRequest
from azure.mgmt.cognitiveservices.models import Account, Sku

from .conftest import (account_resource_id, advance, arm_deployment, make_arm, make_arm_with, make_openai,
                      train_fine_tuned_model)
from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer, contract, management

RG = "aoai-emulator"
DAY = 24 * 3600
RAI_MESSAGE_START = "This model is unable to be deployed. Model evaluation identified"


def _requests(control, fragment: str, method: str | None = None) -> list[dict]:
    return [r for r in control.get("/_emulator/requests").json()["data"]
            if fragment in r["path"] and (method is None or r["method"] == method)]


def _deployment_names(arm, account: str) -> set[str]:
    return {d.name for d in arm.deployments.list(RG, account)}


def _chat(emulator, deployment: str, account: str = "aoai-ncus") -> None:
    """A completion through the data plane (it records the deployment's activity)."""
    reply = make_openai(emulator, account).chat.completions.create(
        model=deployment, messages=[{"role": "user", "content": "ping"}])
    assert reply.choices[0].message.content


# -- base models and the LRO ------------------------------------------------------------------
def test_deploy_base_model_polls_the_async_operation(emulator, arm, control):
    poller = arm.deployments.begin_create_or_update(
        RG, "aoai-ncus", "chat", arm_deployment("gpt-4o-mini", "2024-07-18", capacity=10,
                                                version_upgrade_option="NoAutoUpgrade"))
    result = poller.result()
    assert result.name == "chat"
    assert result.type == "Microsoft.CognitiveServices/accounts/deployments"
    assert result.id == f"{account_resource_id(emulator, 'aoai-ncus')}/deployments/chat"
    assert result.sku.name == "Standard" and result.sku.capacity == 10
    assert result.properties.provisioning_state == "Succeeded"
    assert (result.properties.model.format, result.properties.model.name, result.properties.model.version) == \
        ("OpenAI", "gpt-4o-mini", "2024-07-18")
    assert result.properties.version_upgrade_option == "NoAutoUpgrade"
    assert result.properties.rai_policy_name == "Microsoft.DefaultV2"
    assert result.properties.capabilities["chatCompletion"] == "true"

    puts = _requests(control, "/deployments/chat", "PUT")
    assert [r["status"] for r in puts] == [201]
    polls = _requests(control, "/operationResults/", "GET")
    assert len(polls) >= 1 and all(r["status"] == 200 for r in polls)
    assert "api-version=2025-06-01" in polls[0]["query"]
    assert polls[0]["path"].startswith(
        f"/subscriptions/{emulator.config.subscription_id}/providers/Microsoft.CognitiveServices/locations/"
        "northcentralus/operationResults/")
    # final-state-via azure-async-operation: the client reads the deployment once done
    assert _requests(control, "/deployments/chat", "GET")
    got = arm.deployments.get(RG, "aoai-ncus", "chat")
    assert got.properties.provisioning_state == "Succeeded"
    assert _deployment_names(arm, "aoai-ncus") == {"chat"}


def test_initial_response_is_creating_until_the_clock_moves(slow_emulator, slow_arm, control_slow):
    poller = slow_arm.deployments.begin_create_or_update(RG, "aoai-ncus", "chat", arm_deployment("gpt-4o-mini"))
    assert slow_arm.deployments.get(RG, "aoai-ncus", "chat").properties.provisioning_state == "Creating"
    assert not poller.done()
    advance(control_slow, 61)
    result = poller.result()
    assert result.properties.provisioning_state == "Succeeded"
    assert result.properties.model.version == "2024-07-18"  # omitted version: the newest one


def test_unknown_base_model_or_version_is_refused(arm):
    for body in (arm_deployment("gpt-5-imaginary", "1"), arm_deployment("gpt-4o-mini", "1999-01-01"),
                 arm_deployment("gpt-4o-mini-2024-07-18", "2024-07-18")):
        with pytest.raises(HttpResponseError) as info:
            arm.deployments.begin_create_or_update(RG, "aoai-ncus", "bad", body)
        assert info.value.status_code == 400
        assert info.value.error.code == "DeploymentModelNotSupported"
        assert "of account deployment is not supported" in info.value.error.message
    assert _deployment_names(arm, "aoai-ncus") == set()


# -- fine-tuned models, checkpoints, cross-region ----------------------------------------------
def test_deploy_fine_tuned_model_in_its_account(emulator, arm):
    ft = train_fine_tuned_model(emulator, "aoai-ncus")
    result = arm.deployments.begin_create_or_update(
        RG, "aoai-ncus", "ft", arm_deployment(ft["model"], "1")).result()
    assert result.properties.provisioning_state == "Succeeded"
    assert result.properties.model.name == ft["model"]
    assert result.properties.model.version == "1"
    assert [d["name"] for d in management.deployments_using_model(emulator.backend, ft["model"])] == ["ft"]


def test_a_deployed_model_cannot_be_deleted_until_its_deployments_are_gone(emulator, arm):
    ft = train_fine_tuned_model(emulator, "aoai-ncus")
    arm.deployments.begin_create_or_update(
        RG, "aoai-swc", "ft", arm_deployment(ft["model"], "1", source=account_resource_id(emulator, "aoai-ncus"))
    ).result()
    client = make_openai(emulator, "aoai-ncus")
    # the model goes with its job (FineTuning_Delete; the data plane has no model delete): refused while deployed
    with pytest.raises(openai.ConflictError) as info:
        client.delete(f"/fine_tuning/jobs/{ft['job']}", cast_to=type(None))
    assert "aoai-swc/deployments/ft" in str(info.value)
    arm.deployments.begin_delete(RG, "aoai-swc", "ft").result()
    client.delete(f"/fine_tuning/jobs/{ft['job']}", cast_to=type(None))
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve(ft["model"])


def test_cross_region_deployment_with_source(emulator, arm):
    ft = train_fine_tuned_model(emulator, "aoai-ncus")
    source = account_resource_id(emulator, "aoai-ncus")
    # not trained in aoai-swc: without a source the model does not exist there
    with pytest.raises(HttpResponseError) as info:
        arm.deployments.begin_create_or_update(RG, "aoai-swc", "ft", arm_deployment(ft["model"], "1"))
    assert info.value.error.code == "DeploymentModelNotSupported"

    result = arm.deployments.begin_create_or_update(
        RG, "aoai-swc", "ft", arm_deployment(ft["model"], "1", source=source)).result()
    assert result.properties.provisioning_state == "Succeeded"
    assert result.properties.model.source == source
    # sourceAccount works the same way, and the same model may be deployed once per account
    result2 = arm.deployments.begin_create_or_update(
        RG, "aoai-ncus", "ft", arm_deployment(ft["model"], "1", source_account=source)).result()
    assert result2.properties.model.source_account == source
    using = management.deployments_using_model(emulator.backend, ft["model"])
    assert sorted(d["id"].split("/accounts/")[1] for d in using) == ["aoai-ncus/deployments/ft",
                                                                     "aoai-swc/deployments/ft"]


def test_cross_subscription_deployment_with_source(emulator):
    ft = train_fine_tuned_model(emulator, "aoai-ncus")
    other = make_arm_with(emulator, subscription_id="22222222-2222-2222-2222-222222222222")
    other.accounts.begin_create("rg-prod", "aoai-prod-swc", Account(location="swedencentral", kind="OpenAI",
                                                                    sku=Sku(name="S0"))).result()
    source = account_resource_id(emulator, "aoai-ncus")
    result = other.deployments.begin_create_or_update(
        "rg-prod", "aoai-prod-swc", "ft", arm_deployment(ft["model"], "1", source=source)).result()
    assert result.id.startswith("/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/rg-prod/")
    assert result.properties.model.source == source
    # a source id with the wrong subscription does not find the account
    wrong = source.replace(emulator.config.subscription_id, "22222222-2222-2222-2222-222222222222")
    with pytest.raises(HttpResponseError) as info:
        other.deployments.begin_create_or_update("rg-prod", "aoai-prod-swc", "ft2",
                                                 arm_deployment(ft["model"], "1", source=wrong))
    assert info.value.error.code == "InvalidModelSource"


def test_source_must_name_an_existing_account(emulator, arm):
    ft = train_fine_tuned_model(emulator, "aoai-ncus")
    missing = account_resource_id(emulator, "aoai-ncus").replace("aoai-ncus", "aoai-nowhere")
    with pytest.raises(HttpResponseError) as info:
        arm.deployments.begin_create_or_update(RG, "aoai-swc", "ft", arm_deployment(ft["model"], "1", source=missing))
    assert info.value.status_code == 400
    assert info.value.error.code == "InvalidModelSource"
    assert "aoai-nowhere" in info.value.error.message
    with pytest.raises(HttpResponseError) as info:
        arm.deployments.begin_create_or_update(RG, "aoai-swc", "ft", arm_deployment(ft["model"], "1",
                                                                                   source="aoai-ncus"))
    assert info.value.error.code == "LinkedInvalidPropertyId"
    assert info.value.error.target == "properties.model.source"


def test_fine_tuned_model_needs_a_region_with_fine_tuned_deployments(emulator, arm):
    arm.accounts.begin_create(RG, "aoai-weu", Account(location="westeurope", kind="OpenAI",
                                                      sku=Sku(name="S0"))).result()
    assert not management.supports_fine_tuned_deployment("westeurope")
    ft = train_fine_tuned_model(emulator, "aoai-ncus")
    with pytest.raises(HttpResponseError) as info:
        arm.deployments.begin_create_or_update(
            RG, "aoai-weu", "ft", arm_deployment(ft["model"], "1", source=account_resource_id(emulator, "aoai-ncus")))
    assert info.value.status_code == 400
    assert "westeurope" in info.value.error.message
    # base models deploy there
    arm.deployments.begin_create_or_update(RG, "aoai-weu", "chat", arm_deployment("gpt-4o-mini")).result()


def test_checkpoint_deployment_last_three_only(emulator, arm):
    ft = train_fine_tuned_model(emulator, "aoai-ncus", n_epochs=4)
    assert len(ft["checkpoints"]) == 3 and ft["checkpoints"][-1] == ft["model"]  # rule CK1
    result = arm.deployments.begin_create_or_update(
        RG, "aoai-ncus", "ckpt", arm_deployment(ft["checkpoints"][0], "1")).result()
    assert result.properties.model.name == ft["checkpoints"][0]
    oldest = ft["checkpoints"][0].rsplit(":ckpt-step-", 1)[0] + ":ckpt-step-" + \
        str(int(ft["checkpoints"][0].rsplit("-", 1)[1]) // 2)  # epoch 1 of 4: trained, no longer listed
    with pytest.raises(HttpResponseError) as info:
        arm.deployments.begin_create_or_update(RG, "aoai-ncus", "old", arm_deployment(oldest, "1"))
    assert info.value.status_code == 400
    assert "last 3 checkpoints" in info.value.error.message
    # the final checkpoint is the model: deploying both in one account is the same model twice
    arm.deployments.begin_create_or_update(RG, "aoai-ncus", "final", arm_deployment(ft["model"], "1")).result()
    with pytest.raises(HttpResponseError) as info:
        arm.deployments.begin_create_or_update(RG, "aoai-ncus", "final-ckpt", arm_deployment(ft["checkpoints"][-1], "1"))
    assert info.value.status_code == 409


def test_model_that_failed_safety_evaluation_cannot_be_deployed(emulator, arm):
    ft = train_fine_tuned_model(emulator, "aoai-ncus", marker="RAI-MODEL-TRIGGER:violence,self_harm")
    with pytest.raises(HttpResponseError) as info:
        arm.deployments.begin_create_or_update(RG, "aoai-ncus", "unsafe", arm_deployment(ft["model"], "1"))
    assert info.value.status_code == 400
    assert info.value.error.message.startswith(RAI_MESSAGE_START)
    assert "[Violence, Self Harm]" in info.value.error.message
    assert _deployment_names(arm, "aoai-ncus") == set()


def test_one_deployment_per_fine_tuned_model_per_account(emulator, arm):
    ft = train_fine_tuned_model(emulator, "aoai-ncus")
    arm.deployments.begin_create_or_update(RG, "aoai-ncus", "first", arm_deployment(ft["model"], "1")).result()
    with pytest.raises(ResourceExistsError) as info:
        arm.deployments.begin_create_or_update(RG, "aoai-ncus", "second", arm_deployment(ft["model"], "1"))
    assert info.value.status_code == 409
    assert info.value.error.code == "ModelAlreadyDeployed"
    assert "'first'" in info.value.error.message
    # re-applying the same deployment is an update, not a second deployment
    arm.deployments.begin_create_or_update(RG, "aoai-ncus", "first", arm_deployment(ft["model"], "1")).result()
    # base models may be deployed many times
    arm.deployments.begin_create_or_update(RG, "aoai-ncus", "b1", arm_deployment("gpt-4o-mini")).result()
    arm.deployments.begin_create_or_update(RG, "aoai-ncus", "b2", arm_deployment("gpt-4o-mini")).result()


# -- one operation per account ------------------------------------------------------------------
def test_concurrent_operation_on_one_account_is_409(slow_emulator, slow_arm, control_slow):
    first = slow_arm.deployments.begin_create_or_update(RG, "aoai-ncus", "one", arm_deployment("gpt-4o-mini"))
    with pytest.raises(HttpResponseError) as info:
        slow_arm.deployments.begin_create_or_update(RG, "aoai-ncus", "two", arm_deployment("gpt-4o"))
    assert info.value.status_code == 409
    assert info.value.error.code == "RequestConflict"
    assert info.value.error.message.startswith("Another operation is being performed on the parent resource")
    assert "/accounts/aoai-ncus" in info.value.error.message
    with pytest.raises(HttpResponseError) as info:
        slow_arm.deployments.begin_delete(RG, "aoai-ncus", "one")
    assert info.value.status_code == 409
    # another account is not blocked
    other = slow_arm.deployments.begin_create_or_update(RG, "aoai-swc", "two", arm_deployment("gpt-4o"))
    advance(control_slow, 120)
    assert first.result().properties.provisioning_state == "Succeeded"
    assert other.result().properties.provisioning_state == "Succeeded"
    # once the operation finished, the account takes the next one
    slow_arm.deployments.begin_create_or_update(RG, "aoai-ncus", "two", arm_deployment("gpt-4o"))
    advance(control_slow, 120)
    assert _deployment_names(slow_arm, "aoai-ncus") == {"one", "two"}


# -- sku and capacity ---------------------------------------------------------------------------
@pytest.mark.parametrize("sku, capacity, target, fragment", [
    ("Premium", 1, "sku.name", "'Premium' is not a deployment sku"),
    ("Standard", 0, "sku.capacity", "sku.capacity 0 is out of range"),
    ("Standard", 1001, "sku.capacity", "from 1 to 1000"),
    ("DeveloperTier", 1, "sku.name", "needs api-version 2025-07-01-preview"),
])
def test_sku_validation_names_the_field(arm, sku, capacity, target, fragment):
    with pytest.raises(HttpResponseError) as info:
        arm.deployments.begin_create_or_update(RG, "aoai-ncus", "chat", arm_deployment("gpt-4o-mini", sku=sku,
                                                                                      capacity=capacity))
    assert info.value.status_code == 400
    assert info.value.error.target == target
    assert fragment in info.value.error.message


def test_sku_names_are_case_insensitive_and_checked_against_the_model(emulator, arm):
    result = arm.deployments.begin_create_or_update(
        RG, "aoai-ncus", "global", arm_deployment("gpt-4o-mini", sku="globalstandard", capacity=5)).result()
    assert result.sku.name == "GlobalStandard"
    ft = train_fine_tuned_model(emulator, "aoai-ncus")
    with pytest.raises(HttpResponseError) as info:
        arm.deployments.begin_create_or_update(RG, "aoai-ncus", "ft", arm_deployment(ft["model"], "1",
                                                                                    sku="DataZoneStandard"))
    assert info.value.error.message.startswith("The specified SKU 'DataZoneStandard' of account deployment is not "
                                               "supported by the model")
    preview = make_arm_with(emulator, api_version="2025-07-01-preview")
    with pytest.raises(HttpResponseError) as info:
        preview.deployments.begin_create_or_update(RG, "aoai-ncus", "dev", arm_deployment("gpt-4o-mini",
                                                                                         sku="DeveloperTier"))
    assert info.value.error.target == "sku.name"


def test_update_capacity_in_place(emulator, arm, control):
    ft = train_fine_tuned_model(emulator, "aoai-ncus")
    created = arm.deployments.begin_create_or_update(RG, "aoai-ncus", "ft", arm_deployment(ft["model"], "1")).result()
    updated = arm.deployments.begin_create_or_update(
        RG, "aoai-ncus", "ft", arm_deployment(ft["model"], "1", capacity=5, rai_policy_name="strict")).result()
    assert updated.sku.capacity == 5
    assert updated.properties.rai_policy_name == "strict"
    assert updated.properties.provisioning_state == "Succeeded"
    assert updated.system_data.created_at == created.system_data.created_at
    assert [r["status"] for r in _requests(control, "/deployments/ft", "PUT")] == [201, 200]
    # PATCH (sku/tags) also updates in place
    from azure.mgmt.cognitiveservices.models import PatchResourceTagsAndSku
    patched = arm.deployments.begin_update(RG, "aoai-ncus", "ft",
                                           PatchResourceTagsAndSku(sku=Sku(name="Standard", capacity=7),
                                                                   tags={"a": "b"})).result()
    assert patched.sku.capacity == 7 and patched.tags == {"a": "b"}
    assert arm.deployments.get(RG, "aoai-ncus", "ft").sku.capacity == 7


def test_model_of_a_deployment_cannot_change(emulator, arm):
    arm.deployments.begin_create_or_update(RG, "aoai-ncus", "chat", arm_deployment("gpt-35-turbo", "0613")).result()
    with pytest.raises(HttpResponseError) as info:
        arm.deployments.begin_create_or_update(RG, "aoai-ncus", "chat", arm_deployment("gpt-4o-mini"))
    assert info.value.error.code == "CannotChangeDeploymentModel"
    with pytest.raises(HttpResponseError) as info:
        arm.deployments.begin_create_or_update(RG, "aoai-ncus", "chat",
                                               arm_deployment("gpt-35-turbo", "0125", capacity=3))
    assert "Cannot change capacity and model at the same time" in info.value.error.message
    upgraded = arm.deployments.begin_create_or_update(RG, "aoai-ncus", "chat",
                                                      arm_deployment("gpt-35-turbo", "0125")).result()
    assert upgraded.properties.model.version == "0125"


# -- delete -----------------------------------------------------------------------------------
def test_delete_deployment_and_delete_missing(emulator, arm, control):
    arm.deployments.begin_create_or_update(RG, "aoai-ncus", "chat", arm_deployment("gpt-4o-mini")).result()
    arm.deployments.begin_delete(RG, "aoai-ncus", "chat").result()
    with pytest.raises(ResourceNotFoundError) as info:
        arm.deployments.get(RG, "aoai-ncus", "chat")
    assert info.value.error.code == "ResourceNotFound"
    arm.deployments.begin_delete(RG, "aoai-ncus", "chat").result()
    assert [r["status"] for r in _requests(control, "/deployments/chat", "DELETE")] == [202, 204]
    with pytest.raises(ResourceNotFoundError):
        arm.deployments.begin_delete(RG, "aoai-nonexistent", "chat")


def test_deleting_shows_deleting_until_done(slow_emulator, slow_arm, control_slow):
    slow_arm.deployments.begin_create_or_update(RG, "aoai-ncus", "chat", arm_deployment("gpt-4o-mini"))
    advance(control_slow, 61)
    poller = slow_arm.deployments.begin_delete(RG, "aoai-ncus", "chat")
    assert slow_arm.deployments.get(RG, "aoai-ncus", "chat").properties.provisioning_state == "Deleting"
    advance(control_slow, 30)
    poller.result()
    assert _deployment_names(slow_arm, "aoai-ncus") == set()


@pytest.mark.outside_contract
# -- api-version and authorization ------------------------------------------------------------
def test_api_version_is_required_and_checked(emulator, arm):
    with pytest.raises(HttpResponseError) as info:
        make_arm_with(emulator, api_version="2020-01-01").accounts.get(RG, "aoai-ncus")
    assert info.value.status_code == 400
    assert info.value.error.code == "InvalidApiVersionParameter"
    assert "2025-06-01" in info.value.error.message and "2025-07-01-preview" in info.value.error.message
    path = account_resource_id(emulator, "aoai-ncus")
    response = arm._send_request(HttpRequest("GET", emulator.base_url + path))
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "MissingApiVersionParameter",
        "message": "The api-version query parameter (?api-version=) is required for all requests."}
    for version in ("2023-05-01", "2024-10-01", "2025-04-01-preview", "2025-07-01-preview", "2025-09-01"):
        assert make_arm_with(emulator, api_version=version).accounts.get(RG, "aoai-ncus").name == "aoai-ncus"
    unknown = arm._send_request(HttpRequest("GET", emulator.base_url + path + "/nothingHere?api-version=2025-06-01"))
    assert unknown.status_code == 404 and "error" in unknown.json()


class _NoAuthorization(SansIOHTTPPolicy):
    pass


def test_bearer_token_is_required(emulator):
    anonymous = make_arm_with(emulator, authentication_policy=_NoAuthorization())
    with pytest.raises(ClientAuthenticationError) as info:
        anonymous.accounts.get(RG, "aoai-ncus")
    assert info.value.status_code == 401
    assert info.value.error.code == "AuthenticationFailed"


def test_configured_key_is_the_only_accepted_token(tmp_path):
    config = EmulatorConfig(state_dir=tmp_path / "keyed", time_scale=1000.0, api_key="the-key")
    with EmulatorServer(config) as server:
        with pytest.raises(ClientAuthenticationError) as info:
            make_arm(server).accounts.get(RG, "aoai-ncus")
        assert info.value.error.code == "InvalidAuthenticationToken"

        class KeyBearer(SansIOHTTPPolicy):
            def on_request(self, request):
                request.http_request.headers["Authorization"] = "Bearer the-key"

        keyed = make_arm_with(server, authentication_policy=KeyBearer())
        assert keyed.accounts.get(RG, "aoai-ncus").name == "aoai-ncus"
        assert keyed.accounts.list_keys(RG, "aoai-ncus").key1 == "the-key"


# -- persistence and time-driven rules ----------------------------------------------------------
def test_state_survives_a_restart(tmp_path):
    state = tmp_path / "persist"
    with EmulatorServer(EmulatorConfig(state_dir=state, time_scale=1000.0)) as first:
        arm = make_arm(first)
        arm.accounts.begin_create(RG, "aoai-kept", Account(location="swedencentral", kind="OpenAI",
                                                           sku=Sku(name="S0"))).result()
        ft = train_fine_tuned_model(first, "aoai-kept")
        arm.deployments.begin_create_or_update(RG, "aoai-kept", "ft", arm_deployment(ft["model"], "1")).result()
    with EmulatorServer(EmulatorConfig(state_dir=state, time_scale=1000.0)) as second:
        arm = make_arm(second)
        account = arm.accounts.get(RG, "aoai-kept")
        assert account.properties.endpoint == f"{second.base_url}/accounts/aoai-kept/"  # the new port
        dep = arm.deployments.get(RG, "aoai-kept", "ft")
        assert dep.properties.model.name == ft["model"]
        assert dep.properties.provisioning_state == "Succeeded"


def test_fine_tuned_deployment_deleted_after_15_idle_days(emulator, arm, control):
    ft = train_fine_tuned_model(emulator, "aoai-ncus")
    arm.deployments.begin_create_or_update(RG, "aoai-ncus", "ft", arm_deployment(ft["model"], "1")).result()
    arm.deployments.begin_create_or_update(RG, "aoai-ncus", "base", arm_deployment("gpt-4o-mini")).result()
    advance(control, 14 * DAY)
    assert _deployment_names(arm, "aoai-ncus") == {"ft", "base"}
    _chat(emulator, "ft")  # a completion on day 14
    advance(control, 14 * DAY)
    assert _deployment_names(arm, "aoai-ncus") == {"ft", "base"}
    advance(control, 1.5 * DAY)
    assert _deployment_names(arm, "aoai-ncus") == {"base"}
    # the model stays and can be deployed again
    arm.deployments.begin_create_or_update(RG, "aoai-ncus", "ft", arm_deployment(ft["model"], "1")).result()


def test_developer_tier_deployment_lives_24_hours(emulator, control):
    arm = make_arm_with(emulator, api_version="2025-07-01-preview")
    ft = train_fine_tuned_model(emulator, "aoai-ncus", base="gpt-4.1-mini-2025-04-14")  # developer tier: gpt-4.1*
    # the 24 hours count from the PUT: with the clock running 1000x, a slow machine would eat the
    # one-hour margin below (3.6 real seconds) -- only the advances move it from here on
    control.post("/_emulator/clock", json={"frozen": True}).raise_for_status()
    poller = arm.deployments.begin_create_or_update(
        RG, "aoai-ncus", "dev", arm_deployment(ft["model"], "1", sku="developer", capacity=50))
    advance(control, 301)  # a fine-tuned deployment takes 300 s
    result = poller.result()
    assert result.sku.name == "DeveloperTier"
    _chat(emulator, "dev")
    advance(control, 23 * 3600)
    _chat(emulator, "dev")  # activity does not extend a developer deployment
    assert _deployment_names(arm, "aoai-ncus") == {"dev"}
    advance(control, 2 * 3600)
    assert _deployment_names(arm, "aoai-ncus") == set()


# -- injected faults ---------------------------------------------------------------------------
def test_429_on_put_is_retried_by_the_client(emulator, arm, control):
    control.post("/_emulator/faults", json={"method": "PUT", "path_regex": "/deployments/chat$", "status": 429,
                                            "retry_after": 1, "times": 1}).raise_for_status()
    result = arm.deployments.begin_create_or_update(RG, "aoai-ncus", "chat", arm_deployment("gpt-4o-mini")).result()
    assert result.properties.provisioning_state == "Succeeded"
    assert [r["status"] for r in _requests(control, "/deployments/chat", "PUT")] == [429, 201]


def test_503_on_a_poll_and_a_dropped_connection_are_survived(emulator, arm, control):
    control.post("/_emulator/faults", json={"method": "GET", "path_regex": "/operationResults/", "status": 503,
                                            "times": 1}).raise_for_status()
    control.post("/_emulator/faults", json={"method": "GET", "path_regex": "/deployments/chat$",
                                            "drop_connection": True, "times": 1}).raise_for_status()
    result = arm.deployments.begin_create_or_update(RG, "aoai-ncus", "chat", arm_deployment("gpt-4o-mini")).result()
    assert result.properties.provisioning_state == "Succeeded"
    polls = [r["status"] for r in _requests(control, "/operationResults/", "GET")]
    assert polls[0] == 503 and 200 in polls
    assert "dropped" in [r["status"] for r in _requests(control, "/deployments/chat", "GET")]
    assert all(f["hits"] == 1 for f in control.get("/_emulator/faults").json()["data"])


# -- the official contract ----------------------------------------------------------------------
ARM_SPEC = "cognitiveservices-arm-2025-06-01.json"
COMMON_TYPES = "common-types/resource-management/v2/types.json"


def test_responses_follow_the_arm_contract(emulator, arm):
    ft = train_fine_tuned_model(emulator, "aoai-ncus")
    arm.deployments.begin_create_or_update(
        RG, "aoai-swc", "ft", arm_deployment(ft["model"], "1", source=account_resource_id(emulator, "aoai-ncus"),
                                             rai_policy_name="Microsoft.DefaultV2")).result()
    base = emulator.base_url + account_resource_id(emulator, "aoai-swc")
    query = "?api-version=2025-06-01"

    def body(url, method="GET"):
        response = arm._send_request(HttpRequest(method, url))
        return response.status_code, response.json()

    checks = [
        (body(base + query), "Account", ARM_SPEC),
        (body(emulator.base_url + f"/subscriptions/{emulator.config.subscription_id}/providers/"
                                  "Microsoft.CognitiveServices/accounts" + query), "AccountListResult", ARM_SPEC),
        (body(base + "/deployments/ft" + query), "Deployment", ARM_SPEC),
        (body(base + "/deployments" + query), "DeploymentListResult", ARM_SPEC),
        (body(base + "/listKeys" + query, "POST"), "ApiKeys", ARM_SPEC),
        (body(base + "/deployments/missing" + query), "ErrorResponse", COMMON_TYPES),
    ]
    for (status, payload), definition, spec in checks:
        assert contract.schema_problems(definition, payload, spec) == [], (status, payload)
    # the operation-status resource has the common shape (id, name, status, startTime, endTime, error)
    op = next(iter(emulator.backend.store["operations"].values()))
    status, payload = body(emulator.base_url + management.operation_path(op) + query)
    assert status == 200
    assert set(payload) <= {"id", "name", "status", "startTime", "endTime", "percentComplete", "error"}
    assert payload["status"] == "Succeeded" and payload["name"] == op["id"]


def test_deployment_fails_when_its_source_disappears_while_provisioning(slow_emulator, slow_arm, control_slow):
    ft = train_fine_tuned_model(slow_emulator, "aoai-ncus")
    poller = slow_arm.deployments.begin_create_or_update(
        RG, "aoai-swc", "ft", arm_deployment(ft["model"], "1", source=account_resource_id(slow_emulator, "aoai-ncus")))
    slow_arm.accounts.begin_delete(RG, "aoai-ncus").result()  # the training account and its models go away
    advance(control_slow, 400)
    with pytest.raises(HttpResponseError) as info:
        poller.result()
    assert "no longer available" in str(info.value)
    assert slow_arm.deployments.get(RG, "aoai-swc", "ft").properties.provisioning_state == "Failed"
    slow_arm.deployments.begin_delete(RG, "aoai-swc", "ft")  # a failed deployment can be deleted
    advance(control_slow, 30)
    assert _deployment_names(slow_arm, "aoai-swc") == set()
