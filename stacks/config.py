"""The stack's configuration, typed and validated: ``finetune:pipeline`` in ``Pulumi.<stack>.yaml``.

Every error names the config key it is about (``finetune:pipeline.training.suffix: ...``) and is
raised before any resource is declared, so ``pulumi preview`` fails with it and nothing is created.

Shape (YAML)::

    finetune:pipeline:
      subscription: <id>            # default for accounts given by name
      resource_group: <name>
      azure:                        # optional: create what surrounds fine-tuning with azure-native
        location: swedencentral
        principal_id: <object id>   # gets "Cognitive Services OpenAI Contributor" on each account
      accounts:                     # key -> an existing account (id, or name) or one to create
        train: {name: aoai-ncus, region: northcentralus}
        swc:   {id: /subscriptions/.../accounts/x, region: swedencentral}
      training:                     # omit when promoting a model trained elsewhere
        account: train
        base_model: gpt-4o-mini-2024-07-18      # or {stack: org/project/dev} (continuous fine-tuning)
        data: {training: data/train.jsonl, validation: data/valid.jsonl}   # paths or https URLs
        hyperparameters: {n_epochs: 3, batch_size: auto, learning_rate_multiplier: 0.1}
        suffix: support, seed: 42, method: supervised, wait: true, timeout: 4h
        grader: {type: string_check, ...}       # method reinforcement only (o4-mini): the job's grader;
                                                # its {{item.<field>}} fields are checked in the data
        training_type: GlobalStandard           # Standard | GlobalStandard | developerTier (optional)
        keep_model_on_destroy: true
      promote:                      # deploy a model trained by another stack, no training here
        stack: organization/finetune/dev        # StackReference, or
        model: gpt-4o-mini-2024-07-18.ft-...    # a pinned, reviewable model id
        source_account: /subscriptions/.../accounts/aoai-ncus   # with a pinned model
        gate:                                   # refused at preview, quoting the numbers
          max_final_valid_loss: 0.6
          min_final_valid_token_accuracy: 0.8
          evaluation:                           # the source stack's evaluation (its `evaluation` output)
            min_pass_rate: 0.9                  # and/or min_pass_rate_per_grader: {contains: 1.0}
            stack: organization/finetune/staging   # default: promote.stack; required with a pinned model
      evaluation:                   # evaluate a deployment of this stack on held-out cases (ModelEvaluation)
        deployment: support         # a name from deployments
        account: swc                # optional: which account's deployment of that name
        cases: eval/cases.jsonl     # JSONL: messages + expect per line
        max_tokens: 256             # optional
        model_grader: {deployment: judge, account: swc, rubric: "...", model: gpt-4o-2024-08-06}  # optional
      deployments:
        - {account: train, name: support, sku: {name: Standard, capacity: 1}}
        - {account: swc, name: support, sku: {name: Standard, capacity: 2}, checkpoint: -1?}

At most 10 deployments per account (Azure's limit of fine-tuned deployments per resource): counted
here over the whole config, because one deployment's preview cannot see the others of the same stack
before they exist (the provider counts those that already exist in the account).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Optional

KEY = "finetune:pipeline"
# Patterns are used with fullmatch: "$" alone would let a trailing line break through.
SUFFIX = re.compile(r"[A-Za-z0-9_-]{1,40}")
DEPLOYMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{1,63}")
ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{1,62}")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
SUBSCRIPTION = re.compile(r"[0-9A-Za-z-]{1,64}")
RESOURCE_GROUP = re.compile(r"[\w().-]{0,89}[\w()-]", re.ASCII)
ACCOUNT_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")  # names resources: <key>-<deployment name>
ACCOUNT_ID = re.compile(r"/subscriptions/[^/\s]+/resourceGroups/[^/\s]+/providers/Microsoft\.CognitiveServices/"
                        r"accounts/[^/\s]+", re.IGNORECASE)
SKUS = ("Standard", "GlobalStandard", "DataZoneStandard", "DeveloperTier", "ProvisionedManaged")
METHODS = ("supervised", "dpo", "reinforcement")
TRAINING_TYPES = ("Standard", "GlobalStandard", "developerTier")
MAX_DEPLOYMENTS_PER_ACCOUNT = 10  # fine-tuned deployments per resource (Azure quotas, 2026)
MAX_CAPACITY = 10_000
DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
# Azure public regions (az account list-locations, 2026); an unknown one is a typo.
REGIONS = frozenset("""
australiacentral australiacentral2 australiaeast australiasoutheast austriaeast belgiumcentral brazilsouth
brazilsoutheast canadacentral canadaeast centralindia centralus chilecentral eastasia eastus eastus2 francecentral
francesouth germanynorth germanywestcentral indonesiacentral israelcentral italynorth japaneast japanwest
koreacentral koreasouth malaysiawest mexicocentral newzealandnorth northcentralus northeurope norwayeast
norwaywest polandcentral qatarcentral southafricanorth southafricawest southcentralus southeastasia southindia
spaincentral swedencentral swedensouth switzerlandnorth switzerlandwest uaecentral uaenorth uksouth ukwest
westcentralus westeurope westindia westus westus2 westus3
""".split())


class ConfigError(ValueError):
    """A stack configuration problem; the message starts with the config key."""


def _err(path: str, message: str) -> ConfigError:
    return ConfigError(f"{KEY}.{path}: {message}")


def _obj(value: Any, path: str, allowed: set[str], required: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _err(path, f"expected a mapping, got {type(value).__name__}")
    unknown = sorted(set(value) - allowed, key=str)
    if unknown:
        shown = _key(unknown[0])
        raise _err(f"{path}.{shown}" if path else shown, f"unknown key; allowed: {', '.join(sorted(allowed))}")
    for key in required:
        if value.get(key) is None:
            raise _err(f"{path}.{key}" if path else key, "is required")
    return value


def _key(key: Any) -> str:
    """A mapping key as an error message may show it: as written when it is a plain name, else quoted
    and escaped (a key with a line break or Markdown must not shape the message, nor a review)."""
    return key if isinstance(key, str) and re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", key) else repr(key)[:80]


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _err(path, f"expected a non-empty string, got {value!r}")
    if CONTROL.search(value.strip()):
        raise _err(path, f"{value!r} contains a line break or another control character")
    return value.strip()


def _int(value: Any, path: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _err(path, f"must be an integer from {lo} to {hi}, got {value!r}")
    return value


@dataclass(frozen=True)
class Account:
    key: str
    region: str
    id: Optional[str] = None      # an existing account
    name: Optional[str] = None    # an account by name (in subscription/resource_group), or to create

    def resource_id(self, subscription: str, resource_group: str) -> str:
        if self.id:
            return self.id
        return (f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
                f"/providers/Microsoft.CognitiveServices/accounts/{self.name}")


@dataclass(frozen=True)
class Training:
    account: str
    base_model: str | None
    base_model_stack: str | None
    training_data: str
    validation_data: str | None
    hyperparameters: dict[str, Any]
    suffix: str | None
    seed: int | None
    method: str | None
    wait: bool
    timeout: str | None
    keep_model_on_destroy: bool
    training_type: str | None = None
    grader: dict[str, Any] | None = None


@dataclass(frozen=True)
class EvaluationGate:
    """``promote.gate.evaluation``: pass rates the source stack's evaluation must reach."""

    stack: str
    min_pass_rate: float | None = None
    min_pass_rate_per_grader: dict[str, float] | None = None

    def failures(self, results: dict[str, Any] | None, model: str | None) -> list[str]:
        from pulumi_aoai_finetune.evaluation.gate import evaluate

        gate = {k: v for k, v in (("min_pass_rate", self.min_pass_rate),
                                  ("min_pass_rate_per_grader", self.min_pass_rate_per_grader)) if v is not None}
        if not results:
            return [f"stack {self.stack} has no evaluation (its `evaluation` output): evaluate the model there first"]
        return evaluate(gate, results, model=model).failures


