"""The method registry: every list of names comes from it, and a new method is one row."""

from __future__ import annotations

import inspect
from collections.abc import Hashable, Iterable, Iterator
from typing import get_args

import numpy as np
import pandas as pd
import pytest
from pools import synthetic_pool

import pandas_toloka.aggregation as agg
from pandas_toloka._protocol import AggregationType, AggregationTypeName
from pandas_toloka.aggregation import _literals, _methods, _registry
from pandas_toloka.aggregation._encoding import encode_responses
from pandas_toloka.aggregation._model import AggregationModel
from pandas_toloka.aggregation._registry import FAMILIES, METHODS, Method, method_names, register
from pandas_toloka.aggregation._to_frame import frame_function
from pandas_toloka.errors import InvalidArgumentError

REGENERATE = "regenerate them: python -m pandas_toloka.aggregation._literals"


@pytest.fixture
def registry() -> Iterator[dict[str, Method]]:
    """The registry, restored after the test (which may add rows)."""
    saved = dict(METHODS)
    yield METHODS
    METHODS.clear()
    METHODS.update(saved)


def test_literal_types_are_the_registry_names() -> None:
    assert get_args(_methods.CategoricalMethod) == _registry.categorical_names(), REGENERATE
    assert get_args(_methods.LocalMethod) == _registry.local_names(), REGENERATE
    assert get_args(_methods.MethodName) == tuple(METHODS), REGENERATE
    source = inspect.getsource(_methods)
    assert _literals.literal_source() in source, REGENERATE
    assert get_args(agg.LocalMethod) == agg.LOCAL_METHODS
    assert get_args(_methods.CategoricalMethod) == _methods.CATEGORICAL_METHODS


def test_write_literals_rewrites_only_the_generated_block(tmp_path) -> None:
    stale = inspect.getsource(_methods).replace('    "KOS",\n', "", 1)
    target = tmp_path / "_methods.py"
    target.write_text(stale, encoding="utf-8")
    assert _literals.write_literals(target) is True
    assert target.read_text(encoding="utf-8") == inspect.getsource(_methods)
    assert _literals.write_literals(target) is False
    (tmp_path / "plain.py").write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no generated block"):
        _literals.write_literals(tmp_path / "plain.py")


def test_the_server_rows_are_the_wire_aggregation_types() -> None:
    assert method_names(server=True) == get_args(AggregationTypeName)
    assert set(method_names(server=True)) == {t.value for t in AggregationType}


def test_derived_lists() -> None:
    assert agg.LOCAL_METHODS == (
        "GLAD",
        "MACE",
        "WAWA",
        "ZERO_BASED_SKILL",
        "ONE_COIN_DAWID_SKENE",
        "KOS",
    )
    assert _methods.GOLDEN_METHODS == ("DAWID_SKENE", "GLAD", "MACE", "ONE_COIN_DAWID_SKENE")
    # tests/dask/test_dask_methods.py: the pairwise rankings run on Dask through
    # pandas_toloka.dask.rank (a tally reduction), not aggregate_locally; the embedding
    # methods carry their embedding column (tests/dask/test_texts_dask.py).
    assert method_names(dask=True) == tuple(m for m in METHODS if METHODS[m].kind != "pairwise")
    assert METHODS["CLOSEST_TO_AVERAGE"].dask == "per_task"
    assert {METHODS[m].dask for m in ("RASA", "HRRASA", "TEXT_RASA", "TEXT_HRRASA")} == {"per_pool"}
    assert method_names(kind="text") == ("ROVER",)
    assert method_names(kind="embedding") == (
        "CLOSEST_TO_AVERAGE",
        "RASA",
        "HRRASA",
        "TEXT_RASA",
        "TEXT_HRRASA",
    )
    # golden= is known labels for the categorical methods, known embeddings or boxes elsewhere.
    assert method_names(golden=True) == (
        *_methods.GOLDEN_METHODS,
        *method_names(kind="embedding"),
        "BOXES",
        "POINTS",
    )
    assert [m for m in METHODS if METHODS[m].binary_only] == ["KOS"]
    assert agg.fit_aggregation.__annotations__["method"] == "CategoricalMethod"
    assert _methods.method_options("mace") == ("n_iter", "seed", "n_restarts", "class_priors")
    assert _methods.method_options("WAWA") == ()
    assert METHODS["GLAD"].iterative and METHODS["GLAD"].has_tol
    assert METHODS["KOS"].iterative and not METHODS["KOS"].has_tol
    assert not METHODS["WAWA"].iterative
    wdo = METHODS["WEIGHTED_DYNAMIC_OVERLAP"]
    assert (wdo.fit, wdo.roles, wdo.family.inputs) == (
        None,
        ("task", "worker", "fields", "skill_worker", "skill_value"),
        ("skills",),
    )
    with pytest.raises(
        InvalidArgumentError, match=r"method must be one of \['DAWID_SKENE', 'MAJORITY_VOTE'"
    ):
        _methods.check_method("WEIGHTED_DYNAMIC_OVERLAP")  # no model to fit
    assert _methods.check_method("glad") == "GLAD"


