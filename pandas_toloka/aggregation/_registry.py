"""The method registry: one row per aggregation method, the one place that lists them.

Every list of method names in the package is derived from :data:`METHODS`:
:data:`~pandas_toloka.aggregation.LOCAL_METHODS`, the ``Literal`` types
(generated source, see :mod:`._literals`), ``golden=`` support, the
options of ``method_kwargs=``, :func:`~pandas_toloka.aggregation.fit_aggregation`,
and the client, Dask, CLI and docs lists.

Adding a method is one module plus one row: write ``fit_x`` (returning an
:class:`~pandas_toloka.aggregation.AggregationModel`) and
``x = frame_function(fit_x, ...)`` — or just ``x`` returning a frame for a
family without a model — then add a :class:`Method` to :data:`METHODS` and
regenerate the ``Literal`` types::

    python -m pandas_toloka.aggregation._literals

A row says what the callers need to know without reading the method: its
family (:class:`Family`: which columns it takes, by which parameter names,
and whether it answers per task or per item), whether it takes ``golden=``
or ``n_iter``/``tol`` (read from its signature), whether it needs binary
labels, how it runs on a Dask frame, and whether the Toloka server runs it
too (an ``AggregationType``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from ..errors import InvalidArgumentError
from .boxes import bounding_boxes, points
from .dawid_skene import dawid_skene, fit_dawid_skene
from .embeddings import (
    closest_to_average,
    fit_closest_to_average,
    fit_hrrasa,
    fit_rasa,
    hrrasa,
    rasa,
)
from .glad import fit_glad, glad
from .kos import fit_kos, kos
from .mace import fit_mace, mace
from .majority_vote import fit_majority_vote, majority_vote
from .one_coin import fit_one_coin_dawid_skene, one_coin_dawid_skene
from .pairwise import (
    average_win_rate,
    bradley_terry,
    counting,
    eigenvector,
    elo,
    noisy_bradley_terry,
    pagerank,
)
from .rover import fit_rover, rover
from .segmentation import segmentation_em, segmentation_majority_vote, segmentation_rasa
from .skill_votes import fit_wawa, fit_zero_based_skill, wawa, zero_based_skill
from .text_embeddings import fit_text_hrrasa, fit_text_rasa, text_hrrasa, text_rasa
from .weighted import weighted_dynamic_overlap

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FAMILIES",
    "METHODS",
    "DaskMode",
    "Family",
    "Kind",
    "Method",
    "all_names",
    "categorical_names",
    "get_method",
    "local_names",
    "markdown_table",
    "method_names",
    "register",
]

#: The method families. A family fixes the column roles its methods take and the shape of
#: their result; each of its methods is then one module and one row.
Kind = Literal[
    "categorical",  # one label per response -> one label per task (+ a fitted model)
    "skill_weighted",  # answers weighted by workers' skill values from another frame
    "pairwise",  # comparisons of two items -> a score per item
    "text",  # free texts / transcriptions -> one text per task
    "embedding",  # texts with an embedding column -> one text per task
    "segmentation",  # image masks -> one mask per task
    "boxes",  # bounding boxes (or points) -> the fused shapes per task
]

#: How a method runs on a Dask frame: ``"per_task"`` (each task decided from its own
#: responses: exact on partitions holding whole tasks), ``"per_pool"`` (tasks coupled
#: through the workers: a pool is fitted whole, on one worker), ``"distributed_em"`` (one
#: fit over the partitions, iterating on the cluster); None: not on Dask.
DaskMode = Literal["per_task", "per_pool", "distributed_em"]

Output = Literal["per_task", "per_item"]


@dataclass(frozen=True)
class Family:
    """What every method of a kind takes and returns.

    Attributes
    ----------
    kind : str
        The family's name (:data:`Kind`).
    roles : tuple of str
        The parameters that name columns of the responses frame, in order
        (e.g. ``("task", "worker", "label")``); the accessor passes them.
    returns : {"per_task", "per_item"}
        One result row per task, or per compared item (pairwise ranking).
    inputs : tuple of str
        Other frames the method takes besides the responses (e.g. ``skills``).
    """

    kind: Kind
    roles: tuple[str, ...]
    returns: Output
    inputs: tuple[str, ...] = ()


#: Every family, by kind.
FAMILIES: Mapping[str, Family] = MappingProxyType(
    {
        family.kind: family
        for family in (
            Family("categorical", ("task", "worker", "label"), "per_task"),
            Family(
                "skill_weighted",
                ("task", "worker", "fields", "skill_worker", "skill_value"),
                "per_task",
                ("skills",),
            ),
            Family("pairwise", ("left", "right", "winner", "worker"), "per_item"),
            Family("text", ("task", "worker", "text"), "per_task"),
            Family("embedding", ("task", "worker", "output", "embedding"), "per_task"),
            Family("segmentation", ("task", "worker", "mask"), "per_task"),
            Family("boxes", ("task", "worker", "boxes"), "per_task"),
        )
    }
)

#: Parameters that are neither a column role nor an option: the responses, the label
#: space and the known answers, which callers pass through arguments of their own.
COMMON_ARGUMENTS = frozenset({"responses", "labels", "golden"})


@dataclass(frozen=True)
class Method:
    """One aggregation method: what it is called, what runs it, and what it can do.

    Attributes
    ----------
    name : str
        The upper-case name (``type=`` / ``method=``), e.g. ``"GLAD"``.
    title : str
        The name in prose and tables, e.g. ``"GLAD"`` or ``"majority vote"``.
    kind : str
        Its family (:data:`FAMILIES`): the column roles and the result shape.
    function : callable
        The public function returning the result frame, e.g.
        :func:`~pandas_toloka.aggregation.glad`.
    fit : callable or None
        The public ``fit_*`` returning the method's model (an
        :class:`AggregationModel` for the categorical family, a
        ``TextAggregationModel`` or ``EmbeddingModel`` for the text and
        embedding ones); None for a method without a model (e.g. skill weighting).
    binary_only : bool
        Whether it needs exactly two labels.
    dask : {"per_task", "per_pool", "distributed_em"} or None
        How it runs on a Dask frame (:data:`DaskMode`); None: not on Dask.
    server : bool
        Whether the Toloka server runs it too (it is an ``AggregationType``).
    column_roles : tuple of str or None
        The parameters naming columns when they differ from the family's (e.g.
        an embedding method over texts: ``("task", "worker", "text",
        "embedding")``); None: the family's :attr:`Family.roles`.
    """

    name: str
    title: str
    kind: Kind
    function: Callable[..., pd.DataFrame]
    fit: Callable[..., Any] | None = None
    binary_only: bool = False
    dask: DaskMode | None = None
    server: bool = False
    column_roles: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAMILIES:
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}; one of {list(FAMILIES)}.")
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", self.name):
            raise ValueError(f"A method name is upper-case snake case, got {self.name!r}.")
        missing = [r for r in self.roles if r not in self.parameters]
        if missing:
            raise ValueError(f"{self.name}: its function lacks the {self.kind} roles {missing}.")

    @property
    def family(self) -> Family:
        """The method's :class:`Family` (roles, inputs, result shape)."""
        return FAMILIES[self.kind]

    @property
    def roles(self) -> tuple[str, ...]:
        """The parameters naming columns, e.g. ``("task", "worker", "label")``."""
        return self.column_roles if self.column_roles is not None else self.family.roles

    @property
    def returns(self) -> Output:
        """``"per_task"`` or ``"per_item"``."""
        return self.family.returns

    @property
    def parameters(self) -> Mapping[str, inspect.Parameter]:
        """The parameters of :attr:`fit` (or of :attr:`function` without a fit)."""
        return inspect.signature(self.fit or self.function).parameters

    @property
    def options(self) -> tuple[str, ...]:
        """The method's own parameters (``method_kwargs=``), e.g. MACE's ``seed``,
        including ``n_iter``/``tol`` where it takes them."""
        skip = COMMON_ARGUMENTS | set(self.roles) | set(self.family.inputs)
        return tuple(p for p in self.parameters if p not in skip)

    @property
    def golden(self) -> bool:
        """Whether it takes ``golden=`` (known answers of control tasks)."""
        return "golden" in self.parameters

    @property
    def iterative(self) -> bool:
        """Whether it takes ``n_iter=`` (and ``tol=`` when :attr:`has_tol`)."""
        return "n_iter" in self.parameters

    @property
    def has_tol(self) -> bool:
        """Whether it takes a stopping tolerance ``tol=``."""
        return "tol" in self.parameters

    @property
    def local_only(self) -> bool:
        """Whether only this package runs it (not a server ``AggregationType``)."""
        return not self.server


