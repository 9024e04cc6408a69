"""The resources' contract, declared once: every input, output and setting, for every front end.

This module is the single source of truth for what the resources accept and return. The front ends
are derived from it or checked against it (``tests/provider/test_schema.py`` compares it with what the
Python API and the controllers actually accept, so they cannot drift):

- the Python dynamic resources (``TrainingFile(...)`` keywords: :attr:`Field.name`);
- the Pulumi provider plugin: its package schema (camelCase names, :attr:`Field.camel`) is generated
  from here (``adapters/plugin``), and the generated SDKs from that;
- a Terraform/OpenTofu provider: attribute names are :attr:`Field.name`; ``required``/optional, ``computed``,
  ``replace`` (``RequiresReplace``), ``secret`` (``Sensitive``), ``default`` and ``on_update``
  (``UseStateForUnknown``) map onto its attribute schema.

Descriptions name other properties as ``$snake_name``; :func:`render` writes them in a front end's
style (``contentUrl`` for Pulumi, ``content_url`` for Python and Terraform).

Names. :attr:`Field.name` is snake_case: the Python keyword, the Terraform attribute and the key the
controllers read. :attr:`Field.camel` is the Pulumi schema name. Objects that are the service's own
(``hyperparameters``, a ``method`` or ``grader``, the training ``metrics``) keep the service's keys in
every front end (``api_keys=True`` or type ``any``).

Nothing here talks to Azure or to Pulumi: it is data, and small helpers over it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator, Literal, Union

PACKAGE = "aoai-finetune"  # the Pulumi package and plugin name; the namespace of the provider config keys
MODULE = "index"

# ---------------------------------------------------------------------------------------------------
# Types


@dataclass(frozen=True)
class Primitive:
    name: Literal["string", "integer", "number", "boolean", "any"]


@dataclass(frozen=True)
class ListOf:
    items: "Type"


@dataclass(frozen=True)
class MapOf:
    values: "Type"


@dataclass(frozen=True)
class OneOf:
    """A value of any of these types (a hyperparameter: a number or "auto")."""

    options: tuple["Type", ...]


@dataclass(frozen=True)
class Object:
    """A named object type with declared fields (Pulumi: a schema type; Terraform: a nested attribute)."""

    name: str
    description: str
    fields: tuple["Field", ...]
    api_keys: bool = False  # the service's own keys: the same names in every front end (no camelCase)

    def field(self, name: str) -> "Field":
        return _by_name(self.fields, name)


Type = Union[Primitive, ListOf, MapOf, OneOf, Object]

STRING = Primitive("string")
INTEGER = Primitive("integer")
NUMBER = Primitive("number")
BOOLEAN = Primitive("boolean")
ANY = Primitive("any")

# How an input's change is applied:
#   "replace"  a new object (a new upload, a new paid training run, a new deployment);
#   "update"   updated in place;
#   "content"  replaced when the content behind it changes (by SHA-256, see Field.content_key), updated
#              in place when only the reference changes (a renamed path, the same data re-uploaded);
#   "none"     never a change by itself (it bounds or informs another input).
Change = Literal["replace", "update", "content", "none"]

# What an in-place update does to an output, so a preview can show it (Pulumi: known outputs at
# preview; Terraform: UseStateForUnknown):
#   "kept"       an update never changes it;
#   "when_ended" kept once the object has ended (a fine-tuning job that succeeded); else recomputed;
#   "recomputed" read again by the update: unknown until it ran.
OnUpdate = Literal["kept", "when_ended", "recomputed"]


@dataclass(frozen=True)
class Field:
    """One input, output, setting or object field."""

    name: str
    type: Type
    description: str
    required: bool = False
    """Inputs: must be set. Outputs: always set."""
    default: Any = None
    """The value check fills in when the input is unset (``None``: none; see ``default_note``)."""
    default_note: str = ""
    """A default that is not a constant (e.g. "the resource's name")."""
    replace: Change = "update"
    content_key: str = ""
    """For ``replace="content"``: the state key holding the content's SHA-256."""
    computed: bool = False
    """Optional, and the service's value when unset: the service chooses (a seed, an "auto"
    hyperparameter) or records one (a file name). An imported object's value is accepted for it."""
    secret: bool = False
    python: bool = True
    """A keyword of the Python dynamic resources. False: the Python API derives it (from a
    TrainingFile passed as ``training_file``); other front ends take it as an input."""
    on_update: OnUpdate = "kept"
    """Outputs only: what an in-place update does to it."""
    example: Any = None
    camel_name: str = ""
    """The Pulumi name when it is not the camelCase of ``name``."""

    @property
    def camel(self) -> str:
        return self.camel_name or camel(self.name)


