"""Fixtures shared by the provider, emulator and end-to-end tests."""

from __future__ import annotations

import os

import pytest

# The strict contract mode is on for the whole suite: every emulator the tests start (in process, or a
# process they spawn) answers 400 to a request the official spec of its api-version does not define, and
# 500 to an answer of its own that breaks that spec (emulator/.../strict.py). A test that drives the
# emulator outside the specs on purpose says so with EmulatorConfig(strict_contract=False).
os.environ["AOAI_EMULATOR_STRICT_CONTRACT"] = "1"


def pytest_configure(config):
    config.addinivalue_line("markers", "outside_contract: the test sends requests the official specs do not define "
                                       "on purpose (to see the emulator's answer); strict contract checks are "
                                       "suspended for it")


@pytest.fixture(autouse=True)
def _contract_checks(request):
    if request.node.get_closest_marker("outside_contract") is None:
        yield
        return
    from pulumi_aoai_finetune_emulator import strict

    with strict.suspended():
        yield


@pytest.fixture(autouse=True, scope="session")
def _own_check_cache(tmp_path_factory):
    """The provider's check cache (local_data) of checks run in this process: never the user's."""
    import os

    previous = os.environ.get("AOAI_FT_CACHE_DIR")
    os.environ["AOAI_FT_CACHE_DIR"] = str(tmp_path_factory.mktemp("aoai-checks"))
    yield
    if previous is None:
        os.environ.pop("AOAI_FT_CACHE_DIR", None)
    else:
        os.environ["AOAI_FT_CACHE_DIR"] = previous


@pytest.fixture
def untrusted_https(tmp_path):
    """An HTTPS server on loopback with a self-signed certificate nobody trusts (the TLS tests of
    the provider and the e2e suite)."""
    import datetime
    import http.server
    import ipaddress
    import ssl
    import threading

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # would answer, if a client ever trusted it
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"data": []}')

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def data_server(tmp_path):
    """A loopback HTTP server for the training data, as an import's content_url (the emulator only
    imports from loopback); the query of a URL (a SAS token, say) is ignored."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class FakeGitHub:
    """GitHub's REST API for issue comments, and the Actions OIDC token endpoint, on loopback: what
    `aoai-ft ci` calls (github.com is not reachable from tests). Shapes as GitHub documents them:
    ``GET/POST /repos/{owner}/{repo}/issues/{n}/comments`` (paged by ``per_page``/``page``, with a
    ``Link: rel="next"`` header), ``PATCH /repos/{owner}/{repo}/issues/comments/{id}``; a bearer token
    is required. The token endpoint answers ``{"value": <token>}`` to its own bearer token."""

    TOKEN = "ghs_fake-job-token-0123456789"
    REQUEST_TOKEN = "fake-id-token-request-token-42"

    def __init__(self, url: str) -> None:
        self.url = url
        self.comments: dict[int, list[dict]] = {}
        self.calls: list[tuple[str, str]] = []
        self.tokens_issued = 0
        self.next_id = 1000

    def add(self, number: int, body: str, login: str = "a-reviewer") -> dict:
        self.next_id += 1
        comment = {"id": self.next_id, "body": body, "user": {"login": login},
                   "html_url": f"https://github.example/pull/{number}#issuecomment-{self.next_id}"}
        self.comments.setdefault(number, []).append(comment)
        return comment

    def token_url(self) -> str:
        return f"{self.url}/_actions/idtoken?api-version=2.0"

    def env(self, event_path, repository: str = "contoso/finetune") -> dict[str, str]:
        return {"GITHUB_API_URL": self.url, "GITHUB_REPOSITORY": repository, "GITHUB_TOKEN": self.TOKEN,
                "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event_path),
                "GITHUB_SERVER_URL": "https://github.example", "GITHUB_RUN_ID": "4242"}


@pytest.fixture
def github_api():
    import http.server
    import json
    import re
    import threading
    from urllib.parse import parse_qs, urlparse

    holder: dict = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def _send(self, status, body, headers=None):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method):
            fake: FakeGitHub = holder["fake"]
            url = urlparse(self.path)
            fake.calls.append((method, url.path))
            auth = self.headers.get("authorization", "")
            if url.path == "/_actions/idtoken":
                if auth != f"Bearer {fake.REQUEST_TOKEN}":
                    return self._send(401, {"message": "bad request token"})
                fake.tokens_issued += 1
                audience = parse_qs(url.query).get("audience", [""])[0]
                return self._send(200, {"value": f"oidc-token-{fake.tokens_issued}-for-{audience}"})
            if auth != f"Bearer {fake.TOKEN}":
                return self._send(401, {"message": "Bad credentials"})
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length)) if length else {}
            m = re.fullmatch(r"/repos/[^/]+/[^/]+/issues/(\d+)/comments", url.path)
            if m and method == "GET":
                q = parse_qs(url.query)
                per_page, page = int(q.get("per_page", ["30"])[0]), int(q.get("page", ["1"])[0])
                items = fake.comments.get(int(m.group(1)), [])
                chunk = items[(page - 1) * per_page: page * per_page]
                headers = {}
                if page * per_page < len(items):
                    headers["Link"] = f'<{fake.url}{url.path}?per_page={per_page}&page={page + 1}>; rel="next"'
                return self._send(200, chunk, headers)
            if m and method == "POST":
                comment = fake.add(int(m.group(1)), body["body"], login="github-actions[bot]")
                return self._send(201, comment)
            m = re.fullmatch(r"/repos/[^/]+/[^/]+/issues/comments/(\d+)", url.path)
            if m and method == "PATCH":
                for items in fake.comments.values():
                    for comment in items:
                        if comment["id"] == int(m.group(1)):
                            comment["body"] = body["body"]
                            return self._send(200, comment)
            return self._send(404, {"message": "Not Found"})

        def do_GET(self):
            self._route("GET")

        def do_POST(self):
            self._route("POST")

        def do_PATCH(self):
            self._route("PATCH")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["fake"] = FakeGitHub(f"http://127.0.0.1:{server.server_address[1]}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield holder["fake"]
    server.shutdown()
