"""Drive the real Pulumi CLI on a local file backend: one :class:`Stack` per test.

The CLI comes from scripts/pulumi-cli.sh (PATH is set by scripts/test.sh, or the harness runs the
script itself). The program runs in the repository's .venv (Pulumi.yaml ``virtualenv``), and the
dynamic providers it declares run in ``pulumi-resource-pulumi-python`` processes the engine starts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PROGRAMS = Path(__file__).resolve().parent / "programs"
PASSPHRASE = "e2e-test-passphrase"
API_KEY = "e2e-emulator-key-3f9c1a"  # searched for in state and logs by the secret tests
ACCESS_TOKEN = "e2e-arm-token-77d0e2"


def pulumi_bin_dir() -> str:
    found = shutil.which("pulumi")
    if found and shutil.which("pulumi-language-python"):
        return os.path.dirname(found)
    out = subprocess.run(["bash", str(REPO / "scripts" / "pulumi-cli.sh")], check=True,
                         capture_output=True, text=True, timeout=3000)
    return out.stdout.strip().splitlines()[-1]


def plugin_version() -> str:
    from pulumi_aoai_finetune.adapters.plugin import version

    return version()


def plugin_tarball(bin_dir: str) -> Path:
    """The plugin's tarball scripts/plugin.sh makes (run here when it has not run yet)."""
    tarball = REPO / "sdk" / "pulumi-resource-aoai-finetune.tar.gz"
    if not tarball.exists():
        subprocess.run(["bash", str(REPO / "scripts" / "plugin.sh"), bin_dir], check=True, capture_output=True,
                       timeout=3000)
    return tarball


class PulumiError(AssertionError):
    tool = "pulumi"

    def __init__(self, args, result):
        self.result = result
        super().__init__(f"{self.tool} {' '.join(args)} exited {result.returncode}\n--- stdout\n{result.stdout[-6000:]}"
                         f"\n--- stderr\n{result.stderr[-3000:]}")


