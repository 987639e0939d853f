"""Segmentation inputs, outputs and edge cases (the crowd-kit parity is test_segmentation_parity)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pandas_toloka.aggregation import (
    fit_segmentation_em,
    fit_segmentation_rasa,
    mask_arrays,
    segmentation_em,
    segmentation_majority_vote,
    segmentation_rasa,
)
from pandas_toloka.errors import DroppedResponsesWarning, InvalidArgumentError, MissingColumnsError

METHODS = [segmentation_majority_vote, segmentation_rasa, segmentation_em]
A = np.array([[1, 1, 0], [0, 1, 0]], dtype=bool)
B = np.array([[1, 0, 0], [0, 1, 1]], dtype=bool)


def frame(masks: list[object], tasks: list[str] | None = None) -> pd.DataFrame:
    tasks = tasks or ["t"] * len(masks)
    return pd.DataFrame(
        {"task_id": tasks, "worker_id": [f"w{i}" for i in range(len(masks))], "mask": masks}
    )


@pytest.mark.parametrize("method", METHODS)
def test_input_forms_agree(method: object) -> None:
    arrays = frame([A, B, A])
    nested = frame([m.astype(int).tolist() for m in (A, B, A)])
    arrow = frame([A, B, A]).assign(
        mask=pd.arrays.ArrowExtensionArray(
            pa.array([m.tolist() for m in (A, B, A)], type=pa.list_(pa.list_(pa.bool_())))
        )
    )
    expected = method(arrays)  # type: ignore[operator]
    for other in (nested, arrow):
        assert method(other).equals(expected)  # type: ignore[operator]
    assert np.array_equal(mask_arrays(expected["mask"])[0], A)


def test_output_is_typed_and_round_trips_through_parquet(tmp_path: object) -> None:
    result = segmentation_em(frame([A, B, A, B[:1]], tasks=["t", "t", "t", "u"]))
    assert result["task_id"].tolist() == ["t", "u"]
    assert str(result["mask"].dtype.pyarrow_dtype) == "list<element: list<element: bool>>"
    path = tmp_path / "masks.parquet"  # type: ignore[operator]
    result.to_parquet(path)
    back = pd.read_parquet(path, dtype_backend="pyarrow")
    assert back["mask"].dtype == result["mask"].dtype
    assert [m.tolist() for m in mask_arrays(back["mask"])] == [A.tolist(), B[:1].tolist()]


@pytest.mark.parametrize("method", METHODS)
def test_null_masks_are_dropped_with_a_warning(method: object) -> None:
    with pytest.warns(DroppedResponsesWarning, match="dropped 1 of 3"):
        result = method(frame([A, None, A]))  # type: ignore[operator]
    assert np.array_equal(mask_arrays(result["mask"])[0], A)


@pytest.mark.parametrize("method", METHODS)
def test_all_empty_masks_give_an_empty_mask(method: object) -> None:
    empty = np.zeros((2, 3), dtype=bool)
    result = method(frame([empty, empty]))  # type: ignore[operator]
    assert not mask_arrays(result["mask"])[0].any()


@pytest.mark.parametrize(
    ("masks", "message"),
    [
        ([A, B[:, :2]], "differ in size"),
        ([A, np.full((2, 3), 2)], "0/1"),
        ([A, np.zeros(3, dtype=bool)], "2-D"),
        ([A, [[1, 0], [1]]], "rectangular|2-D"),
        ([A, np.array([["a", "b"]])], "booleans"),
    ],
)
def test_bad_masks_are_refused(masks: list[object], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        segmentation_em(frame(masks))


def test_bad_arguments() -> None:
    df = frame([A, B])
    with pytest.raises(MissingColumnsError):
        segmentation_em(df, mask="segmentation")
    with pytest.raises(InvalidArgumentError, match="n_iter"):
        segmentation_rasa(df, n_iter=-1)
    with pytest.raises(InvalidArgumentError, match="eps"):
        segmentation_em(df, eps=0.7)
    with pytest.raises(InvalidArgumentError, match="no weight for worker"):
        segmentation_majority_vote(df, skills={"w0": 1.0})
    with pytest.raises(InvalidArgumentError, match="both name"):
        segmentation_em(df, mask="task_id")


def test_weighted_majority_vote_and_ties() -> None:
    # two responses: a tie on every pixel where they differ -> in (ties in)
    tie = mask_arrays(segmentation_majority_vote(frame([A, B]))["mask"])[0]
    assert np.array_equal(tie, A | B)
    weighted = segmentation_majority_vote(frame([A, B]), skills=pd.Series({"w0": 1.0, "w1": 3.0}))
    assert np.array_equal(mask_arrays(weighted["mask"])[0], B)


def test_models_report_workers() -> None:
    df = frame([A, A, B, A], tasks=["t", "t", "t", "t"])
    em = fit_segmentation_em(df)
    quality = em.worker_quality()
    assert list(quality.columns) == ["worker_id", "n_responses", "mean_iou", "skill"]
    assert quality["mean_iou"].tolist()[:2] == [1.0, 1.0]
    assert quality["skill"].iloc[0] > quality["skill"].iloc[2]
    rasa = fit_segmentation_rasa(df)
    assert "weight" in rasa.worker_quality().columns
    assert rasa.n_iter_run.tolist()[0] >= 1
    assert "SEGMENTATION_EM" in repr(em)
