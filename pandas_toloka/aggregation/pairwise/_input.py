"""Validation and integer encoding of a frame of pairwise comparisons.

A comparison is one row: the ``left`` item, the ``right`` item, the ``winner``
and (for NoisyBT) the ``worker``. The winner is read in one of two ways:

- **sides**: every value is ``"left"``, ``"right"`` or ``"tie"``;
- **items**: a value equal to the row's left (right) item means the left
  (right) item won, and the string ``"tie"`` is a tie.

``winner_kind="auto"`` picks *sides* when every winner value is one of the
three side words and *items* otherwise; it refuses to guess (an
:class:`~pandas_toloka.errors.InvalidArgumentError`) when some item is itself
called ``"left"``, ``"right"`` or ``"tie"``, as the same value could then mean
either.

Rows with a null in a column the method reads, and self-comparisons (the same
item on both sides: they say nothing about any ranking), are dropped with a
:class:`~pandas_toloka.errors.DroppedResponsesWarning` saying how many.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from ...errors import DroppedResponsesWarning, InvalidArgumentError
from .._encoding import check_frame, encode_column, user_stacklevel

__all__ = [
    "LEFT",
    "RIGHT",
    "SIDE_WORDS",
    "TIE",
    "Comparisons",
    "WinnerKind",
    "encode_comparisons",
]

#: Outcome codes.
LEFT, RIGHT, TIE = 0, 1, 2
#: The winner values of the "sides" form, in outcome-code order.
SIDE_WORDS = ("left", "right", "tie")

WinnerKind = Literal["auto", "sides", "items"]


@dataclass(frozen=True)
class Comparisons:
    """Comparisons as integer codes.

    Attributes
    ----------
    items : pandas.Index
        Item ids in natural sort order, with the left/right columns' dtype.
    left, right : numpy.ndarray
        ``intp`` codes into ``items``, one per comparison (never equal).
    outcome : numpy.ndarray
        ``int8``: :data:`LEFT`, :data:`RIGHT` or :data:`TIE`.
    workers : pandas.Index or None
        Worker ids (sorted) when the worker column was read.
    worker : numpy.ndarray or None
        ``intp`` codes into ``workers``.
    n_dropped : int
        Comparisons left out (nulls, self-comparisons; weighted by ``count``).
    count : numpy.ndarray or None
        ``int64`` times each row happened (``counts=``); None: once each.
    """

    items: pd.Index
    left: np.ndarray
    right: np.ndarray
    outcome: np.ndarray
    workers: pd.Index | None = None
    worker: np.ndarray | None = None
    n_dropped: int = 0
    count: np.ndarray | None = None

    @property
    def n_items(self) -> int:
        """Number of distinct items."""
        return len(self.items)

    @property
    def n_comparisons(self) -> int:
        """Number of comparisons kept."""
        return len(self.left) if self.count is None else int(self.count.sum())

    def comparisons_per_item(self) -> np.ndarray:
        """``(n_items,)`` int64: how many comparisons each item took part in."""
        n, weight = self.n_items, self.count
        counts = np.bincount(self.left, weights=weight, minlength=n) + np.bincount(
            self.right, weights=weight, minlength=n
        )
        return np.rint(counts).astype(np.int64)


def _warn_dropped(method: str, count: int, total: int, why: str) -> None:
    warnings.warn(
        DroppedResponsesWarning(f"{method}: dropped {count} of {total} comparison(s) {why}."),
        stacklevel=user_stacklevel(),
    )


def _drop_nulls(
    frame: pd.DataFrame, columns: list[Hashable], method: str, weight: np.ndarray | None
) -> tuple[pd.DataFrame, np.ndarray | None]:
    nulls = np.zeros(len(frame), dtype=bool)
    for column in columns:
        nulls |= frame[column].isna().to_numpy(dtype=bool)
    if nulls.any():
        named = ", ".join(repr(c) for c in columns)
        dropped, total = _weighed(nulls, weight)
        _warn_dropped(method, dropped, total, f"with a missing value in {named}")
        frame = frame[~nulls]
        weight = None if weight is None else weight[~nulls]
    return frame, weight


def _weighed(mask: np.ndarray, weight: np.ndarray | None) -> tuple[int, int]:
    """(comparisons under ``mask``, all comparisons), rows weighted by ``weight``."""
    if weight is None:
        return int(mask.sum()), len(mask)
    return int(weight[mask].sum()), int(weight.sum())


def _read_counts(frame: pd.DataFrame, count: Hashable) -> np.ndarray:
    """The ``counts=`` column as int64 >= 0 (a missing count is an error)."""
    column = frame[count]
    if column.isna().any():
        raise InvalidArgumentError(
            f"The counts column {count!r} has missing values; every row needs its count."
        )
    try:
        values = column.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(
            f"The counts column {count!r} must hold whole numbers >= 0 ({exc})."
        ) from exc
    if len(values) and (
        not np.isfinite(values).all() or (values < 0).any() or (values != np.rint(values)).any()
    ):
        raise InvalidArgumentError(
            f"The counts column {count!r} must hold whole numbers >= 0 (how many times each "
            "row's comparison happened)."
        )
    return values.astype(np.int64)


def _check_kind(winner_kind: object) -> None:
    if winner_kind not in ("auto", "sides", "items"):
        raise InvalidArgumentError(
            f"winner_kind must be 'auto', 'sides' or 'items', got {winner_kind!r}."
        )


def _side_outcomes(values: pd.Series, name: Hashable) -> np.ndarray:
    codes, uniques = values.factorize()
    mapping = np.full(len(uniques), -1, dtype=np.int8)
    for position, value in enumerate(uniques):
        if isinstance(value, str) and value in SIDE_WORDS:
            mapping[position] = SIDE_WORDS.index(value)
    if (mapping < 0).any():
        unknown = [uniques[i] for i in np.flatnonzero(mapping < 0)[:10]]
        raise InvalidArgumentError(
            f"The winner column {name!r} holds value(s) {unknown!r}; with "
            "winner_kind='sides' each value must be 'left', 'right' or 'tie'. Map your "
            "values to those, or pass winner_kind='items' if the column holds the winning "
            "item's id."
        )
    return mapping[np.asarray(codes, dtype=np.intp)]


def _equal(a: pd.Series, b: object) -> np.ndarray:
    """Elementwise ``a == b`` as a bool array (False where either is missing or the
    two cannot be compared)."""
    try:
        same = a == b
        return np.asarray(same.to_numpy(dtype=bool, na_value=False), dtype=bool)
    except (TypeError, ValueError):
        other = b.to_numpy(dtype=object) if isinstance(b, pd.Series) else b
        return np.asarray(a.to_numpy(dtype=object) == other, dtype=bool)


def _item_outcomes(
    frame: pd.DataFrame, left: Hashable, right: Hashable, winner: Hashable
) -> np.ndarray:
    values = frame[winner].reset_index(drop=True)
    lefts = frame[left].reset_index(drop=True)
    rights = frame[right].reset_index(drop=True)
    is_left = _equal(values, lefts)
    is_right = _equal(values, rights)
    is_tie = _equal(values, "tie")
    outcome = np.full(len(frame), -1, dtype=np.int8)
    outcome[is_tie] = TIE
    outcome[is_right] = RIGHT
    outcome[is_left] = LEFT
    bad = outcome < 0
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InvalidArgumentError(
            f"The winner column {winner!r} has {int(bad.sum())} value(s) equal to neither the "
            f"row's {left!r} nor its {right!r} item, nor 'tie' (first: {values.iloc[first]!r} "
            f"in the row comparing {lefts.iloc[first]!r} with {rights.iloc[first]!r}). "
            "Fix those rows, or pass winner_kind='sides' if the column holds "
            "'left'/'right'/'tie'."
        )
    return outcome


def _choose_kind(values: pd.Series, items: pd.Index, winner: Hashable) -> str:
    uniques = values.unique()
    if not all(isinstance(v, str) and v in SIDE_WORDS for v in uniques):
        return "items"
    clash = [v for v in SIDE_WORDS if v in set(items.astype(object))]
    if clash:
        raise InvalidArgumentError(
            f"The winner column {winner!r} holds only 'left'/'right'/'tie', but some items are "
            f"themselves called {clash!r}, so a value could name a side or an item. Pass "
            "winner_kind='sides' or winner_kind='items' to say which."
        )
    return "sides"


def encode_comparisons(
    responses: object,
    *,
    left: Hashable,
    right: Hashable,
    winner: Hashable,
    worker: Hashable | None,
    winner_kind: object = "auto",
    counts: Hashable | None = None,
    method: str,
) -> Comparisons:
    """Validate a frame of comparisons and encode it.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per comparison.
    left, right, winner : hashable
        Column names.
    worker : hashable or None
        The worker column, read only when not None.
    winner_kind : {"auto", "sides", "items"}
        How the winner column is read (module docstring).
    counts : hashable, optional
        A column of how many times each row happened (pre-counted comparisons).
    method : str
        Used in messages.

    Raises
    ------
    InvalidArgumentError, MissingColumnsError
        Bad frame, columns, or winner values.
    """
    _check_kind(winner_kind)
    roles: dict[str, Hashable] = {"left": left, "right": right, "winner": winner}
    if worker is not None:
        roles["worker"] = worker
    if counts is not None:
        roles["counts"] = counts
    seen: dict[Hashable, str] = {}
    for role, name in roles.items():
        if name in seen:
            raise InvalidArgumentError(
                f"{role}= and {seen[name]}= both name the column {name!r}; each role needs "
                "its own column."
            )
        seen[name] = role
    columns = list(roles.values())
    frame = check_frame(responses, columns, purpose=f"for {method}")
    weight = _read_counts(frame, counts) if counts is not None else None
    n_rows = len(frame) if weight is None else int(weight.sum())
    frame, weight = _drop_nulls(frame, [c for c in columns if c != counts], method, weight)
    sides = pd.concat([frame[left], frame[right]], ignore_index=True)
    encoded = encode_column(sides, role="item")
    n = len(frame)
    left_codes, right_codes = encoded.codes[:n], encoded.codes[n:]
    kind = winner_kind
    if kind == "auto":
        kind = _choose_kind(frame[winner], encoded.uniques, winner)
    if kind == "sides":
        outcome = _side_outcomes(frame[winner], winner)
    else:
        outcome = _item_outcomes(frame, left, right, winner)
    worker_codes: np.ndarray | None = None
    workers: pd.Index | None = None
    if worker is not None:
        encoded_workers = encode_column(frame[worker], role="worker")
        worker_codes, workers = encoded_workers.codes, encoded_workers.uniques
    same = left_codes == right_codes
    if same.any():
        dropped, total = _weighed(same, weight)
        _warn_dropped(method, dropped, total, "comparing an item with itself")
        keep = ~same
        left_codes, right_codes, outcome = left_codes[keep], right_codes[keep], outcome[keep]
        weight = None if weight is None else weight[keep]
        if worker_codes is not None:
            worker_codes = worker_codes[keep]
        # Items met only in self-comparisons leave the item space.
        used = np.zeros(len(encoded.uniques), dtype=bool)
        used[left_codes] = True
        used[right_codes] = True
        if not used.all():
            remap = np.cumsum(used) - 1
            left_codes, right_codes = remap[left_codes], remap[right_codes]
            encoded = type(encoded)(encoded.codes, encoded.uniques[used])
    return Comparisons(
        items=encoded.uniques,
        left=np.ascontiguousarray(left_codes, dtype=np.intp),
        right=np.ascontiguousarray(right_codes, dtype=np.intp),
        outcome=np.ascontiguousarray(outcome, dtype=np.int8),
        workers=workers,
        worker=None if worker_codes is None else np.ascontiguousarray(worker_codes, np.intp),
        n_dropped=n_rows - (len(left_codes) if weight is None else int(weight.sum())),
        count=weight,
    )