@dataclass
class Stack:
    workdir: Path
    bin_dir: str
    emulator_url: str
    program: str = "pipeline"
    name: str = "test"
    extra_env: dict[str, str | None] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    passphrase: str = PASSPHRASE
    state: Path | None = None  # share a backend between stacks (StackReference)
    backend: str | None = None  # a backend URL to log in to instead (azblob://..., tests/e2e/azurite.py)
    plugin: bool = False  # uses the provider plugin (set by itself for YAML and Node.js programs)

    def __post_init__(self) -> None:
        self.project = self.workdir / "project"
        if self.program == "root":  # the repository's own project: Pulumi.yaml, stacks/, data/
            self.project.mkdir(parents=True)
            for part in ("stacks", "data"):
                shutil.copytree(REPO / part, self.project / part)
            shutil.copy(REPO / "Pulumi.yaml", self.project / "Pulumi.yaml")
        elif self.program.startswith("examples/"):  # a user-facing example, as a user would copy it
            shutil.copytree(REPO / self.program, self.project, ignore=shutil.ignore_patterns("node_modules"))
            if (REPO / self.program / "node_modules").is_dir():  # npm dependencies installed by setup
                (self.project / "node_modules").symlink_to(REPO / self.program / "node_modules")
        else:
            shutil.copytree(PROGRAMS / self.program, self.project)
            if not (self.project / "Pulumi.yaml").exists():  # a Python program (a YAML one brings its own)
                (self.project / "Pulumi.yaml").write_text(
                    f"name: e2e-{self.program}\n"
                    "runtime:\n  name: python\n  options:\n"
                    f"    virtualenv: {REPO / '.venv'}\n", encoding="utf-8")
        if not (self.project / ".venv").exists():
            (self.project / ".venv").symlink_to(REPO / ".venv")
        if self.state is None and self.backend is None:
            self.state = self.workdir / "state"
            self.state.mkdir()
        self.home = self.workdir / "pulumi-home"
        self.home.mkdir(exist_ok=True)
        runtime = (self.project / "Pulumi.yaml").read_text(encoding="utf-8")
        if self.plugin or "runtime: yaml" in runtime or "name: nodejs" in runtime:
            self.plugin = True
            # the provider plugin, installed as scripts/setup.sh installs it (into this stack's PULUMI_HOME);
            # the copy on PATH (.venv/bin) is not used, as on a user's machine without the virtualenv
            self.extra_env.setdefault("PULUMI_IGNORE_AMBIENT_PLUGINS", "true")
            self.run("plugin", "install", "resource", "aoai-finetune", plugin_version(), "--file",
                     str(plugin_tarball(self.bin_dir)))
        self.run("login", self.backend or f"file://{self.state}")
        self.run("stack", "select", "--create", self.name)
        for key, value in {
            "aoai-finetune:armEndpoint": self.emulator_url,
            "aoai-finetune:credential": "token",
            "aoai-finetune:allowInsecureLoopback": "true",
            "aoai-finetune:pollInterval": "0.2",
            "aoai-finetune:maxRetries": "4",
        }.items():
            self.run("config", "set", key, value)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "AOAI_FT_", "AZURE_"))}
        env.update({
            "PATH": f"{self.bin_dir}{os.pathsep}{REPO / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            "PULUMI_HOME": str(self.home),
            "PULUMI_CONFIG_PASSPHRASE": self.passphrase,
            "PULUMI_SKIP_UPDATE_CHECK": "1",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "AZURE_OPENAI_API_KEY": API_KEY,
            "AOAI_FT_ACCESS_TOKEN": ACCESS_TOKEN,
            "AOAI_FT_CACHE_DIR": str(self.home / "aoai-checks"),  # the provider's check cache, per stack
        })
        env.update(self.extra_env)
        return {k: v for k, v in env.items() if v is not None}  # extra_env None: unset it

    def run(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        result = subprocess.run(["pulumi", *args, "--non-interactive"] if args[0] not in ("login", "version", "plugin")
                                else ["pulumi", *args],
                                cwd=self.project, env=self.env(), capture_output=True, text=True, timeout=timeout)
        shown = args[:3] + ("<value>",) if args[:2] == ("config", "set") and len(args) > 3 else args
        self.log.append(f"$ pulumi {' '.join(shown)}\n{result.stdout}\n{result.stderr}")
        if check and result.returncode != 0:
            raise PulumiError(args, result)
        return result

    # -- the verbs a test uses -------------------------------------------------------------
    def set_spec(self, spec: dict[str, Any], *, secret: bool = False) -> None:
        self.run("config", "set", *(["--secret"] if secret else []), "test:spec", json.dumps(spec))

    def set_pipeline(self, name: str, pipeline: dict[str, Any]) -> None:
        """Set ``finetune:pipeline`` in the project's ``stacks/Pulumi.<name>.yaml`` (program "root"),
        keeping what the harness configured there (provider settings, salt)."""
        import yaml

        path = self.project / "stacks" / f"Pulumi.{name}.yaml"
        doc = yaml.safe_load(path.read_text()) if path.exists() else {}
        doc.setdefault("config", {})["finetune:pipeline"] = pipeline
        path.write_text(yaml.safe_dump(doc), encoding="utf-8")

    def config_set(self, key: str, value: str) -> None:
        self.run("config", "set", key, value)

    def up(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("up", "--yes", "--skip-preview", "--diff", *extra, check=check)

    def preview(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("preview", "--diff", *extra, check=check)

    def preview_json(self) -> dict[str, Any]:
        return json.loads(self.run("preview", "--json").stdout)

    def refresh(self) -> subprocess.CompletedProcess:
        return self.run("refresh", "--yes", "--skip-preview")

    def destroy(self) -> subprocess.CompletedProcess:
        return self.run("destroy", "--yes", "--skip-preview")

    def outputs(self) -> dict[str, Any]:
        return json.loads(self.run("stack", "output", "--json", "--show-secrets").stdout)

    def export(self, show_secrets: bool = False) -> dict[str, Any]:
        args = ["stack", "export"] + (["--show-secrets"] if show_secrets else [])
        return json.loads(self.run(*args).stdout)

    def resources(self, name: str | None = None) -> list[dict[str, Any]]:
        """The dynamic (or plugin) resources in the state, optionally only the one of that resource name."""
        res = self.export()["deployment"].get("resources", [])
        res = [r for r in res if r["type"].startswith(("pulumi-python:dynamic", "aoai-finetune:index:"))]
        if name:
            res = [r for r in res if r["urn"].split("::")[-1] == name]
        return res

    def all_logs(self) -> str:
        return "\n".join(self.log)


def reap_processes_under(root: Path) -> int:
    """SIGKILL what a killed `pulumi` left behind under ``root``: the CLI starts its plugins (language
    host, dynamic provider) in process groups of their own, so killing the CLI's group orphans them.
    They are found by the PULUMI_HOME their environment inherited. Returns how many were killed."""
    import signal

    marker = f"PULUMI_HOME={root}{os.sep}".encode()
    killed = 0
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                env = fh.read()
        except OSError:
            continue  # gone, or not ours
        if any(v.startswith(marker) for v in env.split(b"\0")):
            try:
                os.kill(int(entry), signal.SIGKILL)
                killed += 1
            except OSError:
                pass
    return killed


def write_chat_jsonl(path: Path, n: int = 12, *, marker: str = "", system: str = "You are a helpful assistant.") -> Path:
    lines = []
    for i in range(n):
        user = f"Question {i}: what is {i} + {i}?"
        if marker and i == 3:
            user += f" {marker}"
        lines.append(json.dumps({"messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
            {"role": "assistant", "content": f"{i} + {i} = {2 * i}."},
        ]}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def python() -> str:
    return sys.executable
