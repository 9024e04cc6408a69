"""The official contract: Microsoft's OpenAPI (swagger 2.0) specs, per api-version, as validators.

The spec files are copies, byte for byte, in ``specs/`` beside this module (provenance and sha256 in
``specs/README.md``). :func:`for_request` picks the contract of the api-version a request names;
:meth:`Contract.check_request` says what in a request the spec does not define (an operation it does
not have, a query parameter it does not declare, a missing required parameter, a body that does not
validate) and :meth:`Contract.check_response` what in an answer breaks the operation's response schema.
The emulator's strict contract mode (:mod:`.strict`) answers the first with 400 and turns the second
into a 500; the tests use the same checks.

Validation is done by ``jsonschema`` (Draft 7) on JSON Schemas converted from the swagger definitions:

- ``$ref`` across files (the ARM spec's ``common-types``) resolve inside ``specs/``;
- ``allOf`` is merged into one object, and objects are **closed**: a property the spec does not define
  is an error (swagger leaves this open; a service may ignore such a field silently, which is exactly
  what the tests must catch);
- a discriminated hierarchy (``discriminator``) validates a value against the subtype its
  discriminator names (``x-ms-discriminator-value``, else the subtype whose name starts with the value:
  ``dpo`` -> ``DpoMethodRequest``), whichever member of the hierarchy the referring schema names
  (2025-04-01-preview types ``method`` as ``SupervisedMethodRequest`` but documents dpo as well);
- ``x-nullable`` admits null; ``format`` is not checked; enums are enforced in requests, and in
  responses only where the spec closes them (``modelAsString: false``).

The inference spec (chat completions) is **OpenAPI 3.0**, not swagger 2.0: its ``requestBody`` is read as
the body parameter, parameters and answers through their ``schema``/``content``, ``nullable`` like
``x-nullable``, ``#/components/schemas`` like ``#/definitions``, and ``oneOf`` as ``anyOf`` (a value must
match one of the alternatives; that it matches only one is not checked, since the converted alternatives
can overlap where the spec's do not -- the check is no stricter than the spec says).

Fields that Azure documents but no spec defines are added as **overlays** (:data:`OVERLAYS`), each
citing its source; the spec files themselves are never changed.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

SPECS_DIR = Path(__file__).resolve().parent / "specs"

#: (plane, api-version) -> spec file in specs/.
SPECS: dict[tuple[str, str], str] = {
    ("data", "2024-10-21"): "azureopenai-dataplane-2024-10-21.json",
    ("data", "2025-04-01-preview"): "azureopenai-dataplane-2025-04-01-preview.json",
    ("arm", "2025-06-01"): "cognitiveservices-arm-2025-06-01.json",
    ("arm", "2025-07-01-preview"): "cognitiveservices-arm-2025-07-01-preview.json",
    ("inference", "2024-10-21"): "azureopenai-inference-2024-10-21.json",
}

#: api-versions the emulator serves whose spec is not copied yet: requests naming them are not checked
#: (docs/azure-rules.md, "The contract" says which). Empty: every api-version the provider sends has its spec.
UNCHECKED: set[tuple[str, str]] = set()

#: Paths no spec covers, answered without a contract check: the emulator's own controls and the ARM
#: operation-status URLs the service hands out in Azure-AsyncOperation/Location headers (not spec
#: operations).
EXEMPT = (
    re.compile(r"^/_emulator(/|$)"),
    re.compile(r"^/subscriptions/[^/]+/providers/Microsoft\.CognitiveServices/locations/[^/]+/operationResults/",
               re.IGNORECASE),
)

#: Inference (chat completions and the other ``/deployments/{id}/...`` calls) is described by a spec of its
#: own, one per api-version. Only 2024-10-21 (the provider's default) is copied: inference requests naming
#: another api-version are served without a contract check (docs/azure-rules.md, "The contract").
INFERENCE_UNCHECKED_OTHER_VERSIONS = True

_DATA_PLANE = re.compile(r"^/accounts/(?P<account>[^/]+)/openai(?P<rest>/.*)?$")
_INFERENCE = re.compile(r"^/deployments/[^/]+/")

# -- overlays: documented, not in the specs ------------------------------------------------------
_TRAINING_TYPE = {
    "type": "string",
    # T1 of docs/azure-rules.md: the documented spellings (the 2025-02-27 REST sample's lower case too)
    "enum": ["Standard", "GlobalStandard", "developerTier", "standard", "globalstandard"],
    "description": "overlay: includes/fine-tuning-rest.md ('Select a training type'); not in the spec",
}
_REINFORCEMENT_SECTION = {
    "type": "object",
    "description": "overlay: how-to/reinforcement-fine-tuning.md (ms.date 2025-08-29): grader, hyperparameters",
    "properties": {
        "grader": {"type": "object", "additionalProperties": True},
        "hyperparameters": {"type": "object", "additionalProperties": True},
        "response_format": {"type": "object", "additionalProperties": True},
    },
    "required": ["grader"],
}


def _overlay_preview(spec: dict) -> None:
    """2025-04-01-preview: trainingType (T1) and the reinforcement method (M2), which Azure documents
    only in its how-to pages."""
    defs = spec["definitions"]
    defs["FineTuningJobCreation"]["properties"]["trainingType"] = dict(_TRAINING_TYPE)
    defs["FineTuningJob"]["properties"]["trainingType"] = {"type": "string"}
    method_type = defs["FineTuningMethodType"]
    if "reinforcement" not in method_type["enum"]:
        method_type["enum"].append("reinforcement")
    defs["ReinforcementMethodRequest"] = {
        "type": "object", "required": ["type", "reinforcement"],
        "allOf": [{"$ref": "#/definitions/FineTuneMethodRequest"}],
        "properties": {"type": {"$ref": "#/definitions/FineTuningMethodType"},
                       "reinforcement": _REINFORCEMENT_SECTION},
    }
    defs["ReinforcementMethod"] = {
        "type": "object", "required": ["type"],
        "allOf": [{"$ref": "#/definitions/FineTuneMethod"}],
        "properties": {"type": {"$ref": "#/definitions/FineTuningMethodType"},
                       "reinforcement": dict(_REINFORCEMENT_SECTION, required=[])},
    }


def _overlay_inference(spec: dict) -> None:
    """Inference 2024-10-21: ``model`` in a chat completions body. The spec leaves it out (the deployment is in
    the path), but Azure's own client sends it: openai-python's ``AzureOpenAI`` (``lib/azure.py``,
    ``_build_request``) builds ``/deployments/{model}/chat/completions`` from the body's ``model`` and sends the
    body unchanged, so every request of that SDK carries it and the service accepts it."""
    request = spec["components"]["schemas"]["createChatCompletionRequest"]["allOf"][1]["properties"]
    request["model"] = {"type": "string", "description": "overlay: sent by openai-python's AzureOpenAI client"}


#: spec file -> functions that add what Azure documents outside the spec (cited in each).
OVERLAYS = {
    "azureopenai-dataplane-2025-04-01-preview.json": (_overlay_preview,),
    "azureopenai-inference-2024-10-21.json": (_overlay_inference,),
}


# -- loading -------------------------------------------------------------------------------------
class ContractError(Exception):
    """A spec file of ours is missing or broken (never a reason to skip: the project ships them)."""


@functools.lru_cache(maxsize=None)
def load_document(relative: str) -> dict:
    path = SPECS_DIR / relative
    if not path.is_file():
        raise ContractError(f"the spec file {path} is missing (it ships with the emulator; see specs/README.md)")
    doc = json.loads(path.read_text(encoding="utf-8"))
    for overlay in OVERLAYS.get(relative, ()):
        overlay(doc)
    return doc


def _resolve_file(ref_file: str, current: str) -> str:
    """The specs/-relative file a ``$ref``'s file part names, seen from the document ``current``."""
    if "common-types/" in ref_file:
        return "common-types/" + ref_file.split("common-types/", 1)[1]
    base = Path(current).parent
    return str((base / ref_file).as_posix()).lstrip("./") if ref_file else current


