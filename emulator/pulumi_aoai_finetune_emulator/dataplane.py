"""Data-plane behaviour of an account: files, fine-tuning jobs (events, checkpoints), models.

HTTP-free: :mod:`routes.dataplane` parses requests and calls these functions; lifecycles advance in
:mod:`lifecycle`. Records live in ``backend.store`` (sections ``files``, ``jobs``, ``models``,
``events``, ``checkpoints``); keys starting with ``_`` are the emulator's own bookkeeping and never leave
it (:func:`public`).

Choices where Azure's behaviour is unclear or the brief left it open (see also the module docs of
:mod:`lifecycle` and :mod:`catalog`):

- a missing ``api-version`` answers 404 ``{"error": {"code": "404", "message": "Resource not found"}}``,
  which is what Azure OpenAI answers (MicrosoftDocs/azure-docs#114602); the ``/openai/v1/`` routes
  need no api-version;
- a job can only be created from processed files (a pending file is refused with 400, as the
  service's samples wait for ``processed`` first); the data checks that Azure runs inside the job
  (format against model and method, safety screening) make the job fail after its queue time;
- deleting a file is always allowed (the spec says so, even for files used by jobs); a job still
  waiting for its data fails at validation when the file is gone;
- cancel / delete / pause / resume in a state that does not allow them answer 409
  ``unexpectedEntityState``; a job can be deleted only in a terminal state; deleting a job keeps its
  result file, and its fine-tuned model and checkpoints go with it (refused, 409, while one is deployed);
  there is no ``DELETE /models/{id}``: neither data-plane spec has it (rule D1);
- lists (jobs, events, checkpoints, files) are newest first, paged with ``after`` (an id) and ``limit``;
  except files on api-versions before the preview ones: 2024-10-21's ``Files_List`` has no paging, so
  ``after``/``limit`` are ignored and the answer has no ``has_more`` (rule L1);
- ``method`` and pause/resume need api-version 2024-12-01-preview or later (or the v1 API);
  ``trainingType`` is accepted on every api-version (Azure documents it with 2025-04-01-preview) and
  checked against ``catalog``: ``Standard`` and ``GlobalStandard`` in any case (Azure's REST sample of
  2025-02-27 sends ``"globalstandard"``), the developer tier only spelled ``developerTier`` -- any other
  spelling of it answers what the live service answers, "The fineTuningJob field is required." (rule T1
  of docs/azure-rules.md); a missing
  field means Standard, and a model/region without Standard training then answers Azure's misleading
  "The specified base model does not support fine-tuning."; an explicit unsupported type answers
  "<type> TrainingType is not supported ..." (target ``trainingType``);
- limits per resource (``config.extra`` overrides each): :data:`lifecycle.MAX_RUNNING_JOBS` running jobs
  (5 for developer-tier training, a pool of its own): further jobs wait in ``pending``; at most
  :data:`lifecycle.MAX_QUEUED_JOBS` jobs waiting for a slot: one more answers 429 ``quotaExceeded``
  (the emulator's wording) with ``Retry-After``; :data:`MAX_FILES` fine-tune files and
  :data:`MAX_TOTAL_FILE_BYTES` in total: one more answers 400 ``quotaExceeded``;
- pause needs a running job with at least one trained step; it answers ``pausing`` and the job is
  ``paused`` :data:`lifecycle.PAUSING_SECONDS` later (training goes on meanwhile); resume answers
  ``resuming`` and training continues :data:`lifecycle.RESUMING_SECONDS` later.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

from . import catalog, lifecycle, management
from .errors import ServiceError, invalid_payload, not_found

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_FILES = 100                       # fine-tune files per resource (Azure quotas, 2026)
MAX_TOTAL_FILE_BYTES = 1024 ** 3      # 1 GB of fine-tune files per resource
MIN_EXAMPLES = 10
PREVIEW_FROM = "2024-12-01"  # first api-version with `method` (DPO) and pause/resume
UPLOAD_PURPOSES = ("fine-tune", "fine-tune-results", "assistants", "assistants_output", "batch")
LIST_PURPOSES = UPLOAD_PURPOSES + ("batch_output",)
IMPORT_HOSTS = ("127.0.0.1", "localhost", "::1")
SUFFIX_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
API_VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
TRAINING_TYPES = ("standard", "globalstandard", "developertier")
DEVELOPER_TIER = "developerTier"  # compared case-sensitively (rule T1)
FINE_TUNING_JOB_REQUIRED = "The fineTuningJob field is required."
MISSING_KEY = ("Access denied due to missing subscription key. Make sure to include subscription key when "
               "making requests to an API.")


# -- callers --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Caller:
    """Who calls: the account (and its region) and the api-version of the request."""

    account: str
    region: str
    api_version: str | None
    v1: bool = False

    @property
    def preview(self) -> bool:
        """Whether the request's API version has the preview features (method/DPO, pause/resume)."""
        return self.v1 or (self.api_version is not None and self.api_version[:10] >= PREVIEW_FROM)


def resource_not_found() -> ServiceError:
    return ServiceError(404, "404", "Resource not found")


