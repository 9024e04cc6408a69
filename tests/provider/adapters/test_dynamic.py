"""The adapter between the dynamic-provider protocol and the controllers (adapters/dynamic.py)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fresh_python import run_fresh

from pulumi_aoai_finetune.adapters.dynamic import UNKNOWN, ProviderError, _call, is_unknown, widen_worker_pool
from pulumi_aoai_finetune.errors import AoaiFinetuneError


def test_widen_worker_pool_lets_more_calls_than_the_original_size_run_at_once() -> None:
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        assert pool.submit(widen_worker_pool, 6).result(timeout=10) is True
        # six calls that only finish when all six are running together: impossible with 2 threads
        barrier = threading.Barrier(6, timeout=10)
        for f in [pool.submit(barrier.wait) for _ in range(6)]:
            f.result(timeout=20)
    finally:
        pool.shutdown(wait=True)


def test_widen_worker_pool_never_shrinks_a_pool() -> None:
    pool = ThreadPoolExecutor(max_workers=8)
    try:
        assert pool.submit(widen_worker_pool, 4).result(timeout=10) is True
        assert pool._max_workers == 8
    finally:
        pool.shutdown(wait=True)


def test_widen_worker_pool_outside_a_pool_does_nothing() -> None:
    assert widen_worker_pool() is False
    seen: list[bool] = []
    t = threading.Thread(target=lambda: seen.append(widen_worker_pool()))
    t.start()
    t.join()
    assert seen == [False]


@pytest.mark.parametrize("value", [UNKNOWN, {"a": 1}.get("b", UNKNOWN)])
def test_the_engine_sentinel_is_unknown(value) -> None:
    assert is_unknown(value)


@pytest.mark.parametrize("value", ["", "gpt-4o", 0, None, [], {}])
def test_plain_values_are_known(value) -> None:
    assert not is_unknown(value)


def test_provider_errors_carry_the_kind_and_message_only() -> None:
    def fail():
        raise AoaiFinetuneError("training_file: no such file")

    with pytest.raises(ProviderError) as info:
        _call(fail)
    assert str(info.value) == "AoaiFinetuneError: training_file: no such file"
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_configure_loads_what_checks_import_before_any_call() -> None:
    # Pulumi's provider server runs configure() under its lock before a provider's first call; the
    # validator and the cost estimate are then loaded before the threads that check resources.
    out = run_fresh(
        "import sys\n"
        "from pulumi_aoai_finetune.training_file import TrainingFileProvider\n"
        "before = [m in sys.modules for m in ('pulumi_aoai_finetune.data', 'pulumi_aoai_finetune.cost')]\n"
        "class Req: config = {}\n"
        "TrainingFileProvider().configure(Req())\n"
        "after = [m in sys.modules for m in ('pulumi_aoai_finetune.data', 'pulumi_aoai_finetune.cost')]\n"
        "print(before, after)\n"
    )
    assert out == "[False, False] [True, True]"
