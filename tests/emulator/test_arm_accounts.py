"""ARM accounts through the real azure-mgmt-cognitiveservices client."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.cognitiveservices.models import Account, AccountProperties, Sku

from .conftest import arm_deployment, make_arm, make_arm_with

RG = "aoai-emulator"
OTHER_SUB = "11111111-1111-1111-1111-111111111111"


def _account(location: str = "eastus2", kind: str | None = "OpenAI", **props) -> Account:
    return Account(location=location, kind=kind, sku=Sku(name="S0"), properties=AccountProperties(**props))


def test_seeded_accounts_are_listed_with_their_endpoints(emulator, arm):
    by_rg = {a.name: a for a in arm.accounts.list_by_resource_group(RG)}
    assert set(by_rg) == {"aoai-ncus", "aoai-swc"}
    assert {a.name for a in arm.accounts.list()} == {"aoai-ncus", "aoai-swc"}
    ncus = arm.accounts.get(RG, "aoai-ncus")
    assert ncus.location == "northcentralus"
    assert ncus.kind == "OpenAI"
    assert ncus.sku.name == "S0"
    assert ncus.type == "Microsoft.CognitiveServices/accounts"
    assert ncus.id == (f"/subscriptions/{emulator.config.subscription_id}/resourceGroups/{RG}"
                       "/providers/Microsoft.CognitiveServices/accounts/aoai-ncus")
    assert ncus.properties.endpoint == emulator.backend.account_endpoint("aoai-ncus")
    assert ncus.properties.endpoint == f"{emulator.base_url}/accounts/aoai-ncus/"
    assert ncus.properties.provisioning_state == "Succeeded"
    assert by_rg["aoai-swc"].location == "swedencentral"


def test_account_create_get_update_list_delete(emulator, arm, control):
    poller = arm.accounts.begin_create(RG, "aoai-eus2", _account("East US 2", custom_sub_domain_name="aoai-eus2"))
    created = poller.result()
    assert created.properties.provisioning_state == "Succeeded"
    assert created.location == "eastus2"  # ARM's normalized form
    assert created.properties.endpoint == f"{emulator.base_url}/accounts/aoai-eus2/"
    assert created.properties.custom_sub_domain_name == "aoai-eus2"
    log = control.get("/_emulator/requests").json()["data"]
    put = [r for r in log if r["method"] == "PUT" and r["path"].endswith("/accounts/aoai-eus2")]
    assert [r["status"] for r in put] == [201]

    updated = arm.accounts.begin_create(RG, "aoai-eus2", Account(location="eastus2", kind="OpenAI",
                                                                sku=Sku(name="S0"), tags={"team": "ml"})).result()
    assert updated.tags == {"team": "ml"}
    patched = arm.accounts.begin_update(RG, "aoai-eus2", Account(tags={"team": "ml", "env": "dev"})).result()
    assert patched.tags == {"team": "ml", "env": "dev"}
    assert arm.accounts.get(RG, "aoai-eus2").tags == {"team": "ml", "env": "dev"}
    assert "aoai-eus2" in {a.name for a in arm.accounts.list_by_resource_group(RG)}

    arm.accounts.begin_delete(RG, "aoai-eus2").result()
    with pytest.raises(ResourceNotFoundError):
        arm.accounts.get(RG, "aoai-eus2")
    arm.accounts.begin_delete(RG, "aoai-eus2").result()  # already gone: still a success
    statuses = [r["status"] for r in control.get("/_emulator/requests").json()["data"]
                if r["method"] == "DELETE"]
    assert statuses == [200, 204]


def test_account_of_another_resource_group_is_not_found(arm):
    with pytest.raises(ResourceNotFoundError) as info:
        arm.accounts.get("some-other-rg", "aoai-ncus")
    assert info.value.error.code == "ResourceNotFound"
    assert info.value.error.message.startswith(
        "The Resource 'Microsoft.CognitiveServices/accounts/aoai-ncus' under resource group 'some-other-rg' "
        "was not found.")
    with pytest.raises(ResourceNotFoundError):
        list(arm.deployments.list("some-other-rg", "aoai-ncus"))
    assert list(arm.accounts.list_by_resource_group("some-other-rg")) == []


def test_account_name_taken_in_another_resource_group_or_subscription(emulator, arm):
    with pytest.raises(ResourceExistsError) as info:
        arm.accounts.begin_create("some-other-rg", "aoai-ncus", _account("northcentralus"))
    assert info.value.status_code == 409
    assert info.value.error.code == "CustomDomainInUse"
    assert "The subdomain name 'aoai-ncus' is not available" in info.value.error.message

    other_sub = make_arm_with(emulator, subscription_id=OTHER_SUB)
    with pytest.raises(ResourceExistsError):
        other_sub.accounts.begin_create(RG, "aoai-swc", _account("swedencentral"))
    # a custom subdomain is as unique as a name
    with pytest.raises(ResourceExistsError):
        arm.accounts.begin_create(RG, "fresh-name", _account(custom_sub_domain_name="aoai-swc"))


def test_accounts_in_another_subscription(emulator):
    other = make_arm_with(emulator, subscription_id=OTHER_SUB)
    created = other.accounts.begin_create("rg-b", "aoai-sub-b", _account("swedencentral")).result()
    assert created.id.startswith(f"/subscriptions/{OTHER_SUB}/resourceGroups/rg-b/")
    assert [a.name for a in other.accounts.list()] == ["aoai-sub-b"]
    assert "aoai-sub-b" not in {a.name for a in make_arm(emulator).accounts.list()}


@pytest.mark.parametrize("body, code, target", [
    (Account(kind="OpenAI", sku=Sku(name="S0")), "LocationRequired", "location"),
    (Account(location="eastus2", sku=Sku(name="S0")), "KindRequired", "kind"),
    (Account(location="eastus2", kind="Face", sku=Sku(name="S0")), "InvalidKind", "kind"),
    (Account(location="eastus2", kind="OpenAI", sku=Sku(name="F0")), "InvalidSkuName", "sku.name"),
])
def test_account_validation_names_the_field(arm, body, code, target):
    with pytest.raises(HttpResponseError) as info:
        arm.accounts.begin_create(RG, "aoai-invalid", body)
    assert info.value.status_code == 400
    assert info.value.error.code == code
    assert info.value.error.target == target


def test_account_location_and_kind_cannot_change(arm):
    with pytest.raises(HttpResponseError) as info:
        arm.accounts.begin_create(RG, "aoai-ncus", _account("westeurope"))
    assert info.value.error.code == "InvalidResourceLocation"
    assert "already exists in location 'northcentralus'" in info.value.error.message
    with pytest.raises(HttpResponseError) as info:
        arm.accounts.begin_create(RG, "aoai-ncus", _account("northcentralus", kind="AIServices"))
    assert info.value.error.code == "KindChangeNotAllowed"


def test_deleting_an_account_deletes_its_deployments(emulator, arm):
    arm.accounts.begin_create(RG, "aoai-tmp", _account("swedencentral")).result()
    arm.deployments.begin_create_or_update(RG, "aoai-tmp", "chat", arm_deployment("gpt-4o-mini", "2024-07-18")).result()
    assert [d.name for d in arm.deployments.list(RG, "aoai-tmp")] == ["chat"]
    arm.accounts.begin_delete(RG, "aoai-tmp").result()
    assert not [k for k in emulator.backend.store["deployments"] if k.startswith("aoai-tmp/")]
    arm.accounts.begin_create(RG, "aoai-tmp", _account("swedencentral")).result()
    assert list(arm.deployments.list(RG, "aoai-tmp")) == []


def test_list_keys(emulator, arm):
    keys = arm.accounts.list_keys(RG, "aoai-ncus")
    assert keys.key1 and keys.key2 and keys.key1 != keys.key2
    assert arm.accounts.list_keys(RG, "aoai-ncus").key1 == keys.key1  # stable


def test_new_account_is_busy_until_provisioned(slow_emulator, slow_arm, control_slow):
    poller = slow_arm.accounts.begin_create(RG, "aoai-new", _account("swedencentral"))
    assert slow_arm.accounts.get(RG, "aoai-new").properties.provisioning_state == "Creating"
    with pytest.raises(ResourceExistsError) as info:
        slow_arm.deployments.begin_create_or_update(RG, "aoai-new", "chat", arm_deployment("gpt-4o-mini"))
    assert info.value.error.code == "RequestConflict"
    control_slow.post("/_emulator/clock", json={"advance_seconds": 30}).raise_for_status()
    assert poller.result().properties.provisioning_state == "Succeeded"
