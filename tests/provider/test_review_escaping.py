"""aoai-ft review cannot be forged: every value from the preview or the state is escaped.

A hostile value (a stack config key with a line break and Markdown, raw HTML, a pipe, backticks, a
mention, an emoji shortcode, a link) reaches names, models, job ids, accounts, regions, input values,
replacement reasons and diagnostics. The rendered review is parsed with a CommonMark + GFM-tables
parser (markdown-it-py): it must hold only the review's own headings, no HTML, no links, no emphasis
of the attacker's text, and every table row must keep its cells."""

from __future__ import annotations

import json

import pytest
from markdown_it import MarkdownIt

from pulumi_aoai_finetune import review

FORGED = "\n\n## ✅ Approved by security — cost $0\n\n<img src=x onerror=alert(1)> **LGTM** [ok](https://evil.example)"
PAYLOADS = [
    FORGED,
    "a|b|c",
    "x`y``z",
    "<script>alert(1)</script>",
    "@security-team please :white_check_mark: #123",
    "&lt;b&gt;entity&#10;",
    "_emph_ *strong* ~~gone~~",
    "line\u2028separator\rreturn\x1b[31mansi",
]
SUB = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/"


def hostile_preview(payload: str) -> dict:
    t = "pulumi-python:dynamic/aoai:{}"
    acct = {"resource_id": SUB + payload}
    dep_old = {"account": acct, "deployment_name": payload, "model": "gpt-4o-mini.ft-" + payload,
               "sku": {"name": "Standard", "capacity": 1}, "model_format": "OpenAI"}
    dep_new = dict(dep_old, sku={"name": payload, "capacity": 2}, model="m2" + payload)
    job_old = {"account": acct, "base_model": payload, "training_file": payload, "hyperparameters": {payload: 1},
               "suffix": payload}
    job_new = dict(job_old, hyperparameters={payload: 2}, suffix=payload + "2")

    def step(op, name, kind, old, new, outputs=None, reasons=None):
        urn = f"urn:pulumi:{payload}::{payload}::{t.format(kind)}::{name}"
        return {"op": op, "urn": urn, "replaceReasons": reasons or [],
                "oldState": {"urn": urn, "type": t.format(kind), "inputs": old, "outputs": {**old, **(outputs or {})}},
                "newState": {"urn": urn, "type": t.format(kind), "inputs": new, "propertyDependencies": {}}}

    return {"steps": [
        step("replace", payload, "FineTuningJob", job_old, job_new,
             outputs={"job_id": payload, "fine_tuned_model": payload, "metrics": {"steps": 3, "final_train_loss": 0.5}},
             reasons=[payload]),
        step("replace", "dep" + payload, "ModelDeployment", dep_old, dep_new, reasons=[payload]),
        step("update", "dep2", "ModelDeployment", dep_old, dict(dep_old, metrics={"steps": 3},
                                                                    quality_gate={"max_final_train_loss": 0.1})),
        step("replace", "eval" + payload, "ModelEvaluation",
             {"account": acct, "deployment_name": payload, "cases_count": 3, "cases_sha256": "a" * 64},
             {"account": acct, "deployment_name": payload, "cases_count": payload, "cases_sha256": "b" * 64,
              "model": payload},
             outputs={"results": {"cases_run": 3, "passed_cases": payload, "pass_rate": payload,
                                  "pass_rate_per_grader": {payload: 0.5, "x": payload}, "model": payload}},
             reasons=[payload]),
    ], "diagnostics": [{"severity": "error", "message": payload}, {"severity": "warning", "message": payload}]}


def parse(md: str):
    return MarkdownIt("commonmark").enable("table").enable("strikethrough").parse(md)


def inline_children(tokens):
    for tok in tokens:
        yield tok
        for child in tok.children or []:
            yield child


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_a_hostile_value_cannot_change_the_reviews_structure(payload):
    md = review.render(review.build(hostile_preview(payload), regions={payload: payload}))
    tokens = parse(md)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert all(h.startswith("Fine-tuning review") or h in ("Changes", "Training runs", "Deployments per region",
                                                           "Evaluations", "Cost estimate", "Warnings")
               for h in headings), headings
    assert "Evaluations" in headings
    kinds = {t.type for t in inline_children(tokens)}
    assert not kinds & {"html_inline", "html_block", "link_open", "image", "s_open"}, kinds
    # emphasis only where the review puts it (bold actions and counts), never around the attacker's text
    flat = list(inline_children(tokens))
    bold = [flat[i + 1].content for i, t in enumerate(flat) if t.type in ("strong_open", "em_open")]
    assert not [b for b in bold if "LGTM" in b or "emph" in b or "strong" in b], bold
    # every row of a table has its header's number of cells, and the tables are all there
    rows, cells, tables = [], 0, 0
    for t in tokens:
        if t.type == "tr_open":
            cells = 0
        elif t.type in ("th_open", "td_open"):
            cells += 1
        elif t.type == "tr_close":
            rows.append(cells)
        elif t.type == "table_open":
            rows = []
        elif t.type == "table_close":
            tables += 1
            assert len(set(rows)) == 1, rows
    assert tables == 3
    # GitHub's own text filters: no live mention, reference or emoji shortcode
    for text in (t.content for t in inline_children(tokens) if t.type == "text"):
        assert "@security-team" not in text and ":white_check_mark:" not in text and "#123" not in text
    # the value is still shown (escaped, on one line), not dropped
    shown = "".join(t.content for t in inline_children(tokens) if t.type in ("text", "code_inline"))
    assert "Approved by security" in shown or payload != FORGED