def resolve(ref: str, current: str) -> tuple[dict, str, str]:
    """(schema, its document, its name) of a ``$ref`` seen in ``current``."""
    file_part, _, pointer = ref.partition("#")
    doc_name = _resolve_file(file_part, current) if file_part else current
    node: Any = load_document(doc_name)
    for part in pointer.strip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node, doc_name, pointer.rsplit("/", 1)[-1]


# -- conversion to JSON Schema ------------------------------------------------------------------
class _Converter:
    """Swagger schemas of one contract -> one JSON Schema document with shared definitions."""

    def __init__(self, mode: str) -> None:
        self.mode = mode  # "request" | "response"
        self.definitions: dict[str, Any] = {}
        self._pending: list[tuple[str, str, str]] = []

    def ref(self, ref: str, doc: str) -> dict:
        schema, doc_name, name = resolve(ref, doc)
        key = f"{doc_name}:{name}"
        if key not in self.definitions:
            self.definitions[key] = None  # reserved: recursion refers to it
            self.definitions[key] = self._polymorphic(schema, doc_name, name)
        return {"$ref": "#/definitions/" + _escape(key)}

    def convert(self, schema: Any, doc: str) -> Any:
        if not isinstance(schema, dict):
            return {}
        if "$ref" in schema and len([k for k in schema if not k.startswith(("description", "x-", "readOnly"))]) == 1:
            return self.ref(schema["$ref"], doc)
        parts = schema.get("allOf", [])
        if len(parts) == 1 and "$ref" in parts[0] and not schema.get("properties") and "type" not in schema:
            return self.ref(parts[0]["$ref"], doc)  # a property typed as one definition (maybe polymorphic)
        alternatives = schema.get("oneOf") or schema.get("anyOf")
        if alternatives:  # OpenAPI 3 (inference): one of the alternatives, checked as anyOf
            options = [self.convert(alt, doc) for alt in alternatives]
            if schema.get("nullable") or schema.get("x-nullable"):
                options.append({"type": "null"})
            return {"anyOf": options}
        merged = self._merge(schema, doc)
        out: dict[str, Any] = {}
        kind = merged.get("type")
        if kind is None and (merged["properties"] or merged["allOf"]):
            kind = "object"
        if kind == "file":
            return {}
        if kind:
            out["type"] = [kind, "null"] if _nullable(merged) else kind
        enum = merged.get("enum")
        if enum is not None and self._enforce_enum(merged):
            out["enum"] = list(enum) + ([None] if _nullable(merged) else [])
        for key in ("minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "pattern"):
            if key in merged:
                out[key] = merged[key]
        if kind == "array" and "items" in merged:
            out["items"] = self.convert(merged["items"], merged["items_doc"])
        if kind == "object" or merged["properties"]:
            out["properties"] = {name: self.convert(s, d) for name, (s, d) in merged["properties"].items()}
            extra = merged.get("additionalProperties")
            # a closed object cannot require a name it does not define: such a ``required`` entry is a defect of
            # the spec (inference 2024-10-21 ``ResponseFormatJsonSchema.json_schema`` requires ``type``, which it
            # does not define), not enforced
            required = {r for r in merged["required"] if extra or r in merged["properties"]}
            if required:
                out["required"] = sorted(required)
            if isinstance(extra, dict):
                out["additionalProperties"] = self.convert(extra, merged["additional_doc"])
            else:
                out["additionalProperties"] = bool(extra)  # closed unless the spec opens it
        return out

    def _enforce_enum(self, schema: dict) -> bool:
        if self.mode == "request":
            return True
        return schema.get("x-ms-enum", {}).get("modelAsString") is False

    def _merge(self, schema: dict, doc: str) -> dict:
        """``schema`` with its ``allOf`` parts (and ``$ref`` siblings) folded in."""
        merged: dict[str, Any] = {"properties": {}, "required": set(), "allOf": schema.get("allOf", [])}
        parts = [(schema, doc)]
        seen = set()
        while parts:
            part, part_doc = parts.pop(0)
            if "$ref" in part:
                target, target_doc, _ = resolve(part["$ref"], part_doc)
                if id(target) in seen:
                    continue
                seen.add(id(target))
                parts.append((target, target_doc))
            for sub in part.get("allOf", []):
                parts.append((sub, part_doc))
            for name, prop in part.get("properties", {}).items():
                merged["properties"].setdefault(name, (prop, part_doc))
            merged["required"].update(part.get("required", []))
            for key in ("type", "enum", "x-nullable", "nullable", "x-ms-enum", "minLength", "maxLength", "minimum", "maximum",
                        "minItems", "maxItems", "pattern", "discriminator"):
                if key in part and key not in merged:
                    merged[key] = part[key]
            if "items" in part and "items" not in merged:
                merged["items"], merged["items_doc"] = part["items"], part_doc
            if "additionalProperties" in part and "additionalProperties" not in merged:
                merged["additionalProperties"], merged["additional_doc"] = part["additionalProperties"], part_doc
        return merged

    def _polymorphic(self, schema: dict, doc: str, name: str) -> dict:
        """A definition's schema; for a member of a discriminated hierarchy, the subtype its
        discriminator value names."""
        root = _discriminator_root(schema, doc, name)
        if root is None:
            return self.convert(schema, doc)
        root_schema, root_doc, root_name, prop = root
        subtypes = _subtypes(root_doc, root_name)
        own = self.convert(schema, doc)
        if not subtypes:
            return own
        chain: dict[str, Any] = own
        for sub_name, value in reversed(subtypes):
            sub_schema = _definitions(root_doc)[sub_name]
            if sub_name == name:
                target = own
            else:
                key = f"{root_doc}:{sub_name}"
                if key not in self.definitions:
                    self.definitions[key] = None
                    self.definitions[key] = self.convert(sub_schema, root_doc)
                target = {"$ref": "#/definitions/" + _escape(key)}
            condition = {"properties": {prop: {"enum": [value]}}, "required": [prop]}
            chain = {"if": condition, "then": target, "else": chain}
        return chain


def _nullable(schema: dict) -> bool:
    return bool(schema.get("x-nullable") or schema.get("nullable"))


def _definitions(doc: str) -> dict:
    """The named schemas of a spec file: swagger 2.0 ``definitions`` or OpenAPI 3 ``components.schemas``."""
    loaded = load_document(doc)
    return loaded.get("definitions") or loaded.get("components", {}).get("schemas", {})


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _discriminator_root(schema: dict, doc: str, name: str, depth: int = 0):
    """(root schema, doc, name, discriminator property) of the hierarchy ``name`` belongs to, or None."""
    if depth > 10:
        return None
    if "discriminator" in schema:
        disc = schema["discriminator"]
        return schema, doc, name, disc["propertyName"] if isinstance(disc, dict) else disc
    for sub in schema.get("allOf", []):
        if "$ref" in sub:
            target, target_doc, target_name = resolve(sub["$ref"], doc)
            found = _discriminator_root(target, target_doc, target_name, depth + 1)
            if found:
                return found
    return None


@functools.lru_cache(maxsize=None)
def _subtype_table(doc: str) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for name, schema in _definitions(doc).items():
        for sub in schema.get("allOf", []):
            ref = sub.get("$ref", "")
            if ref.startswith(("#/definitions/", "#/components/schemas/")):
                table.setdefault(ref.rsplit("/", 1)[-1], []).append(name)
    return table


def _subtypes(doc: str, root: str) -> list[tuple[str, str]]:
    """(subtype, discriminator value) of every direct subtype of ``root``."""
    out = []
    for name in _subtype_table(doc).get(root, []):
        schema = _definitions(doc)[name]
        value = schema.get("x-ms-discriminator-value")
        if value is None:
            prop = _definitions(doc)[root]["discriminator"]
            prop = prop["propertyName"] if isinstance(prop, dict) else prop
            enum = _enum_of(schema.get("properties", {}).get(prop), doc) or []
            value = next((v for v in enum if name.lower().startswith(str(v).lower())), name)
        out.append((name, value))
    return out


def _enum_of(schema: Any, doc: str) -> list | None:
    if not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        target, target_doc, _ = resolve(schema["$ref"], doc)
        return _enum_of(target, target_doc)
    return schema.get("enum")


# -- operations ----------------------------------------------------------------------------------
@dataclass
class Operation:
    operation_id: str
    method: str
    template: str
    pattern: re.Pattern
    parameters: list[dict]
    responses: dict[str, Any]
    consumes: list[str]
    doc: str
    _validators: dict = field(default_factory=dict, repr=False)


@dataclass
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class Contract:
    """The operations of one spec file (one plane at one api-version)."""

    def __init__(self, plane: str, api_version: str, spec_file: str) -> None:
        self.plane, self.api_version, self.spec_file = plane, api_version, spec_file
        self.spec = load_document(spec_file)
        self.operations: list[Operation] = []
        self._lock = threading.Lock()
        for template, item in self.spec.get("paths", {}).items():
            shared = item.get("parameters", [])
            regex = "^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template)) + "/?$"
            for method, op in item.items():
                if method == "parameters":
                    continue
                params = [self._param(p) for p in shared + op.get("parameters", [])]
                body = op.get("requestBody")
                if body is not None:  # OpenAPI 3: the JSON body as swagger's body parameter
                    content = body.get("content", {})
                    media = content.get("application/json") or next(iter(content.values()), {})
                    params.append({"name": "body", "in": "formData" if "multipart/form-data" in content else "body",
                                   "required": bool(body.get("required")), "schema": media.get("schema", {})})
                self.operations.append(Operation(
                    op.get("operationId", f"{method} {template}"), method.upper(), template,
                    re.compile(regex, re.IGNORECASE if plane == "arm" else 0), params, op.get("responses", {}),
                    op.get("consumes", self.spec.get("consumes", ["application/json"])), spec_file))

    def _param(self, param: dict) -> dict:
        if "$ref" in param:
            param, _, _ = resolve(param["$ref"], self.spec_file)
        if "schema" in param and param.get("in") in ("query", "path", "header"):  # OpenAPI 3
            param = {**param.get("schema", {}), **{k: v for k, v in param.items() if k != "schema"}}
        return param

    def match(self, method: str, path: str) -> tuple[Operation | None, bool]:
        """(operation, whether the path exists for another method)."""
        path_known = False
        for op in self.operations:
            if op.pattern.match(path):
                path_known = True
                if op.method == method.upper():
                    return op, True
        return None, path_known

    # -- validators ------------------------------------------------------------------------------
    def _validator(self, op: Operation, key: str, schema: dict, mode: str):
        with self._lock:
            found = op._validators.get(key)
            if found is None:
                from jsonschema import Draft7Validator

                conv = _Converter(mode)
                root = conv.convert(schema, op.doc)
                root = dict(root) if isinstance(root, dict) else {}
                root["definitions"] = dict(conv.definitions)  # raw keys: the $ref pointers escape them
                found = op._validators[key] = Draft7Validator(root)
            return found

    def check_request(self, method: str, path: str, query: str, body: Any, content_type: str | None,
                      *, form: dict[str, Any] | None = None) -> list[Problem]:
        """What in this request the contract does not define (``body``: parsed JSON, or None when
        there is none; ``form``: the fields of a multipart body, checked by the route that reads it)."""
        op, path_known = self.match(method, path)
        if op is None:
            what = "this path has no such method" if path_known else "no such operation"
            return [Problem("", f"{method} {path}: {what} in {self.spec_file} (api-version {self.api_version})")]
        problems: list[Problem] = []
        pairs = parse_qsl(query, keep_blank_values=True)
        given = {k: v for k, v in pairs}
        declared = {p["name"]: p for p in op.parameters if p.get("in") == "query"}
        for name in given:
            if name not in declared:
                problems.append(Problem(f"query {name}", f"not a parameter of {op.operation_id}"))
        for name, param in declared.items():
            if name not in given:
                if param.get("required"):
                    problems.append(Problem(f"query {name}", f"required by {op.operation_id}"))
                continue
            problems += _check_scalar(given[name], param, f"query {name}")
        body_params = [p for p in op.parameters if p.get("in") == "body"]
        form_params = [p for p in op.parameters if p.get("in") == "formData"]
        if body_params:
            param = body_params[0]
            if body is None:
                if param.get("required"):
                    problems.append(Problem("body", f"required by {op.operation_id}"))
            else:
                validator = self._validator(op, "request-body", param.get("schema", {}), "request")
                problems += _errors(validator, body, "body")
        elif body is not None and not form_params:
            problems.append(Problem("body", f"{op.operation_id} takes no body"))
        if form_params and form is not None:
            for param in form_params:
                name = param["name"]
                if name not in form:
                    if param.get("required"):
                        problems.append(Problem(f"form {name}", f"required by {op.operation_id}"))
                    continue
                if param.get("type") != "file":
                    problems += _check_scalar(form[name], param, f"form {name}")
            for name in form:
                if name not in {p["name"] for p in form_params}:
                    problems.append(Problem(f"form {name}", f"not a field of {op.operation_id}"))
        return problems

    def response_schema(self, op: Operation, status: int) -> tuple[dict | None, bool]:
        """(schema, declared) of the answer ``status`` of ``op``."""
        answer = op.responses.get(str(status)) or op.responses.get("default")
        if answer is None:
            return None, False
        if "content" in answer:  # OpenAPI 3
            media = answer["content"].get("application/json")
            return (media or {}).get("schema"), True
        return answer.get("schema"), True

    def check_response(self, method: str, path: str, status: int, body: Any) -> list[Problem]:
        op, _ = self.match(method, path)
        if op is None:
            return []
        schema, declared = self.response_schema(op, status)
        if not declared:
            return [Problem("status", f"{status} is not an answer of {op.operation_id} "
                                      f"(declared: {', '.join(op.responses)})")]
        if schema is None:
            return [] if body is None else [Problem("body", f"{op.operation_id} answers {status} without a body")]
        validator = self._validator(op, f"response-{status}", schema, "response")
        return _errors(validator, body, "body")


def _check_scalar(value: Any, param: dict, where: str) -> list[Problem]:
    kind = param.get("type")
    if kind == "integer":
        try:
            int(str(value))
        except ValueError:
            return [Problem(where, f"{value!r} is not an integer")]
    if kind == "boolean" and str(value).lower() not in ("true", "false"):
        return [Problem(where, f"{value!r} is not a boolean")]
    if "enum" in param and value not in param["enum"]:
        return [Problem(where, f"{value!r} is not one of {param['enum']}")]
    return []


def _errors(validator, instance: Any, root: str) -> list[Problem]:
    out = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))[:10]:
        where = root + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        message = error.message
        if error.validator == "additionalProperties":
            message = message.replace("Additional properties are not allowed", "not in the contract")
        out.append(Problem(where, message[:300]))
    return out