def authorize(backend, account: str, headers, api_version: str | None, *, v1: bool = False) -> Caller:
    """Check the account, the key and the api-version of a data-plane request, like Azure does."""
    record = backend.account(account)
    if record is None:
        raise not_found(f"The Azure OpenAI resource '{account}' does not exist in this emulator.")
    key = headers.get("api-key")
    auth = headers.get("authorization") or ""
    if not key and auth[:7].lower() == "bearer ":
        key = auth[7:].strip()
    if not key:
        raise ServiceError(401, "401", MISSING_KEY)
    expected = backend.config.api_key
    if expected is not None and key != expected:
        from .errors import unauthorized
        raise unauthorized()
    if not v1 and (not api_version or not (API_VERSION_RE.match(api_version) or api_version == "preview")):
        raise resource_not_found()
    if backend.now() < backend.access_denied_until.get(account, float("-inf")):
        # a role assignment still propagating (rule A1; the wording is as reported from the service)
        raise ServiceError(403, "PermissionDenied", "The principal lacks the required data action "
                                                    "Microsoft.CognitiveServices/accounts/OpenAI/* to perform this "
                                                    "operation.")
    return Caller(account=account, region=catalog.normalize_region(record.get("location", "")),
                  api_version=api_version, v1=v1)


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A stored record as the API shows it: bookkeeping keys removed, and top-level nulls omitted as
    Azure omits them (``fine_tuned_model``, ``error``, ``finished_at``... appear once they have a value)."""
    out = {k: v for k, v in record.items() if not k.startswith("_") and v is not None}
    return json.loads(json.dumps(out))  # a deep copy: callers may not mutate the store


#: Job fields the 2024-10-21 data plane does not define: ``method`` and ``integrations`` (added by
#: 2025-04-01-preview's ``FineTuningJob``) and ``trainingType`` (documented for the preview versions
#: only, rule T1). A job is shown in the shape of the api-version that asks: a DPO job listed through
#: 2024-10-21 comes without its ``method``. Azure does not document what an older api-version shows of a
#: newer job; the emulator follows the version's spec (docs/azure-rules.md, V1).
PREVIEW_JOB_FIELDS = ("method", "integrations", "trainingType")


def public_job(job: dict[str, Any], caller: Caller) -> dict[str, Any]:
    """A job as the caller's api-version shows it (:data:`PREVIEW_JOB_FIELDS`)."""
    out = public(job)
    if not caller.preview:
        for key in PREVIEW_JOB_FIELDS:
            out.pop(key, None)
    return out


def _page(items: list[dict[str, Any]], after: str | None, limit: str | int | None, *, default: int,
          maximum: int, show: Callable[[dict[str, Any]], dict[str, Any]] = public) -> dict[str, Any]:
    if limit in (None, ""):
        n = default
    else:
        try:
            n = int(limit)
        except (TypeError, ValueError):
            raise invalid_payload(f"limit must be an integer between 1 and {maximum}.", target="limit") from None
        if not 1 <= n <= maximum:
            raise invalid_payload(f"limit must be between 1 and {maximum}, got {n}.", target="limit")
    if after:
        for index, item in enumerate(items):
            if item["id"] == after:
                items = items[index + 1:]
                break
        else:
            raise invalid_payload(f"after: no item with id '{after}' in this list.", target="after")
    return {"object": "list", "data": [show(i) for i in items[:n]], "has_more": len(items) > n}


def _newest_first(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records, key=lambda r: (r["created_at"], r.get("_seq", 0)), reverse=True)


# -- JSONL inspection (while the file streams in) ----------------------------------------------------
_RAI_DATA = re.compile(r"(?<![A-Za-z-])RAI-TRIGGER:\s*([A-Za-z_]+(?:\s*,\s*[A-Za-z_]+)*)")
_RAI_MODEL = re.compile(r"RAI-MODEL-TRIGGER:\s*([A-Za-z_]+(?:\s*,\s*[A-Za-z_]+)*)")
_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_BOM = b"\xef\xbb\xbf"


