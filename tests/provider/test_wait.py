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