@pytest.mark.parametrize("name", list(METHODS))
def test_each_row_names_its_public_functions(name: str) -> None:
    row = METHODS[name]
    for function in (row.function, row.fit):
        if function is None:
            continue
        assert inspect.isfunction(function)
        assert getattr(agg, function.__name__) is function
        assert function.__name__ in agg.__all__
        assert function.__module__.startswith("pandas_toloka.aggregation.")
    assert row.returns == ("per_item" if row.kind == "pairwise" else "per_task")
    # A row names its own roles only where the family's do not fit (embeddings over texts).
    assert row.roles == (row.column_roles or FAMILIES[row.kind].roles)
    assert set(row.roles) <= set(inspect.signature(row.function).parameters)


@pytest.mark.parametrize("name", method_names(fitted=True))
def test_each_function_is_its_fit_to_frame(name: str) -> None:
    row = METHODS[name]
    assert row.fit is not None
    signature = inspect.signature(row.function)
    fit_signature = inspect.signature(row.fit)
    assert signature.parameters == fit_signature.parameters
    assert signature.return_annotation in ("pd.DataFrame", pd.DataFrame)
    doc = inspect.getdoc(row.function) or ""
    # The parameters are described once: in the function's docstring or in its fit's.
    described = doc if "Parameters\n----------" in doc else inspect.getdoc(row.fit) or ""
    for parameter in signature.parameters:
        assert parameter in described, f"{name}: no docstring describes {parameter}"
    assert "Returns\n-------\npandas.DataFrame" in doc
    pd.testing.assert_frame_equal(
        row.function(_sample(row.kind)), row.fit(_sample(row.kind)).to_frame()
    )


def _sample(kind: str) -> pd.DataFrame:
    """A small responses frame of the family's shape."""
    frame, _ = synthetic_pool(n_tasks=12, n_labels=2)
    if kind == "categorical":
        return frame
    words = {label: f"word{label} other" for label in frame["result"].unique()}
    texts = frame.assign(text=frame["result"].map(words), output=frame["result"].map(words))
    if kind == "text":
        return texts
    codes = pd.factorize(frame["result"])[0]
    return texts.assign(embedding=[[1.0, float(c)] for c in codes])


def test_frame_function_keeps_name_module_and_signature() -> None:
    assert agg.glad.__name__ == agg.glad.__qualname__ == "glad"
    assert agg.glad.__module__ == "pandas_toloka.aggregation.glad"
    assert agg.glad.__wrapped__ is agg.fit_glad  # type: ignore[attr-defined]
    assert agg.glad.__doc__ is not None and agg.glad.__doc__.startswith("Aggregate responses")
    assert list(inspect.signature(agg.mace).parameters)[:2] == ["responses", "task"]
    assert inspect.signature(agg.mace).parameters["task"].kind is inspect.Parameter.KEYWORD_ONLY


def test_one_model_class() -> None:
    frame, _ = synthetic_pool(n_tasks=15, n_labels=3)
    model = agg.fit_dawid_skene(frame, n_iter=5)
    assert isinstance(model, AggregationModel) and isinstance(model, agg.DawidSkeneModel)
    assert model.method == "DAWID_SKENE"
    quality = model.worker_quality()
    assert list(quality.columns) == ["worker_id", "n_responses", "accuracy"]
    expected = np.diagonal(model.confusion, axis1=1, axis2=2) @ model.priors
    np.testing.assert_allclose(quality["accuracy"], expected)
    assert repr(model).startswith("DawidSkeneModel(method='DAWID_SKENE'")
    # Every method inherits the per-task lookups.
    votes = agg.fit_majority_vote(frame)
    first = votes.to_frame().iloc[0]
    assert votes.task_result(first["task_id"]) == {
        "task_id": first["task_id"],
        "label": first["result"],
        "confidence": first["confidence"],
    }
    assert votes.task_posterior(first["task_id"]).sum() == pytest.approx(1.0)
    assert type(agg.fit_aggregation(frame, method="DAWID_SKENE", n_iter=5)) is agg.DawidSkeneModel
    pd.testing.assert_frame_equal(votes.to_frame(), agg.majority_vote(frame))


# -- a new method is one module plus one registry row -------------------------------------
# The "module": a toy method that answers each task with the label of its first response.


def fit_first_answer(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
    labels: Iterable[object] | None = None,
    weight: float = 1.0,
) -> AggregationModel:
    """Fit the toy method."""
    data = encode_responses(
        responses, task=task, worker=worker, label=label, labels=labels, method="first answer"
    )
    posteriors = np.zeros((data.tasks.size, data.labels.size))
    first = np.unique(data.tasks.codes, return_index=True)[1]
    posteriors[np.arange(data.tasks.size), data.labels.codes[first]] = weight
    return AggregationModel.build("FIRST_ANSWER", data, posteriors, names=(task, worker, label))