class JsonlInspector:
    """Incremental checks of a fine-tuning JSONL file, fed chunk by chunk.

    Rules (the first broken one is reported with its line): UTF-8 (a BOM is accepted), one JSON
    object per line, one known example format for every line (chat ``messages``, ``prompt`` /
    ``completion``, or preference ``input`` / ``preferred_output`` / ``non_preferred_output``), valid
    roles and contents, at least :data:`MIN_EXAMPLES` examples, at most ``max_bytes``. Blank lines are
    ignored. Also collects the emulator's test markers (``RAI-TRIGGER:``, ``RAI-MODEL-TRIGGER:``,
    ``FAIL-TRIGGER``, ``PAUSE-TRIGGER``), the example count and a token estimate (characters / 4).
    """

    def __init__(self, max_bytes: int = MAX_FILE_BYTES, min_examples: int = MIN_EXAMPLES) -> None:
        self.max_bytes = max_bytes
        self.min_examples = min_examples
        self._buf = bytearray()
        self.size = 0
        self.line_no = 0
        self.examples = 0
        self.tokens = 0
        self.format: str | None = None
        self._format_line = 0
        self.error: str | None = None
        self.rai_data: list[str] = []
        self.rai_model: list[str] = []
        self.fail = False
        self.pause = False

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        scan_from = len(self._buf)
        self._buf += chunk
        start = 0
        newline = self._buf.find(b"\n", scan_from)
        while newline >= 0:
            self._line(bytes(self._buf[start:newline]))
            start = newline + 1
            newline = self._buf.find(b"\n", start)
        if start:
            del self._buf[:start]

    def finish(self) -> dict[str, Any]:
        if self._buf:
            self._line(bytes(self._buf))
            self._buf.clear()
        if self.error is None:
            if self.size > self.max_bytes:
                self.error = self._message("max_size", f"the file has {self.size} bytes; files must be smaller "
                                                       f"than {self.max_bytes} bytes (512 MB). Import large "
                                                       "files from Azure Blob Storage or split them.")
            elif self.examples < self.min_examples:
                self.error = self._message("min_examples", f"the file has {self.examples} examples; at least "
                                                           f"{self.min_examples} are required.")
        return {"examples": self.examples, "tokens": self.tokens, "format": self.format, "error": self.error,
                "rai_data": self.rai_data, "rai_model": self.rai_model, "fail": self.fail, "pause": self.pause}

    @staticmethod
    def _message(rule: str, detail: str) -> str:
        return f"jsonlValidationFailed [{rule}]: {detail}"

    def _fail_line(self, rule: str, detail: str) -> None:
        self.error = self._message(rule, f"line {self.line_no}: {detail}")

    def _line(self, raw: bytes) -> None:
        self.line_no += 1
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if self.line_no == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM):]
        if b"TRIGGER" in raw:
            self._markers(raw.decode("utf-8", errors="replace"))
        if self.error is not None or not raw.strip():
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._fail_line("utf8", f"not valid UTF-8 (byte {exc.start} of the line); save the file as UTF-8.")
            return
        try:
            obj = json.loads(text)
        except ValueError as exc:
            self._fail_line("json", f"not valid JSON ({exc}); each line must be one JSON object.")
            return
        fmt, problem = classify_example(obj)
        if problem:
            self._fail_line("format", problem)
            return
        if self.format is None:
            self.format, self._format_line = fmt, self.line_no
        elif fmt != self.format:
            self._fail_line("format", f"a {fmt} example, but line {self._format_line} is a {self.format} "
                                      "example; every line must use the same format.")
            return
        self.examples += 1
        self.tokens += len(text) // 4 + 1

    def _markers(self, text: str) -> None:
        for pattern, found in ((_RAI_DATA, self.rai_data), (_RAI_MODEL, self.rai_model)):
            for match in pattern.finditer(text):
                for category in match.group(1).split(","):
                    category = category.strip().lower()
                    if category and category not in found:
                        found.append(category)
        if "FAIL-TRIGGER" in text:
            self.fail = True
        if "PAUSE-TRIGGER" in text:
            self.pause = True


def classify_example(obj: Any) -> tuple[str | None, str | None]:
    """(format, None) for a valid example, (None, problem) otherwise. Formats: ``chat`` (messages
    with an assistant reply), ``prompt`` (messages without one: reinforcement data), ``completion``,
    ``preference`` (DPO)."""
    if not isinstance(obj, dict):
        return None, f"each line must be a JSON object, found {type(obj).__name__}."
    if "messages" in obj:
        has_assistant, problem = _check_messages(obj["messages"], "messages")
        if problem:
            return None, problem
        return ("chat" if has_assistant else "prompt"), None
    if "input" in obj or "preferred_output" in obj or "non_preferred_output" in obj:
        source = obj.get("input")
        if not isinstance(source, dict):
            return None, "'input' must be an object with 'messages'."
        _, problem = _check_messages(source.get("messages"), "input.messages")
        if problem:
            return None, problem
        for key in ("preferred_output", "non_preferred_output"):
            outputs = obj.get(key)
            if not isinstance(outputs, list) or not outputs:
                return None, f"'{key}' must be a non-empty list of assistant messages."
            has_assistant, problem = _check_messages(outputs, key)
            if problem:
                return None, problem
            if any(not isinstance(m, dict) or m.get("role") != "assistant" for m in outputs):
                return None, f"'{key}' may only contain assistant messages."
        return "preference", None
    if "prompt" in obj or "completion" in obj:
        for key in ("prompt", "completion"):
            if not isinstance(obj.get(key), str):
                return None, f"'{key}' must be a string in the prompt/completion format."
        return "completion", None
    return None, ("unknown example format: expected 'messages' (chat), 'prompt' and 'completion', or 'input' "
                  "with 'preferred_output' and 'non_preferred_output' (preference).")


def _check_messages(messages: Any, where: str) -> tuple[bool, str | None]:
    if not isinstance(messages, list) or not messages:
        return False, f"'{where}' must be a non-empty list of messages."
    has_assistant = False
    for i, message in enumerate(messages):
        at = f"{where}[{i}]"
        if not isinstance(message, dict):
            return False, f"{at} must be an object with 'role' and 'content'."
        role = message.get("role")
        if role not in _ROLES:
            return False, f"{at}.role must be one of {', '.join(_ROLES)}, got {role!r}."
        content = message.get("content")
        if role == "assistant":
            has_assistant = True
            if content is None and not (message.get("tool_calls") or message.get("function_call")):
                return False, f"{at} (assistant) needs 'content' or 'tool_calls'."
            if "weight" in message and (isinstance(message["weight"], bool) or message["weight"] not in (0, 1)):
                return False, f"{at}.weight must be 0 or 1."
        elif "weight" in message:
            return False, f"{at}: only assistant messages may carry 'weight'."
        if content is None and role != "assistant":
            return False, f"{at} ({role}) needs 'content'."
        if content is not None and not isinstance(content, (str, list)):
            return False, f"{at}.content must be a string or a list of content parts."
        if isinstance(content, list) and any(not isinstance(p, dict) or "type" not in p for p in content):
            return False, f"{at}.content parts must be objects with a 'type'."
    return has_assistant, None


