"""TrainingFile: a JSONL file uploaded to (or imported into) an Azure OpenAI account.

Inputs
    account         AccountArgs of the account the file belongs to
    path            a local JSONL file, uploaded streamed (never read whole into memory)
    content_url     or: a URL the service imports from (e.g. an Azure Blob SAS URL)
    purpose         "fine-tune" (default)
    filename        the name the service records (default: the file's base name at creation)
    model           the base model the data is for; selects the data format checked at preview
    validate        check the data at preview (default true); findings fail the preview
    timeout_seconds how long to wait for the service to process the file (default 3600)
    adopt_file_id   bring an existing file under management (read, never fabricated)

Outputs: the inputs plus ``file_id``, ``filename``, ``bytes``, ``sha256``, ``status``,
``status_details``, ``created_at``.

Replacement: a change of content (by SHA-256), account, purpose, URL or explicit filename replaces
the file; renaming the local path with the same content does not. Create waits until the service
has processed the file and, if it failed, deletes it and fails with the service's status_details.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Optional

import pulumi
from pulumi.dynamic import Resource

from . import clients
from ._common import check_account, rfc3339, same_account, sha256_file
from ._dynamic import Controller, Diff, DynamicProvider, is_unknown
from ._wait import create_once, poll
from .account import AccountArgs, AccountRef, account_inputs
from .errors import ConfigurationError, FileProcessingError, NotFoundError

MAX_BYTES = 512 * 1024 * 1024
PURPOSES = ("fine-tune",)
TERMINAL = ("processed", "error", "deleted")
OUTPUTS = ("file_id", "filename", "bytes", "sha256", "status", "status_details", "created_at")


class TrainingFileController(Controller):
    # -- preview -------------------------------------------------------------------------
    def check(self, olds, news):
        inputs = dict(news)
        failures: list[tuple[str, str]] = []
        check_account(inputs, failures)
        inputs.setdefault("purpose", "fine-tune")
        inputs.setdefault("validate", True)
        inputs.setdefault("timeout_seconds", 3600)
        path, url = inputs.get("path"), inputs.get("content_url")
        if inputs["purpose"] not in PURPOSES and not is_unknown(inputs["purpose"]):
            failures.append(("purpose", f"purpose {inputs['purpose']!r} is not supported; use one of {', '.join(PURPOSES)}"))
        if (path is None) == (url is None):
            failures.append(("path", "give exactly one of path (a local JSONL file) or content_url (a URL to import)"))
        elif path is not None and not is_unknown(path):
            self._check_path(path, inputs, failures)
        elif url is not None and not is_unknown(url):
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                failures.append(("content_url", f"content_url {url!r} is not an http(s) URL"))
        timeout = inputs.get("timeout_seconds")
        if not is_unknown(timeout) and (not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0):
            failures.append(("timeout_seconds", "timeout_seconds must be a positive number of seconds"))
        name = inputs.get("filename")
        if name is not None and not is_unknown(name) and (not isinstance(name, str) or not name.strip() or "/" in name):
            failures.append(("filename", f"filename {name!r} must be a non-empty base name"))
        return inputs, failures

    def _check_path(self, path: Any, inputs: dict, failures: list) -> None:
        if not isinstance(path, str) or not path:
            failures.append(("path", "path must be a non-empty string"))
            return
        p = Path(path)
        if not p.is_file():
            failures.append(("path", f"{path}: no such file (paths are relative to the Pulumi project directory)"))
            return
        size = p.stat().st_size
        if size >= MAX_BYTES:
            failures.append(("path", f"{path}: {size} bytes; the service takes files under 512 MB "
                                     "(import large files from Azure Blob storage with content_url)"))
            return
        digest, size = sha256_file(path)
        inputs["content_sha256"] = digest
        inputs["content_bytes"] = size
        if inputs.get("validate", True):
            failures.extend(_validate_data(path, inputs.get("model")))

    def diff(self, id_, olds, news):
        d = Diff()
        if not same_account(olds.get("account"), news.get("account")):
            d.replaces.append("account")
        for key in ("purpose", "content_url", "adopt_file_id"):
            if olds.get(key) != news.get(key):
                d.replaces.append(key)
        if news.get("path") is not None:
            if olds.get("path") is None or olds.get("content_sha256") != news.get("content_sha256"):
                d.replaces.append("path")
            elif olds.get("path") != news.get("path"):
                d.updates.append("path")
        if news.get("filename") is not None and news.get("filename") != olds.get("filename"):
            d.replaces.append("filename")
        for key in ("model", "validate", "timeout_seconds"):
            if olds.get(key) != news.get(key):
                d.updates.append(key)
        d.changes = bool(d.replaces or d.updates)
        return d

    # -- lifecycle ---------------------------------------------------------------------------
    def create(self, inputs):
        account = AccountRef.parse(inputs["account"])
        client = clients.data_plane(self.settings, account)
        if inputs.get("adopt_file_id"):
            with clients.openai_errors(f"reading file {inputs['adopt_file_id']}"):
                obj = client.files.retrieve(inputs["adopt_file_id"])
            pulumi.log.info(f"adopted file {obj.id} ({obj.filename}, {obj.bytes} bytes) in account {account.name}")
        else:
            obj = self._upload_or_import(client, account, inputs)
        obj = self._wait_processed(client, obj, inputs)
        return obj.id, self._outputs(inputs, obj)

    def _upload_or_import(self, client, account: AccountRef, inputs: dict):
        purpose = inputs.get("purpose", "fine-tune")
        started = time.time()
        if inputs.get("path"):
            path = inputs["path"]
            filename = inputs.get("filename") or os.path.basename(path)
            size = inputs.get("content_bytes") or os.path.getsize(path)

            def send():
                with open(path, "rb") as fh, clients.openai_errors(f"uploading {path}"):
                    return client.with_options(max_retries=0).files.create(file=(filename, fh), purpose=purpose)
        else:
            from openai.types import FileObject

            url = inputs["content_url"]
            filename = inputs.get("filename") or os.path.basename(url.split("?", 1)[0]) or "training.jsonl"
            size = None

            def send():
                with clients.openai_errors(f"importing {filename}"):
                    return client.with_options(max_retries=0).post(
                        "/files/import", cast_to=FileObject,
                        body={"content_url": url, "filename": filename, "purpose": purpose})

        def find_existing():
            # A timed-out or dropped upload may have landed: look before sending again.
            with clients.openai_errors("listing files"):
                for f in client.files.list(purpose=purpose):
                    if (f.filename == filename and f.created_at >= started - 120
                            and (size is None or f.bytes == size)):
                        return f
            return None

        obj = create_once(send, find_existing, attempts=self.settings.max_retries + 1)
        pulumi.log.info(f"uploaded {filename} as {obj.id} to account {account.name}")
        return obj

    def _wait_processed(self, client, obj, inputs: dict):
        if obj.status in TERMINAL:
            final = obj
        else:
            def fetch():
                with clients.openai_errors(f"reading file {obj.id}"):
                    return client.files.retrieve(obj.id)

            final = poll(fetch, lambda f: f.status in TERMINAL,
                         timeout=float(inputs.get("timeout_seconds") or 3600),
                         interval=min(self.settings.poll_interval, 5.0), what=f"processing of file {obj.id}")
        if final.status != "processed":
            details = getattr(final, "status_details", None) or f"status {final.status}"
            if not inputs.get("adopt_file_id"):
                with clients.openai_errors(f"deleting file {obj.id}"):
                    try:
                        client.files.delete(obj.id)
                    except NotFoundError:
                        pass
            raise FileProcessingError(f"the service could not process {final.filename} ({obj.id}): {details}")
        return final

    def _outputs(self, inputs: dict, obj) -> dict:
        outs = dict(inputs)
        outs.update({
            "file_id": obj.id,
            "filename": obj.filename,
            "bytes": obj.bytes,
            "sha256": inputs.get("content_sha256"),
            "status": obj.status,
            "status_details": getattr(obj, "status_details", None),
            "created_at": rfc3339(obj.created_at),
        })
        return outs

    def read(self, id_, props):
        account = AccountRef.parse(props["account"])
        client = clients.data_plane(self.settings, account)
        try:
            with clients.openai_errors(f"reading file {id_}"):
                obj = client.files.retrieve(id_)
        except NotFoundError:
            return None, {}
        if obj.status == "deleted":
            return None, {}
        return id_, self._outputs(props, obj)

    def update(self, id_, olds, news):
        outs = dict(olds)
        outs.update({k: v for k, v in news.items() if not (k in OUTPUTS and v is None)})
        outs["sha256"] = news.get("content_sha256") or olds.get("sha256")
        return outs

    def delete(self, id_, props):
        account = AccountRef.parse(props["account"])
        client = clients.data_plane(self.settings, account)
        try:
            with clients.openai_errors(f"deleting file {id_}"):
                client.files.delete(id_)
        except NotFoundError:
            pass  # already gone: delete is idempotent
        pulumi.log.info(f"deleted file {id_} from account {account.name}")


def _validate_data(path: str, model: Optional[str]) -> list[tuple[str, str]]:
    from .data import validate_file

    kwargs = {"model": model} if model else {}
    report = validate_file(path, **kwargs)
    if report.ok:
        from .cost import log_training_estimate

        log_training_estimate(report, model=model, path=path)  # statistics and estimated training cost
        return []
    return [("path", report.summary(max_lines=20))]


class TrainingFileProvider(DynamicProvider):
    controller = TrainingFileController


class TrainingFile(Resource, module="aoai", name="TrainingFile"):
    """A training or validation JSONL file in an Azure OpenAI account (see the module docs)."""

    file_id: pulumi.Output[str]
    filename: pulumi.Output[str]
    bytes: pulumi.Output[int]
    sha256: pulumi.Output[Optional[str]]
    status: pulumi.Output[str]
    status_details: pulumi.Output[Optional[str]]
    created_at: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        account: "AccountArgs | pulumi.Input[dict] | str",
        path: Optional[pulumi.Input[str]] = None,
        content_url: Optional[pulumi.Input[str]] = None,
        purpose: pulumi.Input[str] = "fine-tune",
        filename: Optional[pulumi.Input[str]] = None,
        model: Optional[pulumi.Input[str]] = None,
        validate: pulumi.Input[bool] = True,
        timeout_seconds: pulumi.Input[float] = 3600,
        adopt_file_id: Optional[pulumi.Input[str]] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        if isinstance(path, str) and not os.path.isabs(path):
            path = os.path.abspath(path)  # relative to the program's directory, as users expect
        props: dict[str, Any] = {
            "account": account_inputs(account), "path": path, "content_url": content_url,
            "purpose": purpose, "filename": filename, "model": model, "validate": validate,
            "timeout_seconds": timeout_seconds, "adopt_file_id": adopt_file_id,
            "content_sha256": None, "content_bytes": None,
        }
        for key in OUTPUTS:
            props.setdefault(key, None)
        super().__init__(TrainingFileProvider(), resource_name, props, opts)