# -- which contract ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def contract(plane: str, api_version: str) -> Contract | None:
    spec_file = SPECS.get((plane, api_version))
    return Contract(plane, api_version, spec_file) if spec_file else None


def is_exempt(path: str) -> bool:
    return any(p.match(path) for p in EXEMPT)


def split_path(path: str) -> tuple[str, str] | None:
    """(plane, the path as its spec writes it) of an emulator request path, or None for paths outside
    both planes. Data-plane paths lose their ``/accounts/{account}/openai`` prefix (the spec's host
    template is ``{endpoint}/openai``)."""
    m = _DATA_PLANE.match(path)
    if m:
        rest = m["rest"] or "/"
        return ("inference" if _INFERENCE.match(rest) else "data"), rest
    if path.lower().startswith("/subscriptions/"):
        return "arm", path
    return None


def api_version_of(query: str) -> str | None:
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "api-version":
            return value
    return None


def schema_problems(definition: str, instance: Any, spec_file: str, *, mode: str = "response") -> list[Problem]:
    """``instance`` against ``#/definitions/<definition>`` of ``spec_file`` (for tests and examples)."""
    conv = _Converter(mode)
    where = "components/schemas" if "components" in load_document(spec_file) else "definitions"
    root = dict(conv.ref(f"#/{where}/{definition}", spec_file))
    from jsonschema import Draft7Validator

    root["definitions"] = dict(conv.definitions)  # raw keys: the $ref pointers escape them
    return _errors(Draft7Validator(root), instance, definition)


def deep_copy(value: Any) -> Any:
    return copy.deepcopy(value)