@dataclass(frozen=True)
class Gate:
    max_final_valid_loss: float | None = None
    min_final_valid_token_accuracy: float | None = None
    max_final_train_loss: float | None = None
    evaluation: EvaluationGate | None = None

    @property
    def gates_metrics(self) -> bool:
        return any(v is not None for v in (self.max_final_valid_loss, self.min_final_valid_token_accuracy,
                                           self.max_final_train_loss))

    def failures(self, metrics: dict[str, Any] | None) -> list[str]:
        if not self.gates_metrics:
            return []
        if not metrics:
            return ["the model has no recorded metrics (results.csv) to check the gate against"]
        out = []
        checks = (("final_valid_loss", self.max_final_valid_loss, "<="),
                  ("final_valid_token_accuracy", self.min_final_valid_token_accuracy, ">="),
                  ("final_train_loss", self.max_final_train_loss, "<="))
        for metric, bound, op in checks:
            if bound is None:
                continue
            value = metrics.get(metric)
            if value is None:
                out.append(f"{metric} is not recorded (needed: {op} {bound})")
            elif (op == "<=" and value > bound) or (op == ">=" and value < bound):
                out.append(f"{metric} is {value} (needed: {op} {bound})")
        return out


@dataclass(frozen=True)
class Promote:
    stack: str | None
    model: str | None
    source_account: str | None
    gate: Gate | None


