"""The hostile and bad-input corpus, at unit level: every input is refused by ``check`` (what runs at
``pulumi preview``) with a failure that names the field, and ``check`` never calls the service.

The same kinds of input go through the real engine in tests/e2e/test_hostile.py; this file is the
full corpus (fast), that one proves the engine shows the refusals at preview and creates nothing.
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
from pathlib import Path

import pytest

from pulumi_aoai_finetune import clients
from pulumi_aoai_finetune.errors import ConfigurationError
from pulumi_aoai_finetune.fine_tuning_job import FineTuningJobController
from pulumi_aoai_finetune.model_deployment import ModelDeploymentController
from pulumi_aoai_finetune.settings import ProviderSettings
from pulumi_aoai_finetune.training_file import MIB, TrainingFileController, find_project_dir, scan_file

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = {"resource_id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/acct-a"}
GOOD_LINE = json.dumps({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"},
                                     {"role": "assistant", "content": "a"}]})


@pytest.fixture(autouse=True)
def no_service(monkeypatch, request):
    """check runs at preview: it must never reach the service (nothing is created, nothing is read)."""
    if "untrusted_https" in request.fixturenames:  # the TLS tests do reach a (hostile) server
        return

    def refuse(*args, **kwargs):
        raise AssertionError("check called the service")

    for name in ("data_plane", "arm", "endpoint", "credential"):
        monkeypatch.setattr(clients, name, refuse)


@pytest.fixture
def project(tmp_path):
    """A project directory with valid data, and a directory outside it with a file of secrets."""
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    (root / "data" / "train.jsonl").write_text("\n".join([GOOD_LINE] * 12) + "\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secrets.jsonl").write_text("\n".join([GOOD_LINE] * 12) + "\n")
    return root


def file_check(news: dict, project: Path) -> list[tuple[str, str]]:
    inputs = {"account": ACCOUNT, "project_dir": str(project), **news}
    return TrainingFileController(ProviderSettings()).check({}, inputs)[1]


def assert_refused(failures, field: str, fragment: str) -> None:
    assert any(f == field and fragment.lower() in m.lower() for f, m in failures), failures


# -- data files and paths ---------------------------------------------------------------------------
def _symlink_out(project: Path) -> str:
    link = project / "data" / "link.jsonl"
    link.symlink_to(project.parent / "outside" / "secrets.jsonl")
    return str(link)


def _symlinked_dir(project: Path) -> str:
    (project / "data" / "shared").symlink_to(project.parent / "outside")
    return str(project / "data" / "shared" / "secrets.jsonl")


def _write(project: Path, name: str, content: bytes) -> str:
    path = project / "data" / name
    path.write_bytes(content)
    return str(path)


def _fifo(project: Path) -> str:
    path = project / "data" / "pipe.jsonl"
    os.mkfifo(path)
    return str(path)


def _sparse(project: Path, size: int) -> str:
    path = project / "data" / "big.jsonl"
    with open(path, "wb") as fh:
        fh.truncate(size)  # no disk used, and check must not read it
    return str(path)


PATH_CASES = {
    # id: (make the path from the project dir, field, fragment of the message)
    "relative-dotdot-escape": (lambda p: str(p / "data" / ".." / ".." / "outside" / "secrets.jsonl"), "path", "outside the project"),
    "absolute-outside": (lambda p: "/etc/passwd", "path", "outside the project"),
    "symlink-to-outside-file": (_symlink_out, "path", "symlink"),
    "symlinked-directory": (_symlinked_dir, "path", "symlink"),
    "nul-byte": (lambda p: str(p / "data" / "train.jsonl\x00.txt"), "path", "control characters"),
    "newline-in-path": (lambda p: str(p / "data" / "train.jsonl\n"), "path", "control characters"),
    "empty-path": (lambda p: "", "path", "non-empty string"),
    "wrong-type-int": (lambda p: 42, "path", "non-empty string"),
    "wrong-type-list": (lambda p: ["a.jsonl"], "path", "non-empty string"),
    "directory": (lambda p: str(p / "data"), "path", "not a regular file"),
    "fifo": (_fifo, "path", "not a regular file"),
    "missing": (lambda p: str(p / "data" / "nope.jsonl"), "path", "no such file"),
    "over-512-MB": (lambda p: _sparse(p, 513 * MIB), "path", "under 512 MB"),
    "invalid-utf8": (lambda p: _write(p, "latin1.jsonl", ("\n".join([GOOD_LINE] * 11) + "\n").encode()
                                      + b'{"messages": [{"role": "user", "content": "caf\xe9"}]}\n'), "path", ":12"),
    "nan-in-json": (lambda p: _write(p, "nan.jsonl", ("\n".join([GOOD_LINE] * 11) + "\n").encode()
                                     + b'{"messages": [{"role": "assistant", "content": "x", "weight": NaN}]}\n'),
                    "path", ":12"),
    "binary-garbage": (lambda p: _write(p, "image.jsonl", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8), "path", "not valid"),
    "empty-file": (lambda p: _write(p, "empty.jsonl", b""), "path", "no examples"),
    "bom-only": (lambda p: _write(p, "bom.jsonl", b"\xef\xbb\xbf"), "path", "no examples"),
    "csv-not-jsonl": (lambda p: _write(p, "data.jsonl", b"prompt,completion\n" * 12), "path", "not valid"),
    "wrong-format-for-model": (lambda p: _write(p, "pc.jsonl", (json.dumps({"prompt": "a", "completion": "b"}) + "\n").encode() * 12),
                               "path", "not valid"),
    "too-few-examples": (lambda p: _write(p, "few.jsonl", (GOOD_LINE + "\n").encode() * 3), "path", "at least 10"),
    "huge-single-line": (lambda p: _write(p, "huge.jsonl", b'{"messages": [{"role": "user", "content": "'
                                          + b"a" * (100 * MIB) + b'"}]}\n'), "path", "100.0 MiB"),
    "json-nested-1000-deep": (lambda p: _write(p, "deep.jsonl", _after_good(b'{"messages": ' + b"[" * 1000
                                                                         + b"]" * 1000 + b"}")),
                              "path", "deep.jsonl:12: line nests JSON"),
    "json-nested-100k-deep": (lambda p: _write(p, "deeper.jsonl", _after_good(b'{"a": ' * 100_000 + b"1"
                                                                           + b"}" * 100_000)),
                              "path", "deeper.jsonl:12: line nests JSON"),
    "tool-call-arguments-a-json-string": (lambda p: _write(p, "args.jsonl", _after_good(_tool_call('"{\\"city\\": 1}"'))),
                                          "path", "args.jsonl:12: messages[1].tool_calls[0].function.arguments"),
}


def _after_good(line: bytes) -> bytes:
    """11 valid examples, then ``line`` as line 12."""
    return ("\n".join([GOOD_LINE] * 11) + "\n").encode() + line + b"\n"


def _tool_call(arguments: str) -> bytes:
    """A valid tool-calling example but for its call's ``arguments`` (the JSON text given)."""
    return json.dumps({"messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                              "function": {"name": "weather", "arguments": arguments}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "assistant", "content": "Sunny."}],
        "tools": [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]}).encode()


