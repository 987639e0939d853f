"""EM over several shards, several chunks per shard and parallel encoding.

The suite's pools are far below the sizes at which these paths start
(2**19 responses per shard, 32,768 tasks per chunk, 200,000 responses for
parallel encoding), so the thresholds are lowered here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pandas_toloka.aggregation import _encoding, _layout, _threads, fit_aggregation


def _pool(n_tasks: int, n_labels: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_labels, n_tasks)
    accuracy = rng.uniform(0.5, 0.95, 40)
    per_task = rng.integers(1, 45, n_tasks)  # some tasks beyond the grid's depth of 32
    task = np.repeat(np.arange(n_tasks), per_task)
    worker = rng.integers(0, 40, task.size)
    right = rng.random(task.size) < accuracy[worker]
    label = np.where(right, truth[task], rng.integers(0, n_labels, task.size))
    frame = pd.DataFrame(
        {
            "task_id": pd.array([f"t{t}" for t in task], dtype="string[pyarrow]"),
            "worker_id": pd.array([f"w{w}" for w in worker], dtype="string[pyarrow]"),
            "result": label,
        }
    )
    return frame.sample(frac=1, random_state=seed).reset_index(drop=True), truth


def _fit(frame: pd.DataFrame, method: str, golden: pd.Series | None):  # type: ignore[no-untyped-def]
    return fit_aggregation(frame, method=method, golden=golden)  # type: ignore[arg-type]


@pytest.mark.parametrize("n_labels", [2, 3, 5])
@pytest.mark.parametrize("method", ["DAWID_SKENE", "ONE_COIN_DAWID_SKENE"])
@pytest.mark.parametrize("with_golden", [False, True])
def test_shards_chunks_and_threads_give_the_same_fit(
    n_labels: int, method: str, with_golden: bool, monkeypatch
) -> None:
    frame, truth = _pool(1500, n_labels, seed=n_labels)
    golden = pd.Series(truth[:150], index=[f"t{t}" for t in range(150)]) if with_golden else None
    whole = _fit(frame, method, golden)

    monkeypatch.setattr(_layout, "SHARD_RESPONSES", 2000)
    monkeypatch.setattr(_layout, "CHUNK_TASKS", 61)
    monkeypatch.setattr(_encoding, "PARALLEL_ENCODING_MIN", 1000)
    monkeypatch.setattr(_threads, "n_threads", lambda: 2)
    cut = _fit(frame, method, golden)
    monkeypatch.setattr(_threads, "n_threads", lambda: 1)
    inline = _fit(frame, method, golden)

    assert cut.n_iter_run == whole.n_iter_run
    np.testing.assert_array_equal(cut.posteriors.argmax(axis=1), whole.posteriors.argmax(axis=1))
    np.testing.assert_allclose(cut.posteriors, whole.posteriors, rtol=0, atol=1e-12)
    # The cut depends on the data alone: the pool's threads change nothing, bit for bit.
    np.testing.assert_array_equal(cut.posteriors, inline.posteriors)
    assert cut.loss_history == inline.loss_history
    pd.testing.assert_frame_equal(cut.to_frame(), inline.to_frame())


def test_the_layout_really_was_cut(monkeypatch) -> None:
    frame, _ = _pool(1500, 3, seed=1)
    monkeypatch.setattr(_layout, "SHARD_RESPONSES", 2000)
    monkeypatch.setattr(_layout, "CHUNK_TASKS", 61)
    codes = _encoding.encode_responses(
        frame, task="task_id", worker="worker_id", label="result", method="test"
    )
    layout = _layout.TaskGrid.build(
        codes.tasks.codes,
        codes.workers.codes * codes.labels.size + codes.labels.codes,
        codes.tasks.size,
        codes.workers.size * codes.labels.size,
    )
    assert len(layout.shards) == _layout.MAX_SHARDS
    assert all(len(shard.chunks()) > 1 for shard in layout.shards)
    assert sum(len(shard.rest_task) for shard in layout.shards) > 0  # beyond the depth
