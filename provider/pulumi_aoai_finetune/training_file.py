"""TrainingFile: a JSONL file uploaded to (or imported into) an Azure OpenAI account.

Inputs
    account         AccountArgs of the account the file belongs to
    path            a local JSONL file, uploaded streamed (never read whole into memory)
    content_url     or: a URL the service imports from (e.g. an Azure Blob SAS URL); a secret in the state. Its
                    data is downloaded (streamed) and validated at preview when the URL is new or changed; a
                    URL this machine cannot read is left to the service (logged)
    purpose         "fine-tune" (default)
    filename        the name the service records (default: the file's base name at creation)
    model           the base model the data is for; selects the data format checked at preview
    method          "supervised" (default), "dpo" or "reinforcement": the fine-tuning method the data is for
                    (DPO data is input/preferred_output/non_preferred_output; reinforcement data one prompt
                    per line plus the reference fields its grader reads)
    grader          reinforcement only, optional: the job's grader object; preview then fails for any line
                    without a field the grader reads as {{item.<field>}} (checking only, never sent)
    validate        check the data at preview (default true); findings fail the preview
    timeout_seconds how long to wait for the service to process the file (default 3600)
    adopt_file_id   bring an existing file under management (read, never fabricated)
    project_dir     the directory a local ``path`` must stay inside (default: the Pulumi project
                    directory, the nearest directory with a Pulumi.yaml above the program's working
                    directory, found when the resource is declared)

Local paths (checked at preview): a relative path is taken from the program's working directory; the
path is resolved (symlinks followed) and refused unless it lies inside ``project_dir``, so a stack
config or a committed symlink cannot make ``pulumi up`` upload a file from elsewhere on the machine
(``../../.ssh/id_rsa``, ``/etc/passwd``, ``data/train.jsonl -> ~/.aws/credentials``). It must be a
regular file under 512 MB; its content is hashed and validated streamed, and a line over 64 MiB is
refused (measured in the same pass, never held in memory). To use data kept elsewhere, set
``project_dir`` to that directory explicitly.

Outputs: the inputs plus ``file_id``, ``filename``, ``bytes``, ``sha256``, ``status``,
``status_details``, ``created_at``.

Replacement: a change of content (by SHA-256), account, purpose, URL or explicit filename replaces
the file; renaming the local path with the same content does not. Create waits until the service
has processed the file and, if it failed, deletes it and fails with the service's status_details.

Never uploaded twice, never another stack's file: the service records the file under a name that
carries this resource's owner marker (``train.aoaift-<stack>-<resource>.jsonl``, see
:mod:`.ownership`). Before uploading, create looks for a file with that very name, the same size and
content (SHA-256 of the service's copy) that no fine-tuning job uses and no other resource of this
run took -- one left by a `pulumi up` of this stack killed during the upload -- and reuses it; a
retried upload (timeout, dropped connection) is recognised the same way before it is sent again. A
file of another stack (or without a marker) is never reused; destroy leaves a file that carries
another stack's marker (an adopted one) in place.
"""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path
from typing import Any, Optional

import pulumi
import requests  # imported here, not lazily: the provider serves calls from several threads at once
from pulumi.dynamic import Resource

from . import availability, clients, local_data, ownership
from ._common import HASH_CHUNK, check_account, project_file, rfc3339, same_account
from .adapters.dynamic import DynamicProvider
from . import schema
from .controller import IMPORTED, UNKNOWN, Controller, Diff, is_unknown
from ._wait import create_once, poll, while_access_propagates
from .account import AccountArgs, AccountRef, account_inputs
from .errors import ConfigurationError, FileProcessingError, NotFoundError

MAX_BYTES = 512 * 1024 * 1024
PURPOSES = ("fine-tune",)
TERMINAL = ("processed", "error", "deleted")
OUTPUTS = ("file_id", "filename", "bytes", "sha256", "status", "status_details", "created_at", "owner_marker")
PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")
MIB = 1024 * 1024
scan_file = local_data.scan_file  # SHA-256, size and the first over-long line of a file, in one pass
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_claimed: set[str] = set()  # file ids this provider process created or reused for a resource


