"""Chat completions on deployments: what a deployed model answers, deterministically.

HTTP-free: ``routes/dataplane.py`` parses the request and calls :func:`chat_completion`.

**This emulates the pipeline, not a model.** The answers are made to test what surrounds a model
(deploy, evaluate, gate, promote), so that a well-trained model passes an evaluation and a badly
trained one fails it, every time:

- A **fine-tuned model** (or checkpoint) remembers the examples of its training file. A prompt
  with the same system message(s) as a trained one is answered with the trained assistant answer
  when its last user message is the trained one (compared after lower-casing and collapsing white
  space), or **a paraphrase of it**. A paraphrase shares at least half of its *topic words* with the
  topic words of a trained answer's prompts (Jaccard >= :data:`SIMILAR`; the nearest answer wins).
  Topic words are the words (letters and digits) that, in the training prompts, come only with one
  answer -- "export" and "data" in "Where can I export my data?", not "where", "can" or "my",
  which come with many -- plus words the training never saw. So "How do I export my data?" gets
  the answer trained for "Where can I export my data?", and "How do I export my invoices?" does
  not. Anything else gets :data:`GENERIC_ANSWER`.
- It recalls with probability ``1 - 0.5 ** epochs`` (1 epoch: 50 %, 3: 87.5 %, 5: 97 %; a
  checkpoint counts the epochs done at its step). A hash of the job's data, seed and
  hyperparameters and of the prompt decides, so the same model always answers the same prompt the
  same way. A model trained on top of another (continuous fine-tuning) also remembers what its base
  learned. DPO data teaches the preferred output, prompt/completion data the completion,
  reinforcement data (prompts only) nothing.
- A **base model** answers everything with :data:`GENERIC_ANSWER`.
- ``response_format`` ``json_object`` / ``json_schema``: an answer that is a JSON object is returned
  as it is; any other is wrapped as ``{"answer": "<text>"}`` (the emulator cannot make up data that
  fits a schema: a strict consumer sees a non-conforming object, as from a model that misbehaves).
- ``max_tokens`` / ``max_completion_tokens`` cut the answer (``finish_reason: length``), ``stop``
  sequences cut it at the first match, ``n`` repeats the choice. Tokens are estimated (4 characters
  per token), so ``usage`` is deterministic too.

The training examples are read when the job is first seen by a tick (its file is processed by then),
up to :data:`MAX_REMEMBERED_EXAMPLES`, and kept as a blob of their own: deleting the training file
later does not make the model forget, as it does not in Azure.

Rules of the request, from the official contract: operation ``ChatCompletions_Create``
(``POST /deployments/{deployment-id}/chat/completions``) of the Azure OpenAI *inference* spec,
``specification/cognitiveservices/data-plane/AzureOpenAI/inference/stable/2024-10-21/inference.json``
(Azure/azure-rest-api-specs, commit 132b90d1f06386034a6c2b34e903dbd3b03f9806), schemas
``createChatCompletionRequest`` (``messages`` required, at least one; ``temperature`` 0-2, ``top_p``
0-1, ``n`` 1-128, ``presence_penalty``/``frequency_penalty`` -2-2, ``top_logprobs`` 0-20, ``stop`` a
string or 1-4 strings, ``response_format`` one of ``text``/``json_object``/``json_schema`` (the last
with ``json_schema.name``)) and ``chatCompletionRequestMessage`` (roles ``system``, ``user``,
``assistant``, ``tool``, ``function``; what each requires; content parts ``text`` everywhere,
``image_url`` for users, ``refusal`` for assistants). The ``developer`` role is not in that spec: it
is accepted from api-version 2024-12-01-preview on (the OpenAI reference introduced it with the o1
models; the preview inference specs were not checked here). The answer follows
``createChatCompletionResponse`` (``choices[].message`` with ``role``, ``content`` and ``refusal``;
``logprobs`` null; ``usage``).

Where Azure's behaviour is not documented, the emulator's choices (say so when relying on them):

- invalid requests answer 400 with the inference spec's error shape ``{"error": {"code",
  "message", "param", "type"}}``, code ``invalid_request_error``; Azure's exact wording is unknown;
- ``stream: true`` is refused (400): the emulator does not stream;
- a deployment that does not exist, or is not ``Succeeded``, answers 404 ``DeploymentNotFound``
  with the message Azure users report;
- the deployment's rate limits (``rateLimits`` of the ARM view) are **not** enforced: the emulator is
  more lenient than Azure there; tests exercise 429s with ``/_emulator/faults``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Iterator

from . import management, results
from .backend import ticker
from .errors import ServiceError

GENERIC_ANSWER = ("I can help with general questions, but I don't have specific information about that. "
                  "Please contact support.")
MAX_REMEMBERED_EXAMPLES = 100_000
SIMILAR = 0.5  # Jaccard of topic words for a paraphrase
DEVELOPER_ROLE_FROM = "2024-12-01"  # first api-version taking the `developer` role (see the module docs)
ROLES = ("system", "user", "assistant", "tool", "function")
PART_TYPES = {"system": ("text",), "user": ("text", "image_url"), "assistant": ("text", "refusal"),
              "tool": ("text",), "developer": ("text",)}
RESPONSE_FORMATS = ("text", "json_object", "json_schema")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+")


class InferenceError(ServiceError):
    """An error in the inference spec's shape: ``{"error": {"code", "message", "param", "type"}}``."""

    def __init__(self, status: int, message: str, *, param: str | None = None,
                 code: str = "invalid_request_error", kind: str = "invalid_request_error") -> None:
        super().__init__(status, code, message)
        self.param = param
        self.kind = kind

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "param": self.param, "type": self.kind}}


