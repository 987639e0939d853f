"""One front door: the pandas functions, the Dask functions and both accessors take the same
arguments under the same names and defaults, except where listed here with the reason; the
old spellings of renamed arguments still work, with a FutureWarning."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pandas_toloka as ptk

ptd = pytest.importorskip("pandas_toloka.dask")  # the dask extra is part of the test extra
dd = pytest.importorskip("dask.dataframe")

#: The same door, once per front: (name, [callables]) whose parameters must agree.
DOORS: dict[str, list[Callable[..., Any]]] = {
    "aggregate_locally": [
        ptk.TolokaAccessor.aggregate_locally,
        ptd.aggregate_locally,
        ptd.DaskTolokaAccessor.aggregate_locally,
    ],
    "worker_quality": [
        ptk.TolokaAccessor.worker_quality,
        ptd.worker_quality,
        ptd.DaskTolokaAccessor.worker_quality,
    ],
    "agreement": [ptk.TolokaAccessor.agreement, ptd.agreement, ptd.DaskTolokaAccessor.agreement],
    "rank": [ptk.TolokaAccessor.rank, ptd.rank, ptd.DaskTolokaAccessor.rank],
    "read_aggregated_solutions": [ptk.read_aggregated_solutions, ptd.read_aggregated_solutions],
    "read_responses": [ptk.read_responses, ptd.read_responses],
    "read_labeled_dataset": [ptk.read_labeled_dataset, ptd.read_labeled_dataset],
    "read_tasks": [ptk.read_tasks, ptd.read_tasks],
    # start_aggregations is read_aggregated_solutions' first half on Dask.
    "start_aggregations": [ptd.read_aggregated_solutions, ptd.start_aggregations],
}

#: The documented exceptions: (door, parameter) -> why one front has it and another not.
EXCEPTIONS = {
    # A Dask reader reads many pools, one partition each: a list, and one operation per pool.
    ("read_aggregated_solutions", "pool_id"): "pandas reads one pool",
    ("read_aggregated_solutions", "pool_ids"): "Dask reads a list of pools",
    ("read_aggregated_solutions", "operation_id"): "one operation (pandas)",
    ("read_aggregated_solutions", "operation_ids"): "one operation per pool (Dask)",
    ("read_responses", "pool_id"): "pandas reads one pool",
    ("read_responses", "pool_ids"): "Dask reads a list of pools",
    # Dask readers are lazy: they read on the workers at compute time, where progress is
    # distributed's (distributed.progress, the dashboard: docs/dask.md), not a bar here.
    ("read_aggregated_solutions", "progress_bar"): "lazy on Dask: distributed's progress",
    ("read_responses", "progress_bar"): "lazy on Dask: distributed's progress",
    # How many pools the Dask driver handles at once, and how workers get credentials.
    ("read_aggregated_solutions", "max_concurrency"): "Dask runs many pools at once",
    ("read_aggregated_solutions", "credentials"): "Dask ships a client to its workers",
    ("read_responses", "max_concurrency"): "Dask runs many pools at once",
    ("read_responses", "credentials"): "Dask ships a client to its workers",
    # start_aggregations starts; reading (dtypes, pages, waiting) is read_aggregated_solutions'.
    ("start_aggregations", "dtype_backend"): "nothing is read",
    ("start_aggregations", "page_size"): "nothing is read",
    ("start_aggregations", "wait_timeout"): "it does not wait",
    ("start_aggregations", "credentials"): "nothing runs on the workers",
    ("start_aggregations", "inputs"): "nothing is read",
    # golden="pool" and skills read from the API: pandas accessors only.
    **{
        (door, name): "golden='pool' / skills read from the API on the driver (pandas)"
        for door in ("aggregate_locally", "worker_quality")
        for name in ("client", "token", "environment", "url")
    },
    # One pool (pandas) or a list of pools, one partition each (Dask): as the readers above.
    **{
        (door, "pool_id"): "pandas reads one pool"
        for door in ("read_labeled_dataset", "read_tasks")
    },
    **{(door, "pool_ids"): "Dask reads a list" for door in ("read_labeled_dataset", "read_tasks")},
    **{
        (door, name): "Dask runs many pools at once and ships a client to its workers"
        for door in ("read_labeled_dataset", "read_tasks")
        for name in ("max_concurrency", "credentials")
    },
    **{
        (door, "progress_bar"): "lazy on Dask: distributed's progress"
        for door in ("read_labeled_dataset", "read_tasks")
    },
    ("read_labeled_dataset", "operation_id"): "resumes one operation (pandas)",
    # read_tasks on Dask reads every pool's specs on the driver, to build the meta.
    ("read_tasks", "input_spec"): "pandas takes one pool's spec",
    ("read_tasks", "output_spec"): "pandas takes one pool's spec",
}

#: Doors that exist on one front only, and why.
ONE_FRONT = {
    "TolokaAccessor.aggregate": "server-side aggregation of a frame's tasks: HTTP per task from "
    "the driver; on Dask, read_aggregated_solutions reads whole pools",
    "TolokaAccessor.fit_locally": "the fitted models: on Dask a distributed fit's task "
    "posteriors stay on the workers (worker_quality gives its per-worker estimates)",
    "TolokaAccessor.aggregation_report": "a few figures over a result of one row per task, "
    "which fits in memory: compute() a Dask result first",
}


def _parameters(function: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    """The parameters after the object the door works on (``self``, ``ddf``)."""
    parameters = inspect.signature(function).parameters.values()
    return {p.name: p for p in parameters if p.name not in ("self", "ddf")}


@pytest.mark.parametrize("door", sorted(DOORS))
def test_signatures_agree_across_the_fronts(door: str) -> None:
    fronts = DOORS[door]
    every = [_parameters(f) for f in fronts]
    names = set().union(*every)
    for name in sorted(names):
        holders = [f.__qualname__ for f, params in zip(fronts, every) if name in params]
        if len(holders) != len(fronts):
            assert (door, name) in EXCEPTIONS, f"{door}: only {holders} take {name}="
            continue
        assert (door, name) not in EXCEPTIONS, f"stale exception {(door, name)}"
        defaults = {params[name].default for params in every}
        kinds = {params[name].kind for params in every}
        assert len(defaults) == 1, f"{door}: {name}= has defaults {defaults}"
        assert len(kinds) == 1, f"{door}: {name}= is {kinds}"
    # Same order where the fronts share parameters (positional ones first).
    orders = [[n for n in params if all(n in p for p in every)] for params in every]
    assert all(order == orders[0] for order in orders), door


def test_every_accessor_method_is_a_door_or_one_front_only() -> None:
    pandas_methods = {
        name for name, _ in inspect.getmembers(ptk.TolokaAccessor, inspect.isfunction)
    } - {"__init__", "__repr__"}
    dask_methods = {
        name for name, _ in inspect.getmembers(ptd.DaskTolokaAccessor, inspect.isfunction)
    } - {"__init__"}
    plots = {name for name in pandas_methods if name.startswith("plot_")}  # pandas pictures
    assert dask_methods <= pandas_methods
    one_front = {name.split(".")[1] for name in ONE_FRONT}
    assert pandas_methods - dask_methods - plots == one_front
    assert dask_methods == {d for d in DOORS if d in pandas_methods}


# -- deprecated spellings ---------------------------------------------------------------


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [(f"t{t}", f"w{w}", int(rng.integers(2))) for t in range(6) for w in range(3)]
    out = pd.DataFrame(rows, columns=["task_id", "worker_id", "result"])
    return out.astype({"task_id": "string[pyarrow]", "worker_id": "string[pyarrow]"})


def test_skill_id_is_a_deprecated_spelling_of_answer_weight_skill_id(frame) -> None:
    skills = pd.DataFrame(
        {"worker_id": ["w0", "w1", "w2", "w0"], "value": [80, 60, 70, 10], "skill_id": [1, 1, 1, 2]}
    )
    kwargs = dict(fields="result", skills=skills)
    expected = frame.toloka.aggregate_locally(
        "WEIGHTED_DYNAMIC_OVERLAP", answer_weight_skill_id=1, **kwargs
    )
    with pytest.warns(FutureWarning, match=r"skill_id= is deprecated.*answer_weight_skill_id="):
        old = frame.toloka.aggregate_locally("WEIGHTED_DYNAMIC_OVERLAP", skill_id=1, **kwargs)
    pd.testing.assert_frame_equal(old, expected)
    with pytest.raises(ptk.InvalidArgumentError, match="answer_weight_skill_id= only"):
        frame.toloka.aggregate_locally(
            "WEIGHTED_DYNAMIC_OVERLAP", skill_id=1, answer_weight_skill_id=1, **kwargs
        )
    ddf = dd.from_pandas(frame, npartitions=1)
    for aggregate in (ptd.aggregate_locally, ptd.DaskTolokaAccessor(ddf).aggregate_locally):
        args = (ddf,) if aggregate is ptd.aggregate_locally else ()
        with pytest.warns(FutureWarning, match="skill_id= is deprecated"):
            result = aggregate(*args, "WEIGHTED_DYNAMIC_OVERLAP", skill_id=1, **kwargs)
        pd.testing.assert_frame_equal(result.compute(scheduler="sync"), expected)


def test_old_concurrency_spellings_warn(frame) -> None:
    cases = [
        (ptd.start_aggregations, "max_concurrent_operations"),
        (ptd.read_aggregated_solutions, "max_concurrent_operations"),
        (ptd.read_responses, "max_concurrent_requests"),
        (ptk.TolokaAccessor(frame).aggregate, "max_workers"),
    ]
    for function, old in cases:
        assert old not in inspect.signature(function).parameters
        assert function.__renamed_arguments__ == {old: "max_concurrency"}  # type: ignore[attr-defined]
        # 0 is refused by the new argument's own check: the old name reached it, warned.
        with pytest.warns(FutureWarning, match=f"{old}= is deprecated"):
            with pytest.raises(ptk.InvalidArgumentError, match="max_concurrency"):
                if function is cases[-1][0]:
                    function(pool_id="1", token="t", url="http://127.0.0.1:9", **{old: 0})
                else:
                    function(["1"], token="t", url="http://127.0.0.1:9", **{old: 0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ptk.InvalidArgumentError, match="max_concurrency"):
            ptd.read_responses(["1"], token="t", url="http://127.0.0.1:9", max_concurrency=0)
