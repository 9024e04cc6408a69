"""The case file of an evaluation: JSONL, one case per line, validated like training data.

A case is a conversation to send to the deployment and what a good answer must satisfy::

    {"id": "reset-password",
     "messages": [{"role": "system", "content": "You are Contoso's support assistant."},
                  {"role": "user", "content": "How do I reset my password?"}],
     "expect": {"contains": ["Settings > Security"], "not_contains": "I don't know"},
     "reference": "Open Settings > Security > Reset password."}

Keys of a case:

``id``          optional: a name for the case (1 to 128 printable characters, unique in the file);
                default ``line-<N>``
``messages``    required: chat messages ending with a ``user`` message. Roles ``system``, ``user``,
                ``assistant`` (earlier turns), and ``developer`` with an api-version that has it
                (2024-12-01-preview and later). Content: a string, or content parts (``text``;
                ``image_url`` in user messages), as ``ChatCompletions_Create`` takes them. Tool and
                function messages are not supported in cases.
``expect``      required: at least one grader (see :mod:`.graders`):
                ``exact`` (a string), ``contains`` / ``not_contains`` (a string or a list of
                strings), ``regex`` (a regular expression searched in the answer), ``json``
                (``true``: the answer is a JSON value; or ``{"schema": {...}}``: and it validates
                against that JSON Schema), ``model`` (``true``, or ``{"rubric": "..."}``: the model
                grader judges the answer; needs a model grader); and ``ignore_case`` (true/false,
                for exact, contains and not_contains)
``reference``   optional: a good answer, shown to the model grader and next to a failure

Every problem is reported with file, line and the field (``cases.jsonl:7: expect.regex: ...``).
Limits (a hostile file cannot exhaust memory or time): :data:`MAX_BYTES` per file,
:data:`MAX_LINE_BYTES` per line, :data:`MAX_CASES` cases, :data:`MAX_FINDINGS` findings listed (all
counted). The file is read once, streamed, and hashed (SHA-256) on the way.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import IO, Any, Iterator

MAX_BYTES = 64 * 1024 * 1024
MAX_LINE_BYTES = 1024 * 1024
MAX_CASES = 10_000
MAX_FINDINGS = 200
MAX_MESSAGES = 256
MAX_STRINGS = 100  # in one contains / not_contains list
MAX_PATTERN = 1000  # characters of a regex
MAX_ID = 128
CASE_KEYS = ("id", "messages", "expect", "reference")
GRADER_KEYS = ("exact", "contains", "not_contains", "regex", "json", "model")
EXPECT_KEYS = GRADER_KEYS + ("ignore_case",)
ROLES = ("system", "user", "assistant")
DEVELOPER_ROLE_FROM = "2024-12-01"
_BOM = b"\xef\xbb\xbf"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Case:
    id: str
    line: int
    messages: list[dict[str, Any]]
    expect: dict[str, Any]
    """Normalized: ``contains``/``not_contains`` are lists, ``json`` is ``{"schema": ... | None}``,
    ``model`` is ``{"rubric": ... | None}``."""
    reference: str | None = None

    @property
    def graders(self) -> list[str]:
        return [g for g in GRADER_KEYS if g in self.expect]


@dataclass(frozen=True)
class Finding:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field + ': ' if self.field else ''}{self.message}"


@dataclass
class CaseFile:
    """What reading a case file found: the cases (when asked to keep them), problems, statistics."""

    name: str
    sha256: str = ""
    bytes: int = 0
    cases: list[Case] = field(default_factory=list)
    count: int = 0
    findings: list[Finding] = field(default_factory=list)
    problems: int = 0
    graders: dict[str, int] = field(default_factory=dict)
    prompt_tokens: int = 0
    """Estimated tokens of every case's messages (the heuristic counter of the data validator)."""

    @property
    def ok(self) -> bool:
        return self.problems == 0

    def add(self, line: int | None, where: str, message: str) -> None:
        self.problems += 1
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(Finding(self.name, line, where, message))

    def summary(self, max_lines: int = 20) -> str:
        """The problems, one per line (at most ``max_lines``), for a preview failure."""
        shown = [str(f) for f in self.findings[:max_lines]]
        more = self.problems - len(shown)
        head = f"{self.name}: {self.problems} problem{'s' if self.problems != 1 else ''} in the case file"
        return "\n".join([head, *shown] + ([f"... and {more} more"] if more > 0 else []))