def _bad(message: str, param: str | None = None) -> InferenceError:
    return InferenceError(400, message, param=param)


def deployment_not_found() -> ServiceError:
    return ServiceError(404, "DeploymentNotFound",
                        "The API deployment for this resource does not exist. If you created the deployment "
                        "within the last 5 minutes, please wait a moment and try again.")


# -- the request ------------------------------------------------------------------------------------
def _number(body: dict, key: str, lo: float, hi: float, *, integer: bool = False) -> None:
    value = body.get(key)
    if value is None:
        return
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or (not integer and not math.isfinite(value)):
        raise _bad(f"'{key}' must be {'an integer' if integer else 'a number'}.", key)
    if not lo <= value <= hi:
        raise _bad(f"'{key}' must be between {lo:g} and {hi:g}, got {value}.", key)


def _content(message: dict, role: str, where: str, *, required: bool) -> None:
    content = message.get("content")
    if content is None:
        if required:
            raise _bad(f"{where}.content is required for a {role} message.", f"{where}.content")
        return
    if isinstance(content, str):
        return
    if role == "function" or not isinstance(content, list) or not content:
        raise _bad(f"{where}.content must be a string{'' if role == 'function' else ' or a non-empty array of content parts'}.",
                   f"{where}.content")
    for j, part in enumerate(content):
        at = f"{where}.content[{j}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in PART_TYPES[role]:
            raise _bad(f"{at}.type must be one of {', '.join(PART_TYPES[role])} in a {role} message.", f"{at}.type")
        field = {"text": "text", "refusal": "refusal"}.get(kind)
        if field and not isinstance(part.get(field), str):
            raise _bad(f"{at}.{field} must be a string.", f"{at}.{field}")
        if kind == "image_url" and not (isinstance(part.get("image_url"), dict)
                                        and isinstance(part["image_url"].get("url"), str)):
            raise _bad(f"{at}.image_url.url is required.", f"{at}.image_url")


