"""ROVER: crowd-kit's outputs on its fixtures and on transcriptions with known truth (stored in
tests/reference/texts/), a plain one-task-at-a-time implementation on random inputs, dtypes,
Parquet round trips and errors."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pandas_toloka.aggregation import fit_rover, rover, wer
from pandas_toloka.errors import DroppedResponsesWarning, InvalidArgumentError, MissingColumnsError

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "texts"
SPLITS = {"space": lambda s: s.split(" "), "whitespace": None}


def _simple_text() -> pd.DataFrame:
    raw = json.loads((REFERENCE / "crowdkit_simple_text.json").read_text())
    return pd.DataFrame(raw["responses"]).rename(columns={"output": "text"})


def _toy() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "task_id": ["t1", "t1", "t1"],
            "worker_id": ["w1", "w2", "w3"],
            "text": ["a b c d", "b z d e", "b c d e f"],
        }
    )


@pytest.mark.parametrize("tokenizer", ["space", "whitespace"])
@pytest.mark.parametrize("fixture", ["toy", "simple_text", "synthetic"])
def test_equals_crowdkit(fixture: str, tokenizer: str) -> None:
    expected = json.loads((REFERENCE / "rover.json").read_text())[f"{fixture}[{tokenizer}]"]
    if fixture == "toy":
        frame = _toy().rename(columns={"task_id": "task", "worker_id": "worker"})
    elif fixture == "simple_text":
        frame = _simple_text()
    else:
        frame = pd.read_parquet(REFERENCE / "synthetic_transcriptions.parquet")
    result = rover(frame, task="task", worker="worker", tokenizer=SPLITS[tokenizer])
    assert dict(zip(result["task"], result["text"])) == expected


def test_synthetic_truth_is_recovered() -> None:
    """On the tasks with five or more transcriptions (workers' WER 2 %..45 %, median 25 %),
    ROVER's WER against the truth is under 4 % (2.9 % when written)."""
    frame = pd.read_parquet(REFERENCE / "synthetic_transcriptions.parquet")
    frame = frame[frame.groupby("task")["worker"].transform("size") >= 5]
    result = rover(frame, task="task", worker="worker")
    truth = frame.groupby("task")["truth"].first()
    scores = wer(frame, reference=truth, task="task", worker="worker")
    mine = wer(result.assign(worker="ROVER"), reference=truth, task="task", worker="worker")
    assert scores["wer"].median() > 0.2
    assert mine["wer"].iloc[0] < 0.04


def test_toy_confidence_by_hand() -> None:
    # Slots after the three responses: {a, "", ""} {b, b, b} {c, z, c} {d, d, d}
    # {"", e, e} {"", "", f}: winners' shares 2/3, 1, 2/3, 1, 2/3, 2/3.
    result = rover(_toy())
    assert result["text"].tolist() == ["b c d e"]
    assert result["confidence"].tolist() == pytest.approx([14 / 18])
    model = fit_rover(_toy())
    assert model.n_slots.tolist() == [6]
    assert model.n_responses.tolist() == [3]


# --- a plain implementation, one task at a time, to check the batched one -------------------


def _plain_rover(hypotheses: list[list[str]]) -> tuple[list[str], float]:
    slots: list[dict[str, int]] = [{w: 1} for w in hypotheses[0]]
    for k, hyp in enumerate(hypotheses[1:], start=1):
        n, m = len(hyp), len(slots)
        cost = [[0] * (m + 1) for _ in range(n + 1)]
        move = [[""] * (m + 1) for _ in range(n + 1)]
        for j in range(1, m + 1):
            cost[0][j], move[0][j] = j, "skip"
        for i in range(1, n + 1):
            cost[i][0], move[i][0] = i, "insert"
            for j in range(1, m + 1):
                options = [
                    (cost[i - 1][j - 1] + (hyp[i - 1] not in slots[j - 1]), "diagonal"),
                    (cost[i][j - 1] + ("" not in slots[j - 1]), "skip"),
                    (cost[i - 1][j] + 1, "insert"),
                ]
                cost[i][j], move[i][j] = min(options, key=lambda o: o[0])
        merged: list[dict[str, int]] = []
        i, j = n, m
        while i or j:
            action = move[i][j]
            slot = {"": k} if action == "insert" else dict(slots[j - 1])
            word = "" if action == "skip" else hyp[i - 1]
            slot[word] = slot.get(word, 0) + 1
            merged.append(slot)
            i -= action != "skip"
            j -= action != "insert"
        slots = merged[::-1]
    winners = [max(slot.items(), key=lambda kv: (kv[1], len(kv[0]), kv[0])) for slot in slots]
    n = len(hypotheses)
    confidence = float(np.mean([c / n for _, c in winners])) if winners else 1.0
    return [w for w, _ in winners if w], confidence


words = st.sampled_from(["a", "b", "c", "dd", "e", "ff", "g"])
texts = st.lists(words, max_size=6).map(" ".join)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(texts, min_size=1, max_size=6), min_size=1, max_size=8))
def test_equals_plain_implementation(tasks: list[list[str]]) -> None:
    rows = [
        (f"t{t}", f"w{r}", text) for t, texts in enumerate(tasks) for r, text in enumerate(texts)
    ]
    frame = pd.DataFrame(rows, columns=["task_id", "worker_id", "text"]).sample(
        frac=1, random_state=0
    )
    result = rover(frame).set_index("task_id")
    for task, group in frame.groupby("task_id", sort=False):
        text, confidence = _plain_rover([t.split() for t in group["text"]])
        assert result.loc[task, "text"] == " ".join(text)
        assert result.loc[task, "confidence"] == pytest.approx(confidence, abs=1e-12)


