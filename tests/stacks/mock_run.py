"""Run stacks/__main__.py under pulumi.runtime.set_mocks for one stack file and print what it declares.

    python mock_run.py <stack> [--config-json '{"finetune:pipeline": {...}}'] [--ref-outputs '{...}']

Prints one JSON document: {"resources": [{"type", "name", "inputs"}], "outputs": {...}} or
{"error": "...", "resources": [...]} when the program fails. Each run is its own process: Pulumi's runtime is global.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import runpy
import sys

import pulumi
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Mocks(pulumi.runtime.Mocks):
    def __init__(self, ref_outputs):
        self.resources = []
        self.ref_outputs = ref_outputs

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        inputs = dict(args.inputs)
        if args.typ == "pulumi:pulumi:StackReference":
            return f"{args.name}-id", {"name": args.name, "outputs": self.ref_outputs}
        self.resources.append({"type": args.typ, "name": args.name, "inputs": inputs})
        outs = dict(inputs)
        if "base_model" in inputs:  # a FineTuningJob: what the service would answer
            outs.update(fine_tuned_model=f"{inputs['base_model']}.ft-mock", job_id="ftjob-mock", status="succeeded",
                        checkpoints=[{"model": f"{inputs['base_model']}.ft-mock:ckpt-step-{n}"} for n in (10, 20, 30)],
                        metrics={"final_valid_loss": 0.4})
        if "purpose" in inputs:
            outs.update(file_id=f"file-{args.name}", sha256="00" * 32)
        if "cases" in inputs:  # a ModelEvaluation: every case passed
            outs["results"] = {"model": inputs.get("model"), "deployment_name": inputs.get("deployment_name"),
                               "cases_sha256": "11" * 32, "cases_run": 15, "passed_cases": 15, "pass_rate": 1.0,
                               "pass_rate_per_grader": {"contains": 1.0}, "errors": 0}
        if args.typ.startswith("azure-native:"):
            outs["id"] = f"/subscriptions/s/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/{args.name}"
        return f"{args.name}-id", outs

    def call(self, args):
        return {}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("stack")
    ap.add_argument("--config-json", default=None)
    ap.add_argument("--ref-outputs", default="{}")
    ns = ap.parse_args()
    if ns.config_json:
        config = json.loads(ns.config_json)
    else:
        with open(os.path.join(REPO, "stacks", f"Pulumi.{ns.stack}.yaml"), encoding="utf-8") as fh:
            config = yaml.safe_load(fh)["config"]
    mocks = Mocks(json.loads(ns.ref_outputs))
    pulumi.runtime.set_mocks(mocks, project="finetune", stack=ns.stack, preview=False)
    pulumi.runtime.set_all_config({k: (json.dumps(v) if not isinstance(v, str) else v) for k, v in config.items()})
    sys.path.insert(0, os.path.join(REPO, "stacks"))
    outputs = {}
    orig_export = pulumi.export
    pulumi.export = lambda name, value: outputs.__setitem__(name, value)
    error = None
    try:
        runpy.run_path(os.path.join(REPO, "stacks", "__main__.py"), run_name="__main__")

        async def settle():
            resolved = {}
            for key, value in outputs.items():
                resolved[key] = await pulumi.Output.from_input(value).future()
            return resolved

        loop = asyncio.get_event_loop()
        outputs = loop.run_until_complete(settle())
        loop.run_until_complete(asyncio.sleep(0.2))
    except Exception as exc:  # the program's own error, as the CLI would show it
        error = str(exc)
    finally:
        pulumi.export = orig_export
    result = {"resources": mocks.resources}
    result.update({"error": error} if error else {"outputs": outputs})
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
