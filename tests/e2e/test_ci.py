"""`aoai-ft ci`, the command the GitHub Actions workflow (examples/ci/github-actions.yml) calls, run
as the workflow runs it: in a git checkout of the pipeline project, the state in Azure Blob Storage
(Azurite), the service emulated, the pull request's comment on a loopback stand-in of GitHub's API.

On merge: `ci up dev`, `ci up staging` (with an administrator's key): the promotion flow on the
shared backend (dev trains and deploys; staging reads dev through the StackReference and deploys
after the gate). On a pull request, with a read-only sign-in to the state (a reviewer's identity may
only read): a preview with changes (more epochs: a new paid training run, priced), then one without
(a change to the program that changes nothing), then one a mandatory policy fails; the same comment
updated each time; the state untouched; no credential in the comment."""

from __future__ import annotations

import json
import subprocess

from .harness import ACCESS_TOKEN, API_KEY, REPO, Stack
from .test_team import dev_pipeline, staging_pipeline

AOAI_FT = str(REPO / ".venv" / "bin" / "aoai-ft")
POLICY_PACK = str(REPO / "policy" / "run-policy-pack")
PR = 7


def git(project, *args) -> str:
    return subprocess.run(["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args], cwd=project,
                          check=True, capture_output=True, text=True).stdout


def test_ci_review_and_up_against_the_emulator_and_blob_state(tmp_path, pulumi_bin, emulator, requests_log,
                                                              azurite, github_api):
    container = azurite.create_container("finetune-state-ci")
    backend = azurite.backend_url(container)
    # The team's repository: the project with the dev and staging stacks' settings, created once by an
    # administrator (`pulumi stack init`) on the shared backend.
    admin = Stack(tmp_path / "admin", pulumi_bin, emulator.base_url, program="root", name="dev", backend=backend,
                  extra_env=azurite.env())
    admin.set_pipeline("dev", dev_pipeline())
    admin.run("stack", "init", "staging")
    for key in ("armEndpoint", "credential", "allowInsecureLoopback", "pollInterval", "maxRetries"):
        value = admin.run("config", "get", f"aoai-finetune:{key}", "--stack", "dev").stdout.strip()
        admin.run("config", "set", f"aoai-finetune:{key}", value, "--stack", "staging")
    admin.set_pipeline("staging", staging_pipeline())
    project = admin.project
    (project / ".gitignore").write_text(".venv\n")
    policy_config = tmp_path / "policy.json"
    policy_config.write_text(json.dumps({
        "aoai-ft-allowed-base-models": {"allowed_base_models": ["gpt-4o-mini"]},
        "aoai-ft-allowed-regions": {"allowed_regions": ["northcentralus", "swedencentral"],
                                    "account_regions": {"aoai-ncus": "northcentralus", "aoai-swc": "swedencentral"}},
        "aoai-ft-max-capacity": {"enforcementLevel": "advisory", "max_capacity": 1},
        "aoai-ft-quality-gate": {"enforcementLevel": "disabled"},
    }))
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "the pipeline")

    # The runner: a fresh Pulumi home, the backend named by PULUMI_BACKEND_URL as the workflow sets it.
    runner_home = tmp_path / "runner-home"
    runner_home.mkdir()
    summary = tmp_path / "step-summary.md"
    base_env = {**admin.env(), "PULUMI_HOME": str(runner_home), "PULUMI_BACKEND_URL": backend,
                "GITHUB_STEP_SUMMARY": str(summary)}

    def aoai_ft(*args, env):
        return subprocess.run([AOAI_FT, "ci", *args, "--policy-pack", POLICY_PACK, "--policy-pack-config",
                               str(policy_config)] if args[0] != "changed" else [AOAI_FT, "ci", *args],
                              cwd=project, env=env, capture_output=True, text=True, timeout=900)

    # -- on merge: up dev, then (after an approval) staging ----------------------------------------
    writer = {**base_env, **azurite.env()}
    for stack in ("dev", "staging"):
        result = aoai_ft("up", stack, env=writer)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "## `pulumi up` of `organization/finetune/staging`" in summary.read_text()
    # The promotion: staging read dev's model and metrics through the StackReference
    # (organization/finetune/dev on the shared backend), passed the gate, deployed in another region,
    # and trained nothing.
    dev_out, out = (json.loads(admin.run("stack", "output", "--json", "--show-secrets", "--stack", s).stdout)
                    for s in ("dev", "staging"))
    assert out["fine_tuned_model"] == dev_out["fine_tuned_model"] and out["metrics"] == dev_out["metrics"]
    assert [(d["region"], d["model"], d["state"]) for d in out["deployments"].values()] == \
        [("swedencentral", dev_out["fine_tuned_model"], "Succeeded")]
    assert len(requests_log.matching(requests_log.all(), "POST", r"/openai/fine_tuning/jobs$")) == 1
    # The state is in the container, nowhere else: the stacks' checkpoints, no lock left behind,
    # nothing in a Pulumi home; and no credential in it.
    blobs = azurite.blobs(container)
    assert {".pulumi/stacks/finetune/dev.json", ".pulumi/stacks/finetune/staging.json"} <= set(blobs)
    assert not [b for b in blobs if b.startswith(".pulumi/locks/")]
    assert any(b.startswith(".pulumi/history/finetune/staging/") for b in blobs)
    assert not [p for p in tmp_path.rglob("*.json") if ".pulumi" in p.parts and "stacks" in p.parts]
    for blob in blobs:
        text = azurite.read(container, blob).decode("utf-8", "replace")
        assert API_KEY not in text and ACCESS_TOKEN not in text and azurite.env()["AZURE_STORAGE_KEY"] not in text

    # -- a pull request: more epochs for dev --------------------------------------------------------
    git(project, "checkout", "-q", "-b", "more-epochs")
    admin.set_pipeline("dev", dev_pipeline(n_epochs=4))
    git(project, "commit", "-q", "-am", "dev: 4 epochs")
    head = git(project, "rev-parse", "HEAD").strip()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": PR, "head": {"sha": head, "ref": "more-epochs"}}}))
    github_api.add(PR, "Looks good to me, waiting for the review.")
    # keyless: the job may ask GitHub for an OIDC token (here the stand-in's), for the reviewer identity
    oidc = {"ACTIONS_ID_TOKEN_REQUEST_URL": github_api.token_url(),
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": github_api.REQUEST_TOKEN,
            "AZURE_CLIENT_ID": "00000000-0000-0000-0000-00000000c1a5",
            "AZURE_TENANT_ID": "00000000-0000-0000-0000-0000000071e7"}
    reader = {**base_env, **azurite.read_only_env(container), **github_api.env(event), **oidc}
    reader = {k: v for k, v in reader.items() if v is not None}
    blobs_before = azurite.blobs(container)
    mark = requests_log.mark()

    changed = aoai_ft("changed", "--base", "main", "dev", "staging", env=reader)
    assert changed.returncode == 0 and changed.stdout.strip() == "dev"

    result = aoai_ft("review", "--base", "main", "dev", "staging", env=reader)
    assert result.returncode == 0, result.stderr[-3000:] + github_api.comments[PR][-1]["body"][-3000:]
    assert f"created the review comment on pull request #{PR}" in result.stderr
    assert "signing in to Azure with the job's OIDC token" in result.stderr and github_api.tokens_issued >= 1
    ours = [c for c in github_api.comments[PR] if c["user"]["login"] == "github-actions[bot]"]
    assert len(ours) == 1 and len(github_api.comments[PR]) == 2
    body = ours[0]["body"]
    assert body.startswith("<!-- aoai-ft ci review -->\n## Fine-tuning review\n")
    run_url = "https://github.example/contoso/finetune/actions/runs/4242"
    assert f"Commit `{head[:12]}` (`more-epochs`) · [workflow run]({run_url})" in body
    assert "| `organization/finetune/dev` | changes | 1 |" in body
    assert f"### Stack `organization/finetune/dev` at `{head[:12]}`" in body
    assert "**1 new paid training run**" in body
    assert "| `fine-tune` | FineTuningJob | **replace** | hyperparameters.n_epochs: 3 -> 4" in body
    assert "| Training `fine-tune` (gpt-4o-mini-2024-07-18) |" in body and "x 4 epochs at $3.00/1M" in body
    # the region comes from the stack's settings
    assert "| `aoai-ncus` | northcentralus | - | - | `ncus-support-dev` | - | - | 1 | $1.70/hour |" in body
    assert "| Hosting after the change | $1.70/hour" in body
    assert "Pack `aoai-finetune-guardrails`: **passed**" in body
    assert "Not previewed (unchanged by this pull request): `organization/finetune/staging`." in body
    assert "staging` at" not in body
    # read-only: the preview wrote nothing to the state and nothing to the service
    assert azurite.blobs(container) == blobs_before
    assert requests_log.writes(requests_log.since(mark)) == []
    # no credential of the run in the comment
    sas = reader["AZURE_STORAGE_SAS_TOKEN"]
    for secret in (sas, "sig=", github_api.TOKEN, azurite.env()["AZURE_STORAGE_KEY"], "e2e-emulator-key",
                   github_api.REQUEST_TOKEN, "oidc-token-"):
        assert secret not in body

    # -- the pull request changes again: back to 3 epochs, and a comment in the program (every stack is
    # previewed, nothing changes) ----------------------------------------------------------------
    admin.set_pipeline("dev", dev_pipeline())
    with open(project / "stacks" / "__main__.py", "a", encoding="utf-8") as fh:
        fh.write("\n# reviewed in CI\n")
    git(project, "commit", "-q", "-am", "back to 3 epochs; a note in the program")
    head = git(project, "rev-parse", "HEAD").strip()
    event.write_text(json.dumps({"pull_request": {"number": PR, "head": {"sha": head, "ref": "more-epochs"}}}))
    result = aoai_ft("review", "--base", "main", "dev", "staging", env=reader)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"updated the review comment on pull request #{PR}" in result.stderr
    ours = [c for c in github_api.comments[PR] if c["user"]["login"] == "github-actions[bot]"]
    assert len(ours) == 1 and len(github_api.comments[PR]) == 2
    body = ours[0]["body"]
    assert f"Commit `{head[:12]}`" in body
    assert "| `organization/finetune/dev` | no changes | 0 | $0.00 |" in body
    assert "| `organization/finetune/staging` | no changes | 0 | $0.00 |" in body
    assert body.count("No fine-tuning resource changes.") == 2
    assert "Not previewed" not in body
    # staging's capacity 2 is over the advisory limit of 1: reported, not failing
    assert "passed with advisory violations" in body and "| `aoai-ft-max-capacity` | advisory | `swc-support` |" in body
    assert azurite.blobs(container) == blobs_before
    assert requests_log.writes(requests_log.since(mark)) == []
    assert "sig=" not in body and github_api.TOKEN not in body

    # -- a mandatory policy the staging deployment breaks: the preview fails, the comment says why,
    # the command exits 1 --------------------------------------------------------------------------
    strict = json.loads(policy_config.read_text())
    strict["aoai-ft-max-capacity"]["enforcementLevel"] = "mandatory"
    policy_config.write_text(json.dumps(strict))
    result = aoai_ft("review", "staging", env=reader)
    assert result.returncode == 1 and "the preview of organization/finetune/staging failed" in result.stderr
    body = [c for c in github_api.comments[PR] if c["user"]["login"] == "github-actions[bot]"][0]["body"]
    assert "| `organization/finetune/staging` | **failed** |" in body and "**failed**: 1 violation(s)" in body
    assert "Pack `aoai-finetune-guardrails`: **failed** (mandatory), 1 violation(s)" in body
    assert "| `aoai-ft-max-capacity` | mandatory | `swc-support` | " in body
    assert len(github_api.comments[PR]) == 2 and azurite.blobs(container) == blobs_before