# --- behaviour --------------------------------------------------------------------------------


def test_empty_answers_and_ties() -> None:
    frame = pd.DataFrame(
        {
            "task_id": ["e", "e", "tie", "tie", "one"],
            "worker_id": ["a", "b", "a", "b", "a"],
            "text": ["", "   ", "cat", "dog", "only answer"],
        }
    )
    result = rover(frame).set_index("task_id")
    assert result.loc["e", "text"] == ""
    assert result.loc["e", "confidence"] == 1.0
    # One vote each: the longer word, then the later in code-point order ("dog" > "cat").
    assert result.loc["tie", "text"] == "dog"
    assert result.loc["tie", "confidence"] == 0.5
    assert result.loc["one", "text"] == "only answer"
    assert result.loc["one", "confidence"] == 1.0


def test_custom_tokenizer_and_detokenizer() -> None:
    frame = pd.DataFrame(
        {"task_id": ["t"] * 3, "worker_id": list("abc"), "text": ["a,b,c", "a,x,c", "a,b,c"]}
    )
    result = rover(frame, tokenizer=lambda s: s.split(","), detokenizer="+".join)
    assert result["text"].tolist() == ["a+b+c"]


def test_null_texts_dropped_with_warning() -> None:
    frame = _toy()
    frame.loc[3] = ["t2", "w1", None]
    frame.loc[4] = ["t2", "w2", "x"]
    with pytest.warns(DroppedResponsesWarning, match="dropped 1 of 5"):
        model = fit_rover(frame)
    assert model.n_dropped == 1
    assert model.to_frame()["text"].tolist() == ["b c d e", "x"]


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (object, pd.StringDtype("pyarrow")),
        ("string[pyarrow]", pd.StringDtype("pyarrow")),
        (pd.StringDtype("pyarrow", na_value=np.nan), pd.StringDtype("pyarrow", na_value=np.nan)),
        ("large_string[pyarrow]", "large_string[pyarrow]"),
        ("category", pd.StringDtype("pyarrow")),
    ],
)
def test_output_dtypes_and_parquet_round_trip(
    dtype: object, expected: object, tmp_path: Path
) -> None:
    frame = _toy()
    frame["text"] = frame["text"].astype(dtype)
    frame["task_id"] = frame["task_id"].astype("string[pyarrow]")
    result = rover(frame)
    assert result["text"].dtype == expected
    assert result["confidence"].dtype == np.float64
    path = tmp_path / "rover.parquet"
    result.to_parquet(path)
    pd.testing.assert_frame_equal(pd.read_parquet(path), result)


def test_integer_task_ids_keep_their_dtype() -> None:
    frame = _toy().assign(task_id=[7, 7, 7])
    result = rover(frame)
    assert result["task_id"].dtype == np.int64
    assert result["task_id"].tolist() == [7]


def test_no_rows() -> None:
    result = rover(_toy().iloc[:0])
    assert len(result) == 0
    assert list(result.columns) == ["task_id", "text", "confidence"]


def test_errors() -> None:
    with pytest.raises(MissingColumnsError, match="text"):
        rover(_toy().drop(columns="text"))
    with pytest.raises(InvalidArgumentError, match="DataFrame"):
        rover([1, 2])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="must be a string"):
        rover(_toy().assign(text=[1, 2, 3]))
    with pytest.raises(InvalidArgumentError, match="tokenizer="):
        rover(_toy(), tokenizer="split")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="tokenizer= must return a list"):
        rover(_toy(), tokenizer=lambda s: s)  # type: ignore[arg-type, return-value]
    with pytest.raises(InvalidArgumentError, match="detokenizer= must return a string"):
        rover(_toy(), detokenizer=lambda words: words)  # type: ignore[arg-type, return-value]
    with pytest.raises(InvalidArgumentError, match="task"):
        rover(_toy().assign(task_id=[None, "t", "t"]))
    with pytest.raises(InvalidArgumentError, match="both name"):
        rover(_toy(), text="task_id")
    error = pytest.raises(InvalidArgumentError, rover, _toy().assign(text=[1, 2, 3])).value
    assert isinstance(pickle.loads(pickle.dumps(error)), InvalidArgumentError)