@pytest.mark.parametrize("case", sorted(PATH_CASES))
def test_bad_data_paths_and_files_are_refused_naming_the_field(case, project):
    make, field, fragment = PATH_CASES[case]
    assert_refused(file_check({"path": make(project)}, project), field, fragment)


def _image_line(url: str) -> bytes:
    return json.dumps({"messages": [
        {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                     {"type": "image_url", "image_url": {"url": url}}]},
        {"role": "assistant", "content": "A logo."}]}).encode()


@pytest.mark.parametrize("b64", ["not base64!", "iVBORw0KGgo", "iVBORw0KGgo=x", "", "iVBO RwKG"])
def test_an_image_data_url_whose_base64_is_invalid_is_refused(project, b64):
    path = _write(project, "vision.jsonl", _after_good(_image_line(f"data:image/png;base64,{b64}")))
    failures = file_check({"path": path, "model": "gpt-4o-2024-08-06"}, project)
    assert_refused(failures, "path", "vision.jsonl:12: messages[0].content[1].image_url.url")
    assert_refused(failures, "path", "base64")


def test_an_image_data_url_with_valid_base64_is_accepted(project):
    path = _write(project, "vision.jsonl", _after_good(_image_line("data:image/png;base64,iVBORw0KGgo=")))
    assert file_check({"path": path, "model": "gpt-4o-2024-08-06"}, project) == []


