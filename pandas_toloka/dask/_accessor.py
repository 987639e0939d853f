"""``ddf.toloka``: the accessor on Dask DataFrames, registered when :mod:`pandas_toloka.dask` is imported."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import dask.dataframe as dd
import pandas as pd
from dask.dataframe.extensions import register_dataframe_accessor

from .._frame.methods import LocalType
from .._frame.ranking import is_pairwise
from .._read.args import renamed_arguments
from ..agreement import Level
from ..errors import InvalidArgumentError
from ..schema import DtypeBackend
from . import _aggregate, _agreement, _rank

__all__ = ["DaskTolokaAccessor"]


@register_dataframe_accessor("toloka")
class DaskTolokaAccessor:
    """Toloka methods on a Dask DataFrame of responses (``ddf.toloka``).

    The Dask counterparts of :class:`pandas_toloka.TolokaAccessor`'s local
    aggregation: same arguments, same results.
    """

    def __init__(self, dask_obj: dd.DataFrame) -> None:
        self._obj = dask_obj

    @renamed_arguments(skill_id="answer_weight_skill_id")
    def aggregate_locally(
        self,
        type: LocalType = "DAWID_SKENE",
        *,
        fields: str | Sequence[str] | None = None,
        skills: pd.DataFrame | pd.Series | None = None,
        task: Hashable = "task_id",
        worker: Hashable = "worker_id",
        pool_id: str | int | None = None,
        output_spec: Mapping[str, Any] | None = None,
        status: str | Sequence[str] | None = "ACCEPTED",
        answer_weight_skill_id: str | int | None = None,
        n_iter: int | None = None,
        tol: float | None = None,
        dtype_backend: DtypeBackend = "pyarrow",
        golden: Mapping[Any, Any] | pd.Series | None = None,
        method_kwargs: Mapping[str, Any] | None = None,
        inputs: bool | str | Sequence[str] | None = None,
    ) -> dd.DataFrame:
        """Aggregate the responses; see :func:`pandas_toloka.dask.aggregate_locally`.

        A pairwise ``type`` ('BRADLEY_TERRY', ...) ranks the items as :meth:`rank`
        does (the winner column is ``fields``; ``left``, ``right`` and the
        options come in ``method_kwargs``) and returns the pandas ranking.
        """
        if is_pairwise(type):
            if inputs is not None and inputs is not False:
                raise InvalidArgumentError(
                    f"inputs= adds input columns to one row per task; type={type!r} ranks "
                    "items (a row per item): join the tasks' inputs on the item ids instead."
                )
            options = dict(method_kwargs or {})
            for name, value in (("n_iter", n_iter), ("tol", tol)):
                if value is not None:
                    options[name] = value
            if fields is not None and not isinstance(fields, str):
                raise InvalidArgumentError(
                    f"type={type!r} ranks by one winner column: pass fields= as one column name."
                )
            return _rank.rank(
                self._obj,
                str(getattr(type, "value", type)),
                left=options.pop("left", "left"),
                right=options.pop("right", "right"),
                winner=fields if fields is not None else options.pop("winner", "winner"),
                worker=worker,
                pool_id=pool_id,
                status=status,
                **options,
            )
        return _aggregate.aggregate_locally(
            self._obj,
            type,
            fields=fields,
            skills=skills,
            task=task,
            worker=worker,
            pool_id=pool_id,
            output_spec=output_spec,
            status=status,
            answer_weight_skill_id=answer_weight_skill_id,
            n_iter=n_iter,
            tol=tol,
            dtype_backend=dtype_backend,
            golden=golden,
            method_kwargs=method_kwargs,
            inputs=inputs,
        )

    def rank(
        self,
        method: str = "BRADLEY_TERRY",
        *,
        left: Hashable = "left",
        right: Hashable = "right",
        winner: Hashable = "winner",
        worker: Hashable = "worker_id",
        pool_id: str | int | None = None,
        status: str | Sequence[str] | None = "ACCEPTED",
        **options: Any,
    ) -> pd.DataFrame:
        """Rank the items of each pool; see :func:`pandas_toloka.dask.rank`."""
        return _rank.rank(
            self._obj,
            method,
            left=left,
            right=right,
            winner=winner,
            worker=worker,
            pool_id=pool_id,
            status=status,
            **options,
        )

    def worker_quality(
        self,
        field: str | None = None,
        *,
        type: LocalType = "DAWID_SKENE",
        task: Hashable = "task_id",
        worker: Hashable = "worker_id",
        pool_id: str | int | None = None,
        output_spec: Mapping[str, Any] | None = None,
        status: str | Sequence[str] | None = "ACCEPTED",
        confusion: bool = False,
        n_iter: int | None = None,
        tol: float | None = None,
        golden: Mapping[Any, Any] | pd.Series | None = None,
        method_kwargs: Mapping[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Each worker's quality, pool by pool; see :func:`pandas_toloka.dask.worker_quality`."""
        return _aggregate.worker_quality(
            self._obj,
            field,
            type=type,
            task=task,
            worker=worker,
            pool_id=pool_id,
            output_spec=output_spec,
            status=status,
            confusion=confusion,
            n_iter=n_iter,
            tol=tol,
            golden=golden,
            method_kwargs=method_kwargs,
        )

    def agreement(
        self,
        field: str | None = None,
        *,
        task: Hashable = "task_id",
        worker: Hashable = "worker_id",
        pool_id: str | int | None = None,
        output_spec: Mapping[str, Any] | None = None,
        status: str | Sequence[str] | None = "ACCEPTED",
        level: Level = "nominal",
        dtype_backend: DtypeBackend = "pyarrow",
    ) -> pd.DataFrame:
        """How much the workers of each pool agree; see :func:`pandas_toloka.dask.agreement`."""
        return _agreement.agreement(
            self._obj,
            field,
            task=task,
            worker=worker,
            pool_id=pool_id,
            output_spec=output_spec,
            status=status,
            level=level,
            dtype_backend=dtype_backend,
        )
