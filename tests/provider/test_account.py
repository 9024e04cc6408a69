import pytest

from pulumi_aoai_finetune.account import AccountArgs, AccountRef
from pulumi_aoai_finetune.errors import ConfigurationError

ID = "/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.CognitiveServices/accounts/acct-1"


def test_parse_resource_id():
    ref = AccountRef.parse({"resource_id": ID})
    assert (ref.subscription_id, ref.resource_group, ref.name, ref.endpoint) == ("sub-1", "rg-1", "acct-1", None)
    assert ref.resource_id == ID


def test_parse_is_case_insensitive_like_arm():
    lower = AccountRef.parse(ID.lower().replace("resourcegroups", "resourceGroups"))
    assert lower.key == AccountRef.parse(ID).key


def test_id_for_round_trips():
    assert AccountArgs.id_for("sub-1", "rg-1", "acct-1") == ID


@pytest.mark.parametrize("value, message", [
    ({}, "account.resource_id is required"),
    ({"resource_id": "/subscriptions/x/resourceGroups/y"}, "is not an account id"),
    ({"resource_id": ID, "region": "x"}, "unknown keys ['region']"),
    ({"resource_id": ID, "endpoint": "ftp://x"}, "is not an http(s) URL"),
    (42, "expected an object with resource_id"),
])
def test_bad_accounts_name_the_field(value, message):
    with pytest.raises(ConfigurationError, match="account") as err:
        AccountRef.parse(value)
    assert message in str(err.value)


@pytest.mark.parametrize("rid", [
    "/subscriptions/s\n## Approved/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/a",
    "/subscriptions/s/resourceGroups/r <b>/providers/Microsoft.CognitiveServices/accounts/a",
    "/subscriptions/s/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/a\nb",
])
def test_an_account_id_with_a_line_break_or_space_is_refused(rid):
    with pytest.raises(ConfigurationError, match="not an account id"):
        AccountRef.parse({"resource_id": rid})
