"""The confusion-matrix fits refuse, before allocating, label counts whose matrices would not fit.

Dawid–Skene's dense arrays grow with workers x labels**2: the probe's two reproductions
(8k responses with 4k distinct labels, about 2.4 GB; 16k with 8k, past 7 GB) must fail
at once with an error naming the alternatives, not allocate gigabytes.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from pandas_toloka.aggregation import dawid_skene, fit_aggregation, one_coin_dawid_skene
from pandas_toloka.aggregation._memory import em_memory
from pandas_toloka.aggregation.dawid_skene import fit_dawid_skene
from pandas_toloka.aggregation.one_coin import fit_one_coin_dawid_skene
from pandas_toloka.errors import InvalidArgumentError

MB = 1 << 20


def _free_text(n_responses: int, n_labels: int, n_workers: int = 3) -> pd.DataFrame:
    """Two responses per task; ``n_labels`` distinct answers, as free text gives."""
    rng = np.random.default_rng(0)
    labels = rng.permutation(np.arange(n_responses) % n_labels)
    return pd.DataFrame(
        {
            "task_id": np.arange(n_responses) // 2,
            "worker_id": rng.integers(0, n_workers, n_responses),
            "result": [f"answer {i}" for i in labels],
        }
    )


@pytest.mark.parametrize("fit", [fit_dawid_skene, fit_one_coin_dawid_skene])
@pytest.mark.parametrize(("n_responses", "n_labels"), [(8_000, 4_000), (16_000, 8_000)])
def test_the_reproductions_fail_fast_without_allocating(fit, n_responses, n_labels):
    responses = _free_text(n_responses, n_labels)
    tracemalloc.start()
    try:
        with pytest.raises(InvalidArgumentError) as info:
            fit(responses)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * MB  # the fit would need gigabytes
    message = str(info.value)
    assert f"{n_labels:,} distinct labels" in message and "max_memory" in message
    for alternative in ("MAJORITY_VOTE", "WAWA", "coarser label set"):
        assert alternative in message


def test_the_limit_is_an_argument_and_none_lifts_it():
    responses = _free_text(600, 300)  # 3 workers x 300**2 cells: about 15 MB
    needed = em_memory(300, 3, 300)
    with pytest.raises(InvalidArgumentError, match="max_memory"):
        dawid_skene(responses, max_memory=needed - 1, n_iter=1)
    with pytest.raises(InvalidArgumentError, match="max_memory"):
        one_coin_dawid_skene(responses, max_memory=needed - 1, n_iter=1)
    assert len(dawid_skene(responses, max_memory=needed, n_iter=1)) == 300
    assert len(dawid_skene(responses, max_memory=None, n_iter=1)) == 300


def test_the_limit_reaches_the_fit_through_the_registry():
    responses = _free_text(600, 300)
    with pytest.raises(InvalidArgumentError, match="max_memory"):
        fit_aggregation(responses, method="DAWID_SKENE", max_memory=1 << 20)


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "1GB"])
def test_a_bad_limit_is_refused(value):
    with pytest.raises(InvalidArgumentError, match="max_memory must be"):
        dawid_skene(_free_text(20, 4), max_memory=value)


def test_the_estimate_bounds_what_the_fit_allocates():
    responses = _free_text(1_200, 300, n_workers=10)
    data = responses.astype({"worker_id": str})
    tracemalloc.start()
    try:
        fit_dawid_skene(data, n_iter=2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    estimate = em_memory(600, 10, 300)
    assert estimate / 2 < peak < estimate + 16 * MB  # an upper estimate, and not a loose one
