"""ModelDeployment: a deployment of a fine-tuned model, a checkpoint or a base model, through ARM.

Inputs
    account                 AccountArgs of the account that serves the deployment
    model                   the model name: ``<base>.ft-<id>``, a checkpoint (``...:ckpt-step-N``) or a base model
    deployment_name         the name callers use (default: the resource name)
    sku                     {name: Standard | GlobalStandard | DeveloperTier | ProvisionedManaged | ..., capacity: int}
    source_account          AccountArgs of the account that trained the model, when it is another one
                            (another region or subscription): sent as ``properties.model.source``
    model_format            "OpenAI" (default); model_version "1" (default)
    rai_policy_name, version_upgrade_option   passed through when set
    adopt_existing          take over a deployment of that name that this stack cannot prove is its own
    timeout_seconds         how long to wait for the deployment to provision (default 3600)
    metrics                 the training metrics of the model: a FineTuningJob's ``metrics`` output
    quality_gate            QualityGateArgs (see :mod:`.quality`): thresholds the metrics must meet, e.g.
                            max_final_valid_loss, min_final_valid_token_accuracy. Checked at preview when the
                            metrics are known and again before the ARM PUT; a model that misses them is not
                            deployed, and the message quotes the numbers
    evaluation              a ModelEvaluation's ``results`` (of this stack, or another's through a
                            StackReference): read by the gate's min_eval_pass_rate thresholds

Outputs: the inputs plus ``deployment_id``, ``provisioning_state``, ``endpoint`` (the account's
inference endpoint), ``deployed_model`` and ``deployed_sku`` (as ARM reports them).

Ownership (see :mod:`.ownership`): every deployment is tagged in ARM with this resource's owner marker
(``aoai-finetune-owner``) and its stack (``aoai-finetune-stack``). A deployment of the same name that
exists already is brought to the declared state only when it carries this resource's marker (left by
an interrupted ``pulumi up``) or with ``adopt_existing``; otherwise the create fails naming it. Destroy
leaves, and refresh drops, a deployment that now carries another stack's marker (the name was taken
over after this one was removed). Deployments created before the marker get it at their next update.

A change of sku or capacity updates in place; a change of model, name, source or account replaces
(deleting first when the name or the model stays the same, as Azure allows one deployment per name
and one per fine-tuned model). A change of ``quality_gate``, ``metrics`` or ``evaluation`` alone never
replaces: it is checked again and recorded, without an ARM call. The preview logs the estimated hourly
hosting fee of the deployment's sku (see :mod:`.cost`). Operations on one account are serialized in the
provider process and retried when ARM answers 409 "Another operation is being performed on the parent
resource".

Skus and api-versions (see :mod:`.availability`): ``Standard``, ``GlobalStandard``, the provisioned skus
and ``DeveloperTier`` (``Developer``). ARM calls use the configured ``armApiVersion`` (2025-06-01), raised
to 2025-07-01-preview for the developer tier. A sku the model's row does not offer (e.g. the developer
tier for a gpt-4o-mini model) fails the preview. Developer-tier deployments expire after 24 h: the
preview of an existing one reads it, and when Azure has removed it says so and redeploys it in the
update (``pulumi refresh`` says so too, and the next ``up`` creates it again). A new fine-tuned
deployment is refused at preview when the account already has 10 (ARM list, read-only); deployments of
the same stack not created yet are not visible there (the project's stack config counts those). One
listing per account serves all the deployments of that account checked in a preview, and tells create that a
name is free when it is less than 30 s old (otherwise create reads the name first).
"""

from __future__ import annotations

import re
import threading
from typing import Any, Optional

import pulumi
from pulumi.dynamic import Resource
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

from . import availability, clients, cost, ownership, quality
from ._common import check_account, same_account
from . import schema
from .adapters.dynamic import DynamicProvider
from .controller import Controller, Diff, as_int, is_unknown
from ._wait import retry_transient, stoppable_sleep, wait_operation
from .account import AccountArgs, AccountRef, account_inputs
from .errors import (BrokenResponseError, ConfigurationError, ConflictError, CrossTenantError, DeploymentFailedError,
                     NotFoundError,
                     TransientError, WaitTimeoutError)

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")
SKUS = ("Standard", "GlobalStandard", "DataZoneStandard", "DeveloperTier", "Developer",
        "ProvisionedManaged", "GlobalProvisionedManaged", "DataZoneProvisionedManaged")