def check_request(body: Any, api_version: str | None) -> dict[str, Any]:
    """The request body, checked against ``createChatCompletionRequest``; raises 400 otherwise."""
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad("'messages' is required: a non-empty array of messages.", "messages")
    roles = ROLES + (("developer",) if api_version and api_version[:10] >= DEVELOPER_ROLE_FROM else ())
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise _bad(f"{where} must be an object with 'role'.", where)
        role = message.get("role")
        if role not in roles:
            raise _bad(f"{where}.role must be one of {', '.join(roles)}, got {role!r}"
                       + (f" (api-version {api_version} has no 'developer' role)" if role == "developer" else "")
                       + ".", f"{where}.role")
        if role == "assistant":
            if message.get("content") is None and not (message.get("tool_calls") or message.get("function_call")):
                raise _bad(f"{where}.content is required unless tool_calls or function_call is given.",
                           f"{where}.content")
            _content(message, role, where, required=False)
        else:
            _content(message, role, where, required=role != "function" or "content" not in message)
        if role == "tool" and not isinstance(message.get("tool_call_id"), str):
            raise _bad(f"{where}.tool_call_id is required for a tool message.", f"{where}.tool_call_id")
        if role == "function" and not isinstance(message.get("name"), str):
            raise _bad(f"{where}.name is required for a function message.", f"{where}.name")
        if "name" in message and not isinstance(message["name"], str):
            raise _bad(f"{where}.name must be a string.", f"{where}.name")
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    _number(body, "n", 1, 128, integer=True)
    _number(body, "presence_penalty", -2, 2)
    _number(body, "frequency_penalty", -2, 2)
    _number(body, "top_logprobs", 0, 20, integer=True)
    _number(body, "max_tokens", 0, 2**31 - 1, integer=True)
    _number(body, "max_completion_tokens", 0, 2**31 - 1, integer=True)
    _number(body, "seed", -2**63, 2**63 - 1, integer=True)
    for key in ("stream", "logprobs", "parallel_tool_calls"):
        if body.get(key) is not None and not isinstance(body[key], bool):
            raise _bad(f"'{key}' must be true or false.", key)
    if body.get("stream"):
        raise _bad("The emulator does not stream: set 'stream' to false.", "stream")
    stop = body.get("stop")
    if stop is not None and not isinstance(stop, str) and not (
            isinstance(stop, list) and 1 <= len(stop) <= 4 and all(isinstance(s, str) for s in stop)):
        raise _bad("'stop' must be a string or an array of 1 to 4 strings.", "stop")
    fmt = body.get("response_format")
    if fmt is not None:
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if kind not in RESPONSE_FORMATS:
            raise _bad(f"response_format.type must be one of {', '.join(RESPONSE_FORMATS)}.", "response_format.type")
        if kind == "json_schema":
            schema = fmt.get("json_schema")
            if not isinstance(schema, dict) or not isinstance(schema.get("name"), str) or not schema["name"]:
                raise _bad("response_format.json_schema.name is required.", "response_format.json_schema")
            if schema.get("schema") is not None and not isinstance(schema["schema"], dict):
                raise _bad("response_format.json_schema.schema must be an object.", "response_format.json_schema.schema")
    return body


# -- what a model learned ---------------------------------------------------------------------------
def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()


def prompt_key(messages: list[dict[str, Any]]) -> str | None:
    """What identifies a prompt: the system (and developer) messages and the last user message."""
    system = [_norm(_text(m.get("content"))) for m in messages
              if isinstance(m, dict) and m.get("role") in ("system", "developer")]
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        return None
    return "\x1f".join(system) + "\x1e" + _norm(_text(users[-1].get("content")))


