import hashlib
import json
import pickle

import dill
import pytest

from pulumi_aoai_finetune.controller import UNKNOWN
from pulumi_aoai_finetune.settings import ProviderSettings
from pulumi_aoai_finetune.training_file import TrainingFileController, TrainingFileProvider

ACCOUNT = {"resource_id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/acct-a"}


def chat_file(path, n=12, salt=""):
    rows = [{"messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": f"q{i}{salt}"},
                          {"role": "assistant", "content": f"a{i}"}]} for i in range(n)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def ctl():
    return TrainingFileController(ProviderSettings())


def test_check_hashes_the_content_and_sets_defaults(ctl, tmp_path):
    path = chat_file(tmp_path / "t.jsonl")
    inputs, failures = ctl.check({}, {"account": ACCOUNT, "path": path})
    assert failures == []
    assert inputs["purpose"] == "fine-tune" and inputs["validate"] is True
    assert len(inputs["content_sha256"]) == 64 and inputs["content_bytes"] > 0


def test_check_rejects_invalid_data_at_preview_naming_file_and_line(ctl, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(chat_file(tmp_path / "ok.jsonl") and (tmp_path / "ok.jsonl").read_text() + "{not json\n")
    inputs, failures = ctl.check({}, {"account": ACCOUNT, "path": str(bad)})
    assert failures and failures[0][0] == "path"
    assert "bad.jsonl:13" in failures[0][1]


@pytest.mark.parametrize("news, field, message", [
    ({"account": ACCOUNT}, "path", "exactly one of path"),
    ({"account": ACCOUNT, "path": "/nope.jsonl"}, "path", "no such file"),
    ({"account": ACCOUNT, "content_url": "file:///etc/passwd"}, "content_url", "not an http(s) URL"),
    ({"path": "x"}, "account", "account is required"),
    ({"account": ACCOUNT, "content_url": "https://x/y.jsonl", "purpose": "assistants"}, "purpose", "not supported"),
    ({"account": ACCOUNT, "content_url": "https://x/y.jsonl", "timeout_seconds": -5}, "timeout_seconds", "positive"),
    ({"account": ACCOUNT, "content_url": "https://x/y.jsonl", "filename": "../x"}, "filename", "base name"),
])
def test_check_failures_name_the_field(ctl, news, field, message):
    _, failures = ctl.check({}, news)
    assert any(f == field and message in m for f, m in failures), failures


def rft_file(path, n=12, field="reference_answer"):
    rows = [{"messages": [{"role": "developer", "content": "Answer briefly."}, {"role": "user", "content": f"{i} + {i}?"}],
             field: str(2 * i)} for i in range(n)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return str(path)


GRADER = {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
          "reference": "{{item.reference_answer}}", "operation": "eq"}


def test_reinforcement_data_is_checked_at_preview_against_the_graders_fields(ctl, tmp_path):
    good = rft_file(tmp_path / "rft.jsonl")
    news = {"account": ACCOUNT, "path": good, "model": "o4-mini-2025-04-16", "method": "reinforcement"}
    assert ctl.check({}, {**news, "grader": GRADER})[1] == []
    bad = rft_file(tmp_path / "rft-bad.jsonl", field="answer")
    _, failures = ctl.check({}, {**news, "path": bad, "grader": GRADER})
    assert failures and failures[0][0] == "path"
    assert 'rft-bad.jsonl:1: no "reference_answer", which the grader reads as {{item.reference_answer}}' in failures[0][1]
    # without the grader (or while it is unknown) only the format is checked
    assert ctl.check({}, {**news, "path": bad})[1] == []
    assert ctl.check({}, {**news, "path": bad, "grader": UNKNOWN})[1] == []
    # supervised chat data given as reinforcement data: the prompt ends with the answer
    _, failures = ctl.check({}, {**news, "path": chat_file(tmp_path / "chat.jsonl")})
    assert failures and "messages ends with an assistant message" in failures[0][1]


@pytest.mark.parametrize("extra, message", [
    ({"method": "supervised", "grader": GRADER}, 'grader is for method "reinforcement" data only'),
    ({"method": "reinforcement", "grader": "string_check"}, "grader must be the job's grader object"),
])
def test_grader_input_is_checked(ctl, tmp_path, extra, message):
    _, failures = ctl.check({}, {"account": ACCOUNT, "path": rft_file(tmp_path / "r.jsonl"),
                                 "model": "o4-mini-2025-04-16", **extra})
    assert ("grader", message) in [(f, m[:len(message)]) for f, m in failures], failures


def test_grader_change_is_an_in_place_no_op_update(ctl, tmp_path):
    path = rft_file(tmp_path / "r.jsonl")
    news, _ = ctl.check({}, {"account": ACCOUNT, "path": path, "model": "o4-mini-2025-04-16",
                             "method": "reinforcement", "grader": GRADER})
    olds = dict(news, file_id="file-1")
    d = ctl.diff("file-1", olds, dict(news, grader={**GRADER, "operation": "ne"}))
    assert d.changes and d.replaces == [] and "grader" in d.updates


@pytest.fixture
def url_ctl():
    """A controller as in the provider process (live reads on), allowed to read the loopback server."""
    ctl = TrainingFileController(ProviderSettings(allow_insecure_loopback=True))
    ctl.live_reads = True
    return ctl


def test_the_data_behind_a_new_import_url_is_validated_at_preview_without_its_query(url_ctl, data_server, tmp_path):
    good = chat_file(tmp_path / "ok.jsonl")
    (tmp_path / "bad.jsonl").write_text(open(good, encoding="utf-8").read()
                                        + '{"messages": [{"role": "bot", "content": "x"}]}\n', encoding="utf-8")
    url = f"{data_server}/bad.jsonl?sv=2025&sig=SECRETSIG"
    _, failures = url_ctl.check({}, {"account": ACCOUNT, "content_url": url})
    assert [f for f, _ in failures] == ["content_url"]
    message = failures[0][1]
    assert f"{data_server}/bad.jsonl?...:13: messages[0].role is \"bot\"" in message and "SECRETSIG" not in message
    # good data passes, and its hash and size are what the import will hold (to recognise it later)
    inputs, failures = url_ctl.check({}, {"account": ACCOUNT, "content_url": f"{data_server}/ok.jsonl"})
    assert failures == []
    data = open(good, "rb").read()
    assert (inputs["content_sha256"], inputs["content_bytes"]) == (hashlib.sha256(data).hexdigest(), len(data))
    # an unchanged URL is not downloaded again; validate=false skips it
    assert url_ctl.check({"content_url": url}, {"account": ACCOUNT, "content_url": url})[1] == []
    assert url_ctl.check({}, {"account": ACCOUNT, "content_url": url, "validate": False})[1] == []


def test_reinforcement_data_at_a_url_is_checked_against_the_grader(url_ctl, data_server, tmp_path):
    rft_file(tmp_path / "rft.jsonl", field="answer")
    news = {"account": ACCOUNT, "content_url": f"{data_server}/rft.jsonl", "model": "o4-mini-2025-04-16",
            "method": "reinforcement", "grader": GRADER}
    _, failures = url_ctl.check({}, news)
    assert failures and failures[0][0] == "content_url" and 'no "reference_answer"' in failures[0][1]


def test_an_import_url_this_machine_cannot_read_is_left_to_the_service(url_ctl, data_server, monkeypatch):
    warnings = []
    monkeypatch.setattr("pulumi.log.warn", lambda msg, *a, **k: warnings.append(msg))
    missing = url_ctl.check({}, {"account": ACCOUNT, "content_url": f"{data_server}/nope.jsonl?sig=SECRETSIG"})
    refused = url_ctl.check({}, {"account": ACCOUNT, "content_url": "http://127.0.0.1:9/x.jsonl?sig=SECRETSIG"})
    assert missing[1] == [] and refused[1] == []
    assert "HTTP 404" in warnings[0] and "ConnectionError" in warnings[1]
    assert all("the service checks it after the import" in w and "SECRETSIG" not in w for w in warnings)


@pytest.fixture
def big_body():
    """A loopback server whose /declared answer says 600 MiB in Content-Length and whose /undeclared
    answer streams up to 100 MiB of valid lines without a length; it records the bytes it got out."""
    import http.server
    import threading

    sent = {"declared": 0, "undeclared": 0}
    line = (json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})
            + "\n").encode()
    chunk = line * (65536 // len(line))

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # no length: the body ends when the connection closes

        def do_GET(self):
            name = self.path.split("?")[0].strip("/")
            self.send_response(200)
            if name == "declared":
                self.send_header("Content-Length", str(600 * 1024 * 1024))
            self.end_headers()
            try:
                while sent[name] < 100 * 1024 * 1024:
                    self.wfile.write(chunk)
                    sent[name] += len(chunk)
            except OSError:
                pass  # the client went away

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", sent
    server.shutdown()


def test_an_import_over_the_size_limit_is_refused_from_its_headers_before_any_download(url_ctl, big_body):
    base, sent = big_body
    _, failures = url_ctl.check({}, {"account": ACCOUNT, "content_url": f"{base}/declared?sig=SECRETSIG"})
    assert [f for f, _ in failures] == ["content_url"]
    message = failures[0][1]
    assert f"content_url {base}/declared?...: 600.0 MiB (its Content-Length); the service takes files under " \
           "512 MiB, an import too: shorten or split the data" in message and "SECRETSIG" not in message
    assert sent["declared"] < 50 * 1024 * 1024  # what the server got into the socket before we hung up


def test_an_import_without_a_length_is_refused_as_soon_as_it_passes_the_limit(url_ctl, big_body, monkeypatch):
    from pulumi_aoai_finetune import training_file

    monkeypatch.setattr(training_file, "MAX_BYTES", 2 * 1024 * 1024)
    base, sent = big_body
    _, failures = url_ctl.check({}, {"account": ACCOUNT, "content_url": f"{base}/undeclared"})
    assert [f for f, _ in failures] == ["content_url"]
    assert f"content_url {base}/undeclared: more than 2.0 MiB (read so far); the service takes files under 2 MiB" \
        in failures[0][1]
    assert sent["undeclared"] < 50 * 1024 * 1024


def test_check_tolerates_unknowns_at_preview(ctl):
    _, failures = ctl.check({}, {"account": UNKNOWN, "content_url": UNKNOWN})
    assert failures == []


def test_rename_with_same_content_updates_in_place(ctl, tmp_path):
    a = chat_file(tmp_path / "a.jsonl")
    b = chat_file(tmp_path / "b.jsonl")
    olds, _ = ctl.check({}, {"account": ACCOUNT, "path": a})
    olds.update(file_id="file-1", filename="a.jsonl")
    news, _ = ctl.check(olds, {"account": ACCOUNT, "path": b})
    d = ctl.diff("file-1", olds, news)
    assert d.changes and d.replaces == [] and d.updates == ["path"]


def test_content_change_replaces(ctl, tmp_path):
    a = chat_file(tmp_path / "a.jsonl")
    olds, _ = ctl.check({}, {"account": ACCOUNT, "path": a})
    chat_file(tmp_path / "a.jsonl", salt="!")
    news, _ = ctl.check(olds, {"account": ACCOUNT, "path": a})
    assert ctl.diff("file-1", olds, news).replaces == ["path"]


def test_account_change_replaces_but_case_does_not(ctl, tmp_path):
    a = chat_file(tmp_path / "a.jsonl")
    olds, _ = ctl.check({}, {"account": ACCOUNT, "path": a})
    same = {"resource_id": ACCOUNT["resource_id"].upper().replace("/SUBSCRIPTIONS/", "/subscriptions/")}
    news, _ = ctl.check(olds, {"account": same, "path": a})
    assert not ctl.diff("f", olds, news).changes
    other = {"resource_id": ACCOUNT["resource_id"][:-1] + "x"}
    news, _ = ctl.check(olds, {"account": other, "path": a})
    assert ctl.diff("f", olds, news).replaces == ["account"]


def test_no_change_is_no_change(ctl, tmp_path):
    a = chat_file(tmp_path / "a.jsonl")
    olds, _ = ctl.check({}, {"account": ACCOUNT, "path": a})
    news, _ = ctl.check(olds, {"account": ACCOUNT, "path": a})
    assert not ctl.diff("f", olds, news).changes


def test_provider_pickles_by_reference_without_state():
    blob = dill.dumps(TrainingFileProvider())
    assert b"pulumi_aoai_finetune.training_file" in blob
    assert len(blob) < 300  # a reference, not a copy of the code or any client
    assert isinstance(pickle.loads(blob), TrainingFileProvider)
