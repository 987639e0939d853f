"""Local aggregation on Dask frames equals the pandas accessor, however the rows are partitioned."""

from __future__ import annotations

import logging
import subprocess
import sys

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from conftest import SPEC, make_responses

import pandas_toloka as ptk
import pandas_toloka.dask as ptd
from pandas_toloka.errors import DroppedResponsesWarning

KINDS = ("DAWID_SKENE", "MAJORITY_VOTE", "WEIGHTED_DYNAMIC_OVERLAP")


@pytest.fixture(scope="module")
def responses() -> pd.DataFrame:
    """Three pools with the columns of read_responses that matter, some rows not ACCEPTED."""
    frames = []
    for i, pool in enumerate(["71", "72", "73"]):
        frame = make_responses(10 + i, 60 + 20 * i)
        frame.insert(0, "pool_id", pool)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True).astype(
        {"pool_id": "string[pyarrow]", "task_id": "string[pyarrow]", "worker_id": "string[pyarrow]"}
    )
    out["status"] = np.where(np.arange(len(out)) % 17 == 5, "REJECTED", "ACCEPTED")
    out["result"] = out["result"].astype("string[pyarrow]")
    out.loc[out.index % 23 == 7, "result"] = pd.NA  # skipped, as the server skips them
    return out


#: What the responses fixture leaves out, and counts: its REJECTED rows and unanswered ones.
DROPPED = r"dropped 72 of 720 response\(s\): 43 not of status \['ACCEPTED'\], 29 without an answer"
#: ... and, for WEIGHTED_DYNAMIC_OVERLAP, the rows of the workers without a skill.
DROPPED_WITHOUT_SKILLS = (
    r"dropped 408 of 720 response\(s\): 43 not of status \['ACCEPTED'\], 29 without an answer"
    r" in \['result'\], 336 from workers without a skill"
)


@pytest.fixture(scope="module")
def skills() -> pd.DataFrame:
    workers = [f"w{w:02d}" for w in range(0, 25, 2)]  # half the workers have no skill
    return pd.DataFrame({"worker_id": workers, "value": np.linspace(40, 95, len(workers))})


def _partitionings(frame: pd.DataFrame) -> dict[str, dd.DataFrame]:
    pools = [dd.from_pandas(group, npartitions=1) for _, group in frame.groupby("pool_id")]
    shuffled = frame.sample(frac=1.0, random_state=3)
    by_task = frame.set_index("task_id")
    return {
        "one per pool": dd.concat(pools),  # each pool whole in a partition: pandas per partition
        "one partition": dd.from_pandas(frame, npartitions=1),
        # a task's responses spread over partitions: shuffled by task once, then distributed EM
        "rows shuffled": dd.from_pandas(shuffled, npartitions=4, sort=False),
        # known divisions on a task index: tasks are whole, pools spread: distributed EM
        "task index": dd.from_pandas(by_task, npartitions=5, sort=True),
    }


