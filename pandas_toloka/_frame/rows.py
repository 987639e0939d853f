"""Which responses a local method sees: status filter, ids as the server reads them, pools.

One place for the row rules every local front shares (aggregation, agreement,
rankings, areas; pandas and Dask): :func:`select_rows` keeps what the server
would aggregate, :class:`Dropped` counts what it left out for the one
:class:`~pandas_toloka.errors.DroppedResponsesWarning` of a call, :func:`text_ids`
reads ids as the server does and :func:`pool_groups` splits a frame by pool.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from .. import schema
from .._read.args import STATUS_ALIASES, STATUSES
from ..aggregation._encoding import check_unique_columns, user_stacklevel
from ..errors import DroppedResponsesWarning, InvalidArgumentError

__all__ = [
    "Dropped",
    "check_input",
    "pool_groups",
    "select_rows",
    "status_mask",
    "text_ids",
]


def select_rows(
    frame: pd.DataFrame, status: tuple[str, ...] | None, columns: list[Hashable]
) -> pd.DataFrame:
    """Rows the server would aggregate: wanted status (when known) and an answer in every field.

    The results export's statuses (``APPROVED``) count as the API's (``ACCEPTED``).
    """
    if status is not None and "status" in frame.columns:
        frame = frame[status_mask(frame, status)]
    return frame.dropna(subset=columns)


def status_mask(frame: pd.DataFrame, status: tuple[str, ...] | None) -> np.ndarray:
    """Which rows :func:`select_rows` keeps for their status (all without a filter or column)."""
    if status is None or "status" not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    return _status_values(frame).isin(list(status)).to_numpy(dtype=bool, na_value=False)


def _status_values(frame: pd.DataFrame) -> pd.Series:
    values = frame["status"]
    if isinstance(values, pd.DataFrame):  # pragma: no cover - refused by check_input first
        raise InvalidArgumentError("responses has several columns named 'status'.")
    return values.astype(object).replace(STATUS_ALIASES)


def check_input(frame: pd.DataFrame, status: tuple[str, ...] | None) -> None:
    """What no frame shape may turn into a bare exception: duplicate columns, unknown statuses.

    Raises
    ------
    InvalidArgumentError
        For columns sharing a name, or a ``status`` column (filtered by
        ``status=``) none of whose values is a known status.
    """
    check_unique_columns(frame, argument="the frame")
    if status is None or "status" not in frame.columns or frame.empty:
        return
    present = _status_values(frame).dropna()
    if len(present) and not present.isin(list(STATUSES)).any():
        seen = sorted(map(str, present.unique()[:10]))
        raise InvalidArgumentError(
            f"The status column holds no known status (it holds {seen}), so status={list(status)} "
            f"would keep no row: statuses are {list(STATUSES)} (the results export's "
            f"{list(STATUS_ALIASES)} count as {[STATUS_ALIASES[a] for a in STATUS_ALIASES]}). "
            "Fix the column, or pass status=None to use every row."
        )


@dataclass
class Dropped:
    """Rows left out of one call, by reason, for its one :class:`DroppedResponsesWarning`."""

    status: int = 0
    missing: int = 0
    unknown_worker: int = 0

    def count(self, group: pd.DataFrame, accepted: pd.DataFrame, rows: pd.DataFrame) -> None:
        self.status += len(group) - len(accepted)
        self.missing += len(accepted) - len(rows)

    def warn(
        self, method: str, total: int, statuses: tuple[str, ...] | None, fields: list[str]
    ) -> None:
        reasons = []
        if self.status:
            reasons.append(f"{self.status} not of status {list(statuses or ())}")
        if self.missing:
            reasons.append(f"{self.missing} without an answer in {fields}")
        if self.unknown_worker:
            reasons.append(f"{self.unknown_worker} from workers without a skill")
        if not reasons:
            return
        dropped = self.status + self.missing + self.unknown_worker
        warnings.warn(
            DroppedResponsesWarning(
                f"{method}: dropped {dropped} of {total} response(s): {', '.join(reasons)}."
            ),
            stacklevel=user_stacklevel(),
        )


def text_ids(frame: pd.DataFrame, *columns: Hashable) -> pd.DataFrame:
    """The frame with its task and worker ids read as the server reads them.

    ``1``, ``"1"`` and ``1.0`` are one task (one worker). Only a column that
    mixes kinds of values (text and numbers) can name one id twice; the others
    are left as they are (no copy when none mixes).
    """
    mixed = [
        c
        for c in columns
        if frame[c].dtype == object
        and pd.api.types.infer_dtype(frame[c], skipna=True).startswith("mixed")
    ]
    if not mixed:
        return frame
    out = frame.copy(deep=False)
    for c in mixed:
        out[c] = pd.Series(
            pd.arrays.ArrowExtensionArray(schema.id_array(frame[c])), index=frame.index
        )
    return out


def pool_groups(
    frame: pd.DataFrame, pool_id: str | int | None
) -> list[tuple[str | None, pd.DataFrame]]:
    if "pool_id" not in frame.columns:
        meta = schema.get_provenance(frame)
        default = meta.get("pool_id") if meta is not None else None
        name = pool_id if pool_id is not None else default
        return [(None if name is None else schema.id_array([name])[0].as_py(), frame)]
    pools = schema.id_array(frame["pool_id"])
    if pool_id is not None:
        wanted = schema.id_array([pool_id])[0]
        rows = pc.fill_null(pc.equal(pools, wanted), False).to_numpy(zero_copy_only=False)
        return [(wanted.as_py(), frame[rows])]
    if pools.null_count:
        first = pc.index(pools.is_null(), True).as_py()
        raise InvalidArgumentError(
            f"The pool_id column has {pools.null_count} missing value(s) (first in row {first}); "
            "every response needs its pool: fill or drop those rows, or drop the column and pass "
            "pool_id= to name the one pool."
        )
    names = sorted(set(pools.to_pylist()))
    return [(p, frame[pc.equal(pools, p).to_numpy(zero_copy_only=False)]) for p in names]
