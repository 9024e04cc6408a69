"""The Terraform schema of the provider block and the three resources.

Attribute names are the snake_case names of the Python API and the controllers' input and output
keys, so one key means one thing in all front ends (tests/provider/terraform/test_schema.py checks
them against the controllers and the resources' Python signatures). Kinds:

- ``required`` / ``optional``: the user's, echoed unchanged in plans and state;
- ``optional_computed``: the user's if set, else the default the controller fills in;
- ``computed``: the provider's (outputs, and values the check derives such as a file's content hash).

Types are cty types (``"string"``, ``"number"``, ``"bool"``, ``["list", "string"]``), ``"dynamic"``
for free-form objects written in HCL as they are in Python (``hyperparameters = { n_epochs = 3 }``,
a ``method`` or a grader object), or :class:`~.wire.Nested` objects whose attributes Terraform
checks itself (an account, a sku, a quality gate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import quality
from ..settings import _KEYS as SETTING_KEYS
from ..settings import SECRET_FIELDS
from .wire import Nested, type_json

PROVIDER_TYPE = "aoai"
SOURCE_ADDRESS = "terraform.local/aoai-finetune/aoai"
PREFIX = "aoai_finetune_"


@dataclass(frozen=True)
class Attr:
    name: str
    type: Any
    kind: str  # required | optional | optional_computed | computed
    description: str
    sensitive: bool = False

    @property
    def is_input(self) -> bool:
        return self.kind != "computed"

    @property
    def is_computed(self) -> bool:
        return self.kind in ("computed", "optional_computed")


def _account(required: bool, what: str) -> Nested:
    return Nested((
        Attr("resource_id", "string", "required" if required else "optional",
             "ARM id: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.CognitiveServices/accounts/<name>"),
        Attr("endpoint", "string", "optional", f"the data-plane endpoint of the {what}; read from ARM when omitted"),
    ))


ACCOUNT = _account(True, "account")
SKU = Nested((
    Attr("name", "string", "optional_computed", "Standard (default), GlobalStandard, DeveloperTier, ProvisionedManaged..."),
    Attr("capacity", "number", "optional_computed", "capacity units (default 1)"),
))
QUALITY_GATE = Nested(tuple(
    [Attr(key, "number", "optional", f"{label}: {'at most' if way == 'max' else 'at least'} this")
     for key, (label, _, way) in quality.THRESHOLDS.items()]
    + [Attr(key, "bool", "optional", f"default {str(default).lower()}") for key, default in quality.FLAGS.items()]))

_ID = Attr("id", "string", "computed", "the service's id of the object (the same as the resource's own id output)")

TRAINING_FILE = (
    _ID,
    Attr("account", ACCOUNT, "required", "the account the file belongs to; changing it replaces the file"),
    Attr("path", "string", "optional", "a local JSONL file (relative to the working directory), uploaded streamed; "
                                       "validated at plan time"),
    Attr("content_url", "string", "optional", "or: a URL the service imports from (e.g. a blob SAS URL)", sensitive=True),
    Attr("purpose", "string", "optional_computed", "fine-tune (default)"),
    Attr("filename", "string", "optional_computed", "the name the service records (default: the file's base name)"),
    Attr("model", "string", "optional", "the base model the data is for (selects the data format checked at plan)"),
    Attr("method", "string", "optional", "supervised (default), dpo or reinforcement: the format of the data"),
    Attr("grader", "dynamic", "optional", "reinforcement data: the job's grader object; every line must have the "
                                          "fields it reads"),
    Attr("validate", "bool", "optional_computed", "check the data at plan time (default true)"),
    Attr("timeout_seconds", "number", "optional_computed", "how long to wait for processing (default 3600)"),
    Attr("adopt_file_id", "string", "optional", "bring an existing file under management"),
    Attr("project_dir", "string", "optional", "the directory a local path must stay inside (default: the working "
                                              "directory)"),
    Attr("content_sha256", "string", "computed", "SHA-256 of the data, read at plan time: a change replaces the file"),
    Attr("content_bytes", "number", "computed", "size of the data, read at plan time"),
    Attr("file_id", "string", "computed", "the file's id in the service"),
    Attr("bytes", "number", "computed", "size as the service reports it"),
    Attr("sha256", "string", "computed", "SHA-256 of the uploaded content"),
    Attr("status", "string", "computed", "processed, error..."),
    Attr("status_details", "string", "computed", "the service's reason when processing failed"),
    Attr("created_at", "string", "computed", "RFC 3339"),
)

FINE_TUNING_JOB = (
    _ID,
    Attr("account", ACCOUNT, "required", "the account that trains; changing it starts a new run"),
    Attr("base_model", "string", "required", "e.g. gpt-4o-mini-2024-07-18, or a fine-tuned model"),
    Attr("training_file", "string", "optional", "a file id (e.g. aoai_finetune_training_file.x.file_id)"),
    Attr("training_file_sha256", "string", "optional", "the training file's content_sha256: the same data re-uploaded "
                                                       "then updates the job instead of training again"),
    Attr("validation_file", "string", "optional", "a file id"),
    Attr("validation_file_sha256", "string", "optional", "the validation file's content_sha256"),
    Attr("hyperparameters", "dynamic", "optional", "{ n_epochs, batch_size, learning_rate_multiplier }: numbers or \"auto\""),
    Attr("suffix", "string", "optional", "up to 40 characters in the fine-tuned model's name"),
    Attr("seed", "number", "optional", "training seed"),
    Attr("method", "dynamic", "optional", "\"supervised\", \"dpo\", \"reinforcement\" or a method object "
                                          "({ type = \"dpo\", dpo = { hyperparameters = { beta = 0.1 } } })"),
    Attr("training_type", "string", "optional", "Standard, GlobalStandard or developerTier"),
    Attr("paused", "bool", "optional", "true pauses the job once it runs, false resumes it (in place)"),
    Attr("wait", "bool", "optional_computed", "wait until the job ends (default true)"),
    Attr("timeout_seconds", "number", "optional_computed", "how long to wait (default 86400)"),
    Attr("delete_model_on_destroy", "bool", "optional_computed", "on destroy, delete the fine-tuned model too "
                                                                 "(default false: keep it)"),
    Attr("adopt_job_id", "string", "optional", "bring an existing job under management"),
    Attr("job_id", "string", "computed", "the job's id"),
    Attr("status", "string", "computed", "succeeded, running..."),
    Attr("fine_tuned_model", "string", "computed", "the model to deploy"),
    Attr("result_files", ["list", "string"], "computed", "ids of the results files"),
    Attr("trained_tokens", "number", "computed", "tokens trained (billed)"),
    Attr("checkpoints", "dynamic", "computed", "[{ id, model, step_number, metrics }]"),
    Attr("metrics", "dynamic", "computed", "final and best metrics from results.csv (for a deployment's quality gate)"),
    Attr("error", "dynamic", "computed", "the service's error of a failed job"),
    Attr("created_at", "string", "computed", "RFC 3339"),
    Attr("finished_at", "string", "computed", "RFC 3339"),
    Attr("estimated_finish", "string", "computed", "RFC 3339"),
    Attr("resolved_hyperparameters", "dynamic", "computed", "the hyperparameters the service used"),
)

MODEL_DEPLOYMENT = (
    _ID,
    Attr("account", ACCOUNT, "required", "the account that serves the deployment"),
    Attr("model", "string", "required", "a fine-tuned model, a checkpoint or a base model"),
    Attr("deployment_name", "string", "required", "the name callers use"),
    Attr("sku", SKU, "optional_computed", "{ name, capacity }; a change updates in place"),
    Attr("source_account", _account(True, "source account"), "optional",
         "the account that trained the model, when it is another one (another region or subscription)"),
    Attr("model_format", "string", "optional_computed", "OpenAI (default)"),
    Attr("model_version", "string", "optional_computed", "1 (default)"),
    Attr("rai_policy_name", "string", "optional", "content filter policy"),
    Attr("version_upgrade_option", "string", "optional", "OnceNewDefaultVersionAvailable, OnceCurrentVersionExpired "
                                                         "or NoAutoUpgrade"),
    Attr("adopt_existing", "bool", "optional_computed", "take over a deployment of that name with another model"),
    Attr("timeout_seconds", "number", "optional_computed", "how long to wait for provisioning (default 3600)"),
    Attr("metrics", "dynamic", "optional", "the model's training metrics (a fine-tuning job's metrics)"),
    Attr("quality_gate", QUALITY_GATE, "optional", "thresholds the metrics must meet before the model is deployed"),
    Attr("deployment_id", "string", "computed", "the deployment's ARM id"),
    Attr("provisioning_state", "string", "computed", "Succeeded..."),
    Attr("endpoint", "string", "computed", "the account's inference endpoint"),
    Attr("deployed_model", "dynamic", "computed", "{ name, version, format, source } as ARM reports it"),
    Attr("deployed_sku", "dynamic", "computed", "{ name, capacity } as ARM reports it"),
)

RESOURCES = {
    f"{PREFIX}training_file": TRAINING_FILE,
    f"{PREFIX}fine_tuning_job": FINE_TUNING_JOB,
    f"{PREFIX}model_deployment": MODEL_DEPLOYMENT,
}


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


# The provider block: the Pulumi provider's config keys in snake_case, with the same environment
# variables (settings.py is their one source).
_SETTING_TYPES = {"allow_insecure_loopback": "bool", "poll_interval": "number", "max_retries": "number",
                  "request_timeout": "number"}
PROVIDER = tuple(
    Attr(_snake(key), _SETTING_TYPES.get(field, "string"), "optional",
         f"aoai-finetune:{key} in Pulumi; else the environment variable {env}", sensitive=field in SECRET_FIELDS)
    for field, (key, env) in SETTING_KEYS.items())
PROVIDER_KEYS = {_snake(key): key for key, _ in SETTING_KEYS.values()}


def block_pb(attrs: tuple, description: str = "") -> Any:
    """The protocol's Schema.Block of a table of attributes."""
    from tf.gen import tfplugin_pb2 as pb

    return pb.Schema.Block(attributes=[attribute_pb(a) for a in attrs], description=description,
                           description_kind=pb.StringKind.PLAIN)


def attribute_pb(attr: Attr) -> Any:
    import json

    from tf.gen import tfplugin_pb2 as pb

    fields: dict[str, Any] = {
        "name": attr.name, "description": attr.description, "description_kind": pb.StringKind.PLAIN,
        "required": attr.kind == "required", "optional": attr.kind in ("optional", "optional_computed"),
        "computed": attr.is_computed, "sensitive": attr.sensitive,
    }
    if isinstance(attr.type, Nested):
        fields["nested_type"] = pb.Schema.Object(attributes=[attribute_pb(a) for a in attr.type.attributes],
                                                 nesting=pb.Schema.Object.NestingMode.SINGLE)
    else:
        fields["type"] = json.dumps(type_json(attr.type)).encode()
    return pb.Schema.Attribute(**fields)