# -- files ------------------------------------------------------------------------------------------
class FileIngest:
    """A file being received: chunks go straight to its blob while size, sha256 and the JSONL checks
    are computed; :meth:`finish` records it (status ``pending``), :meth:`abort` removes the blob."""

    def __init__(self, backend, purpose: str) -> None:
        self.backend = backend
        self.purpose = purpose
        self.file_id = backend.new_id("file")
        self.path: Path = backend.store.blob_path(self.file_id)
        self._out = open(self.path, "wb")
        self._sha = hashlib.sha256()
        self.size = 0
        max_bytes = int(backend.config.extra.get("max_file_bytes", MAX_FILE_BYTES))
        self._inspector = JsonlInspector(max_bytes) if purpose == "fine-tune" else None

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._out.write(chunk)
        self._sha.update(chunk)
        self.size += len(chunk)
        if self._inspector is not None:
            self._inspector.feed(chunk)

    def copy_from(self, source, chunk_size: int = 1 << 20) -> None:
        while True:
            chunk = source.read(chunk_size)
            if not chunk:
                return
            self.write(chunk)

    def abort(self) -> None:
        self._out.close()
        self.path.unlink(missing_ok=True)

    def finish(self, caller: Caller, filename: str) -> dict[str, Any]:
        self._out.close()
        if self._inspector is not None:
            inspect = self._inspector.finish()
        else:
            inspect = {"examples": 0, "tokens": 0, "format": None, "error": None, "rai_data": [],
                       "rai_model": [], "fail": False}
        inspect["sha256"] = self._sha.hexdigest()
        backend = self.backend
        with backend.lock:
            if self.purpose == "fine-tune":
                self._check_limits(caller)
            now = backend.now()
            record = {
                "id": self.file_id, "object": "file", "bytes": self.size, "created_at": int(now),
                "filename": filename, "purpose": self.purpose, "status": "pending", "status_details": None,
                "_account": caller.account, "_created": now, "_seq": backend.store.next_sequence(),
                "_inspect": inspect,
            }
            backend.store["files"][self.file_id] = record
            backend.save()
        return public(record)


    def _check_limits(self, caller: Caller) -> None:
        extra = self.backend.config.extra
        max_files = int(extra.get("max_files", MAX_FILES))
        max_total = int(extra.get("max_total_file_bytes", MAX_TOTAL_FILE_BYTES))
        mine = [f for f in self.backend.store["files"].values()
                if f["_account"] == caller.account and f["purpose"] == "fine-tune"]
        total = sum(f["bytes"] for f in mine)
        problem = None
        if len(mine) >= max_files:
            problem = f"the resource already has {len(mine)} fine-tune files (the limit is {max_files})"
        elif total + self.size > max_total:
            problem = (f"the resource's fine-tune files would take {total + self.size} bytes (the limit is "
                       f"{max_total} bytes in total)")
        if problem:
            self.path.unlink(missing_ok=True)
            raise ServiceError(400, "quotaExceeded", f"The file cannot be stored: {problem}. Delete files that are "
                                                     "no longer needed first.", target="file")


def check_purpose(purpose: Any, allowed: tuple[str, ...] = UPLOAD_PURPOSES) -> str:
    if not isinstance(purpose, str) or not purpose:
        raise invalid_payload("'purpose' is required.", target="purpose")
    if purpose not in allowed:
        raise invalid_payload(f"Invalid purpose '{purpose}'; expected one of {', '.join(allowed)}.", target="purpose")
    return purpose


def upload_file(backend, caller: Caller, source, filename: str | None, purpose: str) -> dict[str, Any]:
    """Store an uploaded file read from the binary stream ``source`` (chunk by chunk)."""
    ingest = FileIngest(backend, check_purpose(purpose))
    try:
        ingest.copy_from(source)
    except BaseException:
        ingest.abort()
        raise
    return ingest.finish(caller, filename or "file")


def _import_failed(message: str) -> ServiceError:
    return ServiceError(400, "fileImportFailed", message, target="content_url")


