"""Benchmark 3: a no-op ``pulumi preview`` and ``pulumi up`` on a stack with 1 job and N deployments.

The stack (bench/program) holds a TrainingFile, a FineTuningJob and N ModelDeployments: the model
and its 2 earlier checkpoints in each of ceil(N/3) accounts (Azure allows one deployment per fine-tuned model
or checkpoint per account), cross-region ones naming the training account as source. After one
``pulumi up`` creates it all, the benchmark counts the API calls the emulator serves (its request
log) during a no-op ``pulumi preview`` and a no-op ``pulumi up --skip-preview``, and times them
against ``pulumi preview`` of an empty stack of the same project (the engine's fixed cost).
``pulumi preview --refresh`` gives the reads a refresh asks for, as the reference for the counts.
The initial ``up`` also shows whether operations on one account stay serialized (the emulator's
record of ARM operations: at most one in progress per account; no 409). See bench/README.md.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ._common import (
    BASE_MODEL,
    RequestLog,
    Row,
    arm_operations,
    best,
    child_env,
    max_overlap,
    max_overlap_per_account,
    pulumi_bin_dir,
    ratio,
    region_accounts,
    spread,
    Stack,
    start_emulator,
    write_chat_jsonl,
)

TIME_SCALE = 1000.0  # a 3-epoch job trains in about half a second; a deployment takes 0.3 s
POLL = 0.2
# a 3-epoch job has two checkpoints besides the model (the last epoch's is the model itself)
MODELS_PER_ACCOUNT = ("job:job", "checkpoint:job:0", "checkpoint:job:1")


def stack_spec(emu, accounts: list[str], n_deployments: int, data: Path) -> dict[str, Any]:
    home = accounts[0]
    deployments: dict[str, Any] = {}
    for j in range(n_deployments):
        acct = accounts[j // len(MODELS_PER_ACCOUNT)]
        deployments[f"d{j + 1}"] = {"account": acct, "model": MODELS_PER_ACCOUNT[j % len(MODELS_PER_ACCOUNT)],
                                    "sku": {"name": "GlobalStandard", "capacity": 1},  # any region
                                    **({"source": home} if acct != home else {})}
    return {
        "subscription": emu.config.subscription_id, "resource_group": emu.config.resource_group,
        "files": {"train": {"account": home, "path": str(data), "model": BASE_MODEL}},
        "jobs": {"job": {"account": home, "base_model": BASE_MODEL, "training_file": "train",
                         "hyperparameters": {"n_epochs": 3}, "suffix": "noop", "seed": 1}},
        "deployments": deployments,
    }


def deployment_calls(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The ARM calls made for the deployments: their lists, reads and writes, and the reads of the
    accounts they are on (the endpoint output); the polls of their operations, which the operation's
    duration decides, counted apart."""
    calls: dict[str, int] = {}
    polls = 0
    for e in entries:
        path = e["path"].split("?")[0]
        if "/operationResults/" in path:
            polls += 1
            continue
        if "/deployments" in path or (e["method"] == "GET" and path.rstrip("/").split("/")[-2:-1] == ["accounts"]):
            kind = f"{e['method']} " + ("deployments" if path.endswith("/deployments") else
                                        "deployment" if "/deployments/" in path else "account")
            calls[kind] = calls.get(kind, 0) + 1
    return {"calls": sum(calls.values()), "puts": calls.get("PUT deployment", 0), "by_kind": calls,
            "operation_polls": polls}


def provider_imports() -> float:
    """Seconds a fresh interpreter takes to import what the provider process imports (pulumi's dynamic
    provider server and the three resource modules): part of what a non-empty stack adds to the
    engine's fixed cost, since an empty stack starts no provider process."""
    code = ("import time; t = time.perf_counter(); import pulumi.dynamic, grpc, "
            "pulumi_aoai_finetune.training_file, pulumi_aoai_finetune.fine_tuning_job, "
            "pulumi_aoai_finetune.model_deployment; print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], env=child_env(), capture_output=True, text=True,
                         check=True, timeout=120)
    return float(out.stdout.strip().splitlines()[-1])


