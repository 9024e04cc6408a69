"""Hostile and bad input under the real engine: each is refused at `pulumi preview` with a message
naming the field (or config key), and not one write request reaches the emulator. Credentials never show
in state, outputs, the serialized providers, logs or error messages; certificates are always
verified, and plain http needs the explicit loopback setting.

The full corpus at unit level is tests/provider/test_hostile_inputs.py; this file runs a part of each
kind through the engine. Bad data files are in tests/e2e/hostile/ (see its README), or made here.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import os
import time
from pathlib import Path

import yaml

from .harness import ACCESS_TOKEN, API_KEY, REPO, Stack, write_chat_jsonl

HOSTILE = Path(__file__).resolve().parent / "hostile"
MIB = 1024 * 1024


def _file(**inputs):
    def mutate(spec, ctx):
        spec["files"]["train"] = {"account": "aoai-ncus", **inputs}
    return mutate


def _path(make):
    """A data file made by ``make(ctx)``; project_dir left to its default, the Pulumi project."""
    def mutate(spec, ctx):
        spec["files"]["train"] = {"account": "aoai-ncus", "path": make(ctx), "project_dir": None}
    return mutate


def _set(section: str, key: str, value):
    def mutate(spec, ctx):
        spec[section][next(iter(spec[section]))][key] = value
    return mutate


def _in_project(ctx, name: str) -> Path:
    data = ctx["project"] / "data"
    data.mkdir(exist_ok=True)
    return data / name


def _symlink_out(ctx) -> str:
    link = _in_project(ctx, "link.jsonl")
    link.symlink_to(ctx["outside"])
    return str(link)


def _symlinked_dir(ctx) -> str:
    shared = ctx["project"] / "shared"
    shared.symlink_to(ctx["outside"].parent)
    return str(shared / ctx["outside"].name)


def _huge_line(ctx) -> str:
    path = _in_project(ctx, "huge.jsonl")
    with open(path, "wb") as fh:
        fh.write(b'{"messages": [{"role": "user", "content": "')
        for _ in range(100):
            fh.write(b"a" * MIB)
        fh.write(b'"}]}\n')
    return str(path)


def _sparse(ctx) -> str:
    path = _in_project(ctx, "big.jsonl")
    with open(path, "wb") as fh:
        fh.truncate(513 * MIB)
    return str(path)


def _fifo(ctx) -> str:
    path = _in_project(ctx, "pipe.jsonl")
    os.mkfifo(path)
    return str(path)


# id: (mutation of the spec, [(property or key, fragment of the message)])
CASES = {
    # where the data comes from
    "path-absolute-outside-project": (_path(lambda c: "/etc/passwd"), [("path", "outside the project directory")]),
    "path-dotdot-outside-project": (_path(lambda c: str(c["project"] / ".." / ".." / c["outside"].name)),
                                    [("path", "outside the project directory")]),
    "path-symlink-to-outside": (_path(_symlink_out), [("path", "is a symlink (or under one) that leads to")]),
    "path-symlinked-directory": (_path(_symlinked_dir), [("path", "is a symlink (or under one) that leads to")]),
    "path-nul-byte": (_path(lambda c: str(c["project"] / "train.jsonl\x00.txt")), [("path", "control characters")]),
    "path-directory": (_path(lambda c: str(_in_project(c, "x").parent)), [("path", "not a regular file")]),
    "path-fifo": (_path(_fifo), [("path", "not a regular file")]),
    "path-wrong-type": (_path(lambda c: 42), [("path", "non-empty string")]),
    # what the data is
    "data-huge-single-line": (_path(_huge_line), [("path", "huge.jsonl:1: a line of 100.0 MiB")]),
    "data-over-512-MB": (_path(_sparse), [("path", "the service takes files under 512 MB")]),
    "data-invalid-utf8": (_file(path=str(HOSTILE / "invalid-utf8.jsonl")), [("path", "invalid-utf8.jsonl:12")]),
    "data-nan": (_file(path=str(HOSTILE / "nan-weight.jsonl")), [("path", "nan-weight.jsonl:12")]),
    "data-binary": (_file(path=str(HOSTILE / "binary.jsonl")), [("path", "binary.jsonl:1")]),
    "data-csv": (_file(path=str(HOSTILE / "csv.jsonl")), [("path", "csv.jsonl:1")]),
    "data-wrong-format": (_file(path=str(HOSTILE / "prompt-completion.jsonl")), [("path", "prompt-completion.jsonl:1")]),
    "data-too-few": (_file(path=str(HOSTILE / "too-few.jsonl")), [("path", "at least 10")]),
    "data-bom-only": (_file(path=str(HOSTILE / "bom-only.jsonl")), [("path", "no examples")]),
    "data-empty": (_file(path=str(HOSTILE / "empty.jsonl")), [("path", "no examples")]),
    "data-truncated": (_file(path=str(HOSTILE / "truncated.jsonl")), [("path", "truncated.jsonl:12")]),
    "data-nested-1000-deep": (_file(path=str(HOSTILE / "deep-nesting.jsonl")),
                              [("path", "deep-nesting.jsonl:12: line nests JSON")]),
    # the other file inputs, four in one resource
    "file-url-and-fields": (_file(content_url="file:///etc/passwd", filename="../../x.jsonl", purpose="assistants",
                                  timeout_seconds=math.nan),
                            [("content_url", "not an http(s) URL"), ("filename", "base name"),
                             ("purpose", "not supported"), ("timeout_seconds", "positive")]),
    "file-url-plain-http-remote": (_file(content_url="http://example.com/train.jsonl", validate="yes"),
                                   [("content_url", "must be https"), ("validate", "true or false")]),
    # the job: eight bad inputs in one resource
    "job-hyperparameters-and-fields": (
        lambda spec, ctx: spec["jobs"]["job"].update(
            hyperparameters={"n_epochs": math.nan, "batch_size": 0, "learning_rate_multiplier": -0.5},
            suffix="x;rm -rf /", seed=-1, base_model="gpt-4o\nmini", method="magic", wait="yes"),
        [("hyperparameters.n_epochs", "use a number"), ("hyperparameters.batch_size", "1 to 256"),
         ("hyperparameters.learning_rate_multiplier", "positive"), ("suffix", "a-z A-Z 0-9 - _"),
         ("seed", "0 to 2147483647"), ("base_model", "not a model name"), ("method", "supervised, dpo"),
         ("wait", "true or false")]),
    "job-suffix-newline-and-huge-epochs": (
        lambda spec, ctx: spec["jobs"]["job"].update(suffix="prod\n", hyperparameters={"n_epochs": 10**9}),
        [("suffix", "a-z A-Z 0-9 - _"), ("hyperparameters.n_epochs", "1 to 50")]),
    # the deployment
    "deployment-capacity-zero-and-fields": (
        lambda spec, ctx: spec["deployments"]["ncus"].update(
            sku={"name": "Premium", "capacity": 0}, deployment_name="chat\n", timeout_seconds="1h",
            version_upgrade_option="Always"),
        [("sku.name", "not a deployment sku"), ("sku.capacity", "1 to 10000"), ("deployment_name", "2 to 64"),
         ("timeout_seconds", "positive"), ("version_upgrade_option", "must be one of")]),
    "deployment-capacity-1e9": (lambda spec, ctx: spec["deployments"]["ncus"].update(
        sku={"name": "Standard", "capacity": 10**9}, model="m'; DROP TABLE x"),
        [("sku.capacity", "1 to 10000"), ("model", "not a model name")]),
}

# Provider settings (stack config aoai-finetune:<key>): the whole preview is refused, naming the key.
SETTINGS = {
    "pollInterval-nan": ("aoai-finetune:pollInterval", "nan", "aoai-finetune:pollInterval"),
    "maxRetries-unbounded": ("aoai-finetune:maxRetries", "1000000", "aoai-finetune:maxRetries"),
    "armEndpoint-plain-http-remote": ("aoai-finetune:armEndpoint", "http://management.example.com",
                                      "aoai-finetune:armEndpoint"),
}

# The pipeline project's own config (finetune:pipeline in stacks/Pulumi.<stack>.yaml).
STACK_CONFIG = {
    "unknown-region": (("accounts", "swc", "region"), "mars-central", "finetune:pipeline.accounts.swc.region"),
    "capacity-1e9": (("deployments", 0, "sku", "capacity"), 10**9, "finetune:pipeline.deployments[0].sku.capacity"),
    "epochs-wrong-type": (("training", "hyperparameters", "n_epochs"), "three",
                          "finetune:pipeline.training.hyperparameters.n_epochs"),
    "data-outside-project": (("training", "data", "training"), "../../../../etc/passwd", "property path value"),
}


def count_inputs() -> int:
    return sum(len(expected) for _, expected in CASES.values()) + len(SETTINGS) + len(STACK_CONFIG)


def test_bad_inputs_are_refused_at_preview_naming_the_field_and_nothing_reaches_the_emulator(
        stack, base_spec, tmp_path, requests_log, inventory):
    assert count_inputs() >= 40
    outside = tmp_path / "outside" / "train.jsonl"
    outside.parent.mkdir()
    outside.write_bytes((tmp_path / "train.jsonl").read_bytes())
    ctx = {"project": stack.project, "outside": outside}
    refused, started = [], time.monotonic()
    for case, (mutate, expected) in CASES.items():
        spec = copy.deepcopy(base_spec)
        mutate(spec, ctx)
        stack.set_spec(spec)
        result = stack.preview(check=False)
        text = result.stdout + result.stderr
        assert result.returncode != 0, case
        for field, fragment in expected:
            assert f"property {field} value" in text and fragment in text, f"{case}: {field}: {fragment}\n{text[-3000:]}"
            refused.append(f"{case}:{field}")
    stack.set_spec(base_spec)
    for case, (key, value, named) in SETTINGS.items():
        original = stack.run("config", "get", key, check=False).stdout.strip()
        stack.config_set(key, value)
        result = stack.preview(check=False)
        assert result.returncode != 0 and named in result.stdout + result.stderr, case
        refused.append(case)
        if original:
            stack.config_set(key, original)
        else:
            stack.run("config", "rm", key)

    # A hostile input under `pulumi up` too: refused before the first call.
    spec = copy.deepcopy(base_spec)
    spec["files"]["train"] = {"account": "aoai-ncus", "path": str(stack.project / "data" / "link.jsonl"),
                              "project_dir": None}  # the symlink made above
    stack.set_spec(spec)
    result = stack.up(check=False)
    assert result.returncode != 0 and "leads to" in result.stdout + result.stderr
    assert requests_log.writes(requests_log.all()) == []  # not one write: at most a read-only check
    assert inventory.counts() == (0, 0, 0) and stack.resources() == []
    print(f"\n[hostile] {len(refused)} bad inputs refused at preview in {time.monotonic() - started:.0f} s; "
          "0 write requests reached the emulator")


def test_bad_stack_config_is_refused_at_preview_naming_the_key(tmp_path, pulumi_bin, emulator, requests_log):
    stack = Stack(tmp_path / "bad", pulumi_bin, emulator.base_url, program="root", name="bad")
    local = yaml.safe_load((REPO / "stacks" / "Pulumi.local.yaml").read_text())["config"]["finetune:pipeline"]
    for case, (where, value, named) in STACK_CONFIG.items():
        pipeline = copy.deepcopy(local)
        target = pipeline
        for key in where[:-1]:
            target = target[key]
        target[where[-1]] = value
        stack.set_pipeline("bad", pipeline)
        result = stack.preview(check=False)
        assert result.returncode != 0 and named in result.stdout + result.stderr, (case, result.stdout[-2000:])
    assert requests_log.writes(requests_log.all()) == []


def test_a_forged_account_key_fails_the_preview_and_cannot_forge_the_review(tmp_path, pulumi_bin, emulator,
                                                                           requests_log):
    """An account key with a line break, a heading and HTML (a pull request editing the stack file) used to
    pass the preview and plant a fake "Approved" heading in `aoai-ft review`."""
    import subprocess

    stack = Stack(tmp_path / "forged", pulumi_bin, emulator.base_url, program="root", name="forged")
    pipeline = yaml.safe_load((REPO / "stacks" / "Pulumi.local.yaml").read_text())["config"]["finetune:pipeline"]
    forged = "ncus\n\n## ✅ Approved by security, cost $0\n\n<img src=x onerror=alert(1)>"
    pipeline["accounts"][forged] = pipeline["accounts"].pop("ncus")
    pipeline["training"]["account"] = forged
    for d in pipeline["deployments"]:
        d["account"] = forged if d["account"] == "ncus" else d["account"]
    stack.set_pipeline("forged", pipeline)
    result = stack.run("preview", "--json", check=False)
    assert result.returncode != 0
    messages = " ".join(d.get("message", "") for d in json.loads(result.stdout).get("diagnostics", []))
    assert "finetune:pipeline.accounts.'ncus\\n\\n## ✅" in messages, messages  # named, escaped
    doc = tmp_path / "preview.json"
    doc.write_text(result.stdout, encoding="utf-8")
    review = subprocess.run([str(REPO / ".venv" / "bin" / "aoai-ft"), "review", str(doc)], capture_output=True,
                            text=True, env=stack.env(), timeout=120)
    assert review.returncode == 0, review.stderr
    assert "**The preview failed**" in review.stdout
    assert not [line for line in review.stdout.splitlines() if line.lstrip().startswith(("## ✅", "<img"))]
    assert requests_log.writes(requests_log.all()) == []


# -- credentials ------------------------------------------------------------------------------------------
def test_credentials_never_appear_in_state_outputs_providers_logs_or_errors(stack, base_spec, faults, requests_log):
    stack.set_spec(base_spec)
    # Errors first: the service refuses the credential on each plane, then answers with server errors.
    faults.add(method="POST", path_regex=r"/openai/files$", status=401, code="unauthorized",
               message="Access denied due to invalid subscription key or wrong API endpoint.")
    failed = stack.up(check=False)
    assert failed.returncode != 0 and "refused the credential [401]" in failed.stdout + failed.stderr
    faults.clear()
    faults.add(method="PUT", path_regex=r"/deployments/[^/]+$", status=403, code="AuthorizationFailed",
               message="The client does not have authorization to perform action.")
    failed = stack.up(check=False)
    assert failed.returncode != 0 and "AuthorizationFailed" in failed.stdout + failed.stderr
    faults.clear()
    # Then a full run with the engine's most verbose logging, a refresh and a no-op up.
    stack.run("up", "--yes", "--skip-preview", "-v=9", "--logtostderr", "--logflow")
    stack.refresh()
    stack.up()

    secrets = (API_KEY, ACCESS_TOKEN)
    exported = {flag: json.dumps(stack.export(show_secrets=flag)) for flag in (False, True)}
    outputs = json.dumps(stack.outputs())
    providers = [r["inputs"]["__provider"] for r in stack.export(show_secrets=True)["deployment"]["resources"]
                 if "__provider" in r.get("inputs", {})]
    decoded = [base64.b64decode(p if isinstance(p, str) else p["plaintext"].strip('"')) for p in providers]
    backend_files = [p.read_bytes() for p in stack.state.rglob("*") if p.is_file()]  # state, history, backups
    config_files = [p.read_bytes() for p in stack.project.glob("Pulumi*.yaml")]
    for secret in secrets:
        assert secret not in exported[False] and secret not in exported[True]
        assert secret not in outputs
        assert all(secret.encode() not in blob for blob in decoded)
        assert all(secret.encode() not in blob for blob in backend_files + config_files)
        assert secret not in stack.all_logs()  # every command's output, the failures and -v=9 included
    assert len(providers) == 3 and len(backend_files) > 3
    print(f"\n[credentials] searched {sum(map(len, exported.values())) + len(outputs)} chars of exports/outputs, "
          f"{len(decoded)} providers, {len(backend_files)} backend files, {len(stack.all_logs())} chars of logs: 0 hits")


def test_credentials_from_secret_stack_config_work_and_stay_encrypted(tmp_path, pulumi_bin):
    """No credential in the environment: the API key and the ARM token come from `pulumi config set
    --secret`, and an emulator that accepts that key only proves they were used."""
    from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer

    key = "cfg-only-Key-7d41e0"
    config = EmulatorConfig(state_dir=tmp_path / "emulator-state", time_scale=300.0, api_key=key,
                            accounts=(("aoai-ncus", "northcentralus"),))
    with EmulatorServer(config) as emulator:
        stack = Stack(tmp_path / "pulumi", pulumi_bin, emulator.base_url,
                      extra_env={"AZURE_OPENAI_API_KEY": None, "AOAI_FT_ACCESS_TOKEN": None})
        train = write_chat_jsonl(tmp_path / "train.jsonl", 12)
        stack.set_spec({"subscription": config.subscription_id, "resource_group": config.resource_group,
                        "files": {"train": {"account": "aoai-ncus", "path": str(train)}},
                        "jobs": {"job": {"account": "aoai-ncus", "base_model": "gpt-4o-mini-2024-07-18",
                                         "training_file": "train", "hyperparameters": {"n_epochs": 1}}},
                        "deployments": {"ncus": {"account": "aoai-ncus", "model": "job:job",
                                                 "sku": {"name": "Standard", "capacity": 1}}}})
        # without them, `up` stops at the first call, saying what is missing, with nothing created
        missing = stack.up(check=False)
        assert missing.returncode != 0 and "aoai-finetune:accessToken" in missing.stdout + missing.stderr
        assert emulator.backend.store["files"] == {}
        stack.run("config", "set", "--secret", "aoai-finetune:accessToken", key)
        stack.run("config", "set", "--secret", "aoai-finetune:apiKey", key)
        stack.up()
        assert stack.outputs()["deployment_ncus"]["state"] == "Succeeded"
        backend_files = [p.read_bytes() for p in stack.state.rglob("*") if p.is_file()]
        config_files = [p.read_bytes() for p in stack.project.glob("Pulumi*.yaml")]
        assert all(key.encode() not in blob for blob in backend_files + config_files)
        assert key not in json.dumps(stack.export()) and key not in json.dumps(stack.outputs())
        assert key not in stack.all_logs()


def test_a_credential_set_without_secret_gets_a_warning_at_preview_that_does_not_show_it(stack, base_spec):
    """`pulumi config set aoai-finetune:apiKey ...` (no --secret) leaves the key in clear in the stack's
    file and in the state: the preview says so, naming the key, never the value; --secret silences it."""
    stack.set_spec(base_spec)
    stack.run("config", "set", "aoai-finetune:apiKey", API_KEY)
    preview = stack.preview()
    text = preview.stdout + preview.stderr
    assert "aoai-finetune:apiKey is set in stack config without --secret" in text, text[-3000:]
    assert "pulumi config set --secret aoai-finetune:apiKey" in text
    assert API_KEY not in text and "aoai-finetune:accessToken is set" not in text
    stack.run("config", "set", "--secret", "aoai-finetune:apiKey", API_KEY)
    preview = stack.preview()
    assert "without --secret" not in preview.stdout + preview.stderr
    # a key pasted with a line break: refused at preview as a configuration error, without being shown
    # (it used to fail `up` after 31 s of retries as "could not reach ARM")
    pasted = API_KEY[:8] + "\n" + API_KEY[8:]
    stack.run("config", "set", "--secret", "aoai-finetune:apiKey", pasted)
    started = time.monotonic()
    preview = stack.preview(check=False)
    text = preview.stdout + preview.stderr
    assert preview.returncode != 0 and time.monotonic() - started < 30
    assert "aoai-finetune:apiKey / AZURE_OPENAI_API_KEY contains a line break" in text, text[-3000:]
    assert API_KEY[8:] not in text and "Traceback" not in text


def test_a_sas_token_in_an_import_url_stays_encrypted_and_out_of_logs(stack, base_spec, data_server, tmp_path,
                                                                      emulator):
    sas = "sv=2025-01-05&se=2026-12-31&sr=b&sp=r&sig=S3cr3tSASsignature%2Fe2e"
    write_chat_jsonl(tmp_path / "valid.jsonl", 10, system="You are a helpful assistant!")
    spec = copy.deepcopy(base_spec)
    spec["files"]["valid"] = {"account": "aoai-ncus", "content_url": f"{data_server}/valid.jsonl?{sas}"}
    spec["jobs"]["job"]["validation_file"] = "valid"
    stack.set_spec(spec, secret=True)  # as a user keeps a SAS URL in a stack: `pulumi config set --secret`
    stack.preview()
    stack.up()
    assert stack.outputs()["file_valid"].startswith("file-")  # imported through the URL
    (res,) = [r for r in stack.export()["deployment"]["resources"] if r["urn"].endswith("::valid")]
    for props in (res["inputs"], res["outputs"]):  # encrypted, not the URL
        assert props["content_url"]["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270"
    # nowhere in the state, its history or backups
    backend_files = [p.read_bytes() for p in stack.state.rglob("*") if p.is_file()]
    assert len(backend_files) > 3 and all(b"S3cr3tSASsignature" not in blob for blob in backend_files)
    # a new token is a new URL: shown as a change of a secret, never in clear
    spec["files"]["valid"]["content_url"] = f"{data_server}/valid.jsonl?{sas.replace('S3cr3t', 'N3wer')}"
    stack.set_spec(spec, secret=True)
    preview = stack.run("preview", "--diff")
    assert "content_url" in preview.stdout and "[secret]" in preview.stdout
    for leaked in ("S3cr3tSASsignature", "N3werSASsignature"):
        assert leaked not in stack.all_logs()
    # and a wrong scheme is refused without echoing the query
    spec["files"]["valid"]["content_url"] = f"ftp://127.0.0.1/valid.jsonl?{sas}"
    stack.set_spec(spec, secret=True)
    refused = stack.preview(check=False)
    assert refused.returncode != 0 and "content_url 'ftp://127.0.0.1/valid.jsonl?...' is not an http(s) URL" in (
        refused.stdout + refused.stderr)
    # bad data behind a new URL fails the preview at its line, before anything is imported
    (tmp_path / "bad.jsonl").write_text((tmp_path / "valid.jsonl").read_text(encoding="utf-8")
                                        + '{"messages": [{"role": "user", "content": "no answer"}]}\n',
                                        encoding="utf-8")
    spec["files"]["valid"]["content_url"] = f"{data_server}/bad.jsonl?{sas}"
    stack.set_spec(spec, secret=True)
    imports = len([e for e in emulator.backend.faults.requests() if e["path"].endswith("/files/import")])
    bad = stack.preview(check=False)
    assert bad.returncode != 0 and f"{data_server}/bad.jsonl?...:11: no assistant message" in bad.stdout + bad.stderr
    assert len([e for e in emulator.backend.faults.requests() if e["path"].endswith("/files/import")]) == imports
    assert "S3cr3tSASsignature" not in stack.all_logs()


# -- TLS ---------------------------------------------------------------------------------------------------
def test_tls_is_verified_and_plain_http_needs_the_loopback_setting(stack, base_spec, emulator, requests_log,
                                                                  untrusted_https):
    stack.set_spec(base_spec)
    # An ARM endpoint with a certificate nobody trusts: refused, even with allowInsecureLoopback on.
    stack.config_set("aoai-finetune:armEndpoint", untrusted_https)
    result = stack.up(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0 and "TLS certificate verification failed" in text and "self-signed" in text
    assert stack.resources() == []
    # Plain http to the emulator without the explicit setting: refused at preview, naming the setting.
    stack.config_set("aoai-finetune:armEndpoint", emulator.base_url)
    stack.config_set("aoai-finetune:allowInsecureLoopback", "false")
    result = stack.preview(check=False)
    assert result.returncode != 0 and "set aoai-finetune:allowInsecureLoopback=true" in result.stdout + result.stderr
    assert requests_log.all() == []  # not even a read over plain http
