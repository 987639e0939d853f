"""inputs= of df.toloka.aggregate_locally: each aggregated task with what was labeled."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
from test_dropped_counts import area_responses

import pandas_toloka as ptk
from pandas_toloka._frame import from_pool
from pandas_toloka.errors import InvalidArgumentError, MissingColumnsError
from pandas_toloka.server.demo import DS_POOL_ID


@pytest.fixture(scope="module")
def pool(demo_served):  # type: ignore[no-untyped-def]
    server, client, _ = demo_served
    with_inputs = ptk.read_responses(DS_POOL_ID, client=client, inputs=True, progress_bar=False)
    labeled = ptk.read_aggregated_solutions(
        DS_POOL_ID, fields="result", inputs=True, client=client, progress_bar=False
    )
    return server, client, with_inputs, labeled


def test_the_accessor_gives_the_labeled_dataset_of_the_reader(pool) -> None:  # type: ignore[no-untyped-def]
    _, client, responses, labeled = pool
    out = responses.toloka.aggregate_locally(fields="result", inputs=True)
    pd.testing.assert_frame_equal(out, labeled)  # values, dtypes, order: the server's
    assert out.attrs["toloka"]["input_spec"] == {"image": {"type": "URL", "required": True}}
    named = responses.toloka.aggregate_locally(fields="result", inputs=["image"])
    pd.testing.assert_frame_equal(named, labeled)
    plain = responses.toloka.aggregate_locally(fields="result")
    assert "input_spec" not in plain.attrs["toloka"]
    pd.testing.assert_frame_equal(out.drop(columns="image"), plain)


def test_inputs_the_frame_lacks_are_read_once_with_golden_pool(pool, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    server, client, responses, labeled = pool
    bare = responses.drop(columns="image")
    bare.attrs = {"toloka": {**responses.attrs["toloka"]}}
    del bare.attrs["toloka"]["input_spec"]
    reads: list[str] = []
    real = from_pool.read_tasks

    def counted(pool_id, **kwargs):  # type: ignore[no-untyped-def]
        reads.append(pool_id)
        return real(pool_id, **kwargs)

    monkeypatch.setattr(from_pool, "read_tasks", counted)
    out = bare.toloka.aggregate_locally(fields="result", inputs=True, client=client)
    pd.testing.assert_frame_equal(out, labeled)
    both = bare.toloka.aggregate_locally(
        fields="result", inputs=["image"], golden="pool", url=server.url, token=server.token
    )
    assert reads == [DS_POOL_ID, DS_POOL_ID]  # one read per call, shared by golden= and inputs=
    assert list(both.columns) == [*labeled.columns[:-1], "golden", "image"]
    assert both["golden"].sum() > 0
    pd.testing.assert_series_equal(both["image"], labeled["image"])


def test_a_results_export_brings_its_inputs(pool) -> None:  # type: ignore[no-untyped-def]
    _, client, _, labeled = pool
    export = ptk.read_assignments_export(DS_POOL_ID, client=client)
    out = export.toloka.aggregate_locally(fields="result", inputs=True)
    assert out["image"].dtype == labeled["image"].dtype
    # the export's task ids are made from the inputs: compare by image
    by_image = out.set_index("image")["result"].astype(str).sort_index()
    expected = labeled.set_index("image")["result"].astype(str).sort_index()
    pd.testing.assert_series_equal(by_image, expected)


def _crowd(**inputs: list[object]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "task": ["t1", "t1", "t2", "t2", "t3"],
            "worker": ["w1", "w2", "w1", "w2", "w1"],
            "label": ["a", "a", "b", "a", "b"],
        }
    )
    for name, values in inputs.items():
        frame[name] = values
    return frame


def test_a_frame_without_an_input_spec_types_its_columns_by_dtype() -> None:
    frame = _crowd(text=["x", "x", "y", "y", "z"], size=[1, 1, 2, 2, 3])
    out = frame.toloka.aggregate_locally(
        "MAJORITY_VOTE", task="task", worker="worker", fields="label", inputs=["text", "size"]
    )
    assert out["text"].tolist() == ["x", "y", "z"]
    assert out["size"].tolist() == [1, 2, 3]
    assert out["size"].dtype == pd.ArrowDtype(pa.int64())
    assert out.attrs["toloka"]["input_spec"] == {
        "text": {"type": "STRING", "required": True},
        "size": {"type": "INTEGER", "required": True},
    }
    nullable = frame.toloka.aggregate_locally(
        "MAJORITY_VOTE",
        task="task",
        worker="worker",
        fields="label",
        inputs="size",
        dtype_backend="numpy_nullable",
    )
    assert nullable["size"].dtype == pd.Int64Dtype()


def test_a_task_with_two_input_values_is_an_error_naming_it() -> None:
    frame = _crowd(text=["x", "x", "y", "Y", "z"])
    with pytest.raises(InvalidArgumentError, match=r"task 't2'.*'text'.*'y' and 'Y'"):
        frame.toloka.aggregate_locally(
            "MAJORITY_VOTE", task="task", worker="worker", fields="label", inputs="text"
        )
    frame = _crowd(text=["x", "x", "y", None, "z"])  # a missing value differs too
    with pytest.raises(InvalidArgumentError, match=r"task 't2'"):
        frame.toloka.aggregate_locally(
            "MAJORITY_VOTE", task="task", worker="worker", fields="label", inputs="text"
        )


def test_bad_inputs_are_refused_before_any_work(pool) -> None:  # type: ignore[no-untyped-def]
    _, _, responses, _ = pool
    with pytest.raises(InvalidArgumentError, match=r"no input field 'photo'.*\['image'\]"):
        responses.toloka.aggregate_locally(fields="result", inputs=["image", "photo"])
    bare = _crowd(text=["x", "x", "y", "y", "z"])
    kwargs = dict(task="task", worker="worker", fields="label")
    with pytest.raises(MissingColumnsError, match=r"photo.*client="):
        bare.toloka.aggregate_locally("MAJORITY_VOTE", inputs=["photo"], **kwargs)
    with pytest.raises(InvalidArgumentError, match=r"inputs=True.*records none"):
        bare.toloka.aggregate_locally("MAJORITY_VOTE", inputs=True, **kwargs)
    with pytest.raises(MissingColumnsError):  # the answer column is not an input
        bare.toloka.aggregate_locally("MAJORITY_VOTE", inputs=["label"], **kwargs)
    with pytest.raises(InvalidArgumentError, match="inputs must"):
        bare.toloka.aggregate_locally("MAJORITY_VOTE", inputs=3, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="ranks items"):
        responses.toloka.aggregate_locally("BRADLEY_TERRY", inputs=True)


def test_area_selection_gets_its_inputs_too() -> None:
    frame = area_responses().assign(image=lambda f: "https://x/" + f["task_id"])
    spec = {"boxes": {"type": "JSON"}}
    with pytest.warns(ptk.DroppedResponsesWarning):
        plain = frame.toloka.aggregate_locally("BOXES", output_spec=spec, fields="boxes")
        out = frame.toloka.aggregate_locally(
            "BOXES", output_spec=spec, fields="boxes", inputs="image"
        )
    assert list(out.columns) == [*plain.columns, "image"]
    assert out["image"].tolist() == ["https://x/i1", "https://x/i2"]
    assert out.attrs["toloka"]["input_spec"] == {"image": {"type": "STRING", "required": True}}