def test_tool_call_arguments_holding_a_json_object_are_accepted(project):
    path = _write(project, "args.jsonl", _after_good(_tool_call('{"city": "Paris"}')))
    assert file_check({"path": path}, project) == []


@pytest.mark.parametrize("source", ["/dev/zero", "/dev/urandom", "fifo"])
def test_aoai_ft_validate_refuses_devices_and_pipes_promptly(source, tmp_path):
    """A device or a FIFO never ends (a FIFO with no writer blocks at open): refused, not read."""
    import subprocess
    import time

    if source == "fifo":
        source = str(tmp_path / "pipe.jsonl")
        os.mkfifo(source)
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pulumi_aoai_finetune.cli", "validate", source],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(REPO / "provider")})
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{source}: not a regular file" in result.stdout, result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert time.monotonic() - started < 30


def test_a_path_inside_the_project_and_a_symlink_within_it_are_accepted(project):
    link = project / "data" / "current.jsonl"
    link.symlink_to(project / "data" / "train.jsonl")
    assert file_check({"path": str(project / "data" / "train.jsonl")}, project) == []
    assert file_check({"path": str(link)}, project) == []
    assert file_check({"path": "data/train.jsonl"}, project) == []  # relative: from the project directory


def test_the_project_directory_is_the_nearest_pulumi_yaml(project):
    assert find_project_dir(str(project / "data")) == str(project)
    assert find_project_dir(str(project)) == str(project)


def test_a_huge_line_is_refused_in_constant_memory(project):
    path = _write(project, "huge.jsonl", b'{"messages": [{"role": "user", "content": "' + b"a" * (100 * MIB) + b'"}]}\n')
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    digest, size, long_line = scan_file(path)
    assert long_line == (1, size - 1) and size > 100 * MIB
    failures = file_check({"path": path}, project)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024  # ru_maxrss is KiB on Linux
    assert_refused(failures, "path", "huge.jsonl:1: a line of 100.0 MiB")
    assert grown_mib < 16, f"checking a 100 MB line grew the process by {grown_mib:.0f} MiB"


def test_scan_file_measures_lines_across_chunks(tmp_path):
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"ab\n" + b"x" * (3 * MIB) + b"\n" + b"y" * (5 * MIB))
    assert scan_file(str(path), max_line=2 * MIB)[2] == (2, 3 * MIB)
    path.write_bytes(b"ab\n" + b"y" * (5 * MIB))
    assert scan_file(str(path), max_line=2 * MIB)[2] == (2, 5 * MIB)


OTHER_FILE_CASES = {
    "both-path-and-url": ({"path": "data/train.jsonl", "content_url": "https://x/y.jsonl"}, "path", "exactly one"),
    "neither-path-nor-url": ({}, "path", "exactly one"),
    "url-file-scheme": ({"content_url": "file:///etc/passwd"}, "content_url", "not an http(s) URL"),
    "url-javascript": ({"content_url": "javascript:alert(1)"}, "content_url", "not an http(s) URL"),
    "url-plain-http-remote": ({"content_url": "http://example.com/train.jsonl"}, "content_url", "must be https"),
    "url-plain-http-loopback-without-setting": ({"content_url": "http://127.0.0.1:9/t.jsonl"}, "content_url",
                                                "allowInsecureLoopback"),
    "url-with-newline": ({"content_url": "https://x/y.jsonl\nHost: evil"}, "content_url", "not an http(s) URL"),
    "url-wrong-type": ({"content_url": {"url": "https://x"}}, "content_url", "not an http(s) URL"),
    "purpose-unknown": ({"content_url": "https://x/y.jsonl", "purpose": "assistants"}, "purpose", "not supported"),
    "purpose-wrong-type": ({"content_url": "https://x/y.jsonl", "purpose": ["fine-tune"]}, "purpose", "not supported"),
    "filename-traversal": ({"content_url": "https://x/y.jsonl", "filename": "../../x.jsonl"}, "filename", "base name"),
    "filename-backslash": ({"content_url": "https://x/y.jsonl", "filename": "..\\x.jsonl"}, "filename", "base name"),
    "filename-dotdot": ({"content_url": "https://x/y.jsonl", "filename": ".."}, "filename", "base name"),
    "filename-nul": ({"content_url": "https://x/y.jsonl", "filename": "a\x00.jsonl"}, "filename", "control"),
    "filename-too-long": ({"content_url": "https://x/y.jsonl", "filename": "a" * 300}, "filename", "255"),
    "timeout-nan": ({"content_url": "https://x/y.jsonl", "timeout_seconds": math.nan}, "timeout_seconds", "positive"),
    "timeout-negative": ({"content_url": "https://x/y.jsonl", "timeout_seconds": -1}, "timeout_seconds", "positive"),
    "timeout-inf": ({"content_url": "https://x/y.jsonl", "timeout_seconds": math.inf}, "timeout_seconds", "positive"),
    "timeout-string": ({"content_url": "https://x/y.jsonl", "timeout_seconds": "soon"}, "timeout_seconds", "positive"),
    "validate-string": ({"content_url": "https://x/y.jsonl", "validate": "yes"}, "validate", "true or false"),
    "model-wrong-type": ({"content_url": "https://x/y.jsonl", "model": 4}, "model", "non-empty string"),
    "adopt-id-control-chars": ({"content_url": "https://x/y.jsonl", "adopt_file_id": "file-1\r\n"}, "adopt_file_id",
                               "non-empty string"),
    "project-dir-relative": ({"path": "data/train.jsonl", "project_dir": "project"}, "project_dir", "existing directory"),
}