MAX_CAPACITY = 10_000
REPLACE_KEYS = ("deployment_name", "model", "model_format", "model_version")
UPDATE_KEYS = ("rai_policy_name", "version_upgrade_option", "timeout_seconds", "adopt_existing")
GATE_KEYS = ("quality_gate", "metrics", "evaluation")  # checked and recorded in place: no ARM call, never a replace
OUTPUTS = ("deployment_id", "provisioning_state", "endpoint", "deployed_model", "deployed_sku", "owner_marker")
BUSY = "Another operation is being performed"

_account_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _account_lock(account: AccountRef) -> threading.Lock:
    with _locks_guard:
        return _account_locks.setdefault(account.key, threading.Lock())


def _arm_call(what: str, fn, attempts: int):
    try:
        with clients.arm_errors(what):
            return fn()
    except TransientError as exc:
        if isinstance(exc, BrokenResponseError):
            raise
        raise exc.with_note(f"gave up after {attempts} attempt(s) (aoai-finetune:maxRetries sets how many); "
                            "ARM calls are idempotent: run `pulumi up` again once ARM recovers") from exc


def _is_busy(exc: BaseException) -> bool:
    return isinstance(exc, ConflictError) and BUSY.lower() in str(exc).lower()


def normalize_sku(value: Any) -> Any:
    if not isinstance(value, dict) or is_unknown(value):
        return value
    sku = dict(value)
    if "capacity" in sku:
        sku["capacity"] = as_int(sku["capacity"])
    return sku