def run(n_deployments: int, repeat: int, tmp: str | None = None, log=print) -> list[Row]:
    workdir = Path(tempfile.mkdtemp(prefix="aoai-bench-noop-", dir=tmp))
    n_accounts = max(1, math.ceil(n_deployments / len(MODELS_PER_ACCOUNT)))
    accounts = region_accounts(n_accounts, "noop")
    emu = start_emulator(time_scale=TIME_SCALE, accounts=accounts, state_dir=workdir / "emulator")
    try:
        bin_dir = pulumi_bin_dir()
        full = Stack(workdir / "p", bin_dir, emu.base_url, name="noop", poll_interval=POLL)
        data = full.project / "train.jsonl"  # data files must lie inside the project
        write_chat_jsonl(data, examples=30)
        full.spec = stack_spec(emu, [a for a, _ in accounts], n_deployments, data)
        empty = Stack(workdir / "p", bin_dir, emu.base_url, name="empty", poll_interval=POLL, project=full.project)
        requests = RequestLog(emu)

        t_emu, mark = emu.backend.now(), requests.mark()
        full.preview()  # what a reviewer runs first: every deployment is checked (read-only) at preview
        t_first = full.up()
        ops = [op for op in arm_operations(emu, t_emu) if op["kind"] == "deployment.create"]
        created = requests.since(mark)
        first = requests.summary(created)
        per_deployment = deployment_calls(created)
        log(f"  noop: first preview + up {t_first:.1f} s, {len(ops)} deployments, {first['calls']} calls; "
            f"{per_deployment['calls']} ARM calls for the deployments ({per_deployment['puts']} PUTs, "
            f"{per_deployment['operation_polls']} operation polls not counted)")

        empty_t, preview_t, up_t, preview_calls, up_calls = [], [], [], [], []
        for i in range(repeat):
            empty_t.append(empty.preview())
            mark = requests.mark()
            preview_t.append(full.preview())
            preview_calls.append(requests.summary(requests.since(mark)))
            mark = requests.mark()
            up_t.append(full.up())
            up_calls.append(requests.summary(requests.since(mark)))
            log(f"  noop: empty preview {empty_t[-1]:.1f} s, no-op preview {preview_t[-1]:.1f} s "
                f"({preview_calls[-1]['calls']} calls), no-op up {up_t[-1]:.1f} s ({up_calls[-1]['calls']} calls)")
        mark = requests.mark()
        t_refresh = full.preview("--refresh")
        refresh = requests.summary(requests.since(mark))
        log(f"  noop: preview --refresh {t_refresh:.1f} s, {refresh['calls']} calls ({refresh['writes']} writes)")

        t_imports = best(provider_imports() for _ in range(repeat))
        worst_p = max(preview_calls, key=lambda s: s["calls"])
        worst_u = max(up_calls, key=lambda s: s["calls"])
        t_empty, t_preview, t_up = best(empty_t), best(preview_t), best(up_t)
        per_account = max_overlap_per_account(ops)
        stack_desc = f"1 file, 1 job, {n_deployments} deployments on {n_accounts} accounts"
        common = {"stack": stack_desc, "refresh_preview": refresh, "refresh_preview_seconds": t_refresh}
        return [
            Row("noop", "no-op preview: API calls", worst_p["calls"], "calls", refresh["calls"],
                "preview --refresh (reads)", ratio(worst_p["calls"], refresh["calls"]),
                "0 writes; reads only on refresh", worst_p["writes"] == 0 and worst_p["calls"] == 0
                and refresh["writes"] == 0, {**common, "calls": worst_p}),
            Row("noop", "no-op up: API calls", worst_u["calls"], "calls", refresh["calls"],
                "preview --refresh (reads)", ratio(worst_u["calls"], refresh["calls"]),
                "0 writes; reads only on refresh", worst_u["writes"] == 0 and worst_u["calls"] == 0,
                {**common, "calls": worst_u}),
            Row("noop", "no-op preview: wall time", t_preview, "s", t_empty, "preview of an empty stack",
                ratio(t_preview, t_empty), "(no target; 1x = engine's fixed cost)", None,
                {"stack": stack_desc, "preview": spread(preview_t), "empty_preview": spread(empty_t),
                 "provider_imports_s": t_imports}),
            Row("noop", "no-op up: wall time", t_up, "s", t_empty, "preview of an empty stack",
                ratio(t_up, t_empty), "(no target; 1x = engine's fixed cost)", None,
                {"stack": stack_desc, "up": spread(up_t), "first_up_seconds": t_first,
                 "provider_imports_s": t_imports}),
            Row("noop", "ARM calls per created deployment (first preview + up, operation polls apart)",
                per_deployment["calls"] / max(1, per_deployment["puts"]), "calls", 1.0, "its one PUT",
                per_deployment["calls"] / max(1, per_deployment["puts"]), "<= 4 per deployment",
                per_deployment["calls"] <= 4 * per_deployment["puts"] and per_deployment["puts"] == n_deployments,
                per_deployment),
            Row("noop", "same-account ARM operations at once (first up)", per_account, "ops",
                max_overlap(ops), "operations at once, all accounts", None, "1 (serialized per account)",
                per_account <= 1 and first["status_409"] == 0,
                {"deployments_created": len(ops), "status_409": first["status_409"],
                 "first_up_calls": {k: first[k] for k in ("calls", "reads", "writes")}}),
        ]
    finally:
        emu.stop()
        shutil.rmtree(workdir, ignore_errors=True)