@dataclass(frozen=True)
class Resource:
    name: str
    description: str
    module: str
    """The Python module of the controller and of the dynamic resource (``pulumi_aoai_finetune.<module>``)."""
    import_id: str
    """The form of an id ``pulumi import`` (and ``tofu import``) takes."""
    inputs: tuple[Field, ...]
    outputs: tuple[Field, ...]
    """What the service reports, besides the inputs (which the outputs repeat)."""
    state: tuple[Field, ...] = ()
    """Keys the controllers keep in the state besides inputs and outputs (computed at check, never
    set by users and never in an SDK)."""

    @property
    def token(self) -> str:
        return f"{PACKAGE}:{MODULE}:{self.name}"

    @property
    def dynamic_token(self) -> str:
        """The type of the Python dynamic resource (kept: existing stacks' state uses it)."""
        return f"pulumi-python:dynamic/aoai:{self.name}"

    @property
    def terraform_name(self) -> str:
        return "aoai_finetune_" + self.module

    def input(self, name: str) -> Field:
        return _by_name(self.inputs, name)

    def output(self, name: str) -> Field:
        return _by_name(self.outputs, name)


@dataclass(frozen=True)
class Setting:
    """A provider setting: stack config ``aoai-finetune:<key>`` (Terraform: the provider block's
    ``name``) or its environment variable. Config wins over the environment."""

    name: str
    key: str
    env: str
    type: Type
    description: str
    default: Any = None
    secret: bool = False


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def render(text: str, style: Literal["camel", "snake"]) -> str:
    """A description with its ``$name`` references written in a front end's style."""
    return re.sub(r"\$([a-z][a-z0-9_]*)", lambda m: f"`{camel(m[1]) if style == 'camel' else m[1]}`", text)


def to_snake(values: Any, fields: tuple[Field, ...]) -> dict[str, Any]:
    """Plain property values named in Pulumi's style (camelCase; snake_case is accepted as well) with
    the names of :attr:`Field.name`, nested objects included; keys it does not know are kept."""
    out = {}
    for key, value in dict(values or {}).items():
        f = next((f for f in fields if key in (f.name, f.camel)), None)
        out[f.name if f else key] = _snake_value(value, f.type) if f else value
    return out


def _snake_value(value: Any, t: "Type") -> Any:
    if isinstance(t, Object) and isinstance(value, dict) and not t.api_keys:
        return to_snake(value, t.fields)
    if isinstance(t, ListOf) and isinstance(value, list):
        return [_snake_value(v, t.items) for v in value]
    return value


def _by_name(fields: tuple[Field, ...], name: str) -> Field:
    for f in fields:
        if f.name == name:
            return f
    raise KeyError(name)


def walk_objects(t: Type) -> Iterator[Object]:
    """The object types used in ``t``, nested ones included."""
    if isinstance(t, Object):
        yield t
        for f in t.fields:
            yield from walk_objects(f.type)
    elif isinstance(t, ListOf):
        yield from walk_objects(t.items)
    elif isinstance(t, MapOf):
        yield from walk_objects(t.values)
    elif isinstance(t, OneOf):
        for option in t.options:
            yield from walk_objects(option)


# ---------------------------------------------------------------------------------------------------
# Object types

ACCOUNT_ID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/aoai-ncus"

ACCOUNT = Object("Account", "An Azure OpenAI (Cognitive Services) account, named by its ARM resource id.", (
    Field("resource_id", STRING, "The account's ARM resource id: `/subscriptions/<sub>/resourceGroups/<rg>/providers/"
          "Microsoft.CognitiveServices/accounts/<name>`.", required=True, example=ACCOUNT_ID),
    Field("endpoint", STRING, "The account's data-plane endpoint (`https://<name>.openai.azure.com/`); read from ARM "
          "(`properties.endpoint`) when unset.", example="https://aoai-ncus.openai.azure.com/"),
))

HYPERPARAMETER = OneOf((NUMBER, STRING))

HYPERPARAMETERS = Object("Hyperparameters", "Training hyperparameters, with the service's own keys; each is a number "
                         "or \"auto\" (the service chooses; also when unset).", (
    Field("n_epochs", OneOf((INTEGER, STRING)), "Epochs over the training data: 1 to 50, or \"auto\".", example=3),
    Field("batch_size", OneOf((INTEGER, STRING)), "Examples per batch: 1 to 256, or \"auto\".", example=8),
    Field("learning_rate_multiplier", HYPERPARAMETER, "Multiplier of the base learning rate: above 0 and at most 10 "
          "(0.02 to 0.2 is usual), or \"auto\".", example=0.1),
), api_keys=True)

SKU = Object("Sku", "A deployment's sku.", (
    Field("name", STRING, "`Standard`, `GlobalStandard`, `DataZoneStandard`, `DeveloperTier` (also spelled "
          "`Developer`; gpt-4.1 family only, expires after 24 h), `ProvisionedManaged`, `GlobalProvisionedManaged` "
          "or `DataZoneProvisionedManaged`.", default="Standard", example="Standard"),
    Field("capacity", INTEGER, "Capacity units: 1 to 10000 (thousands of tokens per minute for Standard).",
          default=1, example=1),
))

