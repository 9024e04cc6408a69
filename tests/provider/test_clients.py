import pytest

from fresh_python import run_fresh
from pulumi_aoai_finetune import clients
from pulumi_aoai_finetune.errors import ConfigurationError, CredentialError
from pulumi_aoai_finetune.settings import ProviderSettings


@pytest.mark.parametrize("url, loopback", [
    ("http://127.0.0.1:8080", True), ("http://localhost", True), ("http://[::1]:9", True),
    ("http://127.5.0.1", True), ("http://10.0.0.1", False), ("https://example.com", False),
])
def test_loopback_detection(url, loopback):
    assert clients.is_loopback(url) is loopback


def test_plain_http_needs_the_explicit_loopback_setting():
    strict = ProviderSettings()
    with pytest.raises(ConfigurationError, match="allowInsecureLoopback"):
        clients.require_secure("http://127.0.0.1:1234", strict, "ARM endpoint")
    clients.require_secure("http://127.0.0.1:1234", ProviderSettings(allow_insecure_loopback=True), "ARM endpoint")


def test_plain_http_to_a_remote_host_is_always_refused():
    with pytest.raises(ConfigurationError, match="must be https"):
        clients.require_secure("http://example.com", ProviderSettings(allow_insecure_loopback=True), "ARM endpoint")


def test_token_credential_needs_the_environment(monkeypatch):
    monkeypatch.delenv("AOAI_FT_ACCESS_TOKEN", raising=False)
    clients._credentials.clear()
    with pytest.raises(CredentialError, match="AOAI_FT_ACCESS_TOKEN"):
        clients.credential(ProviderSettings(credential="token"))


def test_static_token_credential_never_shows_the_token(monkeypatch):
    monkeypatch.setenv("AOAI_FT_ACCESS_TOKEN", "very-secret-token")
    clients._credentials.clear()
    cred = clients.credential(ProviderSettings(credential="token"))
    assert cred.get_token("scope").token == "very-secret-token"
    assert "very-secret-token" not in repr(cred)
    clients._credentials.clear()


@pytest.mark.parametrize("url, shown", [
    ("https://acct.blob.core.windows.net/data/train.jsonl?sv=2025-01-05&sig=abc%2F", "https://acct.blob.core.windows.net/data/train.jsonl?..."),
    ("http://user:pass@example.com/x.jsonl#frag", "http://example.com/x.jsonl"),
    ("https://example.com/x.jsonl", "https://example.com/x.jsonl"),
    ("http://[::1", "<a malformed URL>"),
])
def test_urls_in_messages_lose_their_query_and_user_info(url, shown):
    assert clients.redact_url(url) == shown


def test_an_insecure_url_is_refused_without_its_sas_token():
    with pytest.raises(ConfigurationError) as err:
        clients.require_secure("http://example.com/train.jsonl?sig=SECRET", ProviderSettings(), "content_url")
    assert "SECRET" not in str(err.value) and "http://example.com/train.jsonl?..." in str(err.value)


def test_the_token_and_the_api_key_may_come_from_settings(monkeypatch):
    from pulumi_aoai_finetune.account import AccountRef

    monkeypatch.delenv("AOAI_FT_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    clients._credentials.clear()
    cred = clients.credential(ProviderSettings(credential="token", access_token="from-config"))
    assert cred.get_token("scope").token == "from-config"
    other = clients.credential(ProviderSettings(credential="token", access_token="another"))
    assert other.get_token("scope").token == "another"  # a different token is a different credential
    clients._credentials.clear()
    account = AccountRef("s", "r", "acct-a", "https://acct-a.openai.azure.com/")
    client = clients.data_plane(ProviderSettings(api_key="cfg-key"), account)
    assert client.api_key == "cfg-key"


def test_sdks_are_loaded_once_before_any_call_and_httpx_is_never_imported_by_the_provider():
    # The openai SDK reads sys.modules["httpx"] without importing it: a provider thread importing
    # httpx while another makes a request broke that request ("partially initialized module").
    out = run_fresh(
        "import sys, threading\n"
        "from pulumi_aoai_finetune import clients\n"
        "assert 'openai' not in sys.modules\n"
        "threads = [threading.Thread(target=clients.load_sdks) for _ in range(16)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "import openai, azure.identity, azure.mgmt.cognitiveservices.models\n"
        "had_httpx = 'httpx' in sys.modules\n"
        "errors = clients._transport_errors()\n"
        "print(had_httpx, 'httpx' in sys.modules, [e.__module__.split('.')[0] for e in errors])\n"
    )
    had, has, modules = out.split(" ", 2)
    assert has == had  # the provider imported no httpx of its own
    assert "httpx2" in modules or "httpx" in modules  # the SDK's transport errors are still mapped


# -- bounded listings (rule L1) ---------------------------------------------------------------------
class _Item:
    def __init__(self, id_):
        self.id = id_


class _Page:
    """A page whose service ignores `after`: every next page is the same page, with has_more true."""

    def __init__(self, ids, *, pages=None):
        self.data = [_Item(i) for i in ids]
        self.requests = pages if pages is not None else [0]

    def has_next_page(self):
        return True

    def get_next_page(self):
        self.requests[0] += 1
        return _Page([i.id for i in self.data], pages=self.requests)


def test_a_walk_stops_when_the_service_answers_the_same_page_again():
    page = _Page(["a", "b"])
    assert [i.id for i in clients.walk(page, max_items=1000)] == ["a", "b"]
    assert page.requests[0] == 1  # one more request, which brought nothing new


def test_a_walk_is_bounded_in_items_and_pages():
    class Endless(_Page):
        def get_next_page(self):
            self.requests[0] += 1
            n = self.requests[0]
            return Endless([f"p{n}-{k}" for k in range(3)], pages=self.requests)

    assert len(list(clients.walk(Endless(["x"]), max_items=7))) == 7
    page = Endless(["x"])
    assert len(list(clients.walk(page, max_items=10**6))) == 1 + 3 * (clients.MAX_PAGES - 1)
    assert page.requests[0] == clients.MAX_PAGES - 1


def test_files_of_2024_10_21_are_read_from_one_page_against_the_emulator(tmp_path):
    """2024-10-21's Files_List has no paging and no has_more: the SDK's own iteration would ask again
    with after=<last id> for ever (shown bounded here); the provider reads the one page."""
    import itertools

    from openai import AzureOpenAI

    from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer

    with EmulatorServer(EmulatorConfig(state_dir=tmp_path / "s")) as server:
        client = AzureOpenAI(azure_endpoint=server.backend.account_endpoint("aoai-ncus"), api_key="k",
                             api_version="2024-10-21", max_retries=0)
        ids = {client.files.create(file=(f"t{i}.jsonl", b'{"prompt": "a", "completion": "b"}\n'),
                                   purpose="fine-tune").id for i in range(3)}
        import openai

        from pulumi_aoai_finetune_emulator import strict

        with pytest.raises(openai.BadRequestError, match="query after: not a parameter of Files_List"):
            list(itertools.islice(client.files.list(), 9))  # the strict contract catches the second request
        with strict.suspended():  # as the service answers it: the same page, again and again
            naive = [f.id for f in itertools.islice(client.files.list(), 9)]
        assert len(naive) == 9 and set(naive) == ids
        assert {f.id for f in clients.first_page(client.files.list())} == ids
