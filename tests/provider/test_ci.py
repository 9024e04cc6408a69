"""ci.py without the engine: which stacks a change touches (a real git repository), policy results
from an event log, credentials kept out of the comment. The previews themselves run under the real
CLI in tests/e2e/test_ci.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pulumi_aoai_finetune import ci, review

REPO = Path(__file__).resolve().parents[2]


def sh(cwd, *args):
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    (root / "stacks").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "Pulumi.yaml").write_text("name: finetune\nruntime: python\nmain: stacks/\nstackConfigDir: stacks\n")
    for stack in ("dev", "staging", "prod", "local"):
        (root / "stacks" / f"Pulumi.{stack}.yaml").write_text(f"config: {{}}  # {stack}\n")
    (root / "stacks" / "__main__.py").write_text("# program\n")
    (root / "data" / "train.jsonl").write_text("{}\n")
    (root / "README.md").write_text("readme\n")
    sh(root, "git", "init", "-q", "-b", "main")
    sh(root, "git", "-c", "user.email=t@e", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "empty")
    sh(root, "git", "add", "-A")
    sh(root, "git", "-c", "user.email=t@e", "-c", "user.name=t", "commit", "-q", "-m", "base")
    sh(root, "git", "checkout", "-q", "-b", "change")
    return root


def commit(root, path, text):
    (root / path).write_text(text)
    sh(root, "git", "add", "-A")
    sh(root, "git", "-c", "user.email=t@e", "-c", "user.name=t", "commit", "-q", "-m", f"edit {path}")


def test_changed_stacks(repo):
    project = ci.Project.load(repo)
    assert project.stacks() == ["dev", "local", "prod", "staging"]
    assert project.qualified("dev") == "organization/finetune/dev"
    wanted = ("dev", "staging", "prod")
    assert ci.changed_stacks(project, "main", wanted) == []
    commit(repo, "README.md", "docs only\n")
    assert ci.changed_stacks(project, "main", wanted) == []
    commit(repo, "stacks/Pulumi.staging.yaml", "config: {a: 1}\n")
    commit(repo, "stacks/Pulumi.local.yaml", "config: {a: 1}\n")  # not one of the stacks asked for
    assert ci.changed_stacks(project, "main", wanted) == ["staging"]
    commit(repo, "data/train.jsonl", "{\"x\": 1}\n")  # the data every stack trains on
    assert ci.changed_stacks(project, "main", wanted) == ["dev", "staging", "prod"]
    with pytest.raises(ci.CiError, match="git diff"):
        ci.changed_stacks(project, "no-such-ref", wanted)


def test_regions_come_from_the_stack_settings(repo):
    (repo / "stacks" / "Pulumi.prod.yaml").write_text(json.dumps({"config": {"finetune:pipeline": {"accounts": {
        "eus2": {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.CognitiveServices/accounts/ft-eus2",
                 "region": "eastus2"},
        "swc": {"name": "ft-swc", "region": "swedencentral"}}}}}))
    assert ci.Project.load(repo).regions("prod") == {"ft-eus2": "eastus2", "ft-swc": "swedencentral"}


def test_policy_results_from_the_event_log(tmp_path):
    urn = "urn:pulumi:dev::finetune::pulumi-python:dynamic/aoai:ModelDeployment::swc-support"
    events = [
        {"sequence": 1, "policyLoadEvent": {}},
        {"policyAnalyzeSummaryEvent": {"resourceUrn": urn, "policyPackName": "guardrails",
                                       "passed": ["aoai-ft-allowed-regions"], "failed": ["aoai-ft-max-capacity"]}},
        {"policyEvent": {"resourceUrn": urn, "message": "capacity 2 exceeds\n 1", "policyName": "aoai-ft-max-capacity",
                         "policyPackName": "guardrails", "enforcementLevel": "advisory"}},
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events) + "\nnot json\n")
    results = ci.PolicyResults.from_event_log(path)
    assert results.packs == ["guardrails"] and results.passed == {"aoai-ft-allowed-regions": 1}
    assert results.violations == [{"policy": "aoai-ft-max-capacity", "pack": "guardrails", "level": "advisory",
                                   "resource": "swc-support", "message": "capacity 2 exceeds 1"}]
    assert results.mandatory == []
    assert ci.PolicyResults.from_event_log(tmp_path / "missing").packs == []


def test_the_comment_carries_no_credential():
    env = {"AZURE_STORAGE_SAS_TOKEN": "sv=2025-01-05&sp=rl&sig=abcdefSECRET%3D", "GITHUB_TOKEN": "ghs_0123456789"}
    text = ("import from https://acct.blob.core.windows.net/c/train.jsonl?sv=2025-01-05&se=2026&sig=abc%2Bdef= failed; "
            "token ghs_0123456789; sas sv=2025-01-05&sp=rl&sig=abcdefSECRET%3D; plain https://example.com/x?a=1")
    clean = ci.scrub(text, env)
    assert "sig=" not in clean and "ghs_0123456789" not in clean and "SECRET" not in clean
    assert "https://acct.blob.core.windows.net/c/train.jsonl?[SAS redacted]" in clean
    assert "[GITHUB_TOKEN]" in clean and "https://example.com/x?a=1" in clean


def test_render_comment_without_changes_and_with_a_failed_preview():
    project = ci.Project(root=None, name="finetune", config_dir=None)  # type: ignore[arg-type]
    ctx = ci.Context(commit="0123456789abcdef", ref="more-epochs", pull_request=7, run_url="https://gh/run/1")
    empty = review.build({"steps": []}, regions={})
    ok = ci.StackPreview("dev", project.qualified("dev"), 0, empty, ci.PolicyResults(packs=["guardrails"],
                                                                                      passed={"r": 2}))
    broken = ci.StackPreview("prod", project.qualified("prod"), 255, None, None,
                             error="error: finetune:pipeline.promote.gate: refusing to promote ...")
    text = ci.render_comment([ok, broken], ctx, skipped=["organization/finetune/staging"])
    assert text.startswith(ci.MARKER + "\n## Fine-tuning review\n")
    assert "Commit `0123456789ab` (`more-epochs`) · [workflow run](https://gh/run/1)" in text
    assert "| `organization/finetune/dev` | no changes | 0 | $0.00 | $0.00/hour | passed |" in text
    assert "| `organization/finetune/prod` | **failed** | - | - | - | not run |" in text
    assert "### Stack `organization/finetune/dev` at `0123456789ab`" in text
    assert "#### Cost estimate" in text and "No fine-tuning resource changes." in text
    assert "Pack `guardrails`: **passed**, 2 check(s), no violation." in text
    assert "refusing to promote" in text
    assert "Not previewed (unchanged by this pull request): `organization/finetune/staging`." in text
    none = ci.render_comment([], ctx, skipped=["organization/finetune/dev"])
    assert "No stack is changed by this pull request." in none


def test_the_example_workflow_calls_existing_commands_and_stores_no_secret():
    """examples/ci's workflow: every `aoai-ft ci` line parses with the real command's options (with
    the workflow's own $STACKS and $POLICY), the jobs have the permissions keyless sign-in needs, and
    no secret is referenced."""
    import shlex

    import yaml

    from pulumi_aoai_finetune.ci_command import ci as ci_group

    path = REPO / "examples" / "ci" / ".github" / "workflows" / "finetune.yml"
    text = path.read_text()
    assert "${{ secrets." not in text and "client-secret" not in text and "AZURE_STORAGE_KEY" not in text
    doc = yaml.safe_load(text)
    env = doc["env"]
    assert env["PULUMI_BACKEND_URL"].startswith("azblob://")
    calls = {}
    for name, job in doc["jobs"].items():
        for step in job["steps"]:
            run = step.get("run", "")
            if "aoai-ft ci" not in run:
                continue
            line = run.replace("$STACKS", env["STACKS"]).replace("$POLICY", env["POLICY"])
            line = line.replace('"origin/${{ github.base_ref }}"', "origin/main")
            args = shlex.split(line)[2:]
            command = ci_group.get_command(None, args[0])
            command.make_context(args[0], args[1:])  # raises on an unknown option or a missing argument
            calls[name] = args
            assert job["permissions"]["id-token"] == "write", name
    assert calls["review"][:6] == ["review", "--base", "origin/main", "dev", "staging", "prod"]
    assert doc["jobs"]["review"]["permissions"]["pull-requests"] == "write"
    for stack in ("dev", "staging", "prod"):
        job = doc["jobs"][stack]
        assert calls[stack][:2] == ["up", stack] and job["environment"] == stack
        assert job["concurrency"]["cancel-in-progress"] is False  # a cancelled up leaves the stack locked
    assert doc["jobs"]["staging"]["needs"] == "dev" and doc["jobs"]["prod"]["needs"] == "staging"