class TrainingFileController(Controller):
    resource = schema.TRAINING_FILE
    _new = True

    # -- preview -------------------------------------------------------------------------
    def check(self, olds, news):
        self._new = not olds  # olds of check are the old inputs: empty for a file not created yet
        inputs = dict(news)
        failures: list[tuple[str, str]] = []
        check_account(inputs, failures)
        inputs.setdefault("purpose", "fine-tune")
        inputs.setdefault("validate", True)
        inputs.setdefault("timeout_seconds", 3600)
        path, url = inputs.get("path"), inputs.get("content_url")
        if inputs["purpose"] not in PURPOSES and not is_unknown(inputs["purpose"]):
            failures.append(("purpose", f"purpose {inputs['purpose']!r} is not supported; use one of {', '.join(PURPOSES)}"))
        if path is None and url is None and olds.get(IMPORTED):
            pass  # an imported file: its data is in the service (path or content_url may name it, to check it)
        elif (path is None) == (url is None):
            failures.append(("path", "give exactly one of path (a local JSONL file) or content_url (a URL to import)"))
        elif path is not None and not is_unknown(path):
            self._check_path(path, inputs, failures)
        elif url is not None and not is_unknown(url):
            refused = len(failures)
            self._check_url(url, failures)
            refused = len(failures) > refused
            if not refused and inputs.get("validate", True) and self.live_reads and olds.get("content_url") != url:
                failures.extend(self._check_url_data(url, inputs))
        timeout = inputs.get("timeout_seconds")
        if not is_unknown(timeout) and (not isinstance(timeout, (int, float)) or isinstance(timeout, bool)
                                        or not 0 < timeout < float("inf")):  # also refuses nan
            failures.append(("timeout_seconds", "timeout_seconds must be a positive number of seconds"))
        name = inputs.get("filename")
        if name is not None and not is_unknown(name) and (
                not isinstance(name, str) or not name.strip() or name in (".", "..") or len(name) > 255
                or any(c in name for c in "/\\") or _CONTROL.search(name)):
            failures.append(("filename", f"filename {name!r} must be a non-empty base name (no '/', '\\' or "
                                         "control characters, at most 255 characters)"))
        grader = inputs.get("grader")
        if grader is not None and not is_unknown(grader):
            if not isinstance(grader, dict) or not grader.get("type"):
                failures.append(("grader", "grader must be the job's grader object (a mapping with a type)"))
            elif inputs.get("method") != "reinforcement" and not is_unknown(inputs.get("method")):
                failures.append(("grader", "grader is for method \"reinforcement\" data only"))
        for key, kind in (("validate", bool), ("model", str), ("adopt_file_id", str)):
            value = inputs.get(key)
            if value is not None and not is_unknown(value) and (not isinstance(value, kind) or (
                    kind is str and (not value.strip() or _CONTROL.search(value)))):
                failures.append((key, f"{key} must be {'true or false' if kind is bool else 'a non-empty string'}, "
                                      f"got {value!r}"))
        return inputs, failures

    def _check_url(self, url: Any, failures: list) -> None:
        if not isinstance(url, str) or not url.startswith(("https://", "http://")) or _CONTROL.search(url) \
                or " " in url:
            shown = clients.redact_url(url) if isinstance(url, str) else url
            failures.append(("content_url", f"content_url {shown!r} is not an http(s) URL"))
            return
        try:
            clients.require_secure(url, self.settings, "content_url")
        except ConfigurationError as exc:
            failures.append(("content_url", str(exc)))

    def _check_url_data(self, url: str, inputs: dict) -> list[tuple[str, str]]:
        """The data behind a new (or changed) import URL, downloaded streamed through the validator.

        Only its data can fail the preview: a URL this machine cannot read (a storage firewall that
        admits Azure services only, say) is logged and left to the service, which checks the data
        after the import. Messages show the URL without its query (a SAS token)."""
        shown = clients.redact_url(url)
        unread = f"content_url {shown}: not read here to check its data ({{}}); the service checks it after the import"
        try:
            with requests.get(url, stream=True, allow_redirects=False,
                              timeout=(30.0, self.settings.request_timeout)) as response:
                if response.status_code != 200:
                    pulumi.log.warn(unread.format(f"HTTP {response.status_code}"))
                    return []
                declared = _declared_size(response)
                if declared is not None and declared >= MAX_BYTES:  # size first: nothing downloaded
                    return [("content_url", _import_too_big(shown, declared, "its Content-Length"))]
                download = _Download(response.iter_content(HASH_CHUNK), limit=MAX_BYTES)
                stream = io.BufferedReader(download, HASH_CHUNK)
                failures = _validate_data(stream, inputs, name=shown, field="content_url")
                while stream.read(HASH_CHUNK):  # the rest, if the validator stopped early: the hash is whole
                    pass
                # what the import will hold: an interrupted import is then recognised by its content
                inputs["content_sha256"], inputs["content_bytes"] = download.sha256.hexdigest(), download.tell()
                return failures
        except _TooBig as exc:  # no Content-Length (or a wrong one): stopped as soon as it passed the limit
            return [("content_url", _import_too_big(shown, exc.size, "read so far", at_least=True))]
        except (requests.RequestException, OSError) as exc:  # the type only: a message may quote the URL
            pulumi.log.warn(unread.format(type(exc).__name__))
            return []

    def _check_path(self, path: Any, inputs: dict, failures: list) -> None:
        path = project_file(path, inputs, failures, "path", what="data files")
        if path is None:
            return
        p = Path(path)
        try:
            self._check_file(path, p, inputs, failures)
        except OSError as exc:
            failures.append(("path", f"{path}: cannot be read: {exc.strerror or exc}"))

    def _check_file(self, path: str, p: Path, inputs: dict, failures: list) -> None:
        size = p.stat().st_size
        if size >= MAX_BYTES:
            failures.append(("path", f"{path}: {size} bytes; the service takes files under 512 MB (imports too): "
                                     "shorten or split the data, or give images as https URLs instead of inline "
                                     "base64"))
            return
        # hashed and validated in one read, and not read at all while unchanged (local_data's cache)
        result = local_data.check(path, inputs)
        inputs["content_sha256"] = result.sha256
        inputs["content_bytes"] = result.bytes
        inputs["content_stats"] = result.stats  # a job prices its run from them
        if self.live_reads and self._new:
            failures.extend(self._check_account_limits(inputs, result.bytes))
        failures.extend(result.failures)
        if result.stats is not None:
            _log_data(result.stats, inputs.get("model"), path)

    def _check_account_limits(self, inputs: dict, size: int) -> list[tuple[str, str]]:
        """A new file must fit the account's limits (files count, total size): read at preview."""
        if is_unknown(inputs.get("account")):
            return []
        try:
            account = AccountRef.parse(inputs["account"])
        except ConfigurationError:
            return []
        found = availability.account_files(self.settings, account)
        if found is None:
            return []
        count, total = found
        if count >= availability.MAX_FILES:
            return [("path", f"account {account.name} already holds {count} files; Azure allows "
                             f"{availability.MAX_FILES} per resource: delete files no job needs any more")]
        if total + size > availability.MAX_FILES_BYTES:
            return [("path", f"account {account.name} holds {total / MIB:,.1f} MiB of files; this one "
                             f"({size / MIB:,.1f} MiB) would pass Azure's {availability.MAX_FILES_BYTES / MIB:,.0f} MiB "
                             "per resource: delete files no job needs any more")]
        return []

    def diff(self, id_, olds, news):
        d = Diff()
        if not same_account(olds.get("account"), news.get("account")):
            d.replaces.append("account")
        # an imported file (no source recorded) declared by its data, a local copy or the URL it came
        # from: the same content is no change
        same_data = bool(olds.get(IMPORTED)) and olds.get("path") is None and olds.get("content_url") is None \
            and news.get("content_sha256") is not None and news.get("content_sha256") == olds.get("content_sha256")
        d.compare(olds, news, ("purpose", "adopt_file_id") + (() if same_data else ("content_url",)), replace=True)
        if news.get("path") is not None and not same_data:
            if olds.get("path") is None or olds.get("content_sha256") != news.get("content_sha256"):
                d.replaces.append("path")
            elif olds.get("path") != news.get("path"):
                d.updates.append("path")
        # the service's name carries the owner marker: compare the name the user gave
        if news.get("filename") is not None and news.get("filename") != ownership.unmarked_filename(olds.get("filename")):
            d.replaces.append("filename")
        d.compare(olds, news, ("model", "method", "grader", "validate", "timeout_seconds"), replace=False)
        # project_dir only bounds where `path` may point: a moved checkout is not a change
        return d

    # -- lifecycle ---------------------------------------------------------------------------
    def create(self, inputs):
        account = AccountRef.parse(inputs["account"])
        client = clients.data_plane(self.settings, account)
        marker = _marker(inputs)
        if inputs.get("adopt_file_id"):
            with clients.openai_errors(f"reading file {inputs['adopt_file_id']}"):
                obj = client.files.retrieve(inputs["adopt_file_id"])
            pulumi.log.info(f"adopted file {obj.id} ({obj.filename}, {obj.bytes} bytes) in account {account.name}")
            # provably this resource's only if it carries its marker (an earlier upload of its own)
            marker = marker if ownership.marker_in_filename(obj.filename) == marker else None
        elif not inputs.get("path") and not inputs.get("content_url"):
            raise ConfigurationError(f"the file was imported without path or content_url and is gone from account "
                                     f"{account.name}: set path (or content_url) to upload its data again")
        else:
            obj = while_access_propagates(lambda: self._upload_or_import(client, account, inputs, marker),
                                          timeout=self.settings.access_propagation_timeout,
                                          what="uploading the training file", account=account.name)
        obj = self._wait_processed(client, obj, inputs)
        outs = self._outputs(inputs, obj)
        outs["owner_marker"] = marker
        return obj.id, outs

    def _upload_or_import(self, client, account: AccountRef, inputs: dict, marker: Optional[str]):
        purpose = inputs.get("purpose", "fine-tune")
        started = time.time()
        if inputs.get("path"):
            path = inputs["path"]
            filename = ownership.marked_filename(inputs.get("filename") or os.path.basename(path), marker)
            size = inputs.get("content_bytes") or os.path.getsize(path)

            def send():
                with open(path, "rb") as fh, clients.openai_errors(f"uploading {path}"):
                    return client.with_options(max_retries=0).files.create(file=(filename, fh), purpose=purpose)
        else:
            from openai.types import FileObject

            url = inputs["content_url"]
            filename = ownership.marked_filename(
                inputs.get("filename") or os.path.basename(url.split("?", 1)[0]) or "training.jsonl", marker)
            size = inputs.get("content_bytes")  # known when the preview read the URL (then so is its hash)

            def send():
                with clients.openai_errors(f"importing {filename}"):
                    return client.with_options(max_retries=0).post(
                        "/files/import", cast_to=FileObject,
                        body={"content_url": url, "filename": filename, "purpose": purpose})

        digest = inputs.get("content_sha256")

        def find_existing():
            # A timed-out or dropped upload may have landed: look before sending again. A file is
            # recognised by its name, which carries this resource's owner marker, and its content (size and
            # SHA-256: a local file's, or an import URL's as read at preview); an import whose URL could not
            # be read there, by its name, just now. A file a job trains on, or one this provider process
            # already handed to another resource, belongs to someone: never taken over. Without a marker
            # (no owner input) only a file landed during this very create can be recognised.
            with clients.openai_errors("listing files"):
                candidates = [f for f in clients.first_page(client.files.list(purpose=purpose))
                              if f.filename == filename and (size is None or f.bytes == size)
                              and f.status not in ("error", "deleted") and f.id not in _claimed]
            if candidates:
                with clients.openai_errors("listing fine-tuning jobs"):
                    used = {fid for j in clients.walk(client.fine_tuning.jobs.list(limit=100), max_items=1000)
                            for fid in (j.training_file, j.validation_file) if fid}
                candidates = [f for f in candidates if f.id not in used]
            for f in candidates:
                if marker is None and f.created_at < started - 120:
                    continue
                if digest is None and f.created_at >= started - 120:
                    return f
                if digest is not None and self._content_sha256(client, f.id) == digest:
                    return f
            return None

        if digest is not None and marker is not None:
            earlier = find_existing()  # left by an interrupted `pulumi up` (killed during the upload)
            if earlier is not None:
                _claimed.add(earlier.id)
                done, action = ("uploaded", "upload") if inputs.get("path") else ("imported", "import")
                pulumi.log.info(f"reusing file {earlier.id} in account {account.name}: {filename}, {done} earlier "
                                "by this resource of this stack with the same content and used by no job (an "
                                f"interrupted `pulumi up`?); no second {action}")
                return earlier
        obj = create_once(send, find_existing, attempts=self.settings.max_retries + 1)
        _claimed.add(obj.id)
        pulumi.log.info(f"uploaded {filename} as {obj.id} to account {account.name}")
        return obj

    @staticmethod
    def _content_sha256(client, file_id: str) -> Optional[str]:
        """The SHA-256 of a file's content in the service, streamed (None if it cannot be read)."""
        import hashlib

        digest = hashlib.sha256()
        try:
            with clients.openai_errors(f"reading the content of {file_id}"):
                with client.files.with_streaming_response.content(file_id) as response:
                    for chunk in response.iter_bytes(HASH_CHUNK):
                        digest.update(chunk)
        except NotFoundError:
            return None
        return digest.hexdigest()

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

    def preview_create(self, inputs):
        outs = super().preview_create(inputs)
        outs["sha256"] = inputs.get("content_sha256") or UNKNOWN  # computed by check: known at preview
        return outs

    def read_for_import(self, id_, props):
        id_, outs = super().read_for_import(id_, props)
        if id_ is None:
            return None, {}
        client = clients.data_plane(self.settings, AccountRef.parse(outs["account"]))
        # the content hash of the service's copy: a program that declares the file by its data (path or
        # content_url with the same content) then previews no change
        outs["content_sha256"] = outs["sha256"] = self._content_sha256(client, id_)
        outs["content_bytes"] = outs.get("bytes")
        return id_, outs

    def update(self, id_, olds, news):
        outs = dict(olds)
        outs.update({k: v for k, v in news.items() if not (k in OUTPUTS and v is None)})
        outs["sha256"] = news.get("content_sha256") or olds.get("sha256")
        return outs

    def delete(self, id_, props):
        account = AccountRef.parse(props["account"])
        client = clients.data_plane(self.settings, account)
        try:
            with clients.openai_errors(f"reading file {id_}"):
                found = ownership.marker_in_filename(client.files.retrieve(id_).filename)
            with clients.openai_errors(f"deleting file {id_}"):
                if found is not None and found != props.get("owner_marker"):
                    pulumi.log.warn(f"file {id_} in account {account.name} carries the owner marker of another "
                                    f"stack or resource ({found}): left in place, dropped from this stack")
                    return
                client.files.delete(id_)
        except NotFoundError:
            pass  # already gone: delete is idempotent
        pulumi.log.info(f"deleted file {id_} from account {account.name}")


