"""Tests of the aggregation kernels' thread pool."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest

from pandas_toloka.aggregation import _threads
from pandas_toloka.aggregation._threads import parallel_map


def test_results_keep_the_items_order() -> None:
    assert parallel_map(lambda x: x * x, list(range(50))) == [x * x for x in range(50)]
    assert parallel_map(lambda x: x, []) == []


def test_runs_on_pool_threads_when_several_cpus(monkeypatch) -> None:
    monkeypatch.setattr(_threads, "n_threads", lambda: 2)
    names = parallel_map(lambda _: threading.current_thread().name, [0, 1, 2, 3])
    assert all(name.startswith("pandas-toloka-kernels") for name in names)


def test_other_threads_of_the_package_still_use_the_pool(monkeypatch) -> None:
    # Only the pool's own threads run nested calls inline, whatever other threads are named.
    monkeypatch.setattr(_threads, "n_threads", lambda: 2)
    seen: list[list[str]] = []

    def work() -> None:
        seen.append(parallel_map(lambda _: threading.current_thread().name, [0, 1, 2]))

    other = threading.Thread(target=work, name="pandas-toloka-prefetch")
    other.start()
    other.join(timeout=30)
    assert all(name.startswith("pandas-toloka-kernels") for name in seen[0])


def test_one_cpu_or_one_item_runs_inline(monkeypatch) -> None:
    main = threading.current_thread().name
    assert parallel_map(lambda _: threading.current_thread().name, [0]) == [main]
    monkeypatch.setattr(_threads, "n_threads", lambda: 1)
    assert parallel_map(lambda _: threading.current_thread().name, [0, 1]) == [main, main]


def test_nested_calls_do_not_deadlock(monkeypatch) -> None:
    monkeypatch.setattr(_threads, "n_threads", lambda: 2)

    def outer(i: int) -> list[int]:
        return parallel_map(lambda j: i * 10 + j, [0, 1, 2])

    assert parallel_map(outer, [0, 1, 2, 3]) == [[i * 10 + j for j in range(3)] for i in range(4)]


def test_errors_propagate(monkeypatch) -> None:
    monkeypatch.setattr(_threads, "n_threads", lambda: 2)

    def boom(x: int) -> int:
        if x == 2:
            raise ValueError("two")
        return x

    with pytest.raises(ValueError, match="two"):
        parallel_map(boom, [0, 1, 2, 3])


def _in_child(queue) -> None:  # type: ignore[no-untyped-def]
    queue.put(parallel_map(lambda x: x + 1, [1, 2, 3]))


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method"
)
def test_a_forked_child_gets_a_pool_of_its_own(monkeypatch) -> None:
    monkeypatch.setattr(_threads, "n_threads", lambda: 2)
    # The parent's pool runs all its threads, then they idle: a child that inherited the
    # pool would count them as idle and hand its work to threads it does not have.
    assert parallel_map(lambda x: time.sleep(0.05) or x, [1, 2, 3, 4]) == [1, 2, 3, 4]
    pool = _threads._executor()
    deadline = time.monotonic() + 10
    while pool._idle_semaphore._value < len(pool._threads):  # bounded wait: all idle again
        assert time.monotonic() < deadline, "the pool's threads never went idle"
        time.sleep(0.005)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_in_child, args=(queue,))
    child.start()
    try:
        assert queue.get(timeout=10) == [2, 3, 4]
    finally:
        child.join(timeout=30)
        if child.is_alive():  # pragma: no cover - only if the child hangs
            child.kill()
    assert child.exitcode == 0


def test_thread_count_is_bounded() -> None:
    assert 1 <= _threads.n_threads() <= _threads.MAX_THREADS


def test_the_environment_caps_the_threads(monkeypatch) -> None:
    monkeypatch.setenv(_threads.THREADS_VARIABLE, "1")
    assert _threads.n_threads() == 1
    main = threading.current_thread().name
    assert parallel_map(lambda _: threading.current_thread().name, [0, 1]) == [main, main]
    monkeypatch.setenv(_threads.THREADS_VARIABLE, " 100 ")
    assert _threads.n_threads() <= _threads.MAX_THREADS


@pytest.mark.parametrize("setting", ["0", "-2", "two", "1.5"])
def test_a_bad_thread_cap_says_what_to_set(monkeypatch, setting: str) -> None:
    from pandas_toloka.errors import InvalidArgumentError

    monkeypatch.setenv(_threads.THREADS_VARIABLE, setting)
    with pytest.raises(InvalidArgumentError, match="PANDAS_TOLOKA_MAX_THREADS must be a positive"):
        _threads.n_threads()
