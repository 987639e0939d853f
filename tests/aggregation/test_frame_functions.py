"""Each ``X`` is ``fit_X(...).to_frame()``: the same signature, a numpydoc docstring, the frame.

Most are made by :func:`~pandas_toloka.aggregation._to_frame.frame_function`; the
few written by hand are pinned below with the reason.
"""

from __future__ import annotations

import doctest
import inspect
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pandas_toloka.aggregation as agg
from pandas_toloka.aggregation._registry import METHODS
from pandas_toloka.aggregation._to_frame import fill_parts, frame_function
from pandas_toloka.aggregation.pairwise._docs import PARTS

#: ``X`` written by hand, and why (everything else with a ``fit_X`` is a frame_function).
HAND_WRITTEN = {
    "majority_vote": "a vote without the model's posteriors: faster than fit + to_frame",
    "bounding_boxes": "takes to_frame's flat= too, which a ParamSpec cannot add",
    "points": "takes to_frame's flat= too, which a ParamSpec cannot add",
}
#: Parameters ``X`` takes besides ``fit_X``'s (passed to the model's ``to_frame``).
EXTRA = {"bounding_boxes": ["flat"], "points": ["flat"]}

#: numpydoc's sections, in the order numpydoc wants them.
SECTIONS = [
    "Parameters",
    "Returns",
    "Raises",
    "Warns",
    "See Also",
    "Notes",
    "References",
    "Examples",
]


def _pairs() -> dict[str, tuple[Callable[..., Any], Callable[..., Any]]]:
    """Every public ``X`` of the aggregation package that has a public ``fit_X``."""
    names = set(agg.__all__)
    return {
        name[4:]: (getattr(agg, name[4:]), getattr(agg, name))
        for name in sorted(names)
        if name.startswith("fit_") and name[4:] in names
    }


PAIRS = _pairs()


def _sections(doc: str) -> dict[str, str]:
    """``{"Summary": ..., "Parameters": ..., ...}`` of a cleaned numpydoc docstring."""
    lines = doc.splitlines()
    out: dict[str, list[str]] = {"Summary": []}
    current = "Summary"
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1]) and line.strip():
            assert len(lines[i + 1]) == len(line), f"underline of {line!r}"
            assert line not in out, f"{line} twice"
            current = line
            out[current] = []
        elif not re.fullmatch(r"-{3,}", line):
            out[current].append(line)
    return {name: "\n".join(body).strip() for name, body in out.items()}


def _documented(parameters_section: str) -> set[str]:
    """The names a Parameters section describes (``task, worker : hashable`` -> both)."""
    names: set[str] = set()
    for line in parameters_section.splitlines():
        if line and not line.startswith(" "):
            names.update(n.strip() for n in line.split(" : ")[0].split(","))
    return names


def test_the_pairs_cover_every_registered_method_with_a_fit() -> None:
    assert len(PAIRS) == 26
    registered = {row.function.__name__ for row in METHODS.values()}
    with_fit = {row.function.__name__ for row in METHODS.values() if row.fit is not None}
    assert with_fit <= set(PAIRS)
    # Pairwise, segmentation and boxes rows name the function only; their fits exist.
    assert registered - {"weighted_dynamic_overlap"} == set(PAIRS)
    for row in METHODS.values():
        if row.fit is not None:
            assert PAIRS[row.function.__name__] == (row.function, row.fit)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_signature_is_the_fits(name: str) -> None:
    function, fit = PAIRS[name]
    signature = inspect.signature(function)
    fit_signature = inspect.signature(fit)
    expected = list(fit_signature.parameters.values())
    extra = [signature.parameters[p] for p in EXTRA.get(name, [])]
    assert list(signature.parameters.values()) == expected + extra
    assert signature.return_annotation in ("pd.DataFrame", pd.DataFrame)
    assert fit_signature.return_annotation not in ("pd.DataFrame", pd.DataFrame)
    assert inspect.isfunction(function)
    assert function.__name__ == function.__qualname__ == name
    assert function.__module__ == fit.__module__
    if name in HAND_WRITTEN:
        assert not hasattr(function, "__wrapped__")
    else:
        assert function.__wrapped__ is fit  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_docstring_has_the_numpydoc_sections(name: str) -> None:
    function, fit = PAIRS[name]
    doc = inspect.getdoc(function) or ""
    if name not in HAND_WRITTEN:
        assert doc == function.__doc__, "stored cleaned"
    sections = _sections(doc)
    assert sections["Summary"].split("\n\n")[0].endswith(".")
    assert [s for s in sections if s != "Summary"] == [s for s in SECTIONS if s in sections]
    assert sections["Returns"].splitlines()[0] == "pandas.DataFrame"
    # The parameters are described once: here, or in the fit's docstring that this one
    # points to ("Same parameters as :func:`fit_x`").
    if "Parameters" in sections:
        described = _documented(sections["Parameters"])
    else:
        assert f":func:`fit_{name}`" in sections["Summary"]
        described = _documented(_sections(inspect.getdoc(fit) or "")["Parameters"])
    assert set(inspect.signature(function).parameters) == described
    assert not any("{" + part + "}" in doc for part in PARTS), "an unfilled part"


