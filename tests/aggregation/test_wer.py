"""Word error rates: batched edit distances against a plain implementation, the per-worker
and per-task frames, references in each form, and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pandas_toloka.aggregation import rover, text_agreement, wer
from pandas_toloka.aggregation._edit import edit_distances
from pandas_toloka.aggregation._tokens import tokenize
from pandas_toloka.errors import DroppedResponsesWarning, InvalidArgumentError, MissingColumnsError


def _plain_distance(a: list[str], b: list[str]) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j - 1] + (x != y), previous[j] + 1, current[j - 1] + 1))
        previous = current
    return previous[-1]


texts = st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=9).map(" ".join)


@settings(max_examples=50, deadline=None)
@given(st.lists(texts, min_size=1, max_size=12), st.data())
def test_edit_distances_equal_plain(sample: list[str], data: st.DataObject) -> None:
    n = len(sample)
    pairs = data.draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=30)
    )
    tokens = tokenize(sample, None)
    first = np.array([p[0] for p in pairs], dtype=np.int64)
    second = np.array([p[1] for p in pairs], dtype=np.int64)
    got = edit_distances(tokens.codes, tokens.starts, tokens.lengths, first, second)
    expected = [_plain_distance(sample[a].split(), sample[b].split()) for a, b in pairs]
    assert got.tolist() == expected


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "task_id": ["t1", "t1", "t1", "t2", "t2", "t3"],
            "worker_id": ["a", "b", "c", "a", "b", "c"],
            "text": ["the cat sat", "the cat", "a cat sat down", "a dog", "the dog", "x"],
        }
    )


def test_wer_against_golden_by_hand() -> None:
    golden = {"t1": "the cat sat", "t2": "a dog"}
    result = wer(_frame(), reference=golden)
    # a: 0 + 0 errors / 3 + 2 words; b: 1 + 1; c: 2 (a for the, + down) on t1 only.
    assert result["worker_id"].tolist() == ["a", "b", "c"]
    assert result["n_tasks"].tolist() == [2, 2, 1]
    assert result["errors"].tolist() == [0, 2, 2]
    assert result["words"].tolist() == [5, 5, 3]
    assert result["wer"].tolist() == pytest.approx([0.0, 0.4, 2 / 3])
    worker_dtype = _frame()["worker_id"].dtype
    assert result.dtypes.tolist() == [worker_dtype, np.int64, np.float64, np.int64, np.int64]


def test_reference_forms_agree() -> None:
    golden = {"t1": "the cat sat", "t2": "a dog"}
    as_series = pd.Series(golden)
    as_frame = pd.DataFrame({"task_id": list(golden), "text": list(golden.values())})
    with_null = pd.Series({**golden, "t3": None})
    expected = wer(_frame(), reference=golden)
    for reference in (as_series, as_frame, with_null):
        pd.testing.assert_frame_equal(wer(_frame(), reference=reference), expected)


def test_wer_against_rover() -> None:
    frame = _frame()
    result = wer(frame, reference=rover(frame))
    assert result["n_tasks"].tolist() == [2, 2, 2]
    assert (result["wer"] >= 0).all()


def test_empty_reference_rule() -> None:
    frame = pd.DataFrame({"task_id": ["t", "t"], "worker_id": ["a", "b"], "text": ["", "x y"]})
    result = wer(frame, reference={"t": ""})
    assert result["wer"].tolist() == [0.0, 1.0]
    assert result["errors"].tolist() == [0, 2]


def test_text_agreement_by_hand() -> None:
    result = text_agreement(_frame())
    # t1: d(ab)=1, d(ac)=2, d(bc)=3; ordered rates 1/2,1/3, 2/4,2/3, 3/4,3/2.
    t1 = np.mean([1 / 2, 1 / 3, 2 / 4, 2 / 3, 3 / 4, 3 / 2])
    assert result["task_id"].tolist() == ["t1", "t2", "t3"]
    assert result["n_responses"].tolist() == [3, 2, 1]
    assert result["mean_pairwise_wer"].tolist() == pytest.approx([t1, 0.5, 0.0])


def test_null_texts_dropped() -> None:
    frame = _frame()
    frame.loc[6] = ["t3", "a", None]
    with pytest.warns(DroppedResponsesWarning, match="dropped 1 of 7"):
        result = text_agreement(frame)
    assert result["n_responses"].tolist() == [3, 2, 1]


def test_errors() -> None:
    with pytest.raises(InvalidArgumentError, match="reference="):
        wer(_frame(), reference=["the cat"])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="lacks the column"):
        wer(_frame(), reference=pd.DataFrame({"task": ["t1"], "text": ["x"]}))
    with pytest.raises(InvalidArgumentError, match="more than once"):
        wer(_frame(), reference=pd.DataFrame({"task_id": ["t1", "t1"], "text": ["x", "y"]}))
    with pytest.raises(InvalidArgumentError, match="must be a string"):
        wer(_frame(), reference={"t1": 3})
    with pytest.raises(MissingColumnsError):
        text_agreement(_frame().drop(columns="worker_id"))
    with pytest.raises(InvalidArgumentError, match="tokenizer="):
        text_agreement(_frame(), tokenizer=3)  # type: ignore[arg-type]