class ModelDeploymentController(Controller):
    resource = schema.MODEL_DEPLOYMENT

    # -- preview -------------------------------------------------------------------------
    def check(self, olds, news):
        inputs = dict(news)
        failures: list[tuple[str, str]] = []
        check_account(inputs, failures)
        if inputs.get("source_account") is not None:
            check_account(inputs, failures, "source_account")
        inputs.setdefault("model_format", "OpenAI")
        inputs.setdefault("model_version", "1")
        inputs.setdefault("timeout_seconds", 3600)
        inputs.setdefault("adopt_existing", False)
        if inputs.get("sku") is None:
            inputs["sku"] = {"name": "Standard", "capacity": 1}
        name = inputs.get("deployment_name")
        if not is_unknown(name) and (not isinstance(name, str) or not NAME.fullmatch(name)):
            failures.append(("deployment_name", f"deployment_name {name!r} must be 2 to 64 characters of letters, "
                                                "digits, '-', '_' and '.', starting with a letter or digit"))
        model = inputs.get("model")
        if not is_unknown(model) and (not isinstance(model, str) or not model.strip()):
            failures.append(("model", "model is required: a fine-tuned model, a checkpoint or a base model name"))
        sku = inputs.get("sku")
        if not is_unknown(sku):
            if not isinstance(sku, dict):
                failures.append(("sku", "sku must be an object {name, capacity}"))
            else:
                unknown = set(sku) - {"name", "capacity"}
                if unknown:
                    failures.append(("sku", f"unknown sku keys {sorted(unknown)}; use name and capacity"))
                sku_name = sku.get("name", "Standard")
                if not is_unknown(sku_name) and sku_name not in SKUS:
                    failures.append(("sku.name", f"sku.name {sku_name!r} is not a deployment sku; use one of {', '.join(SKUS)}"))
                capacity = as_int(sku.get("capacity", 1))
                if not is_unknown(capacity) and (isinstance(capacity, bool) or not isinstance(capacity, int)
                                                 or not 1 <= capacity <= MAX_CAPACITY):
                    failures.append(("sku.capacity", f"sku.capacity {sku.get('capacity')!r} must be an integer from 1 "
                                                     f"to {MAX_CAPACITY}"))
                else:
                    inputs["sku"] = {"name": sku_name, "capacity": capacity}
        failures.extend(_check_types(inputs))
        failures.extend(self._check_offer(olds, inputs))
        failures.extend(quality.check_inputs(inputs))
        if not failures and not is_unknown(inputs.get("sku")) and not is_unknown(name):
            cost.log_hosting_estimate(name, inputs["sku"])
        return inputs, failures

    def _check_offer(self, olds: dict, inputs: dict) -> list[tuple[str, str]]:
        """At preview: the sku against the model's row in :mod:`.availability`; with live reads (under
        the engine, read-only): an expired developer-tier deployment, and the account's limit of
        fine-tuned deployments."""
        failures: list[tuple[str, str]] = []
        sku, model, name = inputs.get("sku"), inputs.get("model"), inputs.get("deployment_name")
        sku_name = sku.get("name") if isinstance(sku, dict) and not is_unknown(sku) else None
        model_known = isinstance(model, str) and not is_unknown(model)
        if isinstance(sku_name, str) and model_known:
            problem = availability.deployment_sku_problem(model, sku_name)
            if problem:
                failures.append(("sku.name", problem))
        if not self.live_reads or is_unknown(inputs.get("account")) or not isinstance(name, str) or is_unknown(name):
            return failures
        try:
            account = AccountRef.parse(inputs["account"])
        except ConfigurationError:
            return failures
        # reads for a new or changed deployment only: a no-op preview asks the service nothing
        changed = not olds or any(olds.get(k) != inputs.get(k) for k in ("account", "source_account", "model", "sku"))
        if changed:
            failures.extend(self._check_source_tenant(inputs))
        if changed and isinstance(sku_name, str) and model_known and sku_name.lower() == "standard" \
                and ".ft-" in model:
            region = availability.account_region(self.settings, account)
            problem = availability.deployment_region_problem(model, sku_name, region)
            if problem:
                failures.append(("sku.name", f"account {account.name}: {problem}"))
        # olds of check are the old inputs: present (non-empty) once the deployment is in the state
        exists = bool(olds) and same_account(olds.get("account"), inputs["account"]) \
            and olds.get("deployment_name") == name
        if exists and availability.is_developer_sku(sku_name):
            try:
                gone = self._get(self._client(account, sku), account, name) is None
            except Exception:  # noqa: BLE001 - a preview read is best effort
                gone = False
            if gone:
                inputs["redeploy_expired"] = True
                pulumi.log.warn(f"deployment {name} is gone from account {account.name}: developer-tier deployments "
                                "expire after 24 h; this update deploys it again from the existing model")
        if not exists and (not model_known or ".ft-" in model):
            existing = availability.fine_tuned_deployments(self.settings, account)
            if existing is not None and name.lower() not in {n.lower() for n, _ in existing} \
                    and len(existing) >= availability.MAX_FINE_TUNED_DEPLOYMENTS:
                names = ", ".join(sorted(n for n, _ in existing))
                failures.append(("deployment_name", (
                    f"account {account.name} already has {len(existing)} fine-tuned deployments ({names}); Azure "
                    f"allows {availability.MAX_FINE_TUNED_DEPLOYMENTS} per resource, so deployment {name} would be "
                    f"number {len(existing) + 1}: delete one, or deploy to another account (deployments declared "
                    "in this stack but not created yet are not counted here)")))
        return failures

    def _check_source_tenant(self, inputs: dict) -> list[tuple[str, str]]:
        """A source account in another tenant is refused at preview (rule A3): Azure's cross-tenant deployment
        needs a second token for the source tenant in ``x-ms-authorization-auxiliary``, which this provider
        does not send. Told by reading the source account with the provider's credential (read-only): ARM
        answers ``InvalidAuthenticationTokenTenant`` for a token of another tenant."""
        source = inputs.get("source_account")
        if source is None or is_unknown(source):
            return []
        try:
            ref = AccountRef.parse(source, "source_account")
        except ConfigurationError:
            return []  # reported by check_account
        # one read of the source account for all the deployments this process checks (availability.shared)
        problem = availability.read_account(self.settings, ref)[1]
        if problem is None:
            return []
        return [("source_account", (
            f"source account {ref.name} is in another tenant than this provider's credential ({problem}). "
            "Cross-tenant deployment needs a second token for the source tenant (ARM's "
            "x-ms-authorization-auxiliary header), which this provider does not send: deploy with a "
            "credential of the source's tenant that also has access to the target account, or train in the "
            "target's tenant"))]

    def diff(self, id_, olds, news):
        d = Diff()
        if not same_account(olds.get("account"), news.get("account")):
            d.replaces.append("account")
        old_src, new_src = olds.get("source_account"), news.get("source_account")
        if (old_src is None) != (new_src is None) or (old_src is not None and not same_account(old_src, new_src)):
            d.replaces.append("source_account")
        d.compare(olds, news, REPLACE_KEYS, replace=True)
        if normalize_sku(olds.get("sku")) != normalize_sku(news.get("sku")):
            d.updates.append("sku")
        d.compare(olds, news, UPDATE_KEYS + GATE_KEYS, replace=False)
        if news.get("redeploy_expired"):
            d.updates.append("redeploy_expired")  # a developer-tier deployment Azure removed after 24 h
        if d.replaces:
            same_name = "deployment_name" not in d.replaces and "account" not in d.replaces
            same_model = "model" not in d.replaces
            d.delete_before_replace = same_name or same_model
        return d

    # -- lifecycle ---------------------------------------------------------------------------
    def _client(self, account: AccountRef, sku: Any = None):
        """The ARM client at the api-version the sku needs (the developer tier: 2025-07-01-preview)."""
        sku_name = sku.get("name") if isinstance(sku, dict) else None
        return clients.arm(self.settings, account.subscription_id,
                           api_version=availability.arm_api_version(self.settings.arm_api_version, sku_name))

    def _serialized(self, account: AccountRef, what: str, fn):
        """Run an ARM operation alone on its account, retrying 409 'another operation'."""
        with _account_lock(account):
            for attempt in Retrying(retry=retry_if_exception(_is_busy), reraise=True,
                                    stop=stop_after_delay(max(600.0, self.settings.poll_interval * 60)),
                                    wait=wait_exponential(multiplier=min(1.0, self.settings.poll_interval), max=30),
                                    sleep=lambda seconds: stoppable_sleep(
                                        seconds, note=f"{what}: it waited for another operation on the account to "
                                                      "end; nothing was sent: the next `pulumi up` does it")):
                with attempt:
                    if attempt.retry_state.attempt_number > 1:
                        pulumi.log.info(f"{what}: the account is busy with another operation; retrying")
                    # azure-core retried throttling, server errors and broken connections already
                    # (maxRetries); an answer broken outside its pipeline is retried here, as often
                    return retry_transient(lambda: _arm_call(what, fn, self.settings.max_retries + 1),
                                           attempts=self.settings.max_retries + 1, on=BrokenResponseError,
                                           advice="ARM calls are idempotent: run `pulumi up` again once ARM recovers")

    def _body(self, inputs: dict):
        from azure.mgmt.cognitiveservices.models import Deployment, DeploymentModel, DeploymentProperties, Sku

        sku = normalize_sku(inputs.get("sku"))
        source = AccountRef.parse(inputs["source_account"]).resource_id if inputs.get("source_account") else None
        props = DeploymentProperties(
            model=DeploymentModel(format=inputs.get("model_format") or "OpenAI", name=inputs["model"],
                                  version=inputs.get("model_version") or "1", source=source),
            rai_policy_name=inputs.get("rai_policy_name"),
            version_upgrade_option=inputs.get("version_upgrade_option"),
        )
        owner, marker = ownership.parse_owner(inputs.get("owner")), inputs.get("owner_marker")
        tags = owner.tags(marker) if owner is not None and marker else None
        return Deployment(sku=Sku(name=sku.get("name", "Standard"), capacity=sku.get("capacity", 1)), properties=props,
                          tags=tags)

    def _get(self, client, account: AccountRef, name: str):
        try:
            with clients.arm_errors(f"reading deployment {name}"):
                return client.deployments.get(account.resource_group, account.name, name)
        except NotFoundError:
            return None

    def _put(self, account: AccountRef, inputs: dict, verb: str):
        client = self._client(account, inputs.get("sku"))
        name = inputs["deployment_name"]
        timeout = float(inputs.get("timeout_seconds") or 3600)

        def run():
            from azure.core.exceptions import HttpResponseError

            poller = client.deployments.begin_create_or_update(account.resource_group, account.name, name,
                                                               self._body(inputs))
            try:
                result = wait_operation(poller, timeout=timeout, what=f"deployment {name} in {account.name}",
                                        object_id=f"{account.resource_id}/deployments/{name}")
            except HttpResponseError as exc:  # the operation ended Failed/Canceled: say so, with ARM's reason
                if str(poller.status()).lower() in ("failed", "canceled", "cancelled"):
                    raise DeploymentFailedError(f"deployment {name} in {account.name} ended {poller.status()}: "
                                                f"{clients._azure_message(exc)}") from exc
                raise
            if not poller.done():
                raise WaitTimeoutError(f"deployment {name}: still provisioning after {timeout:.0f} s")
            return result

        pulumi.log.info(f"{verb} deployment {name} of {inputs['model']} in account {account.name}")
        result = self._serialized(account, f"{verb} deployment {name} in {account.name}", run)
        availability.note_deployment(account, name, inputs["model"])  # the account's listing stays true
        state = result.properties.provisioning_state if result.properties else None
        if state != "Succeeded":
            raise DeploymentFailedError(f"deployment {name} in {account.name} ended {state}")
        return result

    def create(self, inputs):
        quality.enforce(inputs)  # before any ARM call: a model that misses its gate is never deployed
        account = AccountRef.parse(inputs["account"])
        client = self._client(account)  # a GET: the configured api-version reads every sku
        name = inputs["deployment_name"]
        marker = _marker(inputs)
        # read right before the PUT (a create-or-update): a deployment of that name is taken over only when it
        # proves to be this stack's. Not skipped when a listing moments ago showed the name free: another stack
        # on the account may have taken it since, and the PUT would overwrite its deployment.
        existing = self._get(client, account, name)
        if existing is not None:
            found = ownership.marker_in_tags(existing.tags)
            model = existing.properties.model.name if existing.properties and existing.properties.model else None
            if marker is not None and found == marker:
                pulumi.log.info(f"deployment {name} exists in {account.name}, made earlier by this resource of this "
                                "stack (an interrupted `pulumi up`?): bringing it to the declared state")
            elif inputs.get("adopt_existing"):
                pulumi.log.info(f"adopting deployment {name} in {account.name} (model {model}): bringing it to the "
                                "declared state and tagging it as this stack's")
            else:
                whose = ("it carries another stack's owner tag" if found else
                         "it has no owner tag: made outside Pulumi, or by a version of this provider without tags")
                raise ConfigurationError(
                    f"deployment {name} already exists in account {account.name} with model {model}, and nothing "
                    f"proves it belongs to this stack ({whose}); choose another deployment_name, or set "
                    "adopt_existing=True to take it over")
        inputs = dict(inputs, owner_marker=marker)  # the tag the PUT sends, recorded in the outputs
        try:
            result = self._put(account, inputs, "creating")
        except DeploymentFailedError:
            self._delete(account, name, inputs.get("sku"))  # leave nothing half-made
            raise
        return result.id, self._outputs(account, inputs, result)

    def _outputs(self, account: AccountRef, inputs: dict, result) -> dict:
        outs = dict(inputs)
        outs.pop("redeploy_expired", None)
        model = result.properties.model if result.properties else None
        outs.update({
            "deployment_id": result.id,
            "provisioning_state": result.properties.provisioning_state if result.properties else None,
            "endpoint": clients.endpoint(self.settings, account),
            "deployed_model": {"name": model.name, "version": model.version, "format": model.format,
                               "source": getattr(model, "source", None)} if model else None,
            "deployed_sku": {"name": result.sku.name, "capacity": result.sku.capacity} if result.sku else None,
        })
        return outs

    def read(self, id_, props):
        account = AccountRef.parse(props["account"])
        name = props.get("deployment_name") or id_.rsplit("/", 1)[-1]
        result = self._get(self._client(account, props.get("sku")), account, name)
        if result is not None and props.get("owner_marker") and _foreign(result, props):
            pulumi.log.warn(f"deployment {name} in account {account.name} now carries another stack's owner tag: "
                            "this stack's deployment was removed and the name taken; dropped from this stack")
            return None, {}
        if result is None:
            sku = props.get("sku") if isinstance(props.get("sku"), dict) else {}
            why = ("developer-tier deployments expire after 24 h" if availability.is_developer_sku(sku.get("name"))
                   else "deleted outside Pulumi, or by Azure after 15 days without completions")
            pulumi.log.warn(f"deployment {name} is gone from account {account.name} ({why}); "
                            "the next `pulumi up` deploys it again from the existing model")
            return None, {}
        outs = self._outputs(account, props, result)
        if result.sku:
            outs["sku"] = {"name": result.sku.name, "capacity": result.sku.capacity}  # drift shows in the next diff
        return id_, outs

    def read_for_import(self, id_, props):
        id_, outs = super().read_for_import(id_, props)
        if id_ is None:
            return None, {}
        account = AccountRef.parse(outs["account"])
        name = id_.rsplit("/", 1)[-1]
        result = self._get(self._client(account, outs.get("sku")), account, name)
        props_ = result.properties if result is not None else None
        model = props_.model if props_ is not None else None
        outs["deployment_name"] = name
        if model is not None:  # the deployment's own record of what it serves
            outs.update({"model": model.name, "model_format": model.format, "model_version": model.version,
                         "source_account": {"resource_id": model.source} if getattr(model, "source", None) else None})
        if props_ is not None:
            outs.update({"rai_policy_name": props_.rai_policy_name,
                         "version_upgrade_option": props_.version_upgrade_option})
        return id_, outs

    def update(self, id_, olds, news):
        quality.enforce(news)
        if all(key in GATE_KEYS for key in self.diff(id_, olds, news).updates):
            outs = dict(olds)  # only the gate or the metrics changed: nothing to send to ARM
            outs.update({k: v for k, v in news.items() if k not in OUTPUTS})
            return outs
        account = AccountRef.parse(news["account"])
        verb = "redeploying expired developer-tier" if news.get("redeploy_expired") else "updating"
        # the tag it was made with; one made before the marker gets it now
        news = dict(news, owner_marker=olds.get("owner_marker") or _marker(news))
        result = self._put(account, news, verb)
        return self._outputs(account, news, result)

    def _delete(self, account: AccountRef, name: str, sku: Any = None) -> None:
        client = self._client(account, sku)

        def run():
            client.deployments.begin_delete(account.resource_group, account.name, name).result()

        try:
            self._serialized(account, f"deleting deployment {name} in {account.name}", run)
        except NotFoundError:
            pass  # already gone: delete is idempotent
        availability.note_deployment(account, name, None)

    def delete(self, id_, props):
        account = AccountRef.parse(props["account"])
        name = props.get("deployment_name") or id_.rsplit("/", 1)[-1]
        current = self._get(self._client(account, props.get("sku")), account, name)
        if current is None:
            return  # already gone: delete is idempotent
        if _foreign(current, props):
            pulumi.log.warn(f"deployment {name} in account {account.name} carries another stack's owner tag: left in "
                            "place, dropped from this stack")
            return
        self._delete(account, name, props.get("sku"))
        pulumi.log.info(f"deleted deployment {name} from account {account.name}")


MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,255}")  # base, fine-tuned (.ft-) and checkpoint (:ckpt-)
VERSION_UPGRADE_OPTIONS = ("OnceNewDefaultVersionAvailable", "OnceCurrentVersionExpired", "NoAutoUpgrade")


def _marker(inputs: dict) -> Optional[str]:
    owner = ownership.parse_owner(inputs.get("owner"))
    return owner.marker if owner else None


def _foreign(deployment, props: dict) -> bool:
    """The deployment carries an owner tag other than the one this resource made it with."""
    found = ownership.marker_in_tags(getattr(deployment, "tags", None))
    return found is not None and found != props.get("owner_marker")


def _check_types(inputs: dict) -> list[tuple[str, str]]:
    """Types and ranges of the inputs the checks above do not cover (hostile or mistyped values)."""
    failures = []
    model = inputs.get("model")
    if isinstance(model, str) and model.strip() and not MODEL_NAME.fullmatch(model):
        failures.append(("model", f"model {model!r} is not a model name (letters, digits, '.', '_', ':' and '-')"))
    for key in ("model_format", "model_version", "rai_policy_name"):
        value = inputs.get(key)
        if value is not None and not is_unknown(value) and (not isinstance(value, str) or not value.strip()
                                                             or not MODEL_NAME.fullmatch(value)):
            failures.append((key, f"{key} must be a name of letters, digits, '.', '_' and '-', got {value!r}"))
    upgrade = inputs.get("version_upgrade_option")
    if upgrade is not None and not is_unknown(upgrade) and upgrade not in VERSION_UPGRADE_OPTIONS:
        failures.append(("version_upgrade_option", f"version_upgrade_option {upgrade!r} must be one of "
                                                   f"{', '.join(VERSION_UPGRADE_OPTIONS)}"))
    timeout = inputs.get("timeout_seconds")
    if not is_unknown(timeout) and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                    or not 0 < timeout < float("inf")):
        failures.append(("timeout_seconds", f"timeout_seconds must be a positive number of seconds, got {timeout!r}"))
    adopt = inputs.get("adopt_existing")
    if not is_unknown(adopt) and not isinstance(adopt, bool):
        failures.append(("adopt_existing", f"adopt_existing must be true or false, got {adopt!r}"))
    return failures