def test_a_hostile_value_is_shown_literally():
    md = review.render(review.build(hostile_preview("<b>x</b> | y")))
    html = MarkdownIt("commonmark").enable("table").render(md)
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_the_cli_escapes_too(tmp_path):
    from click.testing import CliRunner

    from pulumi_aoai_finetune.cli import main

    doc = tmp_path / "preview.json"
    doc.write_text(json.dumps(hostile_preview(FORGED)))
    result = CliRunner().invoke(main, ["review", str(doc)])
    assert result.exit_code == 0, result.output
    assert result.output == review.render(review.build(hostile_preview(FORGED))) + "\n" or \
        result.output == review.render(review.build(hostile_preview(FORGED)))
    assert not [line for line in result.output.splitlines() if line.startswith("## ✅") or line.startswith("<")]


@pytest.mark.parametrize("metrics, gate", [
    ({"steps": 3, "final_full_valid_loss": "0.5"}, {"max_final_valid_loss": 0.6}),
    ({"steps": "x", "final_train_loss": "abc", "overfitting": "yes"}, {"max_final_train_loss": 0.6}),
    ({"steps": 3, "best_valid_loss": "0.1", "best_valid_loss_step": "z"}, {"max_final_valid_loss": "0.6"}),
    ({"steps": 3, "final_train_loss": float("nan")}, {"max_final_train_loss": 0.6}),
    ("not a mapping", {"max_final_valid_loss": 0.6}),
    ([1, 2], "not a gate"),
])
def test_metrics_and_gates_that_are_not_numbers_never_crash_the_review(tmp_path, metrics, gate):
    """A metrics value that is a string (hand-written, or forged in the state) used to end `aoai-ft review`
    with a traceback (formatting or comparing a str as a number)."""
    from click.testing import CliRunner

    from pulumi_aoai_finetune.cli import main

    t = "pulumi-python:dynamic/aoai:{}"
    acct = {"resource_id": SUB + "aoai-ncus"}
    job = {"account": acct, "base_model": "gpt-4o-mini-2024-07-18", "training_file": "file-1", "timeout_seconds": 1}
    dep = {"account": acct, "deployment_name": "chat", "model": "gpt-4o-mini-2024-07-18.ft-x",
           "sku": {"name": "Standard", "capacity": 1}}
    steps = []
    for name, kind, old, new, outputs in (
            ("job", "FineTuningJob", job, dict(job, timeout_seconds=2), {"job_id": "ftjob-1", "metrics": metrics}),
            ("chat", "ModelDeployment", dep, dict(dep, metrics=metrics, quality_gate=gate), {})):
        urn = f"urn:pulumi:dev::shop::{t.format(kind)}::{name}"
        steps.append({"op": "update", "urn": urn,
                      "oldState": {"urn": urn, "type": t.format(kind), "inputs": old, "outputs": {**old, **outputs}},
                      "newState": {"urn": urn, "type": t.format(kind), "inputs": new}})
    doc = tmp_path / "preview.json"
    doc.write_text(json.dumps({"steps": steps}))
    result = CliRunner().invoke(main, ["review", str(doc)])
    assert result.exit_code == 0 and result.exception is None, result.output
    assert "Traceback" not in result.output and "### Deployments per region" in result.output
    if isinstance(gate, dict) and isinstance(metrics, dict):
        assert "quality gate: **fails**" in result.output


def test_the_ci_comment_escapes_the_branch_the_stacks_and_the_policy_results():
    """`aoai-ft ci review`'s comment: a branch name, a stack name and a policy message are the pull
    request author's to choose."""
    from pulumi_aoai_finetune import ci

    ctx = ci.Context(commit="0123456789abcdef", ref=FORGED, pull_request=7, run_url="https://gh/run/1")
    policy = ci.PolicyResults(packs=["guardrails"], passed={}, violations=[
        {"policy": "no-" + FORGED, "pack": "guardrails", "level": "mandatory", "resource": FORGED, "message": FORGED}])
    preview = ci.StackPreview("dev", "organization/finetune/" + FORGED, 0,
                              review.build(hostile_preview(FORGED), regions={}), policy)
    text = ci.render_comment([preview], ctx, skipped=[FORGED])
    tokens = parse(text)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert not [h for h in headings if "Approved" in h and not h.startswith("Stack ")], headings
    html = [t.content.strip() for t in inline_children(tokens) if t.type in ("html_inline", "html_block", "image")]
    assert html == [ci.MARKER]  # the comment's own hidden marker only
    links = [t for t in inline_children(tokens) if t.type == "link_open"]
    assert [t.attrs.get("href") for t in links] == ["https://gh/run/1"]  # the workflow run only