first_answer = frame_function(
    fit_first_answer,
    name="first_answer",
    doc="""Aggregate with the toy method.

    Parameters
    ----------
    responses, task, worker, label, labels, weight
        As for :func:`fit_first_answer`.

    Returns
    -------
    pandas.DataFrame
        One row per task.
    """,
)


def test_a_new_method_is_one_module_and_one_row(registry) -> None:
    row = register(
        Method("FIRST_ANSWER", "first answer", "categorical", first_answer, fit_first_answer)
    )
    frame = pd.DataFrame(
        {"task_id": ["b", "a", "a", "b"], "worker_id": ["x", "x", "y", "y"], "result": [2, 1, 2, 1]}
    )
    model = agg.fit_aggregation(frame, method="first_answer", weight=1.0)
    assert model.method == "FIRST_ANSWER"
    assert model.to_frame()["result"].tolist() == [1, 2]
    assert first_answer(frame).equals(model.to_frame())
    assert _methods.check_method("First_Answer") == "FIRST_ANSWER"
    assert _methods.method_options("FIRST_ANSWER") == ("weight",)
    assert "FIRST_ANSWER" in method_names(kind="categorical", fitted=True, server=False)
    assert not row.golden and not row.iterative and row.dask is None
    with pytest.raises(InvalidArgumentError, match=r"does not take the option\(s\) \['seed'\]"):
        agg.fit_aggregation(frame, method="FIRST_ANSWER", seed=1)
    with pytest.raises(InvalidArgumentError, match="golden= is supported by"):
        agg.fit_aggregation(frame, method="FIRST_ANSWER", golden={"a": 1})
    with pytest.raises(ValueError, match="already registered"):
        register(row)


def test_rows_are_checked_against_their_family() -> None:
    def pairwise(
        responses: pd.DataFrame,
        *,
        left: Hashable = "left",
        right: Hashable = "right",
        winner: Hashable = "winner",
        worker: Hashable = "worker_id",
    ) -> pd.DataFrame:
        return responses

    row = Method("TOY_PAIRWISE", "toy", "pairwise", pairwise)
    assert (row.roles, row.returns, row.options) == (
        ("left", "right", "winner", "worker"),
        "per_item",
        (),
    )
    with pytest.raises(ValueError, match=r"lacks the text roles \['task', 'text'\]"):
        Method("TOY_TEXT", "toy", "text", pairwise)
    with pytest.raises(ValueError, match="unknown kind"):
        Method("TOY", "toy", "audio", pairwise)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="upper-case"):
        Method("toy", "toy", "pairwise", pairwise)
    assert set(FAMILIES) == set(get_args(_registry.Kind))


def test_markdown_table_has_one_row_per_method() -> None:
    table = _registry.markdown_table().splitlines()
    assert len(table) == 2 + len(METHODS)
    glad = next(line for line in table if line.startswith("| `GLAD`"))
    assert "`glad`, `fit_glad`" in glad and "n_iter/tol" in glad and "`m_step_max_iter`" in glad
    kos = next(line for line in table if line.startswith("| `KOS`"))
    assert "(binary labels)" in kos


def test_a_row_may_name_other_column_roles_than_its_family() -> None:
    from pandas_toloka.aggregation import closest_to_average, text_rasa

    row = Method("TOY_CLOSEST", "toy", "embedding", closest_to_average)
    assert row.roles == ("task", "worker", "output", "embedding")
    assert "golden" not in row.options and row.golden
    texts = Method(
        "TOY_TEXT_RASA",
        "toy",
        "embedding",
        text_rasa,
        column_roles=("task", "worker", "text", "embedding"),
    )
    assert texts.roles[2] == "text" and "text" not in texts.options
    with pytest.raises(ValueError, match=r"lacks the embedding roles \['output'\]"):
        Method("TOY_TEXT_RASA", "toy", "embedding", text_rasa)


@pytest.mark.parametrize(
    ("fit", "column", "known"),
    [
        ("fit_dawid_skene", {"result": ["a", "b"]}, "a"),
        ("fit_rasa", {"output": ["a", "b"], "embedding": [[1.0, 0.0], [0.0, 1.0]]}, [1.0, 0.0]),
        ("fit_bounding_boxes", {"boxes": [[], []]}, []),
    ],
)
def test_every_golden_reader_words_the_same_errors(fit, column, known) -> None:
    # golden= is read by one pair of helpers (aggregation._golden) for labels, embeddings
    # and shapes: the same wrong inputs give the same typed errors
    frame = pd.DataFrame({"task_id": ["t1", "t2"], "worker_id": ["w1", "w2"], **column})
    with pytest.raises(InvalidArgumentError, match="must be a mapping or a pandas Series"):
        getattr(agg, fit)(frame, golden=[("t1", known)])
    twice = pd.Series([known, known], index=["t1", "t1"], dtype=object)
    with pytest.raises(InvalidArgumentError, match="lists a task more than once"):
        getattr(agg, fit)(frame, golden=twice)
    with pytest.raises(InvalidArgumentError, match="null values"):
        getattr(agg, fit)(frame, golden=pd.Series([known], index=[None], dtype=object))
