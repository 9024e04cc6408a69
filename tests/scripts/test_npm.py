"""The npm side of setup (scripts/plugin.sh, scripts/npm-ci.sh): packages come from committed lock files
that match what they install, and a broken install is tried once more with a clean npm cache."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from pulumi_aoai_finetune.adapters.plugin import version
from pulumi_aoai_finetune.adapters.plugin.pulumi_schema import NODE_PACKAGE, NODE_PULUMI, package_schema

REPO = Path(__file__).resolve().parents[2]
NPM_CI = REPO / "scripts" / "npm-ci.sh"
SDK_LOCK = REPO / "scripts" / "sdkgen" / "nodejs.package-lock.json"
EXAMPLE = REPO / "examples" / "typescript-quickstart"


def packages(lock: Path) -> dict[str, dict]:
    return json.loads(lock.read_text())["packages"]


def test_the_sdk_builds_from_a_lock_of_the_package_json_it_is_generated_with():
    spec = package_schema(version())
    nodejs = spec["language"]["nodejs"]
    root = packages(SDK_LOCK)[""]
    assert (root["name"], root["version"]) == (NODE_PACKAGE, spec["version"])
    assert root["dependencies"] == nodejs["dependencies"] == {"@pulumi/pulumi": NODE_PULUMI}
    assert root["devDependencies"] == nodejs["devDependencies"]


def test_the_example_installs_from_a_lock_of_its_package_json_and_of_the_sdk():
    manifest = json.loads((EXAMPLE / "package.json").read_text())
    lock = packages(EXAMPLE / "package-lock.json")
    assert lock[""]["dependencies"] == manifest["dependencies"]
    assert lock[""]["devDependencies"] == manifest["devDependencies"]
    # the SDK from its directory (npm ci asks the registry for it otherwise: a 404), as generated
    sdk = lock["node_modules/@pulumi/aoai-finetune"]
    assert sdk["resolved"] == manifest["dependencies"][NODE_PACKAGE] == "file:../../sdk/nodejs/bin"
    assert sdk["version"] == package_schema(version())["version"] and sdk["dependencies"] == {"@pulumi/pulumi": NODE_PULUMI}


def test_both_locks_pin_the_same_registry_packages_with_their_integrity():
    sdk, example = packages(SDK_LOCK), packages(EXAMPLE / "package-lock.json")
    for lock in (sdk, example):
        registry = {k: v for k, v in lock.items() if k and not v.get("resolved", "").startswith("file:")}
        assert registry and all(v.get("integrity", "").startswith("sha512-") for v in registry.values())
    # one @pulumi/pulumi (the one that runs on Node.js 20), so the second install finds the first's in the cache
    assert sdk["node_modules/@pulumi/pulumi"]["version"] == example["node_modules/@pulumi/pulumi"]["version"] == \
        json.loads((EXAMPLE / "package.json").read_text())["dependencies"]["@pulumi/pulumi"]


def fake_npm(bin_dir: Path, *, good_with_cache: bool, good_without: bool = False) -> Path:
    """An `npm` whose `ci` installs module `m` broken (it throws when loaded) or whole, by whether it is
    given --cache; each call is recorded."""
    calls = bin_dir / "calls"
    npm = bin_dir / "npm"
    good = "module.exports = 1;"
    broken = "throw new Error('broken package');"
    npm.write_text(f"""#!/usr/bin/env bash
echo "$*" >> {calls}
case " $* " in *" --cache "*) ok={int(good_with_cache)};; *) ok={int(good_without)};; esac
mkdir -p node_modules/m
if [ "$ok" = 1 ]; then echo "{good}" > node_modules/m/index.js; else echo "{broken}" > node_modules/m/index.js; fi
""")
    npm.chmod(0o755)
    return calls


def run(tmp_path: Path, *, lock: bool = True, **kind) -> tuple[subprocess.CompletedProcess, list[str]]:
    project = tmp_path / "project"
    project.mkdir()
    if lock:
        (project / "package-lock.json").write_text("{}")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = fake_npm(bin_dir, **kind)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["bash", str(NPM_CI), str(project), "m"], capture_output=True, text=True, env=env,
                            timeout=60)
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_a_broken_install_is_tried_once_more_with_a_clean_cache(tmp_path):
    result, calls = run(tmp_path, good_with_cache=True)
    assert result.returncode == 0, result.stderr
    assert "once more with a clean npm cache" in result.stderr and "broken package" in result.stderr
    assert len(calls) == 2 and calls[0].startswith("ci ") and "--cache" not in calls[0]
    cache = calls[1].split("--cache ", 1)[1].split()[0]
    assert not Path(cache).exists()  # the clean cache is removed afterwards


def test_a_good_install_is_done_once(tmp_path):
    result, calls = run(tmp_path, good_with_cache=False, good_without=True)
    assert result.returncode == 0 and len(calls) == 1 and result.stderr == ""


def test_an_install_broken_twice_fails_saying_so(tmp_path):
    result, calls = run(tmp_path, good_with_cache=False)
    assert result.returncode == 1 and len(calls) == 2
    assert "failed twice" in result.stderr


def test_no_lock_file_no_install(tmp_path):
    result, calls = run(tmp_path, lock=False, good_with_cache=True)
    assert result.returncode == 1 and calls == [] and "has no package-lock.json" in result.stderr