_ROWS = (
    Method(
        "DAWID_SKENE",
        "Dawid–Skene",
        "categorical",
        dawid_skene,
        fit_dawid_skene,
        dask="distributed_em",
        server=True,
    ),
    Method(
        "WEIGHTED_DYNAMIC_OVERLAP",
        "skill-weighted (WDO)",
        "skill_weighted",
        weighted_dynamic_overlap,
        dask="per_task",
        server=True,
    ),
    Method(
        "MAJORITY_VOTE",
        "majority vote",
        "categorical",
        majority_vote,
        fit_majority_vote,
        dask="per_task",
    ),
    Method("GLAD", "GLAD", "categorical", glad, fit_glad, dask="per_pool"),
    Method("MACE", "MACE", "categorical", mace, fit_mace, dask="per_pool"),
    Method("WAWA", "WAWA", "categorical", wawa, fit_wawa, dask="per_pool"),
    Method(
        "ZERO_BASED_SKILL",
        "zero-based skill",
        "categorical",
        zero_based_skill,
        fit_zero_based_skill,
        dask="per_pool",
    ),
    Method(
        "ONE_COIN_DAWID_SKENE",
        "one-coin Dawid–Skene",
        "categorical",
        one_coin_dawid_skene,
        fit_one_coin_dawid_skene,
        dask="per_pool",
    ),
    Method("KOS", "KOS", "categorical", kos, fit_kos, binary_only=True, dask="per_pool"),
    # Pairwise rankings (one row per item; their fit_* return a RankingModel, not an
    # AggregationModel, so the rows name the frame functions only).
    Method("BRADLEY_TERRY", "Bradley–Terry", "pairwise", bradley_terry),
    Method("NOISY_BRADLEY_TERRY", "NoisyBT", "pairwise", noisy_bradley_terry),
    Method("ELO", "Elo", "pairwise", elo),
    Method("COUNTING", "counting", "pairwise", counting),
    Method("AVERAGE_WIN_RATE", "average win rate", "pairwise", average_win_rate),
    Method("EIGENVECTOR", "eigenvector", "pairwise", eigenvector),
    Method("PAGERANK", "PageRank", "pairwise", pagerank),
    Method("ROVER", "ROVER", "text", rover, fit_rover, dask="per_task"),
    Method(
        "CLOSEST_TO_AVERAGE",
        "closest to average",
        "embedding",
        closest_to_average,
        fit_closest_to_average,
        dask="per_task",
    ),
    Method("RASA", "RASA", "embedding", rasa, fit_rasa, dask="per_pool"),
    Method("HRRASA", "HRRASA", "embedding", hrrasa, fit_hrrasa, dask="per_pool"),
    Method(
        "TEXT_RASA",
        "RASA on texts",
        "embedding",
        text_rasa,
        fit_text_rasa,
        dask="per_pool",
        column_roles=("task", "worker", "text", "embedding"),
    ),
    Method(
        "TEXT_HRRASA",
        "HRRASA on texts",
        "embedding",
        text_hrrasa,
        fit_text_hrrasa,
        dask="per_pool",
        column_roles=("task", "worker", "text", "embedding"),
    ),
    # Areas (docs/areas.md): their fit_* return their own models, not AggregationModel.
    Method(
        "SEGMENTATION_MV",
        "segmentation majority vote",
        "segmentation",
        segmentation_majority_vote,
        dask="per_task",
    ),
    Method(
        "SEGMENTATION_RASA", "segmentation RASA", "segmentation", segmentation_rasa, dask="per_task"
    ),
    Method("SEGMENTATION_EM", "segmentation EM", "segmentation", segmentation_em, dask="per_task"),
    Method("BOXES", "bounding boxes", "boxes", bounding_boxes, dask="per_task"),
    Method(
        "POINTS",
        "points",
        "boxes",
        points,
        dask="per_task",
        column_roles=("task", "worker", "points"),
    ),
)