def _marker(inputs: dict) -> Optional[str]:
    owner = ownership.parse_owner(inputs.get("owner"))
    return owner.marker if owner else None


class _TooBig(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"more than {size} bytes")
        self.size = size


class _Download(io.RawIOBase):
    """A response body (an iterator of byte chunks) as a raw stream the validator can read once,
    hashed (SHA-256) as it is read; past ``limit`` bytes, reading raises :class:`_TooBig`."""

    def __init__(self, chunks: Any, limit: Optional[int] = None) -> None:
        import hashlib

        self._chunks, self._pending, self._position = iter(chunks), b"", 0
        self._received, self._limit = 0, limit
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            self._pending = next(self._chunks, b"")
            if not self._pending:
                return 0
            self._received += len(self._pending)
            if self._limit is not None and self._received >= self._limit:
                raise _TooBig(self._received)
            self.sha256.update(self._pending)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        self._position += n
        return n


def _validate_data(stream: Any, inputs: dict, *, name: str, field: str = "content_url") -> list[tuple[str, str]]:
    """Findings of the data of a stream read once (a download; ``name``: what the findings call it)
    for the file's ``model``, ``method`` and ``grader`` inputs."""
    from .data import validate_stream

    kwargs, refused = local_data.validator_args(inputs)
    if refused is not None:
        return [refused]
    report = validate_stream(stream, name=name, **kwargs)
    stats = local_data.summary(report) if report.ok else None
    inputs["content_stats"] = stats  # a job prices its run from them
    if stats is not None:
        _log_data(stats, inputs.get("model"), name)
    return local_data.report_failures(report, field)