@pytest.mark.parametrize("case", sorted(OTHER_FILE_CASES))
def test_bad_file_inputs_are_refused_naming_the_field(case, project):
    news, field, fragment = OTHER_FILE_CASES[case]
    assert_refused(file_check(news, project), field, fragment)


ACCOUNT_CASES = {
    "account-missing": (None, "account", "required"),
    "account-not-an-id": ({"resource_id": "/subscriptions/x"}, "account", "not an account id"),
    "account-wrong-type": ([ACCOUNT["resource_id"]], "account", "expected an object"),
    "account-smuggles-a-key": ({**ACCOUNT, "api_key": "sk-123"}, "account", "unknown keys"),
    "account-http-endpoint-type": ({**ACCOUNT, "endpoint": 7}, "account", "not an http(s) URL"),
}


@pytest.mark.parametrize("case", sorted(ACCOUNT_CASES))
def test_bad_accounts_are_refused_naming_the_field(case, project):
    account, field, fragment = ACCOUNT_CASES[case]
    inputs = {"account": account, "content_url": "https://x/y.jsonl"}
    failures = TrainingFileController(ProviderSettings()).check({}, inputs)[1]
    assert_refused(failures, field, fragment)


# -- fine-tuning jobs -------------------------------------------------------------------------------------
JOB_CASES = {
    "n_epochs-nan": ({"hyperparameters": {"n_epochs": math.nan}}, "hyperparameters.n_epochs", "number"),
    "n_epochs-negative": ({"hyperparameters": {"n_epochs": -1}}, "hyperparameters.n_epochs", "1 to 50"),
    "n_epochs-zero": ({"hyperparameters": {"n_epochs": 0}}, "hyperparameters.n_epochs", "1 to 50"),
    "n_epochs-1e9": ({"hyperparameters": {"n_epochs": 10**9}}, "hyperparameters.n_epochs", "1 to 50"),
    "n_epochs-fraction": ({"hyperparameters": {"n_epochs": 2.5}}, "hyperparameters.n_epochs", "integer"),
    "n_epochs-string": ({"hyperparameters": {"n_epochs": "3"}}, "hyperparameters.n_epochs", "number"),
    "n_epochs-bool": ({"hyperparameters": {"n_epochs": True}}, "hyperparameters.n_epochs", "number"),
    "batch_size-zero": ({"hyperparameters": {"batch_size": 0}}, "hyperparameters.batch_size", "1 to 256"),
    "batch_size-huge": ({"hyperparameters": {"batch_size": 100000}}, "hyperparameters.batch_size", "1 to 256"),
    "lr-negative": ({"hyperparameters": {"learning_rate_multiplier": -0.1}}, "hyperparameters.learning_rate_multiplier", "positive"),
    "lr-nan": ({"hyperparameters": {"learning_rate_multiplier": math.nan}}, "hyperparameters.learning_rate_multiplier", "number"),
    "lr-inf": ({"hyperparameters": {"learning_rate_multiplier": math.inf}}, "hyperparameters.learning_rate_multiplier", "number"),
    "lr-zero": ({"hyperparameters": {"learning_rate_multiplier": 0}}, "hyperparameters.learning_rate_multiplier", "positive"),
    "hp-unknown-key": ({"hyperparameters": {"epochs": 3}}, "hyperparameters.epochs", "unknown hyperparameter"),
    "hp-wrong-type": ({"hyperparameters": [3]}, "hyperparameters", "must be an object"),
    "suffix-space-and-bang": ({"suffix": "bad suffix!"}, "suffix", "a-z A-Z 0-9 - _"),
    "suffix-shell-injection": ({"suffix": "x;rm -rf /"}, "suffix", "a-z A-Z 0-9 - _"),
    "suffix-trailing-newline": ({"suffix": "prod\n"}, "suffix", "a-z A-Z 0-9 - _"),
    "suffix-41-chars": ({"suffix": "a" * 41}, "suffix", "1 to 40"),
    "suffix-empty": ({"suffix": ""}, "suffix", "1 to 40"),
    "suffix-unicode": ({"suffix": "m\u00f6del"}, "suffix", "a-z A-Z 0-9 - _"),
    "suffix-path-traversal": ({"suffix": "../../x"}, "suffix", "a-z A-Z 0-9 - _"),
    "suffix-wrong-type": ({"suffix": 7}, "suffix", "a-z A-Z 0-9 - _"),
    "seed-negative": ({"seed": -1}, "seed", "0 to 2147483647"),
    "seed-too-big": ({"seed": 2**31}, "seed", "0 to 2147483647"),
    "seed-fraction": ({"seed": 1.5}, "seed", "integer"),
    "seed-string": ({"seed": "42"}, "seed", "integer"),
    "seed-nan": ({"seed": math.nan}, "seed", "integer"),
    "base_model-empty": ({"base_model": ""}, "base_model", "required"),
    "base_model-newline": ({"base_model": "gpt-4o\nmini"}, "base_model", "not a model name"),
    "base_model-wrong-type": ({"base_model": 4}, "base_model", "required"),
    "method-unknown": ({"method": "reinforcement-magic"}, "method", "supervised, dpo"),
    "method-wrong-type": ({"method": {"type": 1}}, "method", "supervised, dpo"),
    "wait-string": ({"wait": "yes"}, "wait", "true or false"),
    "delete_model_on_destroy-int": ({"delete_model_on_destroy": 1}, "delete_model_on_destroy", "true or false"),
    "training_file-missing": ({"training_file": None}, "training_file", "required"),
    "training_file-wrong-type": ({"training_file": 42}, "training_file", "file id"),
    "timeout-zero": ({"timeout_seconds": 0}, "timeout_seconds", "positive"),
    "timeout-nan": ({"timeout_seconds": math.nan}, "timeout_seconds", "positive"),
}


