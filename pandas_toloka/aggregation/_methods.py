"""The categorical methods by name: the local-only list, and one entry point returning a model."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, Literal, get_args

import pandas as pd

from ..errors import InvalidArgumentError
from ._encoding import encode_responses
from ._model import AggregationModel
from .dawid_skene import DawidSkeneModel, fit_dawid_skene
from .glad import fit_glad
from .kos import fit_kos
from .mace import fit_mace
from .one_coin import fit_one_coin_dawid_skene
from .skill_votes import fit_wawa, fit_zero_based_skill, vote_shares, weighted_votes

__all__ = [
    "CATEGORICAL_METHODS",
    "GOLDEN_METHODS",
    "method_options",
    "LOCAL_METHODS",
    "CategoricalMethod",
    "LocalMethod",
    "check_method",
    "fit_aggregation",
]

#: Methods only this package runs (not server ``AggregationType`` values).
LocalMethod = Literal["GLAD", "MACE", "WAWA", "ZERO_BASED_SKILL", "ONE_COIN_DAWID_SKENE", "KOS"]
LOCAL_METHODS: tuple[LocalMethod, ...] = get_args(LocalMethod)

#: Every method :func:`fit_aggregation` fits: the local-only ones and the server's two.
CategoricalMethod = Literal[
    "MAJORITY_VOTE",
    "DAWID_SKENE",
    "GLAD",
    "MACE",
    "WAWA",
    "ZERO_BASED_SKILL",
    "ONE_COIN_DAWID_SKENE",
    "KOS",
]
CATEGORICAL_METHODS: tuple[CategoricalMethod, ...] = get_args(CategoricalMethod)

#: Methods that accept ``golden=``.
GOLDEN_METHODS = ("DAWID_SKENE", "ONE_COIN_DAWID_SKENE", "GLAD", "MACE")


def check_method(method: object) -> CategoricalMethod:
    """Validate a method name (case-insensitive) and return it upper-case."""
    name = method.upper() if isinstance(method, str) else method
    if name not in CATEGORICAL_METHODS:
        raise InvalidArgumentError(
            f"method must be one of {list(CATEGORICAL_METHODS)}, got {method!r}."
        )
    return name


def _fit_majority_vote(
    responses: pd.DataFrame,
    *,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
    labels: Iterable[object] | None = None,
) -> AggregationModel:
    data = encode_responses(
        responses, task=task, worker=worker, label=label, labels=labels, method="majority vote"
    )
    votes = weighted_votes(data, None)
    shares = vote_shares(votes, votes) if votes.size else votes
    return AggregationModel.build("MAJORITY_VOTE", data, shares, names=(task, worker, label))


_FITS: dict[str, Callable[..., AggregationModel | DawidSkeneModel]] = {
    "MAJORITY_VOTE": _fit_majority_vote,
    "DAWID_SKENE": fit_dawid_skene,
    "GLAD": fit_glad,
    "MACE": fit_mace,
    "WAWA": fit_wawa,
    "ZERO_BASED_SKILL": fit_zero_based_skill,
    "ONE_COIN_DAWID_SKENE": fit_one_coin_dawid_skene,
    "KOS": fit_kos,
}


#: Arguments every method takes through parameters of its own, never as options.
COMMON_ARGUMENTS = frozenset({"responses", "task", "worker", "label", "labels", "golden"})


def method_options(method: object) -> tuple[str, ...]:
    """The options a method takes besides the common arguments (e.g. MACE's ``seed``).

    Raises
    ------
    InvalidArgumentError
        For an unknown method.
    """
    fit = _FITS[check_method(method)]
    return tuple(p for p in inspect.signature(fit).parameters if p not in COMMON_ARGUMENTS)


def fit_aggregation(
    responses: pd.DataFrame,
    *,
    method: CategoricalMethod,
    task: Hashable = "task_id",
    worker: Hashable = "worker_id",
    label: Hashable = "result",
    labels: Iterable[object] | None = None,
    golden: Mapping[Any, Any] | pd.Series | None = None,
    **options: Any,
) -> AggregationModel | DawidSkeneModel:
    """Fit any categorical method by name and return the fitted model.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per response.
    method : {"MAJORITY_VOTE", "DAWID_SKENE", "GLAD", "MACE", "WAWA", \
"ZERO_BASED_SKILL", "ONE_COIN_DAWID_SKENE", "KOS"}
        The method (case-insensitive).
    task, worker, label : hashable
        Column names.
    labels : iterable, optional
        The full label space.
    golden : mapping or Series, optional
        Task id -> known label; only for the methods in ``GOLDEN_METHODS``
        (Dawid–Skene, one-coin Dawid–Skene, GLAD, MACE).
    **options
        The method's own parameters (e.g. ``n_iter``, ``tol``, ``seed``).

    Returns
    -------
    AggregationModel or DawidSkeneModel
        Both have ``to_frame()``, ``posterior_frame()`` and ``worker_quality()``.

    Raises
    ------
    InvalidArgumentError
        For an unknown method, ``golden=`` with a method that does not take
        it, or an option the method does not have.
    """
    name = check_method(method)
    kwargs: dict[str, Any] = {"task": task, "worker": worker, "label": label, "labels": labels}
    if golden is not None:
        if name not in GOLDEN_METHODS:
            raise InvalidArgumentError(
                f"golden= is supported by {list(GOLDEN_METHODS)}, not by {name}."
            )
        kwargs["golden"] = golden
    fit = _FITS[name]
    try:
        return fit(responses, **kwargs, **options)
    except TypeError as exc:
        if "unexpected keyword argument" not in str(exc):
            raise
        raise InvalidArgumentError(
            f"{name} does not take the option(s) {sorted(options)}: {exc}"
        ) from exc