def _log_data(stats: dict, model: Any, path: str) -> None:
    """The data's statistics, logged at preview (never fails it). The cost of training on it is the
    job's to state: it knows its epochs and training type."""
    from .cost import log_training_estimate

    log_training_estimate(stats, model=model if isinstance(model, str) else None, path=path)


def _declared_size(response: Any) -> Optional[int]:
    """The size of a response's body from its headers, when they say it (not for an encoded body)."""
    if response.headers.get("Content-Encoding", "identity").lower() not in ("", "identity"):
        return None
    try:
        size = int(response.headers.get("Content-Length", ""))
    except ValueError:
        return None
    return size if size >= 0 else None


def _import_too_big(shown: str, size: int, how: str, at_least: bool = False) -> str:
    return (f"content_url {shown}: {'more than ' if at_least else ''}{size / MIB:,.1f} MiB ({how}); the service takes "
            f"files under {MAX_BYTES // MIB} MiB, an import too: shorten or split the data (fewer or shorter "
            "examples), or give images as https URLs instead of inline base64; nothing more was downloaded")


def resolve_local(path: Any, project_dir: Any, cwd: Optional[str] = None) -> tuple[Any, Any]:
    """``path`` and ``project_dir`` as the controller takes them: relative ones taken from the
    program's directory ``cwd`` (default: the working directory, where the engine runs the program),
    as users expect; ``project_dir`` by default the Pulumi project directory above it. Values not
    known yet are left as they are."""
    cwd = cwd or os.getcwd()
    if isinstance(path, str) and not is_unknown(path) and path and not os.path.isabs(path):
        path = os.path.normpath(os.path.join(cwd, path))
    if project_dir is None:
        project_dir = find_project_dir(cwd)
    elif isinstance(project_dir, str) and not is_unknown(project_dir) and not os.path.isabs(project_dir):
        project_dir = os.path.normpath(os.path.join(cwd, project_dir))
    return path, project_dir