# -- reading ------------------------------------------------------------------------------------------
def read_cases(source: str | IO[bytes], *, name: str | None = None, api_version: str | None = None,
               model_grader: bool = False, keep: bool = True) -> CaseFile:
    """Validate a case file (a path, or a binary stream read once). ``model_grader``: whether a model
    grader is configured (cases that ask for one need it); ``keep``: keep the parsed cases (the run
    needs them; a preview check does not)."""
    from ..data.tokens import TOKENS_PER_MESSAGE, TOKENS_PER_REPLY, HeuristicCounter

    report = CaseFile(name=name or (source if isinstance(source, str) else "cases.jsonl"))
    counter = HeuristicCounter()
    ids: dict[str, int] = {}
    try:
        fh = open(source, "rb") if isinstance(source, str) else source
    except OSError as exc:
        report.add(None, "", f"cannot be read: {exc.strerror or exc}")
        return report
    digest = hashlib.sha256()
    try:
        for number, raw in _lines(fh, digest, report):
            if raw is None:
                continue
            case = _case(raw, number, report, ids, api_version, model_grader)
            if case is None:
                continue
            report.count += 1
            for g in case.graders:
                report.graders[g] = report.graders.get(g, 0) + 1
            report.prompt_tokens += counter.count(_texts(case.messages)) \
                + TOKENS_PER_MESSAGE * len(case.messages) + TOKENS_PER_REPLY
            if keep:
                report.cases.append(case)
            if report.count >= MAX_CASES:
                report.add(number, "", f"more than {MAX_CASES:,} cases: an evaluation runs at most that many "
                                       "(split the file, or sample it)")
                break
    except OSError as exc:
        report.add(None, "", f"cannot be read: {exc.strerror or exc}")
    finally:
        if isinstance(source, str):
            fh.close()
    report.sha256 = digest.hexdigest()
    if report.count == 0 and report.ok:
        report.add(None, "", "no cases: the file is empty (one JSON object per line)")
    return report