QUALITY_GATE = Object("QualityGate", "Thresholds a model's training metrics must meet before it is deployed: checked "
                      "at preview when the metrics are known, and again right before the deployment is sent to ARM. A "
                      "model that misses them is not deployed, and the message quotes the numbers.", (
    Field("max_final_valid_loss", NUMBER, "Highest accepted validation loss at the end of training.", example=0.6),
    Field("min_final_valid_token_accuracy", NUMBER, "Lowest accepted validation token accuracy at the end (0 to 1).",
          example=0.8),
    Field("max_final_train_loss", NUMBER, "Highest accepted training loss at the end.", example=0.9),
    Field("min_final_train_token_accuracy", NUMBER, "Lowest accepted training token accuracy at the end (0 to 1).",
          example=0.7),
    Field("max_train_valid_gap", NUMBER, "Highest accepted mean gap between validation and training loss over the "
          "last epoch.", example=0.2),
    Field("fail_on_overfitting", BOOLEAN, "Refuse a model whose metrics show the overfitting signal.", default=False,
          example=True),
    Field("require_metrics", BOOLEAN, "Refuse when there are no metrics or a gated figure is missing (e.g. no "
          "validation file).", default=True, example=False),
    Field("min_eval_pass_rate", NUMBER, "Lowest accepted pass rate of the model's evaluation (0 to 1), read from "
          "`evaluation`; an evaluation of another model does not count.", example=0.9),
    Field("min_eval_pass_rate_per_grader", MapOf(NUMBER), "Lowest accepted pass rate per grader (`exact`, "
          "`contains`, `not_contains`, `regex`, `json`, `model`), likewise.", example={"contains": 1.0}),
))

EVALUATION_RESULTS = Object("EvaluationResults", "What an evaluation found, in short: what gates and other stacks "
                            "read.", (
    Field("model", STRING, "The model evaluated."),
    Field("deployment_name", STRING, "The deployment evaluated."),
    Field("cases_sha256", STRING, "SHA-256 of the case file."),
    Field("cases_run", INTEGER, "Cases run.", example=20),
    Field("passed_cases", INTEGER, "Cases whose every grader passed.", example=18),
    Field("pass_rate", NUMBER, "passed_cases / cases_run (0 to 1).", example=0.9),
    Field("pass_rate_per_grader", MapOf(NUMBER), "The pass rate of each grader over the cases that use it."),
    Field("errors", INTEGER, "Cases whose call failed (counted as failed)."),
    Field("evaluated_at", STRING, "When the run ended (RFC 3339)."),
))

MODEL_GRADER = Object("ModelGrader", "Another deployment that judges answers against a rubric, for the cases whose "
                      "`expect` has `model`; its verdict is parsed strictly.", (
    Field("deployment_name", STRING, "The judge's deployment (a base model with structured outputs, e.g. gpt-4o).",
          required=True, example="judge"),
    Field("account", ACCOUNT, "The judge's account (default: the evaluated deployment's)."),
    Field("rubric", STRING, "What a good answer is; a case's own `expect.model.rubric` overrides it.",
          example="The answer names the console page and is at most two sentences."),
    Field("model", STRING, "The judge's model, for the cost estimate only.", example="gpt-4o-2024-08-06"),
))

EVALUATION_FAILURE = Object("EvaluationFailure", "A failing case, truncated.", (
    Field("id", STRING, "The case's id."),
    Field("line", INTEGER, "Its line in the case file."),
    Field("graders", ListOf(STRING), "The graders that failed (`error` when the call itself failed)."),
    Field("expected", STRING, "What the case expects."),
    Field("got", STRING, "The answer."),
    Field("reason", STRING, "Why it failed."),
))

GRADER_COUNT = Object("GraderCount", "One grader's results.", (
    Field("passed", INTEGER, "Cases it passed."),
    Field("total", INTEGER, "Cases that use it."),
    Field("pass_rate", NUMBER, "passed / total."),
))

EVALUATION_USAGE = Object("EvaluationUsage", "Tokens an evaluation spent.", (
    Field("prompt_tokens", INTEGER, "Input tokens of the evaluated deployment."),
    Field("completion_tokens", INTEGER, "Output tokens of the evaluated deployment."),
    Field("total_tokens", INTEGER, "Both."),
    Field("judge_prompt_tokens", INTEGER, "Input tokens of the model grader."),
    Field("judge_completion_tokens", INTEGER, "Output tokens of the model grader."),
))

CHECKPOINT = Object("Checkpoint", "A checkpoint of a fine-tuning job: a deployable model at one step.", (
    Field("id", STRING, "The checkpoint's id (`ftchkpt-...`)."),
    Field("model", STRING, "The checkpoint's model name (`<fine-tuned model>:ckpt-step-<N>`), deployable like a "
          "fine-tuned model."),
    Field("step_number", INTEGER, "The training step it was taken at."),
    Field("metrics", ANY, "The service's metrics at that step (`train_loss`, `valid_loss`, ...: its own keys)."),
))

DEPLOYED_MODEL = Object("DeployedModel", "The model of a deployment, as ARM reports it.", (
    Field("name", STRING, "The model's name."),
    Field("version", STRING, "The model's version."),
    Field("format", STRING, "The model's format (`OpenAI`)."),
    Field("source", STRING, "The ARM id of the account the model comes from, when it is another account."),
))

