"""Rules that need special set-ups, the report, statistics, model table and the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from corpus_cases import A, S, U, chat, good_lines, line, msgs
from pulumi_aoai_finetune.data import (
    DEFAULT_MODEL,
    TokenHistogram,
    default_n_epochs,
    model_spec,
    validate_bytes,
    validate_file,
)
from pulumi_aoai_finetune.data import filecheck, reader
from pulumi_aoai_finetune.data.command import validate


def data(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def rules(report) -> list[tuple[str, int | None]]:
    return [(f.rule, f.line) for f in report.findings if f.rule != "dataset.few"]


# ---------------------------------------------------------------------------------- special rules


def test_unreadable_file(tmp_path) -> None:
    report = validate_file(tmp_path / "missing.jsonl")
    assert [(f.rule, f.line) for f in report.findings] == [("file.unreadable", None)]
    assert "cannot open the file" in report.findings[0].message
    assert not report.ok


def test_file_size_limit(monkeypatch) -> None:
    monkeypatch.setattr(filecheck, "MAX_FILE_BYTES", 1000)
    report = validate_bytes(data(good_lines(12)))
    assert ("file.size", None) in rules(report)
    (f,) = [f for f in report.findings if f.rule == "file.size"]
    assert f.message.endswith(
        "MiB; files must be smaller than 512 MB — split it, or import it from Azure Blob storage"
    )


def test_long_line_is_skipped_in_bounded_memory(monkeypatch) -> None:
    monkeypatch.setattr(reader, "MAX_LINE_BYTES", 4096)
    monkeypatch.setattr(reader, "_PIECE", 512)
    big = msgs(S(), U("x" * 10_000), A())
    report = validate_bytes(data(good_lines(6) + [big] + good_lines(12)[6:]))
    assert rules(report) == [("jsonl.line_too_long", 7)]
    (f,) = [f for f in report.findings if f.rule == "jsonl.line_too_long"]
    assert f.message.startswith("line is 0.0 MiB, more than the 0 MiB this validator reads")
    assert report.stats["training"].lines == 13
    assert report.ok  # a warning: the line was not checked


def test_lines_longer_than_a_piece_are_reassembled(monkeypatch) -> None:
    monkeypatch.setattr(reader, "_PIECE", 64)
    lines = good_lines(12) + [line(chat(3))]
    report = validate_bytes(data(lines))
    assert rules(report) == [("dataset.duplicate", 13)]
    assert report.stats["training"].examples == 13


def test_image_size_limit() -> None:
    url = "data:image/png;base64," + "A" * (15 * 1024 * 1024)
    vision = msgs(S(), U([{"type": "image_url", "image_url": {"url": url}}]), A())
    report = validate_bytes(data(good_lines(11) + [vision]), model="gpt-4o-2024-08-06")
    assert rules(report) == [("chat.image.size", 12)]
    assert report.findings[-1].message == (
        "messages[1].content[0] is an image of about 11.2 MB; images must be at most 10 MB — "
        "scale or compress it"
    )


def _nest(depth: int) -> str:
    return "[" * depth + "]" * depth


DEEP = {  # (line with a value nested ``depth`` deep, validator arguments)
    "top": (lambda d: f'{{"messages": {_nest(d)}}}', {}),
    "extra-key": (lambda d: line(chat(0, x=0))[:-1] + f', "y": {_nest(d)}}}', {}),
    "tool-parameters": (lambda d: line(chat(0))[:-1] + ', "tools": [{"type": "function", "function": '
                        f'{{"name": "f", "parameters": {{"a": {_nest(d)}}}}}}}]}}', {}),
    "dpo-outputs": (lambda d: '{"input": {"messages": [{"role": "user", "content": "x"}]}, "preferred_output": '
                    f'[{{"role": "assistant", "content": {_nest(d)}}}], "non_preferred_output": '
                    f'[{{"role": "assistant", "content": {_nest(d)}}}]}}', {"method": "dpo"}),
    "completion": (lambda d: f'{{"prompt": {_nest(d)}, "completion": "x"}}', {"model": "babbage-002"}),
}


@pytest.mark.parametrize("case", sorted(DEEP))
@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_json_nested_deeper_than_python_reads_is_a_finding(case, depth) -> None:
    make, kwargs = DEEP[case]
    report = validate_bytes((make(depth) + "\n").encode(), **kwargs)  # no RecursionError
    (f,) = [f for f in report.findings if "nests JSON" in f.message]
    assert (f.rule, f.line) == ("jsonl.invalid_json", 1)
    assert f.message.startswith("line nests JSON values deeper than this validator reads")
    assert not report.ok


@pytest.mark.parametrize("b64, problem", [
    ("", "is empty"),
    ("iVBORw0KGgo", "is not valid (Incorrect padding)"),
    ("iVBO RwKG", "is not valid (Only base64 data is allowed)"),
    ("iVBORw0KGgo=x", "is not valid (Excess data after padding)"),
    ("iVBORw0KGgo=é", "is not valid (string argument should contain only ASCII characters)"),
])
def test_image_data_url_base64_is_checked(b64, problem) -> None:
    image = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64}"}}
    bad = msgs(S(), U([{"type": "text", "text": "What is it?"}, image]), A())
    report = validate_bytes(data(good_lines(11) + [bad]), model="gpt-4o-2024-08-06")
    assert [(f.rule, f.line, f.message) for f in report.findings if f.rule != "dataset.few"] == [(
        "chat.image.url", 12, f"messages[1].content[1].image_url.url is a data URL whose base64 data {problem}; "
        "encode the image file's bytes with standard base64 (A-Z a-z 0-9 + /, = padding, no spaces)")]
    good = dict(image, image_url={"url": "data:image/png;base64,iVBORw0KGgo="})
    assert validate_bytes(data(good_lines(11) + [msgs(S(), U([good]), A())]),
                          model="gpt-4o-2024-08-06").ok


@pytest.mark.parametrize("arguments, what", [('"{\\"city\\": 1}"', "a string"), ("null", "null"),
                                             ("[1]", "a list"), ("3", "a number")])
def test_tool_call_arguments_must_hold_a_json_object(arguments, what) -> None:
    def example(args: str) -> str:
        return line({"messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                                  "function": {"name": "weather", "arguments": args}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
            {"role": "assistant", "content": "Sunny."}],
            "tools": [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]})

    report = validate_bytes(data(good_lines(11) + [example(arguments)]))
    (f,) = [f for f in report.findings if f.rule == "chat.tool_calls.arguments"]
    assert f.line == 12
    assert f.message.startswith(f"messages[1].tool_calls[0].function.arguments holds {what}, not a JSON object")
    assert ("serialized twice" in f.message) == (what == "a string")
    assert validate_bytes(data(good_lines(11) + [example('{"city": "Paris"}')])).ok


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
def test_only_regular_files_are_read(kind, tmp_path) -> None:
    import os

    path = {"fifo": tmp_path / "pipe.jsonl", "directory": tmp_path, "device": "/dev/null"}[kind]
    if kind == "fifo":
        os.mkfifo(path)  # no writer: opening it for reading would wait for one forever
    report = validate_file(path)
    assert [(f.rule, f.line) for f in report.findings] == [("file.unreadable", None)]
    what = {"fifo": "a pipe (FIFO)", "directory": "a directory", "device": "a device"}[kind]
    assert report.findings[0].message.startswith(f"not a regular file ({what})")


def test_few_examples_warning() -> None:
    report = validate_bytes(data(good_lines(50)))
    assert [(f.rule, f.line) for f in report.findings] == [("dataset.few", None)]
    assert report.findings[0].message == (
        "only 50 examples; fewer than 100 rarely improve a model — hundreds to thousands are "
        "recommended"
    )
    assert report.ok
    assert not validate_bytes(data(good_lines(100))).findings


def test_token_budget() -> None:
    report = validate_bytes(data(good_lines(12)), n_epochs=10_000_000)
    assert ("dataset.token_budget", None) in rules(report)


def test_model_rules() -> None:
    r = validate_bytes(data(good_lines(12)), model="my-custom-model")
    assert rules(r) == [("model.unknown", None)]
    assert r.ok
    r = validate_bytes(data(good_lines(12)), model="babbage-002", method="dpo")
    assert ("model.method", None) in rules(r)
    assert not r.ok
    r = validate_bytes(data(good_lines(12)), model="o4-mini-2025-04-16")
    assert rules(r)[0] == ("model.method", None)
    r = validate_bytes(b"", model="gpt-35-turbo-0125", method="dpo")
    assert ("model.method_undocumented", None) in rules(r)
    # reinforcement fine-tuning: o4-mini only, and o4-mini only with it
    r = validate_bytes(data(good_lines(12)), model="gpt-4o-mini-2024-07-18", method="reinforcement")
    assert ("model.method", None) in rules(r) and not r.ok
    assert any("cannot be trained with reinforcement fine-tuning" in f.message for f in r.findings)
    r = validate_bytes(data(good_lines(12)), model="my-custom-model", method="reinforcement")
    assert ("model.method", None) not in rules(r)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        validate_bytes(b"", method="rlhf")
    with pytest.raises(ValueError, match="reinforcement only"):
        validate_bytes(b"", method="supervised", grader={"type": "string_check"})
    with pytest.raises(ValueError):
        validate_bytes(b"", max_findings=0)


# ---------------------------------------------------------------------------------- report


def test_findings_are_capped_per_rule_but_counted_exactly() -> None:
    bad = msgs(S(), {"role": "bot", "content": "x"}, A())
    report = validate_bytes(data(good_lines(12) + [bad] * 300), max_findings=5)
    assert report.counts["chat.role.unknown"] == 300
    kept = [f for f in report.findings if f.rule == "chat.role.unknown"]
    assert [f.line for f in kept] == [13, 14, 15, 16, 17]
    assert report.omitted()["chat.role.unknown"] == 295
    assert report.error_count == 300
    text = report.format_text()
    assert "... 295 more not shown" in text
    summary = report.summary(max_lines=3)
    assert summary.splitlines()[0].startswith(
        "training data is not valid for gpt-4o-mini-2024-07-18 (supervised): 300 error(s)"
    )
    assert len(summary.splitlines()) == 5
    assert summary.endswith("... and 297 more error(s); run `aoai-ft validate` for all")


def test_report_to_dict_is_json() -> None:
    report = validate_bytes(data(good_lines(12)), n_epochs=2)
    d = json.loads(json.dumps(report.to_dict()))
    assert d["ok"] is True
    st = d["stats"]["training"]
    assert st["examples"] == 12
    assert st["tokens_per_example"]["total"] == st["tokens_total"]
    assert st["trained_tokens_estimate"] == 2 * st["tokens_total"]
    assert st["token_counting"]["exact"] is False
    assert report.summary() == (
        "training data is valid for gpt-4o-mini-2024-07-18 (supervised), with 1 warning(s)"
    )


def test_statistics() -> None:
    lines = [msgs(S("s"), U("a" * 40), A("b" * 40)), msgs(U("c" * 400), A("d" * 4))] * 6
    report = validate_bytes(data(lines), n_epochs=None)
    st = report.stats["training"]
    assert st.examples == 12 and st.messages == 30
    assert (st.min_messages, st.max_messages) == (2, 3)
    # 81 chars -> 21 tokens + 3 messages x 4 + 3 = 36; 404 chars -> 101 + 2 x 4 + 3 = 112
    assert (st.tokens.min, st.tokens.quantile(0.5), st.tokens.quantile(0.95), st.tokens.max) == (
        36, 36, 112, 112,
    )
    assert st.tokens.total == 6 * 36 + 6 * 112
    assert st.n_epochs == 8  # the service's rule for 12 examples: 100 // 12
    assert "assumed 8" in st.n_epochs_note
    assert st.trained_tokens == 8 * st.tokens.total
    assert st.duplicates == 10


def test_histogram_quantiles_and_big_values() -> None:
    h = TokenHistogram()
    for v in range(1, 101):
        h.add(v)
    assert (h.quantile(0.5), h.quantile(0.95), h.min, h.max) == (50, 95, 1, 100)
    h.merge_counts({7: 3})
    assert h.count == 103 and h.total == 5050 + 21
    h.add(1_000_000)
    assert h.max == 1_000_000 and not h.exact
    assert abs(h.quantile(1.0) - 1_000_000) / 1_000_000 < 0.02


def test_validation_file_and_overlap() -> None:
    report = validate_bytes(
        data(good_lines(12)), validation=data([line(chat(30)), line(chat(0))])
    )
    assert [(f.file, f.rule, f.line) for f in report.findings if f.rule != "dataset.few"] == [
        ("validation.jsonl", "dataset.overlap", 2)
    ]
    assert set(report.stats) == {"training", "validation"}
    assert report.stats["validation"].n_epochs is None


def test_dedup_limit_is_bounded_and_said() -> None:
    lines = [line(chat(i)) for i in range(200)] + [line(chat(199))]
    report = validate_bytes(data(lines), dedup_limit=50)
    st = report.stats["training"]
    assert len(st.notes) == 1 and "first 50 distinct examples" in st.notes[0]
    full = validate_bytes(data(lines))
    assert full.counts.get("dataset.duplicate") == 1


# ---------------------------------------------------------------------------------- models


@pytest.mark.parametrize(
    ("model", "fmt", "limit", "vision"),
    [
        ("gpt-35-turbo-0613", "chat", 4_096, False),
        ("gpt-35-turbo-0125", "chat", 16_385, False),
        ("gpt-3.5-turbo-1106", "chat", 16_385, False),
        ("gpt-4-0613", "chat", 8_192, False),
        ("gpt-4o-mini-2024-07-18", "chat", 65_536, False),
        ("gpt-4o-2024-08-06", "chat", 65_536, True),
        ("gpt-4.1-2025-04-14", "chat", 65_536, True),
        ("gpt-4.1-mini-2025-04-14", "chat", 65_536, True),
        ("gpt-4.1-nano-2025-04-14", "chat", 32_768, True),
        ("babbage-002", "completion", 16_384, False),
        ("davinci-002", "completion", 16_384, False),
        ("gpt-35-turbo-0613.ft-5fd1918ee65d4cd38a5dcf6835066ed7", "chat", 4_096, False),
        ("ft:gpt-4o-mini-2024-07-18:org::abc123", "chat", 65_536, False),
    ],
)
def test_model_table(model, fmt, limit, vision) -> None:
    spec = model_spec(model)
    assert (spec.data_format, spec.max_example_tokens, spec.vision, spec.known) == (
        fmt, limit, vision, True,
    )


def test_default_epochs_rule() -> None:
    assert [default_n_epochs(n) for n in (10, 33, 34, 8_333, 8_334, 100_000)] == [
        10, 3, 3, 3, 2, 1,
    ]


# ---------------------------------------------------------------------------------- CLI


def test_cli_valid_text(write_jsonl) -> None:
    path = write_jsonl(good_lines(12))
    result = CliRunner().invoke(validate, [str(path), "--n-epochs", "2"])
    assert result.exit_code == 0, result.output
    assert "Warnings (1)" in result.output
    assert "tokens per example  min" in result.output
    assert "trained tokens" in result.output and "x 2 epochs" in result.output
    assert "typically within ±20%" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("VALID: 0 error(s), 1 warning(s)")


def test_cli_invalid_json_output(write_jsonl) -> None:
    path = write_jsonl(good_lines(12) + [msgs(S(), {"role": "bot", "content": "x"}, A())])
    val = write_jsonl(good_lines(3), name="val.jsonl")
    result = CliRunner().invoke(
        validate, [str(path), "--format", "json", "--validation", str(val), "--model", DEFAULT_MODEL]
    )
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["ok"] is False and doc["error_count"] == 1
    assert [f["rule"] for f in doc["findings"] if f["severity"] == "error"] == ["chat.role.unknown"]
    assert doc["findings"][1]["line"] == 13 or any(f["line"] == 13 for f in doc["findings"])
    assert doc["stats"]["validation"]["examples"] == 3


def test_cli_usage_errors(write_jsonl, tmp_path) -> None:
    path = write_jsonl(good_lines(12))
    assert CliRunner().invoke(validate, [str(tmp_path / "nope.jsonl")]).exit_code == 2
    assert CliRunner().invoke(validate, [str(path), "--method", "rl"]).exit_code == 2
    assert CliRunner().invoke(validate, [str(path), "--format", "xml"]).exit_code == 2
    assert CliRunner().invoke(validate, [str(path), "--n-epochs", "0"]).exit_code == 2


def test_cli_reinforcement_with_a_grader_file(write_jsonl, tmp_path) -> None:
    rows = [line({"messages": [U(f"{i} + {i}?")], "answer": str(2 * i)}) for i in range(12)]
    path = write_jsonl(rows)
    grader = tmp_path / "grader.yaml"
    # YAML, wrapped the way a stack's method section holds it
    grader.write_text("grader:\n  type: string_check\n  input: '{{sample.output_text}}'\n"
                      "  reference: '{{item.reference}}'\n  operation: eq\n", encoding="utf-8")
    args = [str(path), "--model", "o4-mini-2025-04-16", "--method", "reinforcement"]
    assert CliRunner().invoke(validate, args).exit_code == 0
    result = CliRunner().invoke(validate, args + ["--grader", str(grader), "--format", "json"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.output)
    assert doc["counts"]["rft.item.missing"] == 12
    assert doc["format"] == "rft" and doc["method"] == "reinforcement"
    grader.write_text('{"type": "string_check", "reference": "{{ item.answer }}"}', encoding="utf-8")
    assert CliRunner().invoke(validate, args + ["--grader", str(grader)]).exit_code == 0
    # a grader for another method, or a file that holds no grader: usage errors
    assert CliRunner().invoke(validate, [str(path), "--grader", str(grader)]).exit_code == 2
    grader.write_text("[1, 2]", encoding="utf-8")
    result = CliRunner().invoke(validate, args + ["--grader", str(grader)])
    assert result.exit_code == 2 and "not a grader object" in result.output


def test_grader_fields_are_every_item_reference() -> None:
    from pulumi_aoai_finetune.data.formats import grader_fields

    grader = {"type": "multi", "graders": {
        "a": {"type": "string_check", "input": "{{sample.output_text}}", "reference": "{{item.answer}}"},
        "b": {"type": "score_model", "input": [{"role": "user", "content": "{{ item.question }} / {{item.answer}}"}]},
        "c": {"type": "python", "source": "def grade(sample, item): return item['x']"},
    }}
    assert grader_fields(grader) == ("answer", "question")
    assert grader_fields({"type": "score_model"}) == ()
