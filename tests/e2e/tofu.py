"""Drive the real OpenTofu CLI (scripts/tofu-cli.sh) on a Terraform configuration, with the project's
provider installed through a CLI config file of the test's own (``TF_CLI_CONFIG_FILE``): nothing is
read from or written to a real Terraform configuration, and no network call is attempted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .harness import ACCESS_TOKEN, API_KEY, REPO, PulumiError

SOURCE = "terraform.local/aoai-finetune/aoai"


def tofu_bin_dir() -> str:
    found = shutil.which("tofu")
    if found:
        return os.path.dirname(found)
    out = subprocess.run(["bash", str(REPO / "scripts" / "tofu-cli.sh")], check=True, capture_output=True, text=True,
                         timeout=3600)
    return out.stdout.strip().splitlines()[-1]


def dev_override_config(launcher_dir: Path) -> str:
    """The CLI config a user writes to run the provider from their virtualenv (README)."""
    return ("provider_installation {\n"
            "  dev_overrides {\n"
            f'    "{SOURCE}" = "{launcher_dir}"\n'
            "  }\n"
            "  direct {}\n"
            "}\n")


class TofuError(PulumiError):
    tool = "tofu"


@dataclass
class Workspace:
    """A configuration directory and the environment `tofu` runs in."""

    root: Path
    bin_dir: str
    emulator_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.home = self.root.parent / "tofu-home"
        self.home.mkdir(exist_ok=True)
        self.cli_config = self.root.parent / "tofu-cli.tfrc"
        if not self.cli_config.exists():
            self.cli_config.write_text(dev_override_config(Path(sys.executable).parent), encoding="utf-8")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AOAI_FT_", "AZURE_", "PULUMI_"))}
        env.update({
            "PATH": f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}",
            "HOME": str(self.home),
            "TF_CLI_CONFIG_FILE": str(self.cli_config),
            "TF_DATA_DIR": str(self.root / ".tofu-data"),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
            "TF_LOG_PROVIDER": "INFO",
            "TF_LOG_PATH": str(self.root.parent / "tofu.log"),
            # the provider's settings, from the environment as for the Pulumi provider
            "AOAI_FT_ARM_ENDPOINT": self.emulator_url,
            "AOAI_FT_CREDENTIAL": "token",
            "AOAI_FT_ACCESS_TOKEN": ACCESS_TOKEN,
            "AOAI_FT_ALLOW_INSECURE_LOOPBACK": "true",
            "AOAI_FT_POLL_INTERVAL": "0.2",
            "AOAI_FT_MAX_RETRIES": "4",
            "AZURE_OPENAI_API_KEY": API_KEY,
        })
        env.update(self.extra_env)
        return env

    def run(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
        result = subprocess.run(["tofu", *args, "-no-color"], cwd=self.root, env=self.env(), capture_output=True,
                                text=True, timeout=timeout)
        self.log.append(f"$ tofu {' '.join(args)}\n{result.stdout}\n{result.stderr}")
        if check and result.returncode != 0:
            raise TofuError(args, result)
        return result

    def start(self, *args: str) -> subprocess.Popen:
        """`tofu ...` in its own process group, as a terminal runs it (Ctrl-C goes to the whole group)."""
        return subprocess.Popen(["tofu", *args, "-no-color"], cwd=self.root, env=self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)

    # -- the verbs a test uses ----------------------------------------------------------------------
    def plan(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("plan", *extra, check=check)

    def apply(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("apply", "-auto-approve", *extra, check=check)

    def destroy(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("destroy", "-auto-approve", *extra, check=check)

    def state(self) -> dict:
        return json.loads(self.run("show", "-json").stdout)

    def resources(self) -> dict[str, dict]:
        """Address -> resource of the state (``tofu show -json``)."""
        values = self.state().get("values") or {}
        return {r["address"]: r for r in (values.get("root_module") or {}).get("resources", [])}

    def state_file(self) -> dict:
        return json.loads((self.root / "terraform.tfstate").read_text())

    def outputs(self) -> dict:
        return {k: v["value"] for k, v in json.loads(self.run("output", "-json").stdout).items()}