OWNER = Object("Owner", "Who a resource is: the stack and the resource's own name. The objects it makes carry a "
               "marker derived from it (a file's name, a deployment's ARM tags), and it reuses, attaches to or deletes "
               "only objects that carry its marker (see ownership.py).", (
    Field("stack", STRING, "`<organization>/<project>/<stack>`.", required=True, example="organization/finetune/dev"),
    Field("resource", STRING, "`<Kind>/<resource name>`.", required=True, example="TrainingFile/training-data"),
))


def _owner(kind: str) -> "Field":
    return Field("owner", OWNER, "Who owns the objects this resource makes (set by the front end: the Python API "
                 "from the program's organization, project and stack; never a change by itself). Without it nothing "
                 "is provably the resource's own: nothing is reused or attached to after an interruption, and a "
                 "same-named deployment or same-input job fails the create.", replace="none",
                 python=False, example={"stack": "organization/finetune/dev", "resource": f"{kind}/example"})


def _owner_marker() -> "Field":
    return Field("owner_marker", STRING, "The owner marker the objects were made with (`aoaift-<stack>-<resource>`); "
                 "none for an adopted object that carries no marker of this resource.")


# ---------------------------------------------------------------------------------------------------
# Resources

_TIMEOUT = "How long to wait, in seconds, for the service to {what} before the operation fails (it goes on in " \
           "the service; the next run attaches to it)."

TRAINING_FILE = Resource(
    name="TrainingFile",
    module="training_file",
    import_id="<account ARM id>/files/<file id>",
    description=(
        "A JSONL file of training or validation data in an Azure OpenAI account: uploaded from a local file (streamed) "
        "or imported by the service from a URL, then waited for until the service has processed it. The data is "
        "validated at preview (every problem with file and line), with its statistics (the jobs that train on it state "
        "the cost of their runs). "
        "A change of content (by SHA-256), account, purpose, URL or explicit filename replaces the file; a renamed "
        "path with the same content is updated in place. Never uploaded twice: an upload interrupted by a killed "
        "`pulumi up` is found and reused by its content."),
    inputs=(
        Field("account", ACCOUNT, "The account the file belongs to.", required=True, replace="replace"),
        Field("path", STRING, "A local JSONL file to upload (under 512 MB). A relative path is relative to the "
              "program's directory; it must lie inside $project_dir (symlinks are followed). Give exactly one of "
              "$path and $content_url.", replace="content", content_key="content_sha256", example="data/train.jsonl"),
        Field("content_url", STRING, "Or: an http(s) URL the service imports the data from (e.g. an Azure Blob SAS "
              "URL). A secret in the state and in previews; its data is downloaded (streamed) and validated at "
              "preview when it is new or changed; a URL this machine cannot read is left to the service.",
              replace="replace", secret=True, example="https://account.blob.core.windows.net/data/train.jsonl?sv=..."),
        Field("purpose", STRING, "The file's purpose.", default="fine-tune", replace="replace", example="fine-tune"),
        Field("filename", STRING, "The name the service records (default: the file's base name, or the URL's), with "
              "the owner marker before its extension. Outputs the service's name "
              "(`train.aoaift-3f9c1a2b4d-7e21c0aa.jsonl`).", replace="replace", computed=True, example="train.jsonl"),
        Field("model", STRING, "The base model the data is for; selects the data format checked at preview.",
              example="gpt-4o-mini-2024-07-18"),
        Field("method", STRING, "The fine-tuning method the data is for: `supervised` (default), `dpo` (preference "
              "data) or `reinforcement` (one prompt per line, with the reference fields its grader reads).",
              example="dpo"),
        Field("grader", ANY, "Reinforcement data only: the job's grader object. The preview then fails for any line "
              "without a field the grader reads as `{{item.<field>}}`. Used for checking only, never sent.",
              example={"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
                       "reference": "{{item.answer}}", "operation": "eq"}),
        Field("validate", BOOLEAN, "Check the data at preview; findings fail the preview.", default=True,
              example=False),
        Field("timeout_seconds", NUMBER, _TIMEOUT.format(what="process the file"), default=3600, example=600),
        Field("adopt_file_id", STRING, "Bring an existing file under management by its id (read, never uploaded).",
              replace="replace", example="file-abc123"),
        Field("project_dir", STRING, "The directory a local `path` must stay inside (absolute).", replace="none",
              default_note="the Pulumi project's directory (the nearest one with a Pulumi.yaml above the program)",
              example="/home/me/project"),
        _owner("TrainingFile"),
    ),
    outputs=(
        Field("file_id", STRING, "The file's id in the service (`file-...`).", required=True),
        Field("bytes", INTEGER, "The file's size, as the service reports it.", required=True),
        Field("sha256", STRING, "SHA-256 of the data (of the local file, or of the URL's data as read at preview)."),
        Field("status", STRING, "The service's status of the file (`processed`).", required=True),
        Field("status_details", STRING, "The service's details of that status, if any."),
        Field("created_at", STRING, "When the service created the file (RFC 3339).", required=True),
        _owner_marker(),
    ),
    state=(
    Field("imported", BOOLEAN, "Set on an object brought in by an import: computed inputs the program leaves unset "
          "take the object's values."),
        Field("content_sha256", STRING, "SHA-256 of the data, computed at preview: replacement is decided by it."),
        Field("content_bytes", INTEGER, "The data's size, computed at preview."),
        Field("content_stats", ANY, "The data's statistics, computed at preview when it is validated without "
              "errors: `examples`, `tokens` (the validator's estimate, or exact counts), `tokens_median`, "
              "`tokens_max`, `token_counting_exact`, `model`. A FineTuningJob prices its run from them."),
    ),
)

