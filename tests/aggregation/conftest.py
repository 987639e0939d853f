"""Fixtures shared by the aggregation tests: real datasets and dtype backends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

DATASETS = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"

BACKENDS = ["numpy", "numpy_nullable", "pyarrow", "categorical", "arrow_dictionary"]


def _convert(series: pd.Series, backend: str) -> pd.Series:
    if backend == "numpy":
        return series
    if backend == "numpy_nullable":
        return series.convert_dtypes(dtype_backend="numpy_nullable")
    if backend == "pyarrow":
        return series.convert_dtypes(dtype_backend="pyarrow")
    if backend == "categorical":
        return series.astype("category")
    if backend == "arrow_dictionary":
        array = pa.array(series.tolist()).dictionary_encode()
        return pd.Series(
            array, index=series.index, name=series.name, dtype=pd.ArrowDtype(array.type)
        )
    raise AssertionError(backend)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each dtype backend in turn: numpy, numpy_nullable, pyarrow, categorical, arrow_dictionary."""
    return str(request.param)


@pytest.fixture
def to_backend() -> Callable[[pd.DataFrame, str], pd.DataFrame]:
    """Convert every column of a frame to a dtype backend."""

    def convert(frame: pd.DataFrame, backend: str) -> pd.DataFrame:
        return pd.DataFrame({c: _convert(frame[c], backend) for c in frame.columns})

    return convert


@pytest.fixture(params=["duck", "product"])
def dataset(request: pytest.FixtureRequest) -> tuple[str, pd.DataFrame, pd.Series]:
    """(name, answers with columns question/worker/answer, truth Series indexed by question)."""
    name = request.param
    folder = DATASETS / name
    if not (folder / "answer.csv").exists() or not (folder / "truth.csv").exists():
        pytest.skip(f"dataset {name!r} not found at {folder} (../shared/datasets is absent)")
    answers = pd.read_csv(folder / "answer.csv")
    truth = pd.read_csv(folder / "truth.csv").set_index("question")["truth"]
    return name, answers, truth


def accuracy(
    result: pd.DataFrame, truth: pd.Series, *, task: str = "question", label: str = "answer"
) -> float:
    """Share of the truth's tasks whose aggregated label equals the truth."""
    predicted = result.set_index(task)[label].reindex(truth.index)
    return float((predicted.to_numpy() == truth.to_numpy()).mean())


@pytest.fixture
def score() -> Callable[..., float]:
    """The :func:`accuracy` helper as a fixture."""
    return accuracy


def synthetic_pool(
    *,
    n_tasks: int = 60,
    n_workers: int = 8,
    per_task: int = 4,
    n_labels: int = 3,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.Series]:
    """A small pool with ground truth: workers of accuracy 0.55-0.95, distinct per task.

    Rows are sorted by worker, then label, and worker ``w0`` answers every
    label, so that first-appearance order equals sorted order for workers and
    labels (crowd-kit's MACE mixes the two orders up otherwise).
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_labels, n_tasks)
    accuracy = rng.uniform(0.55, 0.95, n_workers)
    rows = []
    for t in range(n_tasks):
        for w in rng.choice(n_workers, per_task, replace=False):
            right = rng.random() < accuracy[w]
            wrong = (truth[t] + rng.integers(1, max(2, n_labels))) % n_labels
            rows.append((f"t{t:03d}", f"w{w}", int(truth[t] if right else wrong)))
    for k in range(n_labels):
        rows.append((f"t{k:03d}", "w0", k))  # w0 uses every label
    frame = pd.DataFrame(rows, columns=["task_id", "worker_id", "result"])
    frame = frame.drop_duplicates(["task_id", "worker_id"]).sort_values(
        ["worker_id", "result"], kind="stable"
    )
    labels = pd.Series(truth, index=[f"t{t:03d}" for t in range(n_tasks)], name="truth")
    return frame.reset_index(drop=True), labels


@pytest.fixture
def pool() -> tuple[pd.DataFrame, pd.Series]:
    """:func:`synthetic_pool` with its defaults (60 tasks, 8 workers, 3 labels)."""
    return synthetic_pool()