#: Every method by name: the server's two, majority vote, then the local-only ones (the
#: order of every list and of the docs). Read through :func:`get_method` and
#: :func:`method_names`; :func:`register` adds a row.
METHODS: dict[str, Method] = {row.name: row for row in _ROWS}


def register(method: Method) -> Method:
    """Add a row to :data:`METHODS` (a new name only) and return it."""
    if method.name in METHODS:
        raise ValueError(f"A method named {method.name!r} is already registered.")
    METHODS[method.name] = method
    return method


def method_names(
    *,
    kind: str | None = None,
    fitted: bool | None = None,
    server: bool | None = None,
    golden: bool | None = None,
    dask: bool | None = None,
) -> tuple[str, ...]:
    """The names of the registered methods that match every given condition, in order.

    Parameters
    ----------
    kind : str, optional
        Only this family.
    fitted : bool, optional
        Only the methods with (True) or without (False) a ``fit_*`` model.
    server : bool, optional
        Only the server's ``AggregationType`` values (True) or the local-only ones.
    golden : bool, optional
        Only the methods that take ``golden=`` (True) or do not.
    dask : bool, optional
        Only the methods that run on Dask frames (True) or do not.
    """
    return tuple(
        row.name
        for row in METHODS.values()
        if (kind is None or row.kind == kind)
        and (fitted is None or (row.fit is not None) == fitted)
        and (server is None or row.server == server)
        and (golden is None or row.golden == golden)
        and (dask is None or (row.dask is not None) == dask)
    )


