"""ClosestToAverage, RASA, HRRASA and the text methods: crowd-kit's outputs and worker
reliabilities (stored in tests/reference/texts/), embedding column forms, dtypes and errors."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pandas_toloka.aggregation import (
    closest_to_average,
    fit_closest_to_average,
    fit_hrrasa,
    fit_rasa,
    fit_text_hrrasa,
    hrrasa,
    rasa,
    text_hrrasa,
    text_rasa,
)
from pandas_toloka.aggregation._chi2 import chi2_isf
from pandas_toloka.errors import DroppedResponsesWarning, InvalidArgumentError, MissingColumnsError

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "texts"
EXPECTED = json.loads((REFERENCE / "embeddings.json").read_text())
KW = {"task": "task", "worker": "worker"}


def _fixture(name: str) -> tuple[pd.DataFrame, dict | None]:
    if name.startswith("simple_text"):
        raw = json.loads((REFERENCE / "crowdkit_simple_text.json").read_text())
        frame = pd.DataFrame(raw["responses"])[["task", "worker", "output", "embedding"]]
        true = raw["true_embeddings"]
    else:
        frame = pd.read_parquet(REFERENCE / "synthetic_transcriptions.parquet")
        frame = frame.rename(columns={"text": "output"})
        true = {
            k: list(v) for k, v in frame.groupby("task")["truth_embedding"].first()[::4].items()
        }
    return frame, (true if name.endswith("[true]") else None)


def _crowdkit_similarity(a: object, b: object) -> float:
    """crowd-kit's default HRRASA similarity: nltk's sentence GLEU with the words of ``a`` as
    the reference and the *characters* of ``b`` as the hypothesis (it passes a string)."""

    def grams(seq: list[str]) -> Counter[tuple[str, ...]]:
        return Counter(tuple(seq[i : i + n]) for n in range(1, 5) for i in range(len(seq) - n + 1))

    x, y = grams(str(a).split()), grams(list(str(b)))
    largest = max(sum(x.values()), sum(y.values()))
    return sum((x & y).values()) / largest if largest else 0.0


def _check(model: object, expected: dict) -> None:
    frame = model.to_frame()  # type: ignore[attr-defined]
    outputs = expected.get("output", expected)
    assert dict(zip(frame["task"], frame["output"])) == outputs
    if isinstance(expected.get("skills"), dict) and expected["skills"]:
        skills = model.worker_quality().set_index("worker")["skill"]  # type: ignore[attr-defined]
        want = pd.Series(expected["skills"])
        np.testing.assert_allclose(skills.reindex(want.index), want, rtol=1e-10)


FIXTURES = ["simple_text", "simple_text[true]", "synthetic", "synthetic[true]"]
SETTINGS = [(100, 0.0), (100, 1e-9), (0, 1e-9), (3, 0.0)]


@pytest.mark.parametrize("fixture", FIXTURES)
def test_closest_to_average_equals_crowdkit(fixture: str) -> None:
    frame, true = _fixture(fixture)
    _check(
        fit_closest_to_average(frame, output="output", golden=true, **KW),
        EXPECTED[fixture]["closest_to_average"],
    )


# Every setting on crowd-kit's fixture; one on the larger synthetic pool (the test's budget).
CASES = [(f, n, t) for f in FIXTURES[:2] for n, t in SETTINGS] + [
    (f, n, t) for f in FIXTURES[2:] for n, t in (SETTINGS[1],)
]


@pytest.mark.parametrize(("fixture", "n_iter", "tol"), CASES)
def test_rasa_and_hrrasa_equal_crowdkit(fixture: str, n_iter: int, tol: float) -> None:
    frame, true = _fixture(fixture)
    key = f"n_iter={n_iter},tol={tol}"
    _check(
        fit_rasa(frame, golden=true, n_iter=n_iter, tol=tol, **KW),
        EXPECTED[fixture][f"rasa[{key}]"],
    )
    for name, similarity in (("crowdkit", _crowdkit_similarity), ("word_gleu", "gleu")):
        model = fit_hrrasa(frame, golden=true, n_iter=n_iter, tol=tol, similarity=similarity, **KW)
        _check(model, EXPECTED[fixture][f"hrrasa[{key},similarity={name}]"])


def test_text_methods_return_the_chosen_text() -> None:
    frame, true = _fixture("synthetic[true]")
    texts = frame.rename(columns={"output": "text"})
    for text_method, method, extra in ((text_rasa, rasa, {}), (text_hrrasa, hrrasa, {})):
        ours = text_method(texts, golden=true, **KW, **extra)
        assert list(ours.columns) == ["task", "text", "confidence", "golden"]
        same = method(frame, golden=true, tol=1e-5, **KW)
        assert ours["text"].tolist() == same["output"].tolist()
        np.testing.assert_array_equal(ours["confidence"], same["confidence"])
    model = fit_text_hrrasa(texts, **KW)
    assert model.method == "TEXT_HRRASA"
    assert model.worker_quality().columns.tolist() == [
        "worker",
        "n_responses",
        "skill",
        "prior_skill",
    ]


def test_chi2_quantiles_equal_scipy() -> None:
    for row in json.loads((REFERENCE / "chi2_isf.json").read_text()):
        assert chi2_isf(row["q"], row["df"]) == pytest.approx(row["isf"], rel=1e-11)


def _small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "task_id": ["t1", "t1", "t1", "t2", "t2"],
            "worker_id": ["a", "b", "c", "a", "b"],
            "output": ["cat", "cat!", "dog", "x", "y"],
            "embedding": [[1.0, 0.1], [1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.4, 0.6]],
        }
    )


@pytest.mark.parametrize(
    "form", ["list", "ndarray", "arrow_list", "arrow_fixed_size_list", "large_list"]
)
def test_embedding_column_forms_agree(form: str, tmp_path: Path) -> None:
    frame = _small()
    values = frame["embedding"].tolist()
    if form == "ndarray":
        frame["embedding"] = [np.asarray(v, dtype=np.float32) for v in values]
    elif form == "arrow_list":
        frame["embedding"] = pd.Series(values, dtype=pd.ArrowDtype(pa.list_(pa.float64())))
    elif form == "arrow_fixed_size_list":
        frame["embedding"] = pd.Series(values, dtype=pd.ArrowDtype(pa.list_(pa.float32(), 2)))
    elif form == "large_list":
        frame["embedding"] = pd.Series(values, dtype=pd.ArrowDtype(pa.large_list(pa.float64())))
    result = rasa(frame)
    assert result["output"].tolist() == ["cat", "x"]
    assert result["embedding"].dtype == object
    assert all(e.dtype == np.float64 and e.shape == (2,) for e in result["embedding"])
    assert result["confidence"].dtype == np.float64
    path = tmp_path / "rasa.parquet"
    result.to_parquet(path)
    pd.testing.assert_frame_equal(pd.read_parquet(path), result)


def test_ties_go_to_the_first_row_and_zero_vectors() -> None:
    frame = pd.DataFrame(
        {
            "task_id": ["t", "t", "z", "z"],
            "worker_id": ["a", "b", "a", "b"],
            "output": ["first", "second", "zero", "other"],
            "embedding": [[1.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 0.0]],
        }
    )
    result = closest_to_average(frame).set_index("task_id")
    assert result.loc["t", "output"] == "first"
    assert result.loc["t", "confidence"] == pytest.approx(1.0)
    assert result.loc["z", "output"] == "zero"
    assert result.loc["z", "confidence"] == 0.0


def test_single_response_tasks_in_hrrasa() -> None:
    frame = _small().iloc[[0, 1, 2, 3]]
    model = fit_hrrasa(frame)
    out = model.to_frame().set_index("task_id")
    assert out.loc["t2", "output"] == "x"
    skills = model.worker_quality().set_index("worker_id")["skill"]
    assert np.isfinite(skills).all()  # every worker answered t1 too


def test_missing_rows_are_dropped_with_a_warning() -> None:
    frame = _small()
    frame["embedding"] = frame["embedding"].astype(object)
    frame.loc[5] = ["t2", "c", "z", None]
    frame.loc[6] = ["t2", "d", None, [0.0, 1.0]]
    with pytest.warns(DroppedResponsesWarning, match="dropped 2 of 7"):
        model = fit_rasa(frame)
    assert model.n_dropped == 2


def test_errors() -> None:
    with pytest.raises(MissingColumnsError, match="embedding"):
        rasa(_small().drop(columns="embedding"))
    with pytest.raises(InvalidArgumentError, match="different lengths"):
        rasa(_small().assign(embedding=[[1.0], [1.0, 2.0], [0.0, 1.0], [1.0, 1.0], [0.0, 1.0]]))
    with pytest.raises(InvalidArgumentError, match="finite"):
        rasa(_small().assign(embedding=[[np.inf, 0.0]] * 5))
    with pytest.raises(InvalidArgumentError, match="not a vector of numbers"):
        rasa(_small().assign(embedding=["a", "b", "c", "d", "e"]))
    with pytest.raises(InvalidArgumentError, match="alpha"):
        rasa(_small(), alpha=1.5)
    with pytest.raises(InvalidArgumentError, match="n_iter"):
        rasa(_small(), n_iter=-1)
    with pytest.raises(InvalidArgumentError, match="similarity="):
        hrrasa(_small(), similarity="bleu")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="lambda_emb"):
        hrrasa(_small(), lambda_emb=-1)
    with pytest.raises(InvalidArgumentError, match="golden="):
        rasa(_small(), golden=[1, 2])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="golden= embeddings have 3"):
        rasa(_small(), golden={"t1": [1.0, 2.0, 3.0]})
    with pytest.raises(InvalidArgumentError, match="Arrow type"):
        rasa(_small().assign(embedding=pd.Series(["a"] * 5, dtype=pd.ArrowDtype(pa.string()))))