@pytest.mark.parametrize("case", sorted(JOB_CASES))
def test_bad_job_inputs_are_refused_naming_the_field(case):
    news, field, fragment = JOB_CASES[case]
    inputs = {"account": ACCOUNT, "base_model": "gpt-4o-mini-2024-07-18", "training_file": "file-1", **news}
    _, failures = FineTuningJobController(ProviderSettings()).check({}, inputs)
    assert_refused(failures, field, fragment)


# -- deployments --------------------------------------------------------------------------------------------
DEPLOYMENT_CASES = {
    "capacity-zero": ({"sku": {"name": "Standard", "capacity": 0}}, "sku.capacity", "1 to 10000"),
    "capacity-1e9": ({"sku": {"name": "Standard", "capacity": 10**9}}, "sku.capacity", "1 to 10000"),
    "capacity-negative": ({"sku": {"name": "Standard", "capacity": -1}}, "sku.capacity", "1 to 10000"),
    "capacity-fraction": ({"sku": {"name": "Standard", "capacity": 1.5}}, "sku.capacity", "integer"),
    "capacity-string": ({"sku": {"name": "Standard", "capacity": "1"}}, "sku.capacity", "integer"),
    "capacity-nan": ({"sku": {"name": "Standard", "capacity": math.nan}}, "sku.capacity", "integer"),
    "capacity-bool": ({"sku": {"name": "Standard", "capacity": True}}, "sku.capacity", "integer"),
    "sku-unknown-name": ({"sku": {"name": "Premium", "capacity": 1}}, "sku.name", "not a deployment sku"),
    "sku-wrong-type": ({"sku": "Standard"}, "sku", "must be an object"),
    "sku-unknown-key": ({"sku": {"name": "Standard", "capacity": 1, "tier": "x"}}, "sku", "unknown sku keys"),
    "name-too-short": ({"deployment_name": "a"}, "deployment_name", "2 to 64"),
    "name-trailing-newline": ({"deployment_name": "chat\n"}, "deployment_name", "2 to 64"),
    "name-traversal": ({"deployment_name": "../x"}, "deployment_name", "2 to 64"),
    "name-space": ({"deployment_name": "my chat"}, "deployment_name", "2 to 64"),
    "name-65-chars": ({"deployment_name": "a" * 65}, "deployment_name", "2 to 64"),
    "model-empty": ({"model": " "}, "model", "required"),
    "model-injection": ({"model": "m'; DROP TABLE x"}, "model", "not a model name"),
    "model_version-int": ({"model_version": 1}, "model_version", "must be a name"),
    "rai-policy-newline": ({"rai_policy_name": "Microsoft.Default\nX"}, "rai_policy_name", "must be a name"),
    "upgrade-option-unknown": ({"version_upgrade_option": "Always"}, "version_upgrade_option", "must be one of"),
    "timeout-string": ({"timeout_seconds": "1h"}, "timeout_seconds", "positive"),
    "timeout-nan": ({"timeout_seconds": math.nan}, "timeout_seconds", "positive"),
    "adopt-string": ({"adopt_existing": "yes"}, "adopt_existing", "true or false"),
    "source-account-bad": ({"source_account": {"resource_id": "aoai-ncus"}}, "source_account", "not an account id"),
}


