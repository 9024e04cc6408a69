"""Benchmark 2: deploying one fine-tuned model to N regions with ``pulumi up`` vs region after region.

The model is trained once beforehand (emulator clock moved forward; not timed). Every ARM deployment
takes ``op_seconds`` real seconds on the emulator (``fine_tuned_deployment_create_seconds`` in
``config.extra``, at a time scale of 100).

Measured: wall time of ``pulumi up --skip-preview`` (the real CLI) of a stack of N ModelDeployments,
one per account, cross-region ones naming the training account as ``source_account``.
Baselines, same emulator, same run:
- the documented approach: a script in its own process with the same ARM client
  (``clients.arm``: same polling interval, same Retry-After handling) calling
  ``begin_create_or_update(...).result()`` account after account;
- ``pulumi up`` of the same stack with one deployment (the engine's overhead plus one region).
Each repeat deletes everything before the next (not timed). See bench/README.md.
"""

from __future__ import annotations

import math
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ._common import (
    Row,
    account_id,
    arm_operations,
    best,
    child_env,
    child_main,
    max_overlap,
    provider_env,
    pulumi_bin_dir,
    ratio,
    region_accounts,
    run_child,
    spread,
    Stack,
    start_emulator,
    train_model,
)

TIME_SCALE = 100.0
POLL = 0.5
# Global Standard: offered for fine-tuned gpt-4o-mini models from every region; Standard only in
# northcentralus and swedencentral (the emulator's rule DP1, from Azure's fine-tuning-deploy page)
SKU = {"name": "GlobalStandard", "capacity": 1}


# -- the baseline script (child process) ------------------------------------------------------
def _child(p: dict[str, Any]) -> dict[str, Any]:
    from azure.mgmt.cognitiveservices.models import Deployment, DeploymentModel, DeploymentProperties, Sku

    from pulumi_aoai_finetune import clients
    from pulumi_aoai_finetune.settings import ProviderSettings

    client = clients.arm(ProviderSettings.load(), p["subscription"])
    per_region = []
    t0 = time.perf_counter()
    for acct, source in p["targets"]:
        t = time.perf_counter()
        body = Deployment(sku=Sku(name=SKU["name"], capacity=SKU["capacity"]),
                          properties=DeploymentProperties(model=DeploymentModel(
                              format="OpenAI", name=p["model"], version="1", source=source)))
        result = client.deployments.begin_create_or_update(p["resource_group"], acct, p["name"], body).result()
        if result.properties.provisioning_state != "Succeeded":
            raise RuntimeError(f"deployment in {acct} ended {result.properties.provisioning_state}")
        per_region.append(time.perf_counter() - t)
    seconds = time.perf_counter() - t0
    for acct, _ in p["targets"]:  # clean up for the next run (not timed)
        client.deployments.begin_delete(p["resource_group"], acct, p["name"]).result()
    return {"seconds": seconds, "per_region": per_region}


# -- parent -----------------------------------------------------------------------------------
def run(n_regions: int, repeat: int, op_seconds: float = 2.5, tmp: str | None = None, log=print) -> list[Row]:
    workdir = Path(tempfile.mkdtemp(prefix="aoai-bench-regions-", dir=tmp))
    accounts = region_accounts(n_regions, "rg")
    emu = start_emulator(time_scale=TIME_SCALE, accounts=accounts, state_dir=workdir / "emulator",
                         extra={"fine_tuned_deployment_create_seconds": op_seconds * TIME_SCALE,
                                "deployment_delete_seconds": 0.1 * TIME_SCALE})
    try:
        trained = train_model(emu, accounts[0][0], workdir)
        model, home = trained["model"], accounts[0][0]
        sub, rg = emu.config.subscription_id, emu.config.resource_group
        bin_dir = pulumi_bin_dir()
        many = Stack(workdir / "many", bin_dir, emu.base_url, name="regions", poll_interval=POLL)
        one = Stack(workdir / "many", bin_dir, emu.base_url, name="one-region", poll_interval=POLL,
                    project=many.project)
        base = {"subscription": sub, "resource_group": rg}
        many.spec = {**base, "deployments": {
            f"ft-{i + 1}": {"account": name, "model": model, "deployment_name": "ft", "sku": SKU,
                            **({"source": home} if name != home else {})}
            for i, (name, _) in enumerate(accounts)}}
        one.spec = {**base, "deployments": {"ft-1": {"account": home, "model": model, "deployment_name": "ft",
                                                     "sku": SKU}}}
        env = child_env(provider_env(emu.base_url, poll_interval=POLL))
        targets = [(name, account_id(emu, home) if name != home else None) for name, _ in accounts]
        script_t, up_many, up_one, per_region, overlaps, conflicts = [], [], [], [], [], 0
        for i in range(repeat):
            r = run_child("bench.regions", {"subscription": sub, "resource_group": rg, "model": model,
                                            "name": "ft", "targets": targets}, env)
            script_t.append(r["seconds"])
            per_region.extend(r["per_region"])
            log(f"  regions script x{n_regions}: {r['seconds']:.1f} s")

            up_one.append(one.up())
            log(f"  regions pulumi up x1: {up_one[-1]:.1f} s")
            one.destroy()

            t_emu = emu.backend.now()
            mark = len(emu.backend.faults.requests())
            up_many.append(many.up())
            ops = arm_operations(emu, t_emu)
            overlaps.append(max_overlap([op for op in ops if op["kind"] == "deployment.create"]))
            conflicts += sum(1 for e in emu.backend.faults.requests()[mark:] if e["status"] == 409)
            log(f"  regions pulumi up x{n_regions}: {up_many[-1]:.1f} s, {overlaps[-1]} ARM operations at once")
            if i < repeat - 1:
                many.destroy()  # the last one goes with the emulator
        t_script, t_many, t_one = best(script_t), best(up_many), best(up_one)
        details = {
            "regions": [region for _, region in accounts], "accounts": [name for name, _ in accounts],
            "op_seconds": op_seconds, "script_seconds_per_region": spread(per_region),
            "script": spread(script_t), "up_n": spread(up_many), "up_1": spread(up_one),
            "max_arm_operations_at_once": max(overlaps), "status_409": conflicts,
            "provider_grpc_workers": 4, "waves_expected": math.ceil(n_regions / 4),
        }
        return [
            Row("regions", f"{n_regions} regions: pulumi up vs region-after-region script", t_many, "s",
                t_script, f"script, {n_regions} accounts in turn", ratio(t_many, t_script),
                "< 1x (regions in parallel)", t_many < t_script, details),
            Row("regions", f"{n_regions} regions vs 1 region, pulumi up", t_many, "s", t_one,
                "pulumi up, 1 region", ratio(t_many, t_one), "~1 region + overhead (<= 1.25x)",
                ratio(t_many, t_one) <= 1.25,
                {"max_arm_operations_at_once": max(overlaps), "status_409": conflicts}),
        ]
    finally:
        emu.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    if "--child" in sys.argv:
        raise SystemExit(child_main(_child))
    raise SystemExit("run `python -m bench --only regions`")
