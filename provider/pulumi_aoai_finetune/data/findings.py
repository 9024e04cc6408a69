"""Findings (one problem at one place) and the Report that gathers them with the statistics.

Every finding has a stable rule id (see :data:`RULES`), a severity, the file, the 1-based line
(``None`` for findings about a whole file) and a message that says what is wrong and what to do.
Only the first ``max_per_rule`` findings of each rule are kept, so a huge bad file cannot
exhaust memory; the counts stay exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .stats import DatasetStats

Severity = Literal["error", "warning"]

#: rule id -> (severity, what it checks). Warnings are quality risks; errors fail the job/upload.
RULES: dict[str, tuple[Severity, str]] = {
    # file level
    "file.unreadable": ("error", "the file cannot be opened or read"),
    "file.empty": ("error", "the file has no examples"),
    "file.size": ("error", "the file must be smaller than 512 MB"),
    "file.encoding": ("error", "the file must be UTF-8 (a BOM is accepted)"),
    # JSONL framing
    "jsonl.blank_line": ("warning", "blank line inside the file"),
    "jsonl.invalid_json": ("error", "the line is not valid JSON"),
    "jsonl.not_object": ("error", "the line is JSON but not an object"),
    "jsonl.line_too_long": ("warning", "a line too long to check in constant memory (64 MiB)"),
    "format.mismatch": ("error", "the line is in another data format than the model needs"),
    # chat format
    "chat.messages.missing": ("error", "no 'messages' key"),
    "chat.messages.type": ("error", "'messages' is not a non-empty list"),
    "chat.message.type": ("error", "a message is not an object"),
    "chat.message.key_unknown": ("error", "a message has a key the service rejects"),
    "chat.key.unknown": ("warning", "a top-level key that is not part of the chat format"),
    "chat.role.missing": ("error", "a message without 'role'"),
    "chat.role.unknown": ("error", "a role other than system, user, assistant, tool (developer too in RFT data)"),
    "chat.content.missing": ("error", "a message without content"),
    "chat.content.type": ("error", "content is not a string (or a list of parts)"),
    "chat.content.empty": ("warning", "empty content"),
    "chat.content.part": ("error", "a malformed content part"),
    "chat.name.type": ("error", "'name' is not a string"),
    "chat.weight.value": ("error", "'weight' other than 0 or 1"),
    "chat.weight.role": ("error", "'weight' on a message that is not from the assistant"),
    "chat.assistant.missing": ("error", "no assistant message to learn from"),
    "chat.assistant.no_trainable": ("error", "every assistant message has weight 0"),
    "chat.image.unsupported_model": ("error", "images for a model without vision fine-tuning"),
    "chat.image.role": ("error", "an image outside a user message"),
    "chat.image.url": ("error", "an image URL that is not https or a JPEG/PNG/WEBP data URL"),
    "chat.image.size": ("error", "an inline image larger than 10 MB"),
    "chat.image.count": ("error", "more than 64 images in one example"),
    "chat.image.detail": ("error", "image detail other than low, high, auto"),
    "chat.tools.type": ("error", "a malformed 'tools' list"),
    "chat.tool_calls.type": ("error", "malformed assistant 'tool_calls'"),
    "chat.tool_calls.arguments": ("error", "tool call arguments that are not a JSON string"),
    "chat.tool_calls.undefined": ("warning", "a tool call to a function missing from 'tools'"),
    "chat.tool.call_id": ("error", "a tool message that answers no earlier tool call"),
    # completion format (babbage-002, davinci-002)
    "completion.key.missing": ("error", "no 'prompt' or 'completion'"),
    "completion.key.unknown": ("error", "a key other than prompt and completion"),
    "completion.type": ("error", "prompt or completion is not a string"),
    "completion.empty": ("warning", "an empty completion"),
    # DPO
    "dpo.key.missing": ("error", "no 'input', 'preferred_output' or 'non_preferred_output'"),
    "dpo.key.unknown": ("error", "a top-level key that is not part of the DPO format"),
    "dpo.input.type": ("error", "'input' is not an object with a 'messages' list"),
    "dpo.input.last_role": ("warning", "the input does not end with a user message"),
    "dpo.output.type": ("error", "an output is not a non-empty list of messages"),
    "dpo.output.role": ("error", "an output message whose role is not assistant or tool"),
    "dpo.output.identical": ("warning", "preferred and non-preferred outputs are the same"),
    "rft.messages.missing": ("error", "a reinforcement line without a 'messages' prompt"),
    "rft.messages.last_role": ("error", "a reinforcement prompt that ends with the assistant's answer"),
    "rft.item.missing": ("error", "a field the grader reads as {{item.<field>}} is missing"),
    "rft.item.none": ("warning", "no reference fields at all beside the prompt"),
    # data set level
    "dataset.too_few": ("error", "fewer than 10 examples"),
    "dataset.few": ("warning", "fewer than 100 examples"),
    "dataset.duplicate": ("warning", "an example repeated exactly"),
    "dataset.system_varies": ("warning", "the system message differs between examples"),
    "dataset.overlap": ("warning", "a validation example also in the training file"),
    "dataset.token_budget": ("warning", "more than 2 billion tokens x epochs"),
    "example.too_long": ("warning", "an example over the model's tokens per example"),
    # model / method
    "model.unknown": ("warning", "a model this validator has no limits for"),
    "model.method": ("error", "a method the model cannot be trained with"),
    "model.method_undocumented": ("warning", "DPO for a model Azure does not list for it"),
}


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    rule: str
    file: str
    line: int | None
    message: str

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "rule": self.rule,
            "file": self.file,
            "line": self.line,
            "message": self.message,
        }


class FindingCollector:
    """Keeps the first ``max_per_rule`` findings of each rule and an exact count of all."""

    __slots__ = ("max_per_rule", "kept", "counts")

    def __init__(self, max_per_rule: int = 50) -> None:
        self.max_per_rule = max_per_rule
        self.kept: dict[str, list[Finding]] = {}
        self.counts: dict[str, int] = {}

    def add(self, rule: str, file: str, line: int | None, message: str) -> None:
        severity = RULES[rule][0]
        n = self.counts.get(rule, 0) + 1
        self.counts[rule] = n
        if n <= self.max_per_rule:
            self.kept.setdefault(rule, []).append(Finding(severity, rule, file, line, message))

    def error_count(self) -> int:
        return sum(n for rule, n in self.counts.items() if RULES[rule][0] == "error")


@dataclass(slots=True)
class Report:
    """The result of :func:`validate_file`: findings plus statistics.

    ``findings`` holds the kept findings (first N per rule) in file and line order;
    ``counts`` the exact number per rule.
    """

    model: str
    base_model: str
    method: str
    data_format: str
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    stats: dict[str, DatasetStats] = field(default_factory=dict)
    max_per_rule: int = 50

    @classmethod
    def from_collector(
        cls,
        collector: FindingCollector,
        *,
        model: str,
        base_model: str,
        method: str,
        data_format: str,
        stats: dict[str, DatasetStats],
        file_order: list[str],
    ) -> Report:
        order = {f: i for i, f in enumerate(file_order)}
        findings = [f for kept in collector.kept.values() for f in kept]
        findings.sort(
            key=lambda f: (
                order.get(f.file, len(order)),
                f.line if f.line is not None else -1,
                f.rule,
            )
        )
        return cls(
            model=model,
            base_model=base_model,
            method=method,
            data_format=data_format,
            findings=findings,
            counts=dict(sorted(collector.counts.items())),
            stats=stats,
            max_per_rule=collector.max_per_rule,
        )

    @property
    def error_count(self) -> int:
        return sum(n for rule, n in self.counts.items() if RULES[rule][0] == "error")

    @property
    def warning_count(self) -> int:
        return sum(n for rule, n in self.counts.items() if RULES[rule][0] == "warning")

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return self.error_count == 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def omitted(self) -> dict[str, int]:
        """Per rule, how many findings were counted but not kept."""
        kept: dict[str, int] = {}
        for f in self.findings:
            kept[f.rule] = kept.get(f.rule, 0) + 1
        return {r: n - kept.get(r, 0) for r, n in self.counts.items() if n > kept.get(r, 0)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "model": self.model,
            "base_model": self.base_model,
            "method": self.method,
            "format": self.data_format,
            "error_count": self.error_count,
            "warning_count": self.warning_count,
            "counts": dict(self.counts),
            "omitted": self.omitted(),
            "findings": [f.to_dict() for f in self.findings],
            "stats": {role: s.to_dict() for role, s in self.stats.items()},
        }

    def summary(self, max_lines: int = 20) -> str:
        """A short text for a Pulumi ``CheckFailure``: the verdict and the first errors."""
        if self.ok:
            head = f"training data is valid for {self.model} ({self.method})"
            if self.warning_count:
                head += f", with {self.warning_count} warning(s)"
            return head
        lines = [
            f"training data is not valid for {self.model} ({self.method}): "
            f"{self.error_count} error(s), {self.warning_count} warning(s)"
        ]
        errors = self.errors
        for f in errors[:max_lines]:
            lines.append(f"  {f}")
        rest = self.error_count - min(len(errors), max_lines)
        if rest > 0:
            lines.append(f"  ... and {rest:,} more error(s); run `aoai-ft validate` for all")
        return "\n".join(lines)

    def format_text(self) -> str:
        """The human output of ``aoai-ft validate``: findings grouped by rule, then statistics."""
        out: list[str] = []
        omitted = self.omitted()
        for severity, title in (("error", "Errors"), ("warning", "Warnings")):
            rules = [r for r in self.counts if RULES[r][0] == severity]
            if not rules:
                continue
            total = sum(self.counts[r] for r in rules)
            out.append(f"{title} ({total:,})")
            for rule in rules:
                out.append(f"  {rule} ({self.counts[rule]:,}): {RULES[rule][1]}")
                for f in self.findings:
                    if f.rule == rule:
                        out.append(f"    {f}")
                if rule in omitted:
                    out.append(f"    ... {omitted[rule]:,} more not shown")
            out.append("")
        for s in self.stats.values():
            out.append(s.format_text())
            out.append("")
        verdict = "VALID" if self.ok else "INVALID"
        out.append(
            f"{verdict}: {self.error_count:,} error(s), {self.warning_count:,} warning(s) "
            f"(model {self.model}, method {self.method}, {self.data_format} format)"
        )
        return "\n".join(out)