@dataclass(frozen=True)
class Deployment:
    account: str
    name: str
    sku: dict[str, Any]
    checkpoint: int | None = None


@dataclass(frozen=True)
class Azure:
    location: str
    principal_id: str | None


@dataclass(frozen=True)
class Evaluation:
    """``evaluation``: a deployment of this stack evaluated on held-out cases."""

    deployment: Deployment
    cases: str
    max_tokens: int | None = None
    grader_deployment: str | None = None
    grader_account: str | None = None
    rubric: str | None = None
    grader_model: str | None = None


@dataclass(frozen=True)
class Pipeline:
    subscription: str
    resource_group: str
    accounts: dict[str, Account]
    training: Training | None
    promote: Promote | None
    deployments: list[Deployment] = field(default_factory=list)
    azure: Azure | None = None
    evaluation: Evaluation | None = None

    def account_id(self, key: str) -> str:
        return self.accounts[key].resource_id(self.subscription, self.resource_group)


def parse(raw: Any) -> Pipeline:
    top = _obj(raw, "", {"subscription", "resource_group", "accounts", "training", "promote", "deployments", "azure",
                         "evaluation"}, ("accounts", "deployments"))
    subscription = _str(top.get("subscription", DEFAULT_SUBSCRIPTION), "subscription")
    if not SUBSCRIPTION.fullmatch(subscription):
        raise _err("subscription", f"{subscription!r} is not a subscription id (a GUID)")
    resource_group = _str(top.get("resource_group", "aoai-finetune"), "resource_group")
    if not RESOURCE_GROUP.fullmatch(resource_group):
        raise _err("resource_group", f"{resource_group!r} is not a resource group name (1 to 90 letters, digits, "
                                     "'_', '-', '.', '(' or ')')")
    azure = _parse_azure(top["azure"]) if top.get("azure") is not None else None
    accounts = _parse_accounts(top["accounts"], azure)
    training = _parse_training(top["training"], accounts) if top.get("training") is not None else None
    promote = _parse_promote(top["promote"]) if top.get("promote") is not None else None
    if (training is None) == (promote is None):
        raise _err("training", "give exactly one of training (train here) or promote (deploy a model trained elsewhere)")
    deployments = _parse_deployments(top["deployments"], accounts, training)
    evaluation = _parse_evaluation(top["evaluation"], accounts, deployments) \
        if top.get("evaluation") is not None else None
    _check_deployment_regions(deployments, accounts, training, promote)
    return Pipeline(subscription, resource_group, accounts, training, promote, deployments, azure, evaluation)


def _check_deployment_regions(deployments, accounts, training, promote) -> None:
    """A fine-tuned model gets a Standard deployment only in some regions (rule DP1 of docs/azure-rules.md),
    checked here when the model is known from the config (the provider checks again at preview)."""
    from pulumi_aoai_finetune import availability

    if training is not None and training.base_model:
        model = f"{availability.base_of(training.base_model)}.ft-model"
    elif promote is not None and promote.model:
        model = promote.model
    else:
        return  # the model comes from another stack: checked by the provider at preview
    for i, d in enumerate(deployments):
        problem = availability.deployment_region_problem(model, d.sku["name"], accounts[d.account].region)
        if problem:
            raise _err(f"deployments[{i}].sku.name", f"account {d.account!r}: {problem}")


