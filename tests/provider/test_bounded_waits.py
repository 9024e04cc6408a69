"""Every wait is bounded and ends promptly on request (issue 14, section 2), at unit level and against the
emulator through the real SDK clients:

- a stop request (what Ctrl-C, SIGTERM or the engine's cancel become) ends a pause of ours or of the SDKs'
  within a fraction of a second, saying what goes on in the service and what the next run does;
- Retry-After is honoured up to ``maxRetryAfter`` (and ``requestTimeout``), and a throttled call that is
  still refused after its retries ends in an error that names it;
- the dynamic provider process gives SIGINT its default action back when it started with it ignored.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from pulumi_aoai_finetune import _wait, clients
from pulumi_aoai_finetune.errors import ConfigurationError, TransientError, WaitInterrupted
from pulumi_aoai_finetune.settings import ProviderSettings


@pytest.fixture(autouse=True)
def fresh_stop(monkeypatch):
    """Each test is a process that was not asked to stop yet."""
    monkeypatch.setattr(_wait, "_stop", threading.Event())


def stop_in(seconds: float) -> float:
    """Request the stop from another thread after ``seconds``; returns when it was armed."""
    threading.Timer(seconds, _wait.request_stop).start()
    return time.monotonic()


def test_a_stop_request_ends_a_pause_at_once_saying_what_goes_on():
    started = stop_in(0.3)
    with pytest.raises(WaitInterrupted, match="job ftjob-1: the wait was interrupted; it goes on in the service, "
                                              "and the next `pulumi up` finds it") as info:
        _wait.stoppable_sleep(3600, what="job ftjob-1", object_id="ftjob-1")
    assert time.monotonic() - started < 0.3 + 2 * _wait.TICK + 0.5
    assert info.value.object_id == "ftjob-1"


def test_a_poll_ends_on_a_stop_request_with_the_object_it_waits_for():
    reads = []

    def fetch():
        reads.append(1)
        return type("Job", (), {"id": "ftjob-7", "status": "running"})()

    started = stop_in(0.5)
    with pytest.raises(WaitInterrupted) as info:
        _wait.poll(fetch, lambda j: j.status == "succeeded", timeout=3600, interval=60, what="fine-tuning job ftjob-7")
    assert time.monotonic() - started < 1.5 and info.value.object_id == "ftjob-7"
    assert "attaches to the job" in str(info.value)


def test_a_retry_backoff_ends_on_a_stop_request():
    calls = []

    def call():
        calls.append(1)
        raise TransientError("busy", status=503, retry_after=30)

    started = stop_in(0.3)
    with pytest.raises(WaitInterrupted, match="a retry was interrupted before its next attempt"):
        _wait.retry_transient(call, attempts=5, max_wait=30)
    assert time.monotonic() - started < 1.5 and len(calls) == 1


# -- against the emulator, through the SDKs ---------------------------------------------------------------
@pytest.fixture
def emu(tmp_path, monkeypatch):
    from emulated import provider_emulator

    with provider_emulator(tmp_path, monkeypatch, (("aoai-ncus", "northcentralus"),)) as server:
        yield server


def throttle(emu, method: str, path_regex: str, retry_after: float) -> None:
    rule = {"method": method, "path_regex": path_regex, "status": 429, "retry_after": retry_after, "times": None,
            "code": "TooManyRequests", "message": "Rate limit is exceeded."}
    httpx.post(f"{emu.base_url}/_emulator/faults", json=rule, timeout=10).raise_for_status()


def settings_of(emu, **extra) -> ProviderSettings:
    from dataclasses import replace

    return replace(emu.settings, **extra)


def read_account(settings, emu):
    client = clients.arm(settings, emu.config.subscription_id)
    with clients.arm_errors("reading account aoai-ncus"):
        return client.accounts.get(emu.config.resource_group, "aoai-ncus")


@pytest.mark.timeout(120)
def test_an_arm_read_answered_retry_after_100000_pauses_at_most_max_retry_after(emu):
    """One throttled answer with Retry-After: 100000 used to hold the preview for as long as ARM asked."""
    throttle(emu, "GET", r"/accounts/aoai-ncus$", 100000)
    settings = settings_of(emu, max_retries=3, max_retry_after=0.5, request_timeout=600.0)
    started = time.monotonic()
    with pytest.raises(TransientError) as info:
        read_account(settings, emu)
    took = time.monotonic() - started
    assert took < 3 * 0.5 + 3.0, took
    text = str(info.value)
    assert text.startswith("reading account aoai-ncus: Rate limit is exceeded. [429 TooManyRequests]"), text
    assert "throttled: the service kept answering 429 and asked to wait 100,000 s" in text
    # requestTimeout bounds a pause too
    started = time.monotonic()
    with pytest.raises(TransientError):
        read_account(settings_of(emu, max_retries=2, max_retry_after=60.0, request_timeout=0.5), emu)
    assert time.monotonic() - started < 2 * 0.5 + 3.0


@pytest.mark.timeout(120)
def test_a_stop_request_ends_an_arm_retry_pause(emu):
    throttle(emu, "GET", r"/accounts/aoai-ncus$", 100000)
    settings = settings_of(emu, max_retries=100, max_retry_after=60.0, request_timeout=600.0)
    started = stop_in(1.0)
    with pytest.raises(WaitInterrupted, match="nothing more was sent"):
        read_account(settings, emu)
    assert time.monotonic() - started < 1.0 + 1.5


@pytest.mark.timeout(120)
def test_a_429_storm_on_the_data_plane_ends_in_an_error_naming_the_call(emu):
    throttle(emu, "GET", r"/openai/files$", 100)
    settings = settings_of(emu, max_retries=3, max_retry_after=0.5, request_timeout=600.0)
    from pulumi_aoai_finetune.account import AccountRef

    account = AccountRef.parse({"resource_id": f"/subscriptions/{emu.config.subscription_id}/resourceGroups/"
                                               f"{emu.config.resource_group}/providers/Microsoft.CognitiveServices/"
                                               "accounts/aoai-ncus"})
    client = clients.data_plane(settings, account)
    started = time.monotonic()
    with pytest.raises(TransientError) as info:
        with clients.openai_errors("listing files"):
            clients.first_page(client.files.list())
    assert time.monotonic() - started < 3 * 0.5 + 3.0  # the SDK alone would pause 100 s three times
    text = str(info.value)
    assert text.startswith("listing files: Rate limit is exceeded. [429"), text
    assert "asked to wait 100 s" in text
    # with_options (the creates' max_retries=0) keeps the bounded class
    assert type(client.with_options(max_retries=0)) is type(client)


# -- settings ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["sk-abc\ndef", "sk-abc def", "sk-\x00abc", "sk-abc\u2028x"])
def test_a_credential_with_a_line_break_is_refused_without_showing_it(value):
    for key, env in (("apiKey", "AZURE_OPENAI_API_KEY"), ("accessToken", "AOAI_FT_ACCESS_TOKEN")):
        with pytest.raises(ConfigurationError) as info:
            ProviderSettings.load({f"aoai-finetune:{key}": value}, environ={})
        assert f"aoai-finetune:{key} / {env} contains a line break" in str(info.value)
        assert "abc" not in str(info.value) and "sk-" not in str(info.value)
    # surrounding whitespace (a trailing newline of `cat key.txt`) is only trimmed
    assert ProviderSettings.load({"aoai-finetune:apiKey": "sk-abc\n"}, environ={}).api_key == "sk-abc"


@pytest.mark.parametrize("value", ["0", "-1", "nan", "7200"])
def test_max_retry_after_is_bounded(value):
    with pytest.raises(ConfigurationError, match="aoai-finetune:maxRetryAfter"):
        ProviderSettings.load({"aoai-finetune:maxRetryAfter": value}, environ={})


# -- the dynamic provider process ---------------------------------------------------------------------------
def test_sigint_gets_its_default_action_back_when_it_was_ignored():
    """What `pulumi` started in the background hands on: SIGINT ignored. The engine stops its plugins with
    SIGINT, then SIGKILL 5 s later: every command paid those 5 s."""
    code = ("import threading, time\n"
            "from pulumi_aoai_finetune.adapters.dynamic import default_sigint_if_ignored\n"
            "done = []\n"
            "t = threading.Thread(target=lambda: done.append(default_sigint_if_ignored()))\n"  # like configure
            "t.start(); t.join()\n"
            "print(done[0], flush=True)\n"
            "time.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert proc.stdout.readline().strip() == "True"
    started = time.monotonic()
    os.kill(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=10) == -signal.SIGINT
    assert time.monotonic() - started < 2.0