def test_pairwise_docstrings_get_the_shared_parts() -> None:
    for name in ("bradley_terry", "elo", "counting", "pagerank", "noisy_bradley_terry"):
        doc = inspect.getdoc(getattr(agg, name)) or ""
        assert inspect.cleandoc(fill_parts("\n    {returns}", PARTS)) in doc
        assert "n_bootstrap : int, default 100\n    Bootstrap replicates" in doc


def _comparisons() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    left = rng.choice(list("abcd"), 60)
    right = np.array([{"a": "b", "b": "c", "c": "d", "d": "a"}[x] for x in left])
    return pd.DataFrame(
        {
            "left": left,
            "right": right,
            "winner": rng.choice(["left", "right", "tie"], 60, p=[0.5, 0.4, 0.1]),
            "worker_id": rng.choice(["w1", "w2", "w3"], 60),
        }
    )


def _masks() -> pd.DataFrame:
    masks = [np.array([[1, 0], [1, 1]]), np.array([[0, 1], [1, 1]]), np.array([[0, 1], [1, 0]])]
    return pd.DataFrame(
        {
            "task_id": ["t1"] * 3 + ["t2"] * 3,
            "worker_id": ["a", "b", "c"] * 2,
            "mask": [m.astype(bool) for m in masks + masks[::-1]],
        }
    )


@pytest.mark.parametrize(
    "name", ["bradley_terry", "elo", "noisy_bradley_terry", "pagerank", "segmentation_em"]
)
def test_the_frame_is_the_fits(name: str) -> None:
    function, fit = PAIRS[name]
    if name.startswith("segmentation"):
        data, options = _masks(), {"n_iter": 3}
    else:
        data, options = _comparisons(), {"n_bootstrap": 5, "seed": 3}
    expected = fit(data, **options).to_frame()
    pd.testing.assert_frame_equal(function(data, **options), expected)


def test_a_wrong_call_names_the_function_and_does_no_work() -> None:
    calls: list[object] = []

    class Model:
        def to_frame(self) -> pd.DataFrame:
            return pd.DataFrame({"x": calls})

    def fit_thing(responses: pd.DataFrame, *, size: int = 1) -> Model:
        calls.append(size)
        return Model()

    thing = frame_function(
        fit_thing,
        name="thing",
        doc="""Do the thing.

    Parameters
    ----------
    {both}

    Returns
    -------
    pandas.DataFrame
    """,
        parts={"both": "responses : pandas.DataFrame\n        Rows.\n    size : int, default 1"},
    )
    assert thing.__doc__ == (
        "Do the thing.\n\nParameters\n----------\nresponses : pandas.DataFrame\n    Rows.\n"
        "size : int, default 1\n\nReturns\n-------\npandas.DataFrame"
    )
    with pytest.raises(TypeError, match=r"^thing\(\) got an unexpected keyword argument 'sise'"):
        thing(pd.DataFrame(), sise=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"^thing\(\) too many positional arguments"):
        thing(pd.DataFrame(), 2)  # type: ignore[call-arg]
    assert calls == []
    assert thing(pd.DataFrame(), size=2)["x"].tolist() == [2]


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_the_docstring_examples_run(name: str) -> None:
    function, _ = PAIRS[name]
    names = {n: getattr(agg, n) for n in agg.__all__}
    tests = doctest.DocTestFinder(recurse=False).find(
        function, name, globs={"pd": pd, "np": np, **names}
    )
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    for test in tests:
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
