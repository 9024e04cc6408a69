"""Two stacks, identical data, one account, at the same time: each ends with its own file, job and
deployment, and destroying either leaves the other intact (the data-loss case of issue 14: stack B's
`up` used to reuse stack A's freshly uploaded file while A's job create was in flight, and B's destroy
then deleted the file A trains on)."""

from __future__ import annotations

from .conftest import start_up, wait_until
from .harness import Stack, write_chat_jsonl

JOB_CREATE = r"/openai/fine_tuning/jobs$"


def _spec(emulator, data, deployment: str) -> dict:
    return {
        "subscription": emulator.config.subscription_id, "resource_group": emulator.config.resource_group,
        "files": {"train": {"account": "aoai-ncus", "path": str(data)}},
        "jobs": {"job": {"account": "aoai-ncus", "base_model": "gpt-4o-mini-2024-07-18", "training_file": "train",
                         "hyperparameters": {"n_epochs": 3}, "suffix": "shared", "seed": 42}},
        "deployments": {"ncus": {"account": "aoai-ncus", "model": "job:job", "deployment_name": deployment}},
    }


def test_two_stacks_with_identical_data_on_one_account_keep_their_own_objects(tmp_path, pulumi_bin, emulator, faults,
                                                                             inventory, requests_log):
    # the same data, under the same file name, in two stacks of the same project
    data_a = write_chat_jsonl((tmp_path / "a").mkdir() or tmp_path / "a" / "train.jsonl", 12)
    data_b = write_chat_jsonl((tmp_path / "b").mkdir() or tmp_path / "b" / "train.jsonl", 12)
    assert data_a.read_bytes() == data_b.read_bytes()
    stack_a = Stack(tmp_path / "pulumi-a", pulumi_bin, emulator.base_url, name="team-a")
    stack_b = Stack(tmp_path / "pulumi-b", pulumi_bin, emulator.base_url, name="team-b")
    stack_a.set_spec(_spec(emulator, data_a, "bot-a"))
    stack_b.set_spec(_spec(emulator, data_b, "bot-b"))

    # A uploads its file, then its job create is held by the service for a while: the file is in
    # the account, used by no job yet. B's whole `up` runs meanwhile.
    held = faults.add(method="POST", path_regex=JOB_CREATE, delay_seconds=25)
    proc_a = start_up(stack_a)
    wait_until(lambda: faults.hits(held) == 1, timeout=120, what="A's job create")
    assert len(inventory.files()) == 1
    stack_b.up()
    out_a, _ = proc_a.communicate(timeout=300)
    assert proc_a.returncode == 0, out_a

    a, b = stack_a.outputs(), stack_b.outputs()
    assert a["file_train"] != b["file_train"], "B took over A's file"
    assert a["job_job_id"] != b["job_job_id"]
    assert {f["id"] for f in inventory.files()} == {a["file_train"], b["file_train"]}
    names = sorted(f["filename"] for f in inventory.files())
    assert all(n.startswith("train.aoaift-") and n.endswith(".jsonl") for n in names) and names[0] != names[1]
    assert {d["name"] for d in inventory.deployments()} == {"bot-a", "bot-b"}
    tags = {d["name"]: d.get("tags", {}).get("aoai-finetune-stack") for d in inventory.deployments()}
    assert tags == {"bot-a": "organization/e2e-pipeline/team-a", "bot-b": "organization/e2e-pipeline/team-b"}

    # B's destroy leaves all of A; A's state still matches reality
    stack_b.destroy()
    assert {f["id"] for f in inventory.files()} == {a["file_train"]}
    assert [d["name"] for d in inventory.deployments()] == ["bot-a"]
    assert {j["id"]: j["status"] for j in inventory.jobs()}[a["job_job_id"]] == "succeeded"
    stack_a.run("refresh", "--yes", "--skip-preview", "--expect-no-changes")
    # and the other way round: B again, then A's destroy leaves all of B
    stack_b.up()
    b = stack_b.outputs()
    stack_a.destroy()
    assert {f["id"] for f in inventory.files()} == {b["file_train"]}
    assert [d["name"] for d in inventory.deployments()] == ["bot-b"]
    stack_b.run("refresh", "--yes", "--skip-preview", "--expect-no-changes")
    stack_b.destroy()
    assert inventory.files() == [] and inventory.deployments() == []
    assert len(requests_log.matching(requests_log.all(), "POST", JOB_CREATE)) == 3  # A, B, B again: no reuse