def _parse_azure(raw: Any) -> Azure:
    o = _obj(raw, "azure", {"location", "principal_id"}, ("location",))
    location = _str(o["location"], "azure.location").lower()
    if location not in REGIONS:
        raise _err("azure.location", f"unknown Azure region {location!r}")
    return Azure(location, o.get("principal_id"))


def _parse_accounts(raw: Any, azure: Azure | None) -> dict[str, Account]:
    if not isinstance(raw, dict) or not raw:
        raise _err("accounts", "expected a non-empty mapping of account keys")
    out = {}
    for key, value in raw.items():
        path = f"accounts.{_key(key)}"
        if not isinstance(key, str) or not ACCOUNT_KEY.fullmatch(key):
            raise _err(path, "an account key must be 1 to 63 letters, digits, '-' or '_', starting with a letter "
                             "or digit (it names the stack's resources)")
        o = _obj(value, path, {"id", "name", "region"}, ("region",))
        region = _str(o["region"], f"{path}.region").lower()
        if region not in REGIONS:
            raise _err(f"{path}.region", f"unknown Azure region {region!r}")
        if (o.get("id") is None) == (o.get("name") is None):
            raise _err(path, "give exactly one of id (an existing account's ARM id) or name")
        if o.get("id") is not None and not ACCOUNT_ID.fullmatch(_str(o["id"], f"{path}.id")):
            raise _err(f"{path}.id", "is not a Microsoft.CognitiveServices account resource id")
        if o.get("name") is not None and not ACCOUNT_NAME.fullmatch(_str(o["name"], f"{path}.name")):
            raise _err(f"{path}.name", f"{o['name']!r} is not a valid account name (2-64 letters, digits, '-')")
        out[key] = Account(key, region, o["id"].strip() if o.get("id") else None,
                           o["name"].strip() if o.get("name") else None)
    return out


def _parse_training(raw: Any, accounts: dict[str, Account]) -> Training:
    o = _obj(raw, "training", {"account", "base_model", "data", "hyperparameters", "suffix", "seed", "method", "wait",
                               "timeout", "keep_model_on_destroy", "training_type", "grader"}, ("account", "base_model", "data"))
    account = _str(o["account"], "training.account")
    if account not in accounts:
        raise _err("training.account", f"{account!r} is not one of the accounts ({', '.join(accounts)})")
    base_model, base_stack = None, None
    if isinstance(o["base_model"], dict):
        b = _obj(o["base_model"], "training.base_model", {"stack"}, ("stack",))
        base_stack = _str(b["stack"], "training.base_model.stack")
    else:
        base_model = _str(o["base_model"], "training.base_model")
    data = _obj(o["data"], "training.data", {"training", "validation"}, ("training",))
    hp = _obj(o.get("hyperparameters") or {}, "training.hyperparameters",
              {"n_epochs", "batch_size", "learning_rate_multiplier"})
    for key, value in hp.items():
        path = f"training.hyperparameters.{key}"
        if value == "auto":
            continue
        if key == "n_epochs":
            _int(value, path, 1, 50)
        elif key == "batch_size":
            _int(value, path, 1, 256)
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise _err(path, f"must be a positive number or auto, got {value!r}")
    suffix = o.get("suffix")
    if suffix is not None and (not isinstance(suffix, str) or not SUFFIX.fullmatch(suffix)):
        raise _err("training.suffix", f"{suffix!r} must be 1 to 40 characters of a-z A-Z 0-9 - _")
    seed = _int(o["seed"], "training.seed", 0, 2**31 - 1) if o.get("seed") is not None else None
    method = o.get("method")
    if method is not None and method not in METHODS:
        raise _err("training.method", f"{method!r} must be one of {', '.join(METHODS)}")
    grader = o.get("grader")
    if method == "reinforcement":
        if grader is None:
            raise _err("training.grader", "method reinforcement needs the grader that scores the answers "
                                          "(e.g. {type: string_check, input: '{{sample.output_text}}', "
                                          "reference: '{{item.answer}}', operation: eq})")
        if not isinstance(grader, dict) or not isinstance(grader.get("type"), str):
            raise _err("training.grader", "must be a grader object with a type")
        if not data.get("validation"):
            raise _err("training.data.validation", "method reinforcement needs a validation file too")
    elif grader is not None:
        raise _err("training.grader", "is for method reinforcement only")
    training_type = o.get("training_type")
    if training_type is not None:
        spelled = {t.lower(): t for t in TRAINING_TYPES}.get(str(training_type).lower())
        if spelled is None:
            raise _err("training.training_type", f"{training_type!r} must be one of {', '.join(TRAINING_TYPES)}")
        training_type = spelled
    for key in ("wait", "keep_model_on_destroy"):
        if key in o and not isinstance(o[key], bool):
            raise _err(f"training.{key}", "must be true or false")
    timeout = o.get("timeout")
    if timeout is not None and (not isinstance(timeout, str) or not re.fullmatch(r"(\d+(\.\d+)?(h|m|s))+", timeout)):
        raise _err("training.timeout", f"{timeout!r} must be a duration like 4h, 90m or 1h30m")
    return Training(account, base_model, base_stack, _str(data["training"], "training.data.training"),
                    data.get("validation"), dict(hp), suffix, seed, method, o.get("wait", True), timeout,
                    o.get("keep_model_on_destroy", True), training_type, grader)


