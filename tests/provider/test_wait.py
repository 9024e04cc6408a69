import pytest

from pulumi_aoai_finetune._wait import poll
from pulumi_aoai_finetune.errors import TransientError, WaitTimeoutError


def test_poll_backs_off_up_to_the_interval():
    sleeps: list[float] = []
    states = iter(["pending"] * 12 + ["succeeded"])
    result = poll(lambda: next(states), lambda s: s == "succeeded", timeout=60, interval=8.0, what="job",
                  sleep=sleeps.append)
    assert result == "succeeded"
    assert sleeps[0] == 1.0  # an eighth of the interval: quick objects are noticed quickly
    assert all(b >= a for a, b in zip(sleeps, sleeps[1:]))  # never faster again
    assert max(sleeps) == 8.0 and sleeps[-1] == 8.0  # and never slower than the interval


def test_poll_survives_transient_reads_and_calls_on_poll():
    seen = []
    calls = iter([TransientError("blip", status=503), "running", "succeeded"])

    def fetch():
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    assert poll(fetch, lambda s: s == "succeeded", timeout=60, interval=1, what="job", on_poll=seen.append,
                sleep=lambda s: None) == "succeeded"
    assert seen == ["running", "succeeded"]


def test_poll_times_out_with_advice():
    with pytest.raises(WaitTimeoutError, match="still not done after 0 s.*attaches to it"):
        poll(lambda: "running", lambda s: False, timeout=0, interval=1, what="fine-tuning job x",
             sleep=lambda s: None)


# -- a role assignment propagating (rule A1) ------------------------------------------------------------
def _refused(status=403):
    from pulumi_aoai_finetune.errors import CredentialError

    err = CredentialError("uploading: the service refused the credential [403]: PermissionDenied")
    err.status = status
    return err


def test_permission_errors_are_retried_while_an_assignment_propagates(monkeypatch):
    from pulumi_aoai_finetune._wait import while_access_propagates

    monkeypatch.setattr("pulumi.log.info", lambda *a, **k: None)
    answers, sleeps = [_refused(), _refused(401), "done"], []

    def call():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert while_access_propagates(call, timeout=60, what="x", account="acct", sleep=sleeps.append) == "done"
    assert sleeps == [2.0, 4.0]


def test_permission_errors_fail_at_once_without_a_timeout_and_say_what_to_check(monkeypatch):
    import pytest

    from pulumi_aoai_finetune._wait import while_access_propagates
    from pulumi_aoai_finetune.errors import CredentialError

    def call():
        raise _refused()

    with pytest.raises(CredentialError) as info:
        while_access_propagates(call, timeout=0, what="x", account="acct", sleep=lambda s: None)
    assert "Cognitive Services OpenAI Contributor" in str(info.value) and "acct" in str(info.value)
    monkeypatch.setattr("pulumi.log.info", lambda *a, **k: None)
    with pytest.raises(CredentialError, match="still refused after"):
        while_access_propagates(call, timeout=5, what="x", account="acct", sleep=lambda s: None)