FINE_TUNING_JOB = Resource(
    name="FineTuningJob",
    module="fine_tuning_job",
    import_id="<account ARM id>/fine_tuning/jobs/<job id>",
    description=(
        "One fine-tuning run of a base model (or of a fine-tuned model: continuous fine-tuning) on training files; "
        "waits, with progress, until it ends and outputs the fine-tuned model, its checkpoints and its metrics. Every "
        "training input forces a replacement: a new, paid run, which the preview shows as such. The same data "
        "re-uploaded (same SHA-256, new file id) updates the job in place. Creating never starts a second run for "
        "the same inputs: a job left running by an interrupted `pulumi up` is attached to. Destroying a running job "
        "cancels it; a succeeded job's model is kept unless $delete_model_on_destroy."),
    inputs=(
        Field("account", ACCOUNT, "The account that trains.", required=True, replace="replace"),
        Field("base_model", STRING, "The model to fine-tune, e.g. `gpt-4o-mini-2024-07-18`, or a fine-tuned model "
              "(continuous fine-tuning).", required=True, replace="replace", example="gpt-4o-mini-2024-07-18"),
        Field("training_file", STRING, "The training file's id (a TrainingFile's $file_id; its ARM-style id "
              "`<account>/files/<id>` is accepted too). Required unless $adopt_job_id is set.", replace="content",
              content_key="training_file_sha256", example="file-abc123"),
        Field("validation_file", STRING, "The validation file's id, likewise (optional; needed by reinforcement).",
              replace="content", content_key="validation_file_sha256", example="file-def456"),
        Field("training_file_sha256", STRING, "SHA-256 of the training data (a TrainingFile's `sha256`): with it, the "
              "same data re-uploaded under a new file id updates the job in place instead of training again.",
              replace="none", python=False, example="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
        Field("validation_file_sha256", STRING, "SHA-256 of the validation data (a TrainingFile's `sha256`), likewise.",
              replace="none", python=False, example="60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"),
        Field("training_file_stats", ANY, "The training data's statistics (a TrainingFile's `content_stats`): the "
              "preview states the declared run's training cost from them (tokens x $hyperparameters n_epochs).",
              replace="none", python=False, example={"examples": 60, "tokens": 3960}),
        Field("hyperparameters", HYPERPARAMETERS, "Training hyperparameters (the service's keys).", replace="replace",
              computed=True, example={"n_epochs": 3}),
        Field("suffix", STRING, "Up to 40 characters of `a-z A-Z 0-9 - _` added to the fine-tuned model's name.",
              replace="replace", example="support"),
        Field("seed", INTEGER, "The training seed (0 to 2147483647); the service picks one when unset.",
              replace="replace", computed=True, example=42),
        Field("method", ANY, "The fine-tuning method: `supervised`, `dpo` or `reinforcement`, or the service's method "
              "object, e.g. `{type: dpo, dpo: {hyperparameters: {beta: 0.1}}}`; reinforcement needs "
              "`{type: reinforcement, reinforcement: {grader: {...}}}` and a validation file.", replace="replace",
              computed=True, example="supervised"),
        Field("training_type", STRING, "`Standard`, `GlobalStandard` or `developerTier`: where and how the job is "
              "trained; checked at preview against the account's region.", replace="replace", computed=True,
              example="GlobalStandard"),
        Field("paused", BOOLEAN, "true pauses the job once it runs, false resumes it (in place: no new run).",
              example=False),
        Field("wait", BOOLEAN, "Wait until the job ends (progress is logged); false returns once it is created.",
              default=True, example=False),
        Field("timeout_seconds", NUMBER, _TIMEOUT.format(what="end the job"), default=86400,
              default_note="the create timeout (customTimeouts), else 24 hours", example=21600),
        Field("delete_model_on_destroy", BOOLEAN, "On destroy, delete the fine-tuned model too (default: keep it).",
              default=False, example=True),
        Field("adopt_job_id", STRING, "Bring an existing job under management by its id (read, never created).",
              replace="replace", example="ftjob-abc123"),
        _owner("FineTuningJob"),
    ),
    outputs=(
        Field("job_id", STRING, "The job's id (`ftjob-...`).", required=True),
        Field("status", STRING, "The job's status (`succeeded` once it ended well).", on_update="when_ended"),
        Field("fine_tuned_model", STRING, "The fine-tuned model's name, once the job succeeded.",
              on_update="when_ended"),
        Field("result_files", ListOf(STRING), "Ids of the job's result files (results.csv).", on_update="when_ended"),
        Field("trained_tokens", INTEGER, "Tokens trained (billed).", on_update="when_ended"),
        Field("checkpoints", ListOf(CHECKPOINT), "The job's checkpoints, by step.", on_update="when_ended"),
        Field("metrics", ANY, "Final and best figures from results.csv (`final_train_loss`, `final_valid_loss`, "
              "`final_valid_token_accuracy`, `steps`, `overfitting`, ...: the keys of a quality gate); none until the "
              "job succeeded.", on_update="when_ended"),
        Field("error", ANY, "The service's error object of a failed job.", on_update="when_ended"),
        Field("created_at", STRING, "When the job was created (RFC 3339).", required=True),
        Field("finished_at", STRING, "When the job ended (RFC 3339).", on_update="when_ended"),
        Field("estimated_finish", STRING, "The service's estimate of when the job ends (RFC 3339).",
              on_update="when_ended"),
        Field("resolved_hyperparameters", HYPERPARAMETERS, "The hyperparameters the service used (\"auto\" resolved).",
              on_update="when_ended"),
        _owner_marker(),
    ),
    state=(
    Field("imported", BOOLEAN, "Set on an object brought in by an import: computed inputs the program leaves unset "
          "take the object's values."),
    ),
)

MODEL_DEPLOYMENT = Resource(
    name="ModelDeployment",
    module="model_deployment",
    import_id="<deployment ARM id>",
    description=(
        "A deployment, through ARM, of a fine-tuned model, a checkpoint or a base model, in the model's own account or "
        "(with $source_account) in another region or subscription. A change of sku or capacity updates it in place; a "
        "change of model, name, source or account replaces it. The preview logs the estimated hosting fee. ARM "
        "operations on one account are serialized and retried on ARM's 409 \"Another operation is being "
        "performed\". A developer-tier deployment Azure removed after 24 h is explained at preview and deployed "
        "again."),
    inputs=(
        Field("account", ACCOUNT, "The account that serves the deployment.", required=True, replace="replace"),
        Field("model", STRING, "The model to deploy: a fine-tuned model (a FineTuningJob's $fine_tuned_model), a "
              "checkpoint (`...:ckpt-step-N`) or a base model.", required=True, replace="replace",
              example="gpt-4o-mini-2024-07-18.ft-abc123-support"),
        Field("deployment_name", STRING, "The name callers use: 2 to 64 characters of letters, digits, `-`, `_` and "
              "`.`.", replace="replace", computed=True, default_note="the resource's name", example="support-bot"),
        Field("sku", SKU, "The deployment's sku and capacity (default Standard, capacity 1); updated in place.",
              default={"name": "Standard", "capacity": 1}, example={"name": "GlobalStandard", "capacity": 10}),
        Field("source_account", ACCOUNT, "The account that trained the model, when it is another one (another region "
              "or subscription): sent as the model's `source`.", replace="replace"),
        Field("model_format", STRING, "The model's format.", default="OpenAI", replace="replace", example="OpenAI"),
        Field("model_version", STRING, "The model's version (`1` for fine-tuned models).", default="1",
              replace="replace", example="2024-07-18"),
        Field("rai_policy_name", STRING, "The content filter (RAI policy) to apply; the service's default when unset.",
              computed=True, example="Microsoft.DefaultV2"),
        Field("version_upgrade_option", STRING, "`OnceNewDefaultVersionAvailable`, `OnceCurrentVersionExpired` or "
              "`NoAutoUpgrade`.", computed=True, example="NoAutoUpgrade"),
        Field("adopt_existing", BOOLEAN, "Take over a deployment of that name that this stack cannot prove is its "
              "own (it carries no owner tag of this resource); it is tagged as this resource's.", default=False,
              example=True),
        Field("timeout_seconds", NUMBER, _TIMEOUT.format(what="provision the deployment"), default=3600, example=1800),
        Field("metrics", ANY, "The training metrics of the model: a FineTuningJob's `metrics` output, read by "
              "$quality_gate. A change never replaces.", example={"final_valid_loss": 0.41, "steps": 180}),
        Field("quality_gate", QUALITY_GATE, "Thresholds the metrics must meet (see QualityGate). A change never "
              "replaces.", example={"max_final_valid_loss": 0.6}),
        Field("evaluation", EVALUATION_RESULTS, "The model's evaluation: a ModelEvaluation's `results` output (of "
              "this stack, or of another through a StackReference), read by `qualityGate`. A change never replaces.",
              example={"model": "gpt-4o-mini-2024-07-18", "cases_run": 20, "passed_cases": 18, "pass_rate": 0.9}),
        _owner("ModelDeployment"),
    ),
    outputs=(
        Field("deployment_id", STRING, "The deployment's ARM id.", required=True),
        Field("provisioning_state", STRING, "ARM's provisioning state (`Succeeded`).", on_update="recomputed"),
        Field("endpoint", STRING, "The account's inference endpoint.", required=True),
        Field("deployed_model", DEPLOYED_MODEL, "The deployed model, as ARM reports it."),
        Field("deployed_sku", SKU, "The deployment's sku, as ARM reports it.", on_update="recomputed"),
        _owner_marker(),
    ),
    state=(
    Field("imported", BOOLEAN, "Set on an object brought in by an import: computed inputs the program leaves unset "
          "take the object's values."),
        Field("redeploy_expired", BOOLEAN, "Set at preview when a developer-tier deployment expired: the update "
              "deploys it again."),
    ),
)

MODEL_EVALUATION = Resource(
    name="ModelEvaluation",
    module="model_evaluation",
    import_id="(none: an evaluation is a record of a run, nothing in the service to import)",
    description=(
        "A deployed model evaluated on held-out cases: a JSONL case file (validated at preview, every problem with "
        "file and line) run through the deployment's chat-completions endpoint with bounded concurrency, graded by "
        "deterministic graders (exact, contains, not contains, regex, JSON with an optional schema) and an optional "
        "model grader. Outputs the pass rates, token usage and cost, and the failing cases. A change of model, "
        "deployment, case file content or grading replaces it (a new run, shown at preview with its estimated cost); "
        "a no-op update makes no call. Gates read its `results`."),
    inputs=(
        Field("account", ACCOUNT, "The account of the deployment.", required=True, replace="replace"),
        Field("deployment_name", STRING, "The deployment to evaluate (in Python, a ModelDeployment too: its account "
              "and model are then the defaults).", required=True, replace="replace", example="support"),
        Field("model", STRING, "The model the deployment serves (a ModelDeployment's `model`).", required=True,
              replace="replace", example="gpt-4o-mini-2024-07-18.ft-abc123-support"),
        Field("cases", STRING, "A local JSONL file of cases: `messages` and `expect` (graders) per line. A relative "
              "path is relative to the program's directory; it must lie inside `projectDir`.", required=True,
              replace="content", content_key="cases_sha256", example="eval/cases.jsonl"),
        Field("model_grader", MODEL_GRADER, "The model grader, for the cases that ask for one.", replace="replace"),
        Field("max_tokens", INTEGER, "The answer's token limit per case (1 to 100000).", default=1024,
              replace="replace", example=256),
        Field("temperature", NUMBER, "Sampling temperature of the answers (0 to 2).", default=0, replace="replace",
              example=0.5),
        Field("timeout_seconds", NUMBER, "How long the whole run may take, in seconds, before it stops (nothing is "
              "left running in the service; the next run starts over).", default=3600, example=600),
        Field("project_dir", STRING, "The directory `cases` must stay inside (absolute).", replace="none",
              default_note="the Pulumi project's directory (the nearest one with a Pulumi.yaml above the program)",
              example="/home/me/project"),
    ),
    outputs=(
        Field("results", EVALUATION_RESULTS, "The results in short, for gates and other stacks."),
        Field("cases_run", INTEGER, "Cases run."),
        Field("pass_rate", NUMBER, "Cases whose every grader passed, as a fraction of those run."),
        Field("pass_rate_per_grader", MapOf(NUMBER), "The pass rate of each grader over the cases that use it."),
        Field("graders", MapOf(GRADER_COUNT), "Passed and total per grader."),
        Field("errors", INTEGER, "Cases whose call failed (counted as failed, with the reason)."),
        Field("usage", EVALUATION_USAGE, "Tokens spent."),
        Field("estimated_cost_usd", NUMBER, "The tokens' cost from the price table (none when a model is not in it)."),
        Field("failures", ListOf(EVALUATION_FAILURE), "The first 20 failing cases, truncated."),
        Field("failures_total", INTEGER, "All failing cases."),
        Field("evaluated_at", STRING, "When the run ended (RFC 3339)."),
    ),
    state=(
        Field("cases_sha256", STRING, "SHA-256 of the case file, computed at preview: a new run is decided by it."),
        Field("cases_count", INTEGER, "Cases in the file, counted at preview (for the estimate)."),
        Field("cases_prompt_tokens", INTEGER, "Estimated input tokens of the cases, at preview (for the estimate)."),
        Field("cases_graders", MapOf(INTEGER), "Cases per grader, at preview (for the estimate)."),
    ),
)

RESOURCES: tuple[Resource, ...] = (TRAINING_FILE, FINE_TUNING_JOB, MODEL_DEPLOYMENT, MODEL_EVALUATION)

# ---------------------------------------------------------------------------------------------------
# Provider settings (pulumi_aoai_finetune.settings reads them; the test keeps the two equal)

SETTINGS: tuple[Setting, ...] = (
    Setting("arm_endpoint", "armEndpoint", "AOAI_FT_ARM_ENDPOINT", STRING,
            "The ARM base URL.", default="https://management.azure.com"),
    Setting("credential", "credential", "AOAI_FT_CREDENTIAL", STRING,
            "`default` (DefaultAzureCredential: az login, managed identity, workload identity...) or `token` (the "
            "bearer token of $access_token, for both planes).", default="default"),
    Setting("allow_insecure_loopback", "allowInsecureLoopback", "AOAI_FT_ALLOW_INSECURE_LOOPBACK", BOOLEAN,
            "Allow plain http to a loopback address only (the local emulator).", default=False),
    Setting("api_version", "apiVersion", "AOAI_FT_API_VERSION", STRING,
            "The data-plane api-version (raised to 2025-04-01-preview for the features that need it).",
            default="2024-10-21"),
    Setting("arm_api_version", "armApiVersion", "AOAI_FT_ARM_API_VERSION", STRING,
            "The ARM api-version of deployments (raised to 2025-07-01-preview for the developer tier).",
            default="2025-06-01"),
    Setting("poll_interval", "pollInterval", "AOAI_FT_POLL_INTERVAL", NUMBER,
            "Seconds between status polls (polls start at an eighth of it and back off up to it).", default=10.0),
    Setting("max_retries", "maxRetries", "AOAI_FT_MAX_RETRIES", INTEGER,
            "Retries of a throttled or failed call (at most 100).", default=6),
    Setting("request_timeout", "requestTimeout", "AOAI_FT_REQUEST_TIMEOUT", NUMBER,
            "Seconds one HTTP request may wait for the service before it counts as failed (and is retried).",
            default=600.0),
    Setting("max_retry_after", "maxRetryAfter", "AOAI_FT_MAX_RETRY_AFTER", NUMBER,
            "The longest pause, in seconds, a service's Retry-After is honoured for (both planes, ARM operation polls "
            "too; never longer than requestTimeout either); a longer one counts as this long.", default=60.0),
    Setting("eval_concurrency", "evalConcurrency", "AOAI_FT_EVAL_CONCURRENCY", INTEGER,
            "Cases an evaluation (ModelEvaluation, `aoai-ft eval`) has in flight at once: 1 to 64.", default=4),
    Setting("token_scope", "tokenScope", "AOAI_FT_TOKEN_SCOPE", STRING,
            "The Entra scope of data-plane tokens (another cloud's, e.g. Azure Government's).",
            default="https://cognitiveservices.azure.com/.default"),
    Setting("access_propagation_timeout", "accessPropagationTimeout", "AOAI_FT_ACCESS_PROPAGATION_TIMEOUT", NUMBER,
            "Seconds an upload or a job create retries Azure's 401/403 while a new role assignment propagates "
            "(0: no retry; at most 3600).", default=0.0),
    Setting("api_key", "apiKey", "AZURE_OPENAI_API_KEY", STRING,
            "The data-plane API key (else Entra tokens). Set it with `--secret`.", secret=True),
    Setting("access_token", "accessToken", "AOAI_FT_ACCESS_TOKEN", STRING,
            "The bearer token of `credential: token` (both planes). Set it with `--secret`.", secret=True),
)


def resource(name: str) -> Resource:
    """A resource by its name (``TrainingFile``), its token or its dynamic type."""
    for r in RESOURCES:
        if name in (r.name, r.token, r.dynamic_token, r.module, r.terraform_name):
            return r
    raise KeyError(name)


def defaults(res: Resource) -> dict[str, Any]:
    """The constant defaults check fills in for unset inputs."""
    return {f.name: f.default for f in res.inputs if f.default is not None}


def object_types() -> dict[str, Object]:
    """Every object type the resources use, by name."""
    found: dict[str, Object] = {}
    for r in RESOURCES:
        for f in r.inputs + r.outputs:
            for obj in walk_objects(f.type):
                found.setdefault(obj.name, obj)
    return found


def field_type_name(t: Type) -> str:
    """A short, readable name of a type ("list of string", "Account")."""
    if isinstance(t, Primitive):
        return t.name
    if isinstance(t, Object):
        return t.name
    if isinstance(t, ListOf):
        return f"list of {field_type_name(t.items)}"
    if isinstance(t, MapOf):
        return f"map of {field_type_name(t.values)}"
    return " or ".join(field_type_name(o) for o in t.options)


__all__ = [
    "ACCOUNT", "ANY", "BOOLEAN", "CHECKPOINT", "DEPLOYED_MODEL", "EVALUATION_RESULTS", "FINE_TUNING_JOB",
    "HYPERPARAMETERS", "INTEGER", "MODEL_DEPLOYMENT", "MODEL_EVALUATION", "MODEL_GRADER", "MODULE", "NUMBER", "PACKAGE", "QUALITY_GATE", "RESOURCES", "SETTINGS", "SKU", "STRING",
    "TRAINING_FILE", "Field", "ListOf", "MapOf", "Object", "OneOf", "Primitive", "Resource", "Setting", "camel",
    "defaults", "field_type_name", "object_types", "render", "resource", "to_snake", "walk_objects",
]