@pytest.mark.parametrize("case", sorted(DEPLOYMENT_CASES))
def test_bad_deployment_inputs_are_refused_naming_the_field(case):
    news, field, fragment = DEPLOYMENT_CASES[case]
    inputs = {"account": ACCOUNT, "model": "gpt-4o-mini-2024-07-18.ft-abc", "deployment_name": "chat",
              "sku": {"name": "Standard", "capacity": 1}, **news}
    _, failures = ModelDeploymentController(ProviderSettings()).check({}, inputs)
    assert_refused(failures, field, fragment)


# -- provider settings (stack config aoai-finetune:*) ---------------------------------------------------------
SETTINGS_CASES = {
    "pollInterval-nan": ({"pollInterval": "nan"}, "pollInterval"),
    "pollInterval-inf": ({"pollInterval": "inf"}, "pollInterval"),
    "pollInterval-negative": ({"pollInterval": "-1"}, "pollInterval"),
    "maxRetries-negative": ({"maxRetries": "-1"}, "maxRetries"),
    "maxRetries-1e9": ({"maxRetries": "1000000000"}, "maxRetries"),
    "maxRetries-word": ({"maxRetries": "many"}, "maxRetries"),
    "requestTimeout-zero": ({"requestTimeout": "0"}, "requestTimeout"),
    "requestTimeout-nan": ({"requestTimeout": "nan"}, "requestTimeout"),
    "credential-unknown": ({"credential": "password"}, "credential"),
    "armEndpoint-ftp": ({"armEndpoint": "ftp://management.azure.com"}, "armEndpoint"),
    "armEndpoint-plain-http-remote": ({"armEndpoint": "http://management.example.com",
                                       "allowInsecureLoopback": "true"}, "armEndpoint"),
    "armEndpoint-plain-http-loopback-without-setting": ({"armEndpoint": "http://127.0.0.1:9"}, "allowInsecureLoopback"),
    "allowInsecureLoopback-maybe": ({"allowInsecureLoopback": "maybe"}, "allowInsecureLoopback"),
}


class FakeConfig(dict):
    def get(self, key):
        return super().get(key)


@pytest.mark.parametrize("case", sorted(SETTINGS_CASES))
def test_bad_provider_settings_are_refused_naming_the_key(case):
    values, key = SETTINGS_CASES[case]
    config = FakeConfig({f"aoai-finetune:{k}": v for k, v in values.items()})
    with pytest.raises(ConfigurationError) as err:
        ProviderSettings.load(config, environ={})
    assert key in str(err.value)


# -- the stack's own config (finetune:pipeline), parsed by the program before any resource --------------------
sys.path.insert(0, str(REPO / "stacks"))
from config import ConfigError, parse  # noqa: E402