def _parse_promote(raw: Any) -> Promote:
    o = _obj(raw, "promote", {"stack", "model", "source_account", "gate"})
    if (o.get("stack") is None) == (o.get("model") is None):
        raise _err("promote", "give exactly one of stack (read the model from that stack) or model (a pinned model id)")
    if o.get("model") is not None and o.get("source_account") is None:
        raise _err("promote.source_account", "is required with a pinned model: the ARM id of the account that trained it")
    if o.get("source_account") is not None and not ACCOUNT_ID.fullmatch(_str(o["source_account"],
                                                                                 "promote.source_account")):
        raise _err("promote.source_account", "is not a Microsoft.CognitiveServices account resource id")
    gate = None
    if o.get("gate") is not None:
        g = dict(_obj(o["gate"], "promote.gate", {"max_final_valid_loss", "min_final_valid_token_accuracy",
                                                  "max_final_train_loss", "evaluation"}))
        evaluation = _parse_evaluation_gate(g.pop("evaluation"), o.get("stack")) if g.get("evaluation") is not None \
            else None
        g.pop("evaluation", None)
        for key, value in g.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise _err(f"promote.gate.{key}", f"must be a non-negative number, got {value!r}")
        if not g and evaluation is None:
            raise _err("promote.gate", "has no threshold: set e.g. max_final_valid_loss or evaluation.min_pass_rate")
        gate = Gate(**g, evaluation=evaluation)
    return Promote(o.get("stack"), o.get("model"), o.get("source_account"), gate)


def _parse_evaluation_gate(raw: Any, promote_stack: str | None) -> EvaluationGate:
    from pulumi_aoai_finetune.evaluation.gate import check_gate

    o = dict(_obj(raw, "promote.gate.evaluation", {"stack", "min_pass_rate", "min_pass_rate_per_grader"}))
    stack = o.pop("stack", None)
    if stack is None and promote_stack is None:
        raise _err("promote.gate.evaluation.stack", "is required with a pinned model: the stack that evaluated it")
    stack = _str(stack, "promote.gate.evaluation.stack") if stack is not None else promote_stack
    for where, message in check_gate(o, "promote.gate.evaluation"):
        key = where.removeprefix("promote.gate.evaluation").lstrip(".")
        raise _err("promote.gate.evaluation" + (f".{key}" if key else ""),
                   message.removeprefix(where).lstrip(": ").removeprefix("promote.gate.evaluation ") or message)
    return EvaluationGate(stack, o.get("min_pass_rate"), o.get("min_pass_rate_per_grader"))


