"""Fixtures shared by the aggregation tests: real datasets and dtype backends."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from pools import synthetic_pool

# ../shared/datasets from the project root; PANDAS_TOLOKA_DATASETS names another folder
# (a git worktree elsewhere, a CI cache)
DATASETS = Path(
    os.environ.get("PANDAS_TOLOKA_DATASETS")
    or Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"
)
REFERENCE = Path(__file__).resolve().parents[1] / "reference"

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


@pytest.fixture
def pool() -> tuple[pd.DataFrame, pd.Series]:
    """:func:`synthetic_pool` with its defaults (60 tasks, 8 workers, 3 labels)."""
    return synthetic_pool()