def find_project_dir(start: Optional[str] = None) -> str:
    """The Pulumi project directory: the nearest directory with a Pulumi.yaml at or above ``start``
    (default: the working directory, where the engine runs the program), else ``start`` itself."""
    here = os.path.abspath(start or os.getcwd())
    current = here
    while True:
        if any(os.path.isfile(os.path.join(current, name)) for name in PROJECT_FILES):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return here
        current = parent


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
    owner_marker: pulumi.Output[Optional[str]]  # the marker its objects carry (ownership.py)

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
        method: Optional[pulumi.Input[str]] = None,
        grader: Optional[pulumi.Input[dict]] = None,
        validate: pulumi.Input[bool] = True,
        timeout_seconds: pulumi.Input[float] = 3600,
        adopt_file_id: Optional[pulumi.Input[str]] = None,
        project_dir: Optional[pulumi.Input[str]] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        path, project_dir = resolve_local(path, project_dir)
        props: dict[str, Any] = {
            "account": account_inputs(account), "path": path, "content_url": content_url,
            "purpose": purpose, "filename": filename, "model": model, "method": method, "grader": grader,
            "validate": validate,
            "timeout_seconds": timeout_seconds, "adopt_file_id": adopt_file_id,
            "project_dir": project_dir, "content_sha256": None, "content_bytes": None, "content_stats": None,
            "owner": ownership.owner_inputs("TrainingFile", resource_name),
        }
        for key in OUTPUTS:
            props.setdefault(key, None)
        if content_url is not None:
            # An import URL usually carries its credential (a blob SAS token in the query): kept encrypted in
            # the state, shown as [secret] in previews (the engine marks the output of a secret input secret).
            props["content_url"] = pulumi.Output.secret(content_url)
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["content_url"]))
        super().__init__(TrainingFileProvider(), resource_name, props, opts)