def _local_pipeline() -> dict:
    import yaml

    return yaml.safe_load((REPO / "stacks" / "Pulumi.local.yaml").read_text())["config"]["finetune:pipeline"]


def _set(path: str, value):
    def mutate(p: dict) -> None:
        keys = path.replace("]", "").replace("[", ".").split(".")
        target = p
        for k in keys[:-1]:
            target = target[int(k)] if k.isdigit() else target[k]
        last = keys[-1]
        target[int(last) if last.isdigit() else last] = value
    return mutate


STACK_CASES = {
    "unknown-region": (_set("accounts.swc.region", "mars-central"), "accounts.swc.region"),
    "capacity-zero": (_set("deployments[1].sku.capacity", 0), "deployments[1].sku.capacity"),
    "capacity-1e9": (_set("deployments[0].sku.capacity", 10**9), "deployments[0].sku.capacity"),
    "capacity-string": (_set("deployments[0].sku.capacity", "1"), "deployments[0].sku.capacity"),
    "n_epochs-nan": (_set("training.hyperparameters.n_epochs", math.nan), "training.hyperparameters.n_epochs"),
    "lr-negative": (_set("training.hyperparameters.learning_rate_multiplier", -1), "training.hyperparameters.learning_rate_multiplier"),
    "suffix-injection": (_set("training.suffix", "a;b c"), "training.suffix"),
    "data-wrong-type": (_set("training.data.training", ["a", "b"]), "training.data.training"),
    "deployments-not-a-list": (_set("deployments", {"a": 1}), "deployments"),
    "seed-negative": (_set("training.seed", -5), "training.seed"),
    "timeout-word": (_set("training.timeout", "forever"), "training.timeout"),
    "account-name-invalid": (_set("accounts.ncus.name", "bad name!"), "accounts.ncus.name"),
    "unknown-key": (_set("training.api_key", "sk-1"), "training.api_key"),
}


@pytest.mark.parametrize("case", sorted(STACK_CASES))
def test_bad_stack_config_is_refused_naming_the_key(case):
    mutate, key = STACK_CASES[case]
    pipeline = _local_pipeline()
    mutate(pipeline)
    with pytest.raises(ConfigError) as err:
        parse(pipeline)
    assert f"finetune:pipeline.{key}" in str(err.value)


def test_the_corpus_has_at_least_forty_bad_inputs():
    total = (len(PATH_CASES) + len(OTHER_FILE_CASES) + len(ACCOUNT_CASES) + len(JOB_CASES) + len(DEPLOYMENT_CASES)
             + len(SETTINGS_CASES) + len(STACK_CASES))
    assert total >= 40, total


# -- TLS: certificate verification stays on, also with allowInsecureLoopback --------------------------------
@pytest.mark.parametrize("plane", ["data plane", "ARM"])
def test_an_untrusted_certificate_is_refused_even_with_the_loopback_setting(plane, untrusted_https, monkeypatch):
    from pulumi_aoai_finetune.account import AccountRef

    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "k")
    monkeypatch.setenv("AOAI_FT_ACCESS_TOKEN", "t")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    clients._credentials.clear()
    settings = ProviderSettings(allow_insecure_loopback=True, credential="token", max_retries=0,
                                arm_endpoint=untrusted_https)
    account = AccountRef("s", "r", "acct-a", f"{untrusted_https}/accounts/acct-a/")
    with pytest.raises(ConfigurationError, match="certificate verification failed") as err:
        if plane == "data plane":
            with clients.openai_errors("listing files"):
                clients.data_plane(settings, account).files.list()
        else:
            with clients.arm_errors("reading account acct-a"):
                clients.arm(settings, "s").accounts.get("r", "acct-a")
    assert "CERTIFICATE_VERIFY_FAILED" in str(err.value) or "self-signed" in str(err.value) or "self signed" in str(err.value)
    clients._credentials.clear()


def test_no_code_turns_certificate_verification_off():
    """Search the provider's source: no verify=False, unverified contexts or CERT_NONE anywhere."""
    import re

    pattern = re.compile(r"verify\s*=\s*False|connection_verify\s*=\s*False|_create_unverified_context|CERT_NONE|"
                         r"check_hostname\s*=\s*False|PYTHONHTTPSVERIFY|CURL_CA_BUNDLE")
    hits = [f"{p.relative_to(REPO)}:{n}" for p in (REPO / "provider").rglob("*.py")
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert hits == []