async def import_file(backend, caller: Caller, body: Any) -> dict[str, Any]:
    """``POST /files/import``: fetch ``content_url`` (loopback hosts only) streaming into a blob."""
    import httpx

    if not isinstance(body, dict):
        raise invalid_payload("The request body must be a JSON object.")
    purpose = check_purpose(body.get("purpose"))
    filename = body.get("filename")
    if not isinstance(filename, str) or not filename:
        raise invalid_payload("'filename' is required.", target="filename")
    url = body.get("content_url")
    if not isinstance(url, str) or not url:
        raise invalid_payload("'content_url' is required.", target="content_url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _import_failed(f"The content_url '{url}' is not an http(s) URL.")
    if parts.hostname not in IMPORT_HOSTS:
        raise _import_failed(f"The file could not be imported from '{parts.hostname}': the emulator only imports "
                             "from loopback URLs (127.0.0.1, localhost).")
    ingest = FileIngest(backend, purpose)
    try:
        async with httpx.AsyncClient(timeout=30.0, trust_env=False) as client:
            async with client.stream("GET", url) as response:
                if response.status_code >= 400:
                    raise _import_failed(f"The file could not be imported: GET {url} answered HTTP "
                                         f"{response.status_code}.")
                async for chunk in response.aiter_bytes(1 << 20):
                    ingest.write(chunk)
    except httpx.HTTPError as exc:
        ingest.abort()
        raise _import_failed(f"The file could not be imported from {url}: {exc.__class__.__name__}: {exc}") from None
    except BaseException:
        ingest.abort()
        raise
    return ingest.finish(caller, filename)


def _file(backend, caller: Caller, file_id: str) -> dict[str, Any]:
    record = backend.store["files"].get(file_id)
    if record is None or record["_account"] != caller.account:
        raise not_found(f"File with id '{file_id}' not found.", target="file_id")
    return record


def get_file(backend, caller: Caller, file_id: str) -> dict[str, Any]:
    with backend.lock:
        return public(_file(backend, caller, file_id))


def list_files(backend, caller: Caller, *, purpose: str | None = None, after: str | None = None,
               limit: str | None = None, order: str | None = None) -> dict[str, Any]:
    if purpose:
        check_purpose(purpose, LIST_PURPOSES)
    if order not in (None, "", "asc", "desc"):
        raise invalid_payload("order must be 'asc' or 'desc'.", target="order")
    with backend.lock:
        files = [f for f in backend.store["files"].values()
                 if f["_account"] == caller.account and (not purpose or f["purpose"] == purpose)]
        items = _newest_first(files)
        if not caller.preview:
            # Files_List of 2024-10-21 takes only `purpose` and answers {object, data}: no paging, no
            # has_more; `after`, `limit` and `order` are ignored as the service ignores them (rule L1).
            return {"object": "list", "data": [public(i) for i in items]}
        if order == "asc":
            items.reverse()
        page = _page(items, after, limit, default=10000, maximum=10000)
        page.pop("has_more")  # FileList has no has_more in 2025-04-01-preview either: a short page ends it
        return page


def delete_file(backend, caller: Caller, file_id: str) -> dict[str, Any]:
    with backend.lock:
        _file(backend, caller, file_id)
        del backend.store["files"][file_id]
        backend.store.blob_path(file_id).unlink(missing_ok=True)
        backend.save()
    return {"object": "file", "deleted": True, "id": file_id}


def file_content_path(backend, caller: Caller, file_id: str) -> Path:
    with backend.lock:
        _file(backend, caller, file_id)
        path = backend.store.blob_path(file_id)
    if not path.exists():
        raise not_found(f"The content of file '{file_id}' is not available.", target="file_id")
    return path


# -- fine-tuning jobs ---------------------------------------------------------------------------
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_hyperparameters(hp: Any, target: str, method: str) -> dict[str, Any]:
    if hp is None:
        return {}
    if not isinstance(hp, dict):
        raise invalid_payload(f"'{target}' must be an object.", target=target)
    allowed = {"n_epochs", "batch_size", "learning_rate_multiplier"}
    if method == "dpo":
        allowed |= {"beta", "l2_multiplier"}
    out: dict[str, Any] = {}
    for name, value in hp.items():
        where = f"{target}.{name}"
        if method == "reinforcement" and name not in allowed:
            out[name] = value  # eval_interval, reasoning_effort, ...: passed through
            continue
        if name not in allowed:
            raise invalid_payload(f"Unknown hyperparameter '{name}' for the {method} method; expected "
                                  f"{', '.join(sorted(allowed))}.", target=where)
        if value is None:
            continue
        auto = value == "auto" or (value == -1 and not isinstance(value, bool)
                                   and name in ("n_epochs", "batch_size", "learning_rate_multiplier"))
        if name == "n_epochs" and not auto and not (_is_int(value) and 1 <= value <= 50):
            raise invalid_payload(f"n_epochs must be an integer from 1 to 50, or -1 / 'auto'; got {value!r}.",
                                  target=where)
        if name == "batch_size" and not auto and not (_is_int(value) and 1 <= value <= 256):
            raise invalid_payload(f"batch_size must be an integer from 1 to 256, or -1 / 'auto'; got {value!r}.",
                                  target=where)
        if name == "learning_rate_multiplier" and not auto and not (_is_number(value) and value > 0):
            raise invalid_payload(f"learning_rate_multiplier must be a number greater than 0, or -1 / 'auto'; "
                                  f"got {value!r}.", target=where)
        if name == "beta" and not auto and not (_is_number(value) and 0 < value <= 2):
            raise invalid_payload(f"beta must be a number in (0, 2], or 'auto'; got {value!r}.", target=where)
        if name == "l2_multiplier" and not auto and not (_is_number(value) and value >= 0):
            raise invalid_payload(f"l2_multiplier must be a number >= 0, or 'auto'; got {value!r}.", target=where)
        out[name] = value
    return out


def _check_training_file(backend, caller: Caller, file_id: Any, param: str) -> dict[str, Any]:
    label = param.replace("_", " ")
    if not isinstance(file_id, str) or not file_id:
        raise invalid_payload(f"'{param}' must be a file id.", target=param)
    record = backend.store["files"].get(file_id)
    if record is None or record["_account"] != caller.account:
        raise invalid_payload(f"The {label} '{file_id}' does not exist in this resource.", target=param)
    if record["purpose"] != "fine-tune":
        raise invalid_payload(f"The {label} '{file_id}' has purpose '{record['purpose']}'; upload it with "
                              "purpose 'fine-tune'.", target=param)
    if record["status"] == "error":
        raise invalid_payload(f"The {label} '{file_id}' failed validation: {record.get('status_details')}",
                              target=param)
    if record["status"] != "processed":
        # Azure's wording (rule L2 of docs/azure-rules.md); clients tell it by the file's status
        raise invalid_payload("The specified file reference must point to a completed file import.", target=param)
    return record


def _resolve_model(backend, caller: Caller, model: Any, training_type: str | None) -> tuple[str, dict[str, Any]]:
    """(root base model id, its catalog entry) for a job's ``model``, or a 400."""
    if not isinstance(model, str) or not model:
        raise invalid_payload("'model' is required.", target="model")
    fine_tuned = backend.store["models"].get(model)
    if fine_tuned is not None and fine_tuned["_account"] == caller.account:
        root = fine_tuned["_root_model"]
    elif ".ft-" in model:
        raise invalid_payload(f"The fine-tuned model '{model}' does not exist in this resource; continuous "
                              "fine-tuning starts from a fine-tuned model of the same resource.", target="model")
    else:
        root = model
    entry = catalog.base_model(caller.region, root)
    unsupported = "The specified base model does not support fine-tuning."
    if entry is None or not entry["methods"]:
        raise invalid_payload(unsupported, target="model")
    if training_type is None and not entry["fine_tune"]:  # no trainingType: Standard, and Azure's message
        regions = ", ".join(sorted(entry["fine_tune_regions"]))
        raise invalid_payload(f"{unsupported} ('{root}' can be fine-tuned in {regions}; this resource is in "
                              f"{caller.region}.)", target="model")
    if training_type is not None:
        problem = catalog.training_type_problem(caller.region, root, training_type)
        if problem:
            name = catalog.TRAINING_TYPE_NAMES[training_type]
            raise invalid_payload(f"{name} TrainingType is not supported. {problem}", target="trainingType")
    return root, entry


def create_job(backend, caller: Caller, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid_payload("The request body must be a JSON object.")
    training_type = body.get("trainingType", body.get("training_type"))
    if training_type is not None and (not isinstance(training_type, str)
                                      or training_type.lower() not in TRAINING_TYPES):
        raise invalid_payload("trainingType must be one of Standard, GlobalStandard, developerTier.",
                              target="trainingType")
    if isinstance(training_type, str) and training_type.lower() == "developertier" \
            and training_type != DEVELOPER_TIER:
        # the live service's (misleading) answer to any other spelling of the developer tier (rule T1)
        raise invalid_payload(FINE_TUNING_JOB_REQUIRED, target="fineTuningJob")
    suffix = body.get("suffix")
    if suffix is not None and (not isinstance(suffix, str) or not SUFFIX_RE.match(suffix)):
        raise invalid_payload("suffix may contain up to 40 characters (a-z, A-Z, 0-9, - and _).", target="suffix")
    seed = body.get("seed")
    if seed is not None and not (_is_int(seed) and 0 <= seed <= 2**31 - 1):
        raise invalid_payload("seed must be an integer from 0 to 2147483647.", target="seed")
    requested = _check_hyperparameters(body.get("hyperparameters"), "hyperparameters", "supervised")

    method = body.get("method")
    if method is not None:
        if not caller.preview:
            raise invalid_payload(f"'method' needs api-version {PREVIEW_FROM}-preview or later "
                                  f"(this request uses {caller.api_version}).", target="method")
        if not isinstance(method, dict) or method.get("type") not in ("supervised", "dpo", "reinforcement"):
            raise invalid_payload("method.type must be 'supervised', 'dpo' or 'reinforcement'.", target="method.type")
        method_type = method["type"]
        section = method.get(method_type) or {}
        if not isinstance(section, dict):
            raise invalid_payload(f"method.{method_type} must be an object.", target=f"method.{method_type}")
        requested.update(_check_hyperparameters(section.get("hyperparameters"),
                                                f"method.{method_type}.hyperparameters", method_type))
        if method_type == "reinforcement" and not isinstance(section.get("grader"), dict):
            raise invalid_payload("Reinforcement fine-tuning needs method.reinforcement.grader.",
                                  target="method.reinforcement.grader")
        method = json.loads(json.dumps(method))
    else:
        method_type = None

    with backend.lock:
        tt = training_type.lower() if training_type is not None else None
        root, entry = _resolve_model(backend, caller, body.get("model"), tt)
        lifecycle.check_queue(backend, caller.account, "developer" if tt == "developertier" else "standard")
        if method_type is None:
            method_type = entry["methods"][0]
            if method_type != "supervised":
                raise invalid_payload(f"'{root}' is fine-tuned with the {method_type} method: set method.type.",
                                      target="method.type")
        if method_type not in entry["methods"]:
            raise invalid_payload(f"'{root}' does not support the '{method_type}' fine-tuning method (supported: "
                                  f"{', '.join(entry['methods'])}).", target="method.type")
        training = _check_training_file(backend, caller, body.get("training_file"), "training_file")
        validation = None
        if body.get("validation_file") is not None:
            validation = _check_training_file(backend, caller, body["validation_file"], "validation_file")
        elif method_type == "reinforcement":
            raise invalid_payload("Reinforcement fine-tuning needs a validation_file.", target="validation_file")

        now = backend.now()
        job_id = backend.new_id("ftjob")
        hexid = job_id.split("-", 1)[1]
        if seed is None:
            seed = int(hexid[:8], 16) % (2**31 - 1)
        echo = {name: requested.get(name, -1) for name in ("n_epochs", "batch_size", "learning_rate_multiplier")}
        job: dict[str, Any] = {
            "id": job_id, "object": "fine_tuning.job", "created_at": int(now), "status": "pending",
            "model": body["model"], "fine_tuned_model": None, "training_file": training["id"],
            "validation_file": validation["id"] if validation else None, "result_files": [],
            "hyperparameters": echo, "suffix": suffix, "seed": seed, "trained_tokens": None, "error": None,
            "estimated_finish": None, "finished_at": None,
        }
        if method is not None:
            job["method"] = method
        for optional in ("integrations", "metadata"):
            if body.get(optional) is not None:
                job[optional] = body[optional]
        if training_type is not None:
            job["trainingType"] = training_type
        if method_type == "dpo":
            needs = ["preference"]
        elif method_type == "reinforcement":
            needs = ["prompt", "chat"]
        else:
            needs = ["completion"] if entry["kind"] == "completion" else ["chat"]
        job.update({
            "_account": caller.account, "_created": now, "_seq": backend.store.next_sequence(), "_shift": 0.0,
            "_paused_at": None, "_root_model": root, "_method_type": method_type, "_needs_format": needs,
            "_state": {"validating": False, "started": False, "step": 0, "trained": False, "slot": None},
        })
        job["_plan"] = lifecycle.plan_job(job, training=training, validation=validation, root_model=root,
                                          method_type=method_type, requested=requested)
        job["_plan"]["fine_tuned_model"] = f"{root}.ft-{hexid}" + (f"-{suffix}" if suffix else "")
        backend.store["jobs"][job_id] = job
        lifecycle.add_event(backend, job, now, "Job enqueued. Waiting for jobs ahead to complete.")
        backend.save()
        return public_job(job, caller)


def _job(backend, caller: Caller, job_id: str) -> dict[str, Any]:
    job = backend.store["jobs"].get(job_id)
    if job is None or job["_account"] != caller.account:
        raise not_found(f"Fine-tuning job '{job_id}' not found.", target="fine_tuning_job_id")
    return job


def _state_error(job: dict[str, Any], action: str, allowed: Iterable[str]) -> ServiceError:
    return ServiceError(409, "unexpectedEntityState",
                        f"The job {job['id']} cannot be {action}: its status is '{job['status']}' "
                        f"(allowed: {', '.join(allowed)}).", target="fine_tuning_job_id")


def get_job(backend, caller: Caller, job_id: str) -> dict[str, Any]:
    with backend.lock:
        return public_job(_job(backend, caller, job_id), caller)


def list_jobs(backend, caller: Caller, *, after: str | None = None, limit: str | None = None) -> dict[str, Any]:
    with backend.lock:
        jobs = [j for j in backend.store["jobs"].values() if j["_account"] == caller.account]
        return _page(_newest_first(jobs), after, limit, default=20, maximum=100,
                     show=lambda job: public_job(job, caller))


def cancel_job(backend, caller: Caller, job_id: str) -> dict[str, Any]:
    with backend.lock:
        job = _job(backend, caller, job_id)
        allowed = ("pending", "running", "pausing", "paused", "resuming")
        if job["status"] not in allowed:
            raise _state_error(job, "cancelled", allowed)
        lifecycle.cancel(backend, job, backend.now())
        backend.save()
        return public_job(job, caller)


def pause_job(backend, caller: Caller, job_id: str) -> dict[str, Any]:
    _require_preview(caller)
    with backend.lock:
        job = _job(backend, caller, job_id)
        if job["status"] != "running" or job["_state"]["step"] < 1:
            raise _state_error(job, "paused", ("running, with at least one trained step",))
        lifecycle.pause(backend, job, backend.now())
        backend.save()
        return public_job(job, caller)


def resume_job(backend, caller: Caller, job_id: str) -> dict[str, Any]:
    _require_preview(caller)
    with backend.lock:
        job = _job(backend, caller, job_id)
        if job["status"] != "paused":
            raise _state_error(job, "resumed", ("paused",))
        lifecycle.resume(backend, job, backend.now())
        backend.save()
        return public_job(job, caller)


def _require_preview(caller: Caller) -> None:
    """Pause/resume exist from the preview API versions on; older versions have no such route."""
    if not caller.preview:
        raise resource_not_found()


def delete_job(backend, caller: Caller, job_id: str) -> None:
    """``DELETE /fine_tuning/jobs/{id}`` (``FineTuning_Delete``): the only delete of a fine-tuned model the
    data-plane specs have -- neither 2024-10-21 nor 2025-04-01-preview defines ``DELETE /models/{id}``.
    Deleting a succeeded job removes its model and checkpoints with it, and is refused (409) while the
    model or one of its checkpoints is deployed in any account (rule D1 of docs/azure-rules.md)."""
    with backend.lock:
        job = _job(backend, caller, job_id)
        if job["status"] not in lifecycle.TERMINAL:
            raise _state_error(job, "deleted", lifecycle.TERMINAL)
        model = job.get("fine_tuned_model")
        names = [model] if model else []
        names += [c["fine_tuned_model_checkpoint"] for c in backend.store["checkpoints"].get(job_id, [])]
        names += [c["id"] for c in backend.store["checkpoints"].get(job_id, [])]
        users = sorted({u for name in names for u in _deployments_using(backend, name)})
        if users:
            raise ServiceError(409, "conflict",
                               f"The fine-tuning job '{job_id}' cannot be deleted while its model '{model}' is "
                               f"deployed (deployments: {', '.join(users)}). Delete the deployments first.",
                               target="fine_tuning_job_id")
        del backend.store["jobs"][job_id]
        backend.store["events"].pop(job_id, None)
        backend.store["checkpoints"].pop(job_id, None)
        if model and backend.store["models"].get(model, {}).get("fine_tune") == job_id:
            del backend.store["models"][model]
        backend.save()


def list_events(backend, caller: Caller, job_id: str, *, after: str | None = None,
                limit: str | None = None) -> dict[str, Any]:
    with backend.lock:
        _job(backend, caller, job_id)
        events = sorted(backend.store["events"].get(job_id, []), key=lambda e: e["_seq"], reverse=True)
        return _page(events, after, limit, default=20, maximum=1000)


def list_checkpoints(backend, caller: Caller, job_id: str, *, after: str | None = None,
                     limit: str | None = None) -> dict[str, Any]:
    with backend.lock:
        _job(backend, caller, job_id)
        checkpoints = sorted(backend.store["checkpoints"].get(job_id, []), key=lambda c: c["_seq"], reverse=True)
        # Rule CK1: Azure lists the three most recent checkpoints only (the deployable ones)
        return _page(checkpoints[:lifecycle.DEPLOYABLE_CHECKPOINTS], after, limit, default=10, maximum=100)


# -- models -----------------------------------------------------------------------------------------
def _base_model_object(entry: dict[str, Any]) -> dict[str, Any]:
    fine_tune = bool(entry["fine_tune"] and entry["methods"])
    deprecation = {"inference": entry["deprecation"]["inference"]}
    if fine_tune:
        deprecation["fine_tune"] = entry["deprecation"]["fine_tune"]
    return {
        "id": entry["id"], "object": "model", "created_at": entry["created_at"], "status": "succeeded",
        "capabilities": {"fine_tune": fine_tune, "inference": True, "completion": entry["kind"] == "completion",
                         "chat_completion": entry["kind"] == "chat", "embeddings": entry["kind"] == "embeddings"},
        "lifecycle_status": entry["lifecycle_status"], "deprecation": deprecation,
    }


def list_models(backend, caller: Caller) -> dict[str, Any]:
    data = [_base_model_object(e) for e in catalog.base_models(caller.region)]
    with backend.lock:
        tuned = [m for m in backend.store["models"].values() if m["_account"] == caller.account]
        data += [public(m) for m in sorted(tuned, key=lambda m: m["_seq"])]
    return {"object": "list", "data": data}


def get_model(backend, caller: Caller, model_id: str) -> dict[str, Any]:
    with backend.lock:
        record = backend.store["models"].get(model_id)
        if record is not None and record["_account"] == caller.account:
            return public(record)
    entry = catalog.base_model(caller.region, model_id)
    if entry is None or ".ft-" in model_id:
        raise not_found(f"Model '{model_id}' not found.", target="model")
    return _base_model_object(entry)


def _deployments_using(backend, model_name: str) -> list[str]:
    """Ids (or names) of the deployments of ``model_name``, from the management plane."""
    lookup = getattr(management, "deployments_using_model", lambda b, m: [])
    return [str(d.get("id") or d.get("name")) if isinstance(d, dict) else str(d)
            for d in lookup(backend, model_name) or []]


# -- for the management plane -----------------------------------------------------------------------
def delete_account_data(backend, account_name: str) -> None:
    """Remove everything the data plane holds for an account (its files and their blobs, jobs, events,
    checkpoints, fine-tuned models): called by the management plane when the account is deleted."""
    with backend.lock:
        store = backend.store
        for file_id in [k for k, f in store["files"].items() if f.get("_account") == account_name]:
            del store["files"][file_id]
            store.blob_path(file_id).unlink(missing_ok=True)
        for job_id in [k for k, j in store["jobs"].items() if j.get("_account") == account_name]:
            del store["jobs"][job_id]
            store["events"].pop(job_id, None)
            store["checkpoints"].pop(job_id, None)
        for name in [k for k, m in store["models"].items() if m.get("_account") == account_name]:
            del store["models"][name]


def resolve_deployable_model(backend, account_name: str, model_name: str, version: str | None = None
                             ) -> dict[str, Any]:
    """What deploying ``model_name`` from account ``account_name`` would deploy.

    Returns ``{"kind": "base"|"fine_tuned"|"checkpoint", "name", "account", "base_model", "deployable",
    "reason"}`` (``base_model``: the catalog base model at the root of a fine-tuned lineage; ``reason``:
    why it cannot be deployed, else None). Raises :class:`ServiceError` (404 ``notFound``) when the
    account has no such model. ``version`` helps find base models by ARM name + version.
    """
    with backend.lock:
        account = backend.account(account_name)
        if account is None:
            raise not_found(f"The Azure OpenAI resource '{account_name}' does not exist.")
        if model_name.startswith("ftchkpt-"):  # a checkpoint given by its id (rule CK1): its model name
            for checkpoints in backend.store["checkpoints"].values():
                for checkpoint in checkpoints:
                    if checkpoint["id"] == model_name and checkpoint["_account"] == account_name:
                        model_name = checkpoint["fine_tuned_model_checkpoint"]
        record = backend.store["models"].get(model_name)
        if record is not None and record["_account"] == account_name:
            rai = record.get("_rai_categories") or []
            return {"kind": "fine_tuned", "name": model_name, "account": account_name,
                    "base_model": record["_root_model"], "deployable": not rai,
                    "reason": lifecycle.rai_model_message(rai) if rai else None}
        if ":ckpt-step-" in model_name:
            for job_id, checkpoints in backend.store["checkpoints"].items():
                for checkpoint in checkpoints:
                    if (checkpoint["fine_tuned_model_checkpoint"] == model_name
                            and checkpoint["_account"] == account_name):
                        ok, reason = lifecycle.checkpoint_deployability(backend, job_id, checkpoint)
                        job = backend.store["jobs"].get(job_id)
                        root = job["_root_model"] if job else model_name.split(".ft-")[0]
                        return {"kind": "checkpoint", "name": model_name, "account": account_name,
                                "base_model": root, "deployable": ok, "reason": reason}
    if ".ft-" not in model_name:
        entry = catalog.base_model(account.get("location", ""), model_name, version)
        if entry is not None:
            return {"kind": "base", "name": entry["id"], "account": account_name, "base_model": entry["id"],
                    "deployable": True, "reason": None}
    raise not_found(f"The model '{model_name}' does not exist in the Azure OpenAI resource '{account_name}'.",
                    target="model")