def _parse_evaluation(raw: Any, accounts: dict[str, Account], deployments: list[Deployment]) -> Evaluation:
    o = _obj(raw, "evaluation", {"deployment", "account", "cases", "max_tokens", "model_grader"},
             ("deployment", "cases"))
    name = _str(o["deployment"], "evaluation.deployment")
    account = _str(o["account"], "evaluation.account") if o.get("account") is not None else None
    matching = [d for d in deployments if d.name == name and (account is None or d.account == account)]
    if not matching:
        raise _err("evaluation.deployment", f"{name!r} is not one of the deployments"
                                            + (f" of account {account!r}" if account else "")
                                            + f" ({', '.join(sorted({d.name for d in deployments})) or 'none'})")
    if len(matching) > 1:
        raise _err("evaluation.account", f"deployment {name!r} is in several accounts "
                                         f"({', '.join(d.account for d in matching)}): say which")
    max_tokens = _int(o["max_tokens"], "evaluation.max_tokens", 1, 100_000) if o.get("max_tokens") is not None \
        else None
    grader: dict[str, Any] = {}
    if o.get("model_grader") is not None:
        g = _obj(o["model_grader"], "evaluation.model_grader", {"deployment", "account", "rubric", "model"},
                 ("deployment",))
        grader["deployment"] = _str(g["deployment"], "evaluation.model_grader.deployment")
        if not DEPLOYMENT_NAME.match(grader["deployment"]):
            raise _err("evaluation.model_grader.deployment", f"{grader['deployment']!r} is not a deployment name")
        if g.get("account") is not None:
            grader["account"] = _str(g["account"], "evaluation.model_grader.account")
            if grader["account"] not in accounts:
                raise _err("evaluation.model_grader.account", f"{grader['account']!r} is not one of the accounts "
                                                              f"({', '.join(accounts)})")
        for key in ("rubric", "model"):
            if g.get(key) is not None:
                grader[key] = _str(g[key], f"evaluation.model_grader.{key}")
    return Evaluation(matching[0], _str(o["cases"], "evaluation.cases"), max_tokens, grader.get("deployment"),
                      grader.get("account"), grader.get("rubric"), grader.get("model"))


def _parse_deployments(raw: Any, accounts: dict[str, Account], training: Training | None) -> list[Deployment]:
    if not isinstance(raw, list):
        raise _err("deployments", "expected a list of deployments")
    out, seen = [], set()
    for i, value in enumerate(raw):
        path = f"deployments[{i}]"
        o = _obj(value, path, {"account", "name", "sku", "checkpoint"}, ("account", "name"))
        account = _str(o["account"], f"{path}.account")
        if account not in accounts:
            raise _err(f"{path}.account", f"{account!r} is not one of the accounts ({', '.join(accounts)})")
        name = _str(o["name"], f"{path}.name")
        if not DEPLOYMENT_NAME.fullmatch(name):
            raise _err(f"{path}.name", f"{name!r} must be 2 to 64 characters of letters, digits, '-', '_', '.'")
        if (account, name) in seen:
            raise _err(f"{path}.name", f"{name!r} is declared twice in account {account!r}")
        seen.add((account, name))
        sku = _obj(o.get("sku") or {"name": "Standard", "capacity": 1}, f"{path}.sku", {"name", "capacity"})
        sku_name = sku.get("name", "Standard")
        if sku_name not in SKUS:
            raise _err(f"{path}.sku.name", f"{sku_name!r} must be one of {', '.join(SKUS)}")
        capacity = _int(sku.get("capacity", 1), f"{path}.sku.capacity", 1, MAX_CAPACITY)
        checkpoint = o.get("checkpoint")
        if checkpoint is not None:
            if training is None:
                raise _err(f"{path}.checkpoint", "checkpoints can only be deployed by the stack that trains")
            _int(checkpoint, f"{path}.checkpoint", -3, -1)
        out.append(Deployment(account, name, {"name": sku_name, "capacity": capacity}, checkpoint))
    per_account: dict[str, list[str]] = {}
    for i, d in enumerate(out):
        per_account.setdefault(d.account, []).append(d.name)
        if len(per_account[d.account]) > MAX_DEPLOYMENTS_PER_ACCOUNT:
            raise _err(f"deployments[{i}]", f"{d.name!r} would be deployment number {len(per_account[d.account])} in "
                                            f"account {d.account!r}; Azure allows {MAX_DEPLOYMENTS_PER_ACCOUNT} "
                                            "fine-tuned deployments per resource: use another account")
    final: dict[str, int] = {}
    for i, d in enumerate(out):
        # rule CK1: the last checkpoint (-1) is the fine-tuned model itself
        if d.checkpoint in (None, -1) and training is not None:
            if d.account in final:
                raise _err(f"deployments[{i}]", f"deployments[{final[d.account]}] and deployments[{i}] deploy the same "
                                                f"model in account {d.account!r}: the last checkpoint (-1) is the "
                                                "fine-tuned model itself, and Azure allows one deployment per model "
                                                "per account")
            final[d.account] = i
    return out