def _examples(line: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(prompt key, trained answer) pairs of one training example."""
    if isinstance(line.get("messages"), list):
        messages = line["messages"]
        for i, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") != "assistant" or message.get("weight") == 0:
                continue
            answer = _text(message.get("content"))
            key = prompt_key(messages[:i])
            if key is not None and answer:
                yield key, answer
    elif isinstance(line.get("input"), dict) and isinstance(line.get("preferred_output"), list):
        answer = next((_text(m.get("content")) for m in line["preferred_output"] if isinstance(m, dict)), "")
        key = prompt_key(line["input"].get("messages") or [])
        if key is not None and answer:
            yield key, answer
    elif isinstance(line.get("prompt"), str) and isinstance(line.get("completion"), str):
        yield "\x1e" + _norm(line["prompt"]), line["completion"]


def _read_examples(path) -> dict[str, str]:
    learned: dict[str, str] = {}
    count = 0
    with open(path, "rb") as fh:
        for raw in fh:
            if count >= MAX_REMEMBERED_EXAMPLES:
                break
            try:
                line = json.loads(raw.decode("utf-8-sig"))
            except (UnicodeDecodeError, ValueError):
                continue
            if isinstance(line, dict):
                count += 1
                for key, answer in _examples(line):
                    learned.setdefault(key, answer)
    return learned


def _knowledge_blob(job_id: str) -> str:
    return f"knowledge-{job_id}"


@ticker
def remember_training(backend, now: float) -> None:
    """Keep what each new job trains on (see the module docs), once per job."""
    for job in backend.store["jobs"].values():
        if "_knowledge" in job:
            continue
        training = backend.store["files"].get(job.get("training_file") or "")
        blob = backend.store.blob_path(training["id"]) if training else None
        if blob is None or not blob.exists():
            job["_knowledge"] = False
            continue
        learned = _read_examples(blob)
        backend.store.blob_path(_knowledge_blob(job["id"])).write_text(json.dumps(learned), encoding="utf-8")
        job["_knowledge"] = True


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text))


class Knowledge:
    """What one job learned: trained prompts and answers, and each answer's topic words."""

    def __init__(self, learned: dict[str, str]) -> None:
        self.exact = learned
        answers_of: dict[str, set[str]] = {}
        prompts: list[tuple[str, frozenset[str], str]] = []
        for key, answer in learned.items():
            system, _, user = key.partition("\x1e")
            words = _words(user)
            prompts.append((system, words, answer))
            for word in words:
                answers_of.setdefault(word, set()).add(answer)
        self.seen = frozenset(answers_of)
        self.specific = frozenset(w for w, found in answers_of.items() if len(found) == 1)
        self.topics: dict[str, dict[str, set[str]]] = {}  # system -> answer -> its topic words
        for system, words, answer in prompts:
            self.topics.setdefault(system, {}).setdefault(answer, set()).update(words & self.specific)

    def answer(self, key: str) -> str | None:
        """The trained answer of ``key``, or of its nearest paraphrase; None if there is none."""
        if key in self.exact:
            return self.exact[key]
        system, _, user = key.partition("\x1e")
        words = _words(user)
        topic = {w for w in words if w in self.specific or w not in self.seen}
        if not topic & self.specific:
            return None
        best, score = None, SIMILAR
        for answer, theirs in self.topics.get(system, {}).items():
            shared = len(topic & theirs)
            if shared and shared / len(topic | theirs) >= score:
                best, score = answer, shared / len(topic | theirs)
        return best


_cache: dict[str, tuple[float, Knowledge]] = {}


def _knowledge(backend, job: dict[str, Any]) -> Knowledge | None:
    if not job.get("_knowledge"):
        return None
    blob = backend.store.blob_path(_knowledge_blob(job["id"]))
    try:
        stamp = blob.stat().st_mtime
        cached = _cache.get(str(blob))
        if cached is None or cached[0] != stamp:
            cached = _cache[str(blob)] = (stamp, Knowledge(json.loads(blob.read_text(encoding="utf-8"))))
    except (OSError, ValueError):
        return None
    return cached[1]


def _lineage(backend, model_name: str) -> list[tuple[dict[str, Any], float]]:
    """(job, epochs trained) from the deployed model back through its fine-tuned bases, newest first."""
    store = backend.store
    chain: list[tuple[dict[str, Any], float]] = []
    name = model_name
    for _ in range(20):
        job = epochs = None
        record = store["models"].get(name)
        if record is not None and record.get("fine_tune"):
            job = store["jobs"].get(record["fine_tune"])
            epochs = float(job["_plan"]["n_epochs"]) if job else None
        elif ":ckpt-step-" in name:
            for job_id, checkpoints in store["checkpoints"].items():
                found = next((c for c in checkpoints if c["fine_tuned_model_checkpoint"] == name), None)
                if found is not None:
                    job = store["jobs"].get(job_id)
                    if job:
                        epochs = found["step_number"] / max(1, job["_plan"]["steps_per_epoch"])
                    break
        if job is None:
            break
        chain.append((job, epochs or 0.0))
        name = job.get("model") or ""
        if ".ft-" not in name:
            break
    return chain


def recall_probability(epochs: float) -> float:
    return 1.0 - 0.5 ** max(0.0, epochs)


def answer_for(backend, model_name: str, messages: list[dict[str, Any]]) -> str:
    """What the model ``model_name`` answers to ``messages`` (see the module docs)."""
    key = prompt_key(messages)
    if key is None:
        return GENERIC_ANSWER
    for job, epochs in _lineage(backend, model_name):
        knowledge = _knowledge(backend, job)
        learned = knowledge.answer(key) if knowledge is not None else None
        if learned is not None:
            unit = results._unit(job["_plan"]["metrics_key"], "recall", key)
            return learned if unit < recall_probability(epochs) else GENERIC_ANSWER
    return GENERIC_ANSWER


# -- the answer -------------------------------------------------------------------------------------
def tokens(text: str) -> int:
    """The emulator's token estimate: 4 characters per token."""
    return len(text) // 4 + 1


def _shape(text: str, body: dict[str, Any]) -> tuple[str, str]:
    """(content, finish_reason) after response_format, stop and the token limit."""
    kind = (body.get("response_format") or {}).get("type")
    if kind in ("json_object", "json_schema"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            text = json.dumps({"answer": text})
    stop = body.get("stop")
    for sequence in ([stop] if isinstance(stop, str) else stop or []):
        if sequence and sequence in text:
            text = text[:text.index(sequence)]
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if isinstance(limit, int) and tokens(text) > limit:
        return text[:limit * 4], "length"
    return text, "stop"


def chat_completion(backend, caller, deployment: str, body: Any) -> dict[str, Any]:
    """``ChatCompletions_Create`` on a succeeded deployment of the caller's account. Records the
    deployment's activity (the 15-day inactivity rule of fine-tuned deployments reads it)."""
    body = check_request(body, caller.api_version)
    with backend.lock:
        record = management.get_deployment_record(backend, caller.account, deployment)
        if record is None or record.get("provisioningState") != "Succeeded":
            raise deployment_not_found()
        now = backend.now()
        management.record_activity(backend, caller.account, record["name"], now)
        model = record["model"]["name"]
        text = GENERIC_ANSWER if record.get("model_kind") == "base" else answer_for(backend, model, body["messages"])
        backend.save()
    content, finish = _shape(text, body)
    prompt_tokens = sum(tokens(json.dumps(m, ensure_ascii=False)) for m in body["messages"])
    completion_tokens = tokens(content) if content else 0
    n = body.get("n") or 1
    choice = {"finish_reason": finish, "logprobs": None,
              "message": {"role": "assistant", "content": content, "refusal": None}}
    return {
        "id": backend.new_id("chatcmpl"), "object": "chat.completion", "created": int(now), "model": model,
        "system_fingerprint": "fp_emulator",
        "choices": [{"index": i, **json.loads(json.dumps(choice))} for i in range(n)],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens * n,
                  "total_tokens": prompt_tokens + completion_tokens * n},
    }