def _check_equal(result: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert result.dtypes.to_dict() == expected.dtypes.to_dict()
    result = result.sort_values(["pool_id", "task_id"], ignore_index=True)
    labels = [c for c in expected.columns if c != "confidence"]
    pd.testing.assert_frame_equal(result[labels], expected[labels])
    difference = np.abs(
        result["confidence"].to_numpy(float) - expected["confidence"].to_numpy(float)
    )
    assert difference.max(initial=0.0) <= 1e-9


@pytest.mark.parametrize("kind", KINDS)
def test_equals_the_pandas_accessor(dask_client, responses, skills, kind, caplog) -> None:
    if kind != "WEIGHTED_DYNAMIC_OVERLAP":
        skills = None  # refused by the other methods, which would ignore them
    dropped = DROPPED if skills is None else DROPPED_WITHOUT_SKILLS
    with pytest.warns(DroppedResponsesWarning, match=dropped):
        expected = responses.toloka.aggregate_locally(kind, skills=skills, output_spec=SPEC)
    assert len(expected) > 200
    for name, ddf in _partitionings(responses).items():
        caplog.clear()
        with (
            caplog.at_level(logging.INFO, logger="pandas_toloka.dask"),
            pytest.warns(DroppedResponsesWarning, match=dropped),
        ):
            result = ptd.aggregate_locally(ddf, kind, skills=skills, output_spec=SPEC)
        assert ("shuffling" in caplog.text) == (name == "rows shuffled"), name
        assert isinstance(result, dd.DataFrame), name
        computed = result.compute()
        assert result._meta.attrs["toloka"] == expected.attrs["toloka"], name
        assert computed.dtypes.to_dict() == result.dtypes.to_dict(), name
        _check_equal(computed, expected)


def test_one_spread_pool_without_a_pool_column(dask_client, caplog) -> None:
    # crowd-kit's column names, one pool, tasks sorted so that no task spans partitions:
    # fitted by distributed EM without a shuffle.
    frame = make_responses(5, 300, per_task=5).rename(
        columns={"task_id": "task", "worker_id": "worker", "result": "label"}
    )
    frame = frame.sort_values("task", ignore_index=True)
    ddf = dd.from_pandas(frame, npartitions=4, sort=False)
    kwargs = dict(fields="label", task="task", worker="worker", pool_id="9", status=None)
    with caplog.at_level(logging.INFO, logger="pandas_toloka.dask"):
        result = ddf.toloka.aggregate_locally("DAWID_SKENE", **kwargs).compute()
    assert "shuffling" not in caplog.text
    _check_equal(result, frame.toloka.aggregate_locally("DAWID_SKENE", **kwargs))
    numpy_backend = ptd.aggregate_locally(ddf, dtype_backend="numpy_nullable", **kwargs).compute()
    _check_equal(
        numpy_backend,
        frame.toloka.aggregate_locally("DAWID_SKENE", dtype_backend="numpy_nullable", **kwargs),
    )


def test_worker_quality_equals_the_pandas_accessor(dask_client, responses) -> None:
    ddf = dd.from_pandas(responses.sample(frac=1.0, random_state=1), npartitions=3)
    for confusion in (False, True):
        with pytest.warns(DroppedResponsesWarning, match=DROPPED):
            expected = responses.toloka.worker_quality(output_spec=SPEC, confusion=confusion)
        with pytest.warns(DroppedResponsesWarning, match=DROPPED):
            result = ptd.worker_quality(ddf, output_spec=SPEC, confusion=confusion)
        value = "probability" if confusion else "accuracy"
        assert result.attrs["toloka"] == expected.attrs["toloka"]
        pd.testing.assert_frame_equal(result.drop(columns=value), expected.drop(columns=value))
        assert np.abs(result[value] - expected[value]).max() <= 1e-9


def test_the_accessor_is_registered() -> None:
    ddf = dd.from_pandas(pd.DataFrame({"task_id": ["t"], "worker_id": ["w"], "r": ["a"]}), 1)
    assert isinstance(ddf.toloka, ptd.DaskTolokaAccessor)
    assert ddf.toloka.aggregate_locally.__doc__


# The error comes before the rows are counted (Dawid-Skene's survey) or after (majority vote's
# compute): the count is incidental here, and asserted in the tests above.
@pytest.mark.filterwarnings("ignore::pandas_toloka.errors.DroppedResponsesWarning")
def test_errors_raised_on_workers_keep_their_type(dask_client, responses) -> None:
    broken = responses.copy()
    broken.loc[broken.index[-3], "worker_id"] = pd.NA
    ddf = dd.from_pandas(broken.sample(frac=1.0, random_state=2), npartitions=3)
    for kind in ("DAWID_SKENE", "MAJORITY_VOTE"):
        with pytest.raises(ptk.InvalidArgumentError, match="worker column"):
            ptd.aggregate_locally(ddf, kind, output_spec=SPEC).compute()


def test_bad_arguments(responses) -> None:
    ddf = dd.from_pandas(responses, npartitions=2)
    with pytest.raises(ptk.InvalidArgumentError, match="dask DataFrame"):
        ptd.aggregate_locally(responses, "MAJORITY_VOTE")
    with pytest.raises(ptk.InvalidArgumentError, match="type must be"):
        ptd.aggregate_locally(ddf, "NOPE")
    with pytest.raises(ptk.MissingColumnsError):
        ptd.aggregate_locally(ddf, "MAJORITY_VOTE", worker="annotator")
    with pytest.raises(ptk.InvalidArgumentError, match="n_iter"):
        ptd.aggregate_locally(ddf, "DAWID_SKENE", n_iter=-1)
    with pytest.raises(ptk.InvalidArgumentError, match="skills"):
        ptd.aggregate_locally(ddf, "WEIGHTED_DYNAMIC_OVERLAP", output_spec=SPEC)
    for kind in ("DAWID_SKENE", "BOXES", "BRADLEY_TERRY"):
        with pytest.raises(ptk.InvalidArgumentError, match=f"type='{kind}' would ignore them"):
            ptd.aggregate_locally(ddf, kind, answer_weight_skill_id="7")
        with pytest.raises(ptk.InvalidArgumentError, match=f"type='{kind}' would ignore them"):
            ddf.compute().toloka.aggregate_locally(kind, skills={"w": 50})


def test_importing_without_dask_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['dask'] = None; sys.modules['dask.dataframe'] = None\n"
        "try:\n    import pandas_toloka.dask\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'pandas-toloka[dask]'" in out.stdout
    assert "dask[dataframe] and distributed" in out.stdout


def test_agreement_equals_the_pandas_accessor(dask_client, responses) -> None:
    two = pd.concat(
        [responses.assign(pool_id="1"), responses.iloc[::2].assign(pool_id="2")],
        ignore_index=True,
    )
    ddf = dd.from_pandas(two.sample(frac=1.0, random_state=3), npartitions=3)  # pools spread
    both = r"dropped 107 of 1080 response\(s\): 64 not of status \['ACCEPTED'\], 43 without an"
    with pytest.warns(DroppedResponsesWarning, match=both):
        expected = two.toloka.agreement(output_spec=SPEC, level="ordinal")
    with pytest.warns(DroppedResponsesWarning, match=both):
        result = ddf.toloka.agreement(output_spec=SPEC, level="ordinal")
    assert result.attrs["toloka"] == expected.attrs["toloka"]
    pd.testing.assert_frame_equal(result, expected)
    # pool_id= counts only that pool's rows: all of them on Dask (its rows are picked
    # first), those of the whole frame on pandas.
    second = r"response\(s\): 21 not of status \['ACCEPTED'\], 14 without an answer"
    with pytest.warns(DroppedResponsesWarning, match=rf"dropped 35 of 360 {second}"):
        one = ptd.agreement(ddf, output_spec=SPEC, pool_id="2")
    with pytest.warns(DroppedResponsesWarning, match=rf"dropped 35 of 1080 {second}"):
        on_pandas = two.toloka.agreement(output_spec=SPEC, pool_id="2")
    pd.testing.assert_frame_equal(one, on_pandas)


def test_responses_are_shuffled_by_tasks_unless_dask_config_says_otherwise() -> None:
    import dask

    from pandas_toloka.dask._whole import shuffle_method

    assert shuffle_method() == "tasks"  # not P2P: it cancels on a stalled or lost worker
    with dask.config.set({"dataframe.shuffle.method": "p2p"}):
        assert shuffle_method() == "p2p"
        assert shuffle_method(nested=True) == "tasks"  # P2P cannot read nested Arrow back