def _lines(fh: IO[bytes], digest, report: CaseFile) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) of each line, hashing as it reads; an over-long line is measured and
    reported without being held."""
    number, pending, skipping = 0, b"", False
    while True:
        chunk = fh.read(1 << 20)
        if not chunk:
            break
        digest.update(chunk)
        report.bytes += len(chunk)
        if report.bytes > MAX_BYTES:
            report.add(None, "", f"larger than {MAX_BYTES // (1024 * 1024)} MiB: an evaluation's cases must fit "
                                 "that (split the file)")
            return
        pending += chunk
        while (end := pending.find(b"\n")) >= 0:
            line, pending = pending[:end], pending[end + 1:]
            number += 1
            if skipping:
                skipping = False
                continue
            if len(line) > MAX_LINE_BYTES:
                report.add(number, "", _long_line())
                continue
            yield number, line
        if len(pending) > MAX_LINE_BYTES and not skipping:
            report.add(number + 1, "", _long_line())
            pending, skipping = b"", True
        elif skipping:
            pending = b""
    if pending and not skipping:
        yield number + 1, pending


def _long_line() -> str:
    return f"a line longer than {MAX_LINE_BYTES // 1024} KiB: one case per line, each at most that long"


def _reject_constant(value: str) -> Any:
    raise ValueError(f"{value} is not valid JSON")


def _case(raw: bytes, number: int, report: CaseFile, ids: dict[str, int], api_version: str | None,
          model_grader: bool) -> Case | None:
    if number == 1 and raw.startswith(_BOM):
        raw = raw[len(_BOM):]
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.add(number, "", f"not valid UTF-8 (byte {exc.start + 1} of the line); save the file as UTF-8")
        return None
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        report.add(number, "", "nested too deeply to be a case")
        return None
    except ValueError as exc:
        report.add(number, "", f"not valid JSON ({exc}); each line must be one JSON object")
        return None
    if not isinstance(obj, dict):
        report.add(number, "", f"a JSON {type(obj).__name__}, not an object with messages and expect")
        return None
    before = report.problems
    unknown = sorted(set(obj) - set(CASE_KEYS))
    if unknown:
        report.add(number, str(unknown[0])[:40], f"unknown key; a case has {', '.join(CASE_KEYS)}")
    case_id = obj.get("id", f"line-{number}")
    if not isinstance(case_id, str) or not case_id.strip() or len(case_id) > MAX_ID or _CONTROL.search(case_id):
        report.add(number, "id", f"must be 1 to {MAX_ID} printable characters, got {_show(case_id)}")
    elif case_id in ids:
        report.add(number, "id", f"{case_id!r} is already the id of line {ids[case_id]}; ids must be unique")
    else:
        ids[case_id] = number
    messages = _messages(obj.get("messages"), number, report, api_version)
    expect = _expect(obj.get("expect"), number, report, model_grader)
    reference = obj.get("reference")
    if reference is not None and not isinstance(reference, str):
        report.add(number, "reference", f"must be a string, got {_show(reference)}")
    if report.problems != before or messages is None or expect is None:
        return None
    return Case(case_id, number, messages, expect, reference)


def _messages(value: Any, number: int, report: CaseFile, api_version: str | None) -> list[dict] | None:
    if value is None:
        report.add(number, "messages", "is required: the conversation to send, ending with a user message")
        return None
    if not isinstance(value, list) or not value:
        report.add(number, "messages", "must be a non-empty list of messages")
        return None
    if len(value) > MAX_MESSAGES:
        report.add(number, "messages", f"{len(value)} messages; at most {MAX_MESSAGES}")
        return None
    roles = ROLES + (("developer",) if api_version and api_version[:10] >= DEVELOPER_ROLE_FROM else ())
    ok = True
    for i, message in enumerate(value):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            report.add(number, where, "must be an object with role and content")
            ok = False
            continue
        role = message.get("role")
        if role not in roles:
            hint = (f" (api-version {api_version or 'in use'} has no developer role: use system, or "
                    "aoai-finetune:apiVersion 2024-12-01-preview or later)") if role == "developer" else ""
            report.add(number, f"{where}.role", f"is {_show(role)}; use one of {', '.join(roles)}{hint}")
            ok = False
        unknown = sorted(set(message) - {"role", "content", "name"})
        if unknown:
            report.add(number, f"{where}.{str(unknown[0])[:40]}", "not supported in a case message (role, content, "
                                                                  "name)")
            ok = False
        if "name" in message and not isinstance(message["name"], str):
            report.add(number, f"{where}.name", "must be a string")
            ok = False
        ok = _content(message.get("content"), role, number, where, report) and ok
    last = value[-1]
    if ok and (not isinstance(last, dict) or last.get("role") != "user"):
        report.add(number, f"messages[{len(value) - 1}].role",
                   "the conversation must end with a user message: that is what the deployment answers")
        ok = False
    return value if ok else None


def _content(content: Any, role: Any, number: int, where: str, report: CaseFile) -> bool:
    if isinstance(content, str):
        if not content.strip() and role == "user":
            report.add(number, f"{where}.content", "is empty")
            return False
        return True
    if not isinstance(content, list) or not content:
        report.add(number, f"{where}.content", "must be a string or a non-empty list of content parts")
        return False
    allowed = ("text", "image_url") if role == "user" else ("text",)
    for j, part in enumerate(content):
        at = f"{where}.content[{j}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in allowed:
            report.add(number, f"{at}.type", f"is {_show(kind)}; a {role} message takes {' or '.join(allowed)} parts")
            return False
        if kind == "text" and not isinstance(part.get("text"), str):
            report.add(number, f"{at}.text", "must be a string")
            return False
        if kind == "image_url":
            url = part.get("image_url", {}).get("url") if isinstance(part.get("image_url"), dict) else None
            if not isinstance(url, str) or not url.startswith(("https://", "data:image/")):
                report.add(number, f"{at}.image_url.url", "must be an https URL or a data:image/ URL")
                return False
    return True


def _strings(value: Any, number: int, where: str, report: CaseFile) -> list[str] | None:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or len(items) > MAX_STRINGS \
            or not all(isinstance(s, str) and s for s in items):
        report.add(number, where, f"must be a non-empty string or a list of 1 to {MAX_STRINGS} non-empty strings, "
                                  f"got {_show(value)}")
        return None
    return list(items)


def _expect(value: Any, number: int, report: CaseFile, model_grader: bool) -> dict[str, Any] | None:
    if value is None:
        report.add(number, "expect", f"is required: what a good answer must satisfy ({', '.join(GRADER_KEYS)})")
        return None
    if not isinstance(value, dict):
        report.add(number, "expect", f"must be an object with graders ({', '.join(GRADER_KEYS)})")
        return None
    before = report.problems
    unknown = sorted(set(value) - set(EXPECT_KEYS))
    if unknown:
        report.add(number, f"expect.{str(unknown[0])[:40]}", f"unknown grader; use {', '.join(EXPECT_KEYS)}")
    if not any(k in value for k in GRADER_KEYS):
        report.add(number, "expect", f"has no grader: give at least one of {', '.join(GRADER_KEYS)}")
    out: dict[str, Any] = {}
    if "ignore_case" in value:
        if not isinstance(value["ignore_case"], bool):
            report.add(number, "expect.ignore_case", "must be true or false")
        out["ignore_case"] = value["ignore_case"]
    if "exact" in value:
        if not isinstance(value["exact"], str):
            report.add(number, "expect.exact", f"must be a string, got {_show(value['exact'])}")
        out["exact"] = value["exact"]
    for key in ("contains", "not_contains"):
        if key in value:
            out[key] = _strings(value[key], number, f"expect.{key}", report)
    if "regex" in value:
        out["regex"] = value["regex"]
        problem = regex_problem(value["regex"])
        if problem:
            report.add(number, "expect.regex", problem)
    if "json" in value:
        spec = value["json"]
        if spec is True:
            out["json"] = {"schema": None}
        elif isinstance(spec, dict) and set(spec) == {"schema"} and isinstance(spec["schema"], dict):
            problem = schema_problem(spec["schema"])
            if problem:
                report.add(number, "expect.json.schema", problem)
            out["json"] = {"schema": spec["schema"]}
        else:
            report.add(number, "expect.json", 'must be true, or {"schema": {...}} with a JSON Schema object')
    if "model" in value:
        spec = value["model"]
        if spec is True:
            out["model"] = {"rubric": None}
        elif isinstance(spec, dict) and set(spec) <= {"rubric"} and isinstance(spec.get("rubric"), str) \
                and spec["rubric"].strip():
            out["model"] = {"rubric": spec["rubric"]}
        else:
            report.add(number, "expect.model", 'must be true, or {"rubric": "..."} with a non-empty rubric')
        if not model_grader:
            report.add(number, "expect.model", "asks for the model grader, but none is configured (model_grader: "
                                               "the deployment that judges, and its rubric)")
    return out if report.problems == before else None


def regex_problem(pattern: Any) -> str | None:
    """Why ``pattern`` cannot be a regex grader, or None."""
    import regex

    if not isinstance(pattern, str) or not pattern:
        return f"must be a non-empty string, got {_show(pattern)}"
    if len(pattern) > MAX_PATTERN:
        return f"{len(pattern)} characters; a pattern may have at most {MAX_PATTERN}"
    try:
        regex.compile(pattern)
    except (regex.error, ValueError, OverflowError, RecursionError) as exc:
        return f"not a valid regular expression ({exc})"
    return None


def schema_problem(schema: dict[str, Any]) -> str | None:
    """Why ``schema`` is not a usable JSON Schema, or None."""
    import jsonschema

    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        where = "/".join(str(p) for p in exc.path)
        return f"not a valid JSON Schema{f' at {where}' if where else ''}: {_clip(exc.message, 200)}"
    except (RecursionError, ValueError, TypeError) as exc:
        return f"not a usable JSON Schema ({type(exc).__name__})"
    if _has_remote_ref(schema):
        return "a $ref to another document: only references inside the schema (#/...) are allowed, nothing is fetched"
    return None


def _has_remote_ref(value: Any, depth: int = 0) -> bool:
    if depth > 100:
        return True
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return True
        return any(_has_remote_ref(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_has_remote_ref(v, depth + 1) for v in value)
    return False


def _texts(messages: list[dict[str, Any]]) -> Iterator[str]:
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            yield content
        elif isinstance(content, list):
            yield from (p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return _clip(text, 60)