class ModelDeploymentProvider(DynamicProvider):
    controller = ModelDeploymentController


class ModelDeployment(Resource, module="aoai", name="ModelDeployment"):
    """A model deployment in an Azure OpenAI account (see the module docs)."""

    deployment_id: pulumi.Output[str]
    deployment_name: pulumi.Output[str]
    provisioning_state: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    deployed_model: pulumi.Output[dict]
    deployed_sku: pulumi.Output[dict]
    owner_marker: pulumi.Output[Optional[str]]  # the marker its objects carry (ownership.py)

    def __init__(
        self,
        resource_name: str,
        *,
        account: "AccountArgs | pulumi.Input[dict] | str",
        model: pulumi.Input[str],
        deployment_name: Optional[pulumi.Input[str]] = None,
        sku: Optional[pulumi.Input[dict]] = None,
        source_account: "AccountArgs | pulumi.Input[dict] | str | None" = None,
        model_format: pulumi.Input[str] = "OpenAI",
        model_version: pulumi.Input[str] = "1",
        rai_policy_name: Optional[pulumi.Input[str]] = None,
        version_upgrade_option: Optional[pulumi.Input[str]] = None,
        adopt_existing: pulumi.Input[bool] = False,
        timeout_seconds: pulumi.Input[float] = 3600,
        metrics: Optional[pulumi.Input[dict]] = None,
        quality_gate: "quality.QualityGateArgs | pulumi.Input[dict] | None" = None,
        evaluation: Optional[pulumi.Input[dict]] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        props: dict[str, Any] = {
            "account": account_inputs(account), "model": model,
            "deployment_name": deployment_name if deployment_name is not None else resource_name,
            "sku": sku if sku is not None else {"name": "Standard", "capacity": 1},
            "source_account": account_inputs(source_account) if source_account is not None else None,
            "model_format": model_format, "model_version": model_version,
            "rai_policy_name": rai_policy_name, "version_upgrade_option": version_upgrade_option,
            "adopt_existing": adopt_existing, "timeout_seconds": timeout_seconds,
            "metrics": metrics, "quality_gate": quality.gate_inputs(quality_gate), "evaluation": evaluation,
            "owner": ownership.owner_inputs("ModelDeployment", resource_name),
        }
        for key in OUTPUTS:
            props.setdefault(key, None)
        super().__init__(ModelDeploymentProvider(), resource_name, props, opts)