def get_method(
    name: object, *, what: str = "method", among: tuple[str, ...] | None = None
) -> Method:
    """The row of a method name (case-insensitive).

    Parameters
    ----------
    name : object
        The name given by the caller.
    what : str, default "method"
        The argument's name in the error message (e.g. ``"type"``).
    among : tuple of str, optional
        The names accepted here (default: every registered method).

    Raises
    ------
    InvalidArgumentError
        For a name that is not (or not here) a registered method.
    """
    accepted = tuple(METHODS) if among is None else among
    key = name.upper() if isinstance(name, str) else name
    if key not in accepted or key not in METHODS:
        raise InvalidArgumentError(f"{what} must be one of {list(accepted)}, got {name!r}.")
    return METHODS[key]


# -- the Literal types, generated -------------------------------------------------------


def all_names() -> tuple[str, ...]:
    """Every registered method (``MethodName``: ``type=`` of ``aggregate_locally``)."""
    return method_names()


def categorical_names() -> tuple[str, ...]:
    """The methods :func:`~pandas_toloka.aggregation.fit_aggregation` fits (``CategoricalMethod``)."""
    return method_names(kind="categorical", fitted=True)


def local_names() -> tuple[str, ...]:
    """``LOCAL_METHODS``: the categorical methods that are not server ``AggregationType`` values,
    majority vote aside (it was one of the accessor's first three types with the server's two,
    and ``LOCAL_METHODS`` has always listed only the methods added after them)."""
    return tuple(
        name
        for name in method_names(kind="categorical", fitted=True, server=False)
        if name != "MAJORITY_VOTE"
    )


def markdown_table() -> str:
    """The registry as a Markdown table (the methods page of the docs is built from it)."""
    dask = {
        None: "no",
        "per_task": "yes (per task)",
        "per_pool": "yes (a pool per worker)",
        "distributed_em": "yes (distributed EM)",
    }
    lines = [
        "| `type=` / `method=` | method | functions | columns | `golden=` | `n_iter=` / `tol=` "
        "| options | Dask | Toloka server |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in METHODS.values():
        functions = ", ".join(f"`{f.__name__}`" for f in (row.function, row.fit) if f is not None)
        iteration = "/".join(n for n in ("n_iter", "tol") if n in row.parameters) or "—"
        options = [o for o in row.options if o not in ("n_iter", "tol")]
        cells = [
            f"`{row.name}`",
            row.title + (" (binary labels)" if row.binary_only else ""),
            functions,
            ", ".join(row.roles) + "".join(f" + {i}" for i in row.family.inputs),
            "yes" if row.golden else "—",
            iteration,
            ", ".join(f"`{o}`" for o in options) or "—",
            dask[row.dask],
            "yes" if row.server else "—",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
