"""Data plane: files (upload, import, list, get, delete, content), auth and api-version handling."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading

import openai
import pytest
from .conftest import API_VERSION, make_openai
from .data_helpers import (chat_jsonl, completion_jsonl, multi_turn_jsonl, preference_jsonl, prompt_only_jsonl,
                          sized_chat_jsonl)
from openai import AzureOpenAI, OpenAI, Omit

from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer, strict


# -- upload --------------------------------------------------------------------------------------
def test_upload_returns_201_pending_then_processed(frozen, fclient, fadvance):
    data = chat_jsonl(12)
    raw = fclient.files.with_raw_response.create(file=("train.jsonl", data), purpose="fine-tune")
    assert raw.status_code == 201
    created = raw.parse()
    assert raw.headers["location"].endswith(f"/accounts/aoai-ncus/openai/files/{created.id}")
    assert created.id.startswith("file-") and len(created.id) == len("file-") + 32
    assert (created.object, created.bytes, created.filename, created.purpose, created.status) == (
        "file", len(data), "train.jsonl", "fine-tune", "pending")
    assert created.created_at > 0
    fadvance(5)
    assert fclient.files.retrieve(created.id).status == "pending"
    fadvance(6)
    done = fclient.files.retrieve(created.id)
    assert done.status == "processed" and done.status_details is None
    # Stored on disk as sent.
    assert frozen.backend.store.blob_path(created.id).read_bytes() == data


def test_large_upload_is_streamed_chunk_by_chunk_and_content_round_trips(frozen, fclient, fadvance):
    data = sized_chat_jsonl(3 * 1024 * 1024 + 17)  # several 1 MiB chunks, and a spooled temp file
    created = fclient.files.create(file=("big.jsonl", data), purpose="fine-tune")
    assert created.bytes == len(data)
    fadvance(11)
    assert fclient.files.retrieve(created.id).status == "processed"
    content = fclient.files.content(created.id)
    assert hashlib.sha256(content.content).hexdigest() == hashlib.sha256(data).hexdigest()
    stored = frozen.backend.store["files"][created.id]["_inspect"]
    assert stored["sha256"] == hashlib.sha256(data).hexdigest()
    assert stored["examples"] == data.count(b"\n")


@pytest.mark.parametrize("data", [
    chat_jsonl(12, bom=True),
    multi_turn_jsonl(10),
    completion_jsonl(10),
    preference_jsonl(10),
    prompt_only_jsonl(10),
    chat_jsonl(12).replace(b"\n", b"\r\n"),
    chat_jsonl(12) + b"\n\n",
    chat_jsonl(12).rstrip(b"\n"),
], ids=["bom", "multi-turn-weights-parts", "prompt-completion", "preference", "prompt-only", "crlf",
        "trailing-blank-lines", "no-final-newline"])
def test_valid_formats_are_processed(fclient, fadvance, data):
    created = fclient.files.create(file=("data.jsonl", data), purpose="fine-tune")
    fadvance(11)
    got = fclient.files.retrieve(created.id)
    assert got.status == "processed", got.status_details


def _bad(lines: list[bytes]) -> bytes:
    good = [json.dumps(json.loads(line)).encode() for line in chat_jsonl(12).splitlines()]
    return b"\n".join(good[:2] + lines + good[2:]) + b"\n"


@pytest.mark.parametrize("data, rule, line", [
    (_bad([b'{"messages": [{"role": "user", "content": "caf\xe9"}]}']), "utf8", 3),
    (_bad([b'{"messages": [}']), "json", 3),
    (_bad([b'["not", "an", "object"]']), "format", 3),
    (_bad([b'{"text": "no known format"}']), "format", 3),
    (_bad([b'{"messages": [{"role": "robot", "content": "x"}]}']), "format", 3),
    (_bad([b'{"messages": [{"role": "user", "content": "x", "weight": 1}]}']), "format", 3),
    (_bad([b'{"messages": [{"role": "assistant", "content": "x", "weight": 2}]}']), "format", 3),
    (_bad([b'{"messages": []}']), "format", 3),
    (_bad([b'{"prompt": "p", "completion": 3}']), "format", 3),
    (_bad([b'{"prompt": "p", "completion": "c"}']), "format", 3),  # mixed with chat lines
    (_bad([b'{"input": {"messages": [{"role": "user", "content": "x"}]}, "preferred_output": [], '
           b'"non_preferred_output": []}']), "format", 3),
    (chat_jsonl(9), "min_examples", None),
    (b"", "min_examples", None),
], ids=["utf8", "json", "not-object", "unknown-format", "bad-role", "weight-on-user", "weight-2",
        "empty-messages", "completion-not-string", "mixed-formats", "empty-preference", "nine-examples", "empty"])
def test_invalid_files_end_in_error_naming_rule_and_line(fclient, fadvance, data, rule, line):
    created = fclient.files.create(file=("bad.jsonl", data), purpose="fine-tune")
    assert created.status == "pending"
    fadvance(11)
    got = fclient.files.retrieve(created.id)
    assert got.status == "error"
    assert f"[{rule}]" in got.status_details
    if line is not None:
        assert f"line {line}:" in got.status_details


def test_oversized_file_is_an_error(tmp_path):
    config = EmulatorConfig(state_dir=tmp_path / "s", time_scale=0.001, extra={"max_file_bytes": 2000})
    with EmulatorServer(config) as server:
        client = make_openai(server)
        created = client.files.create(file=("big.jsonl", chat_jsonl(30)), purpose="fine-tune")
        server.backend.advance_clock(11)
        got = client.files.retrieve(created.id)
        assert got.status == "error" and "[max_size]" in got.status_details


def test_other_purposes_are_not_validated(fclient, fadvance):
    created = fclient.files.create(file=("batch.jsonl", b"anything at all"), purpose="batch")
    fadvance(11)
    assert fclient.files.retrieve(created.id).status == "processed"


@pytest.mark.outside_contract
def test_upload_errors(fclient):
    with pytest.raises(openai.BadRequestError) as err:
        fclient.files.create(file=("x.jsonl", chat_jsonl()), purpose="fine-tunes")
    assert err.value.body["code"] == "invalidPayload" and err.value.body["target"] == "purpose"
    with pytest.raises(openai.BadRequestError) as err:
        fclient.post("/files", cast_to=object, body={"purpose": "fine-tune"},
                     options={"headers": {"Content-Type": "multipart/form-data"}},
                     files=[("purpose", (None, b"fine-tune"))])
    assert err.value.body["target"] == "file"


# -- list, get, delete, content ------------------------------------------------------------------
def test_list_filters_by_purpose_newest_first_and_pages(fclient, fadvance):
    ids = []
    for i in range(3):
        ids.append(fclient.files.create(file=(f"t{i}.jsonl", chat_jsonl()), purpose="fine-tune").id)
        fadvance(1)
    batch = fclient.files.create(file=("b.jsonl", b"{}"), purpose="batch").id
    listed = fclient.files.list()
    assert [f.id for f in listed.data] == [batch] + ids[::-1]
    assert [f.id for f in fclient.files.list(purpose="fine-tune").data] == ids[::-1]
    assert [f.id for f in fclient.files.list(purpose="batch").data] == [batch]
    with pytest.raises(openai.BadRequestError) as err, strict.suspended():  # an unknown purpose: outside the enum
        fclient.files.list(purpose="nonsense")
    assert err.value.body["target"] == "purpose"
    # Rule L1: 2024-10-21's Files_List has no paging: no has_more, and after/limit change nothing
    with strict.suspended():  # after/limit are not parameters of 2024-10-21's Files_List: outside the contract
        raw = fclient.files.with_raw_response.list(limit=2, after=ids[2]).http_response.json()
    assert set(raw) == {"object", "data"} and len(raw["data"]) == 4
    # the preview api-version pages with after/limit/order
    preview = AzureOpenAI(azure_endpoint=fclient._base_url.__str__().split("/openai")[0] + "/", api_key="k",
                          api_version="2025-04-01-preview", max_retries=0)
    page = preview.files.list(limit=2)
    assert [f.id for f in page.data] == [batch, ids[2]]
    assert [f.id for f in preview.files.list(limit=2, after=ids[2]).data] == [ids[1], ids[0]]
    assert [f.id for f in preview.files.list(order="asc", purpose="fine-tune").data] == ids
    with pytest.raises(openai.BadRequestError) as err:
        preview.files.list(limit=0)
    assert err.value.body["target"] == "limit"


def test_files_are_per_account(frozen, fclient):
    created = fclient.files.create(file=("t.jsonl", chat_jsonl()), purpose="fine-tune")
    other = make_openai(frozen, "aoai-swc")
    assert other.files.list().data == []
    with pytest.raises(openai.NotFoundError):
        other.files.retrieve(created.id)


def test_get_and_delete(frozen, fclient):
    created = fclient.files.create(file=("t.jsonl", chat_jsonl()), purpose="fine-tune")
    deleted = fclient.files.delete(created.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (created.id, "file", True)
    assert not frozen.backend.store.blob_path(created.id).exists()
    for call in (fclient.files.retrieve, fclient.files.delete, fclient.files.content):
        with pytest.raises(openai.NotFoundError) as err:
            call(created.id)
        assert err.value.body["code"] == "notFound"


# -- import ---------------------------------------------------------------------------------------
@pytest.fixture
def content_server():
    """A loopback HTTP server standing in for a blob SAS URL: serves ``/train.jsonl``."""
    payload = {"/train.jsonl": chat_jsonl(20)}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            body = payload.get(self.path.split("?")[0])
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", payload
    server.shutdown()
    server.server_close()


def _import(client, **body):
    return client.post("/files/import", body=body, cast_to=openai.types.FileObject)


def test_import_from_loopback_url(fclient, fadvance, content_server):
    base, payload = content_server
    created = _import(fclient, content_url=f"{base}/train.jsonl?sv=2024&sig=x", filename="train.jsonl",
                      purpose="fine-tune")
    assert created.status == "pending" and created.bytes == len(payload["/train.jsonl"])
    fadvance(11)
    assert fclient.files.retrieve(created.id).status == "processed"
    assert fclient.files.content(created.id).content == payload["/train.jsonl"]


@pytest.mark.outside_contract
@pytest.mark.parametrize("body, code, target", [
    ({"content_url": "https://example.blob.core.windows.net/c/train.jsonl", "filename": "t.jsonl",
      "purpose": "fine-tune"}, "fileImportFailed", "content_url"),
    ({"content_url": "ftp://127.0.0.1/x", "filename": "t.jsonl", "purpose": "fine-tune"}, "fileImportFailed",
     "content_url"),
    ({"content_url": "PATH/missing.jsonl", "filename": "t.jsonl", "purpose": "fine-tune"}, "fileImportFailed",
     "content_url"),
    ({"filename": "t.jsonl", "purpose": "fine-tune"}, "invalidPayload", "content_url"),
    ({"content_url": "PATH/train.jsonl", "purpose": "fine-tune"}, "invalidPayload", "filename"),
    ({"content_url": "PATH/train.jsonl", "filename": "t.jsonl"}, "invalidPayload", "purpose"),
])
def test_import_errors(fclient, content_server, body, code, target):
    base, _ = content_server
    if "content_url" in body:
        body = {**body, "content_url": body["content_url"].replace("PATH", base)}
    with pytest.raises(openai.BadRequestError) as err:
        _import(fclient, **body)
    assert (err.value.body["code"], err.value.body["target"]) == (code, target)
    assert fclient.files.list().data == []


def test_import_from_unreachable_loopback_port_fails(fclient, content_server):
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(openai.BadRequestError) as err:
        _import(fclient, content_url=f"http://127.0.0.1:{port}/x.jsonl", filename="x.jsonl", purpose="fine-tune")
    assert err.value.body["code"] == "fileImportFailed"


# -- auth, api-version, accounts, v1 --------------------------------------------------------------
def test_missing_key_is_401(fclient):
    with pytest.raises(openai.AuthenticationError) as err:
        fclient.files.list(extra_headers={"api-key": Omit()})
    assert err.value.body["code"] == "401" and "missing subscription key" in err.value.body["message"]


def test_configured_key_is_enforced_for_api_key_and_bearer(tmp_path):
    config = EmulatorConfig(state_dir=tmp_path / "s", time_scale=0.001, api_key="s3cret")
    with EmulatorServer(config) as server:
        endpoint = server.backend.account_endpoint("aoai-ncus")
        wrong = AzureOpenAI(azure_endpoint=endpoint, api_key="wrong", api_version=API_VERSION, max_retries=0)
        with pytest.raises(openai.AuthenticationError) as err:
            wrong.files.list()
        assert err.value.body["code"] == "401" and "invalid subscription key" in err.value.body["message"]
        right = AzureOpenAI(azure_endpoint=endpoint, api_key="s3cret", api_version=API_VERSION, max_retries=0)
        assert right.files.list().data == []
        bearer = AzureOpenAI(azure_endpoint=endpoint, azure_ad_token="s3cret", api_version=API_VERSION,
                             max_retries=0)
        assert bearer.files.list().data == []
        bad_bearer = AzureOpenAI(azure_endpoint=endpoint, azure_ad_token="nope", api_version=API_VERSION,
                                 max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            bad_bearer.files.list()


@pytest.mark.outside_contract
@pytest.mark.parametrize("version", [Omit(), "", "yesterday"], ids=["missing", "empty", "malformed"])
def test_missing_or_malformed_api_version_is_azure_404(fclient, version):
    with pytest.raises(openai.NotFoundError) as err:
        fclient.files.list(extra_query={"api-version": version})
    assert err.value.body == {"code": "404", "message": "Resource not found"}


def test_unknown_account_is_404(frozen):
    client = make_openai(frozen, "no-such-account")
    with pytest.raises(openai.NotFoundError) as err:
        client.files.list()
    assert err.value.body["code"] == "notFound"


@pytest.mark.outside_contract
def test_v1_api_needs_no_api_version(frozen):
    v1 = OpenAI(base_url=frozen.backend.account_endpoint("aoai-ncus") + "openai/v1", api_key="k", max_retries=0)
    created = v1.files.create(file=("t.jsonl", chat_jsonl()), purpose="fine-tune")
    assert [f.id for f in v1.files.list().data] == [created.id]
    assert make_openai(frozen).files.retrieve(created.id).id == created.id


@pytest.mark.outside_contract
def test_unknown_operations_answer_azure_404(fclient):
    for method, path in (("get", "/assistants"), ("post", "/files/file-x"), ("get", "/fine_tuning/nothing")):
        with pytest.raises(openai.NotFoundError) as err:
            getattr(fclient, method)(path, cast_to=object)
        assert err.value.body == {"code": "404", "message": "Resource not found"}
