import pytest

from pulumi_aoai_finetune.model_deployment import ModelDeploymentController
from pulumi_aoai_finetune.settings import ProviderSettings

A = {"resource_id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/acct-a"}
B = {"resource_id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/acct-b"}
BASE = {"account": A, "model": "gpt-4o-mini-2024-07-18.ft-abc", "deployment_name": "chat"}


@pytest.fixture
def ctl():
    return ModelDeploymentController(ProviderSettings())


def checked(ctl, **extra):
    inputs, failures = ctl.check({}, {**BASE, **extra})
    assert failures == []
    return inputs


@pytest.mark.parametrize("extra, field, message", [
    ({"sku": {"name": "Standard", "capacity": 0}}, "sku.capacity", "integer from 1"),
    ({"sku": {"name": "Standard", "capacity": 10**9}}, "sku.capacity", "integer from 1"),
    ({"sku": {"name": "Standard", "capacity": 1.5}}, "sku.capacity", "integer from 1"),
    ({"sku": {"name": "Standard", "capacity": "1"}}, "sku.capacity", "integer from 1"),
    ({"sku": {"name": "Premium", "capacity": 1}}, "sku.name", "not a deployment sku"),
    ({"sku": {"name": "Standard", "capacity": 1, "tier": "x"}}, "sku", "unknown sku keys"),
    ({"deployment_name": "a"}, "deployment_name", "2 to 64"),
    ({"deployment_name": "bad name!"}, "deployment_name", "2 to 64"),
    ({"model": ""}, "model", "required"),
    ({"source_account": {"resource_id": "nope"}}, "source_account", "not an account id"),
])
def test_check_failures_name_the_field(ctl, extra, field, message):
    _, failures = ctl.check({}, {**BASE, **extra})
    assert any(f == field and message in m for f, m in failures), failures


def test_defaults(ctl):
    inputs = checked(ctl)
    assert inputs["sku"] == {"name": "Standard", "capacity": 1}
    assert inputs["model_format"] == "OpenAI" and inputs["model_version"] == "1"


def test_capacity_and_sku_update_in_place(ctl):
    olds = checked(ctl, sku={"name": "Standard", "capacity": 1})
    olds["sku"] = {"name": "Standard", "capacity": 1.0}  # as the state gives it back
    news = checked(ctl, sku={"name": "Standard", "capacity": 5})
    d = ctl.diff("id", olds, news)
    assert d.replaces == [] and d.updates == ["sku"]
    assert not ctl.diff("id", olds, checked(ctl, sku={"name": "Standard", "capacity": 1})).changes


def test_model_change_replaces_deleting_first(ctl):
    d = ctl.diff("id", checked(ctl), checked(ctl, model="gpt-4o-mini-2024-07-18.ft-def"))
    assert d.replaces == ["model"] and d.delete_before_replace


def test_rename_keeping_the_model_deletes_first(ctl):
    d = ctl.diff("id", checked(ctl), checked(ctl, deployment_name="chat-2"))
    assert d.replaces == ["deployment_name"] and d.delete_before_replace


def test_rename_and_new_model_creates_first(ctl):
    d = ctl.diff("id", checked(ctl), checked(ctl, deployment_name="chat-2", model="m.ft-x"))
    assert set(d.replaces) == {"deployment_name", "model"} and not d.delete_before_replace


def test_source_account_change_replaces(ctl):
    d = ctl.diff("id", checked(ctl, source_account=A), checked(ctl, source_account=B))
    assert d.replaces == ["source_account"]


def test_one_listing_per_account_serves_every_deployment_checked_at_preview(monkeypatch):
    """N new deployments on one account cost one ARM list at preview, also when checked at once; and the
    read of a source account (its tenant) is made once for all the deployments it sources."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor
    from types import SimpleNamespace

    from pulumi_aoai_finetune import availability, clients

    listed: list[str] = []
    guard = threading.Lock()

    class Deployments:
        def list(self, resource_group, account, **kwargs):
            with guard:
                listed.append(account)
            time.sleep(0.05)  # the other checks arrive while it lists
            model = SimpleNamespace(name="gpt-4o-mini-2024-07-18.ft-old")
            return [SimpleNamespace(name="old", properties=SimpleNamespace(model=model))]

    class Accounts:
        def get(self, resource_group, account, **kwargs):
            with guard:
                read.append(account)
            return SimpleNamespace(name=account)

    read: list[str] = []
    monkeypatch.setattr(clients, "arm", lambda settings, subscription, **kw: SimpleNamespace(
        deployments=Deployments(), accounts=Accounts()))
    availability.clear_cache()
    ctl = ModelDeploymentController(ProviderSettings())
    ctl.live_reads = True
    news = [{**BASE, "account": acct, "deployment_name": f"d{i}", **({"source_account": A} if acct == B else {})}
            for acct in (A, B) for i in range(6)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: ctl.check({}, n), news))
    assert all(failures == [] for _, failures in results)
    assert sorted(listed) == ["acct-a", "acct-b"]  # was one list per deployment: 12
    assert sorted(read) == ["acct-a", "acct-b"]  # an account read once (region, source tenant): was 8 reads
    availability.clear_cache()
    ctl.check({}, news[0])
    assert sorted(listed) == ["acct-a", "acct-a", "acct-b"]  # a new process (preview) lists again
    availability.clear_cache()


def test_this_processs_creates_and_deletes_keep_the_accounts_listing_true(monkeypatch):
    """A deployment this process creates or deletes is noted in its account's listing instead of listing
    again (create itself still reads its name before the PUT: tests/provider/test_ownership.py)."""
    from types import SimpleNamespace

    from pulumi_aoai_finetune import availability, clients
    from pulumi_aoai_finetune.account import AccountRef

    listed = []

    class Deployments:
        def list(self, resource_group, account, **kwargs):
            listed.append(account)
            model = SimpleNamespace(name="gpt-4o-mini-2024-07-18")
            return [SimpleNamespace(name="base", properties=SimpleNamespace(model=model))]

    monkeypatch.setattr(clients, "arm", lambda settings, subscription, **kw: SimpleNamespace(deployments=Deployments()))
    availability.clear_cache()
    account = AccountRef.parse(A)
    availability.note_deployment(account, "chat", "gpt-4o-mini-2024-07-18.ft-x")  # never listed: nothing to keep
    assert availability.fine_tuned_deployments(ProviderSettings(), account) == []  # a base-model deployment only
    availability.note_deployment(account, "chat", "gpt-4o-mini-2024-07-18.ft-x")
    assert availability.fine_tuned_deployments(ProviderSettings(), account) == [("chat", "gpt-4o-mini-2024-07-18.ft-x")]
    availability.note_deployment(account, "chat", None)
    assert availability.fine_tuned_deployments(ProviderSettings(), account) == []
    assert listed == ["acct-a"]
    availability.clear_cache()
