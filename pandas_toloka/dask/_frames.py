"""What both pools readers share: the driver's client, and one ``meta`` for many pools."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dask
import pandas as pd
import pyarrow as pa

from .. import schema
from .._read.connect import open_client
from ..client import Client
from ..errors import InvalidArgumentError
from ..schema import OutputField

__all__ = ["conform", "driver_client", "keep_dtypes", "same_schema", "typed_empty"]


def keep_dtypes() -> Any:
    """A context in which new Dask frames keep the pandas readers' dtypes.

    Dask converts string columns to its own string dtype by default
    (``dataframe.convert-string``), which would turn ``large_string[pyarrow]``
    into ``string``; the frames made here must have the pandas readers' dtypes.
    """
    return dask.config.set({"dataframe.convert-string": False})


def driver_client(
    client: Client | None, token: str | None, environment: str | None, url: str | None
) -> tuple[Client, bool]:
    """The driver's client and whether it was made here (:func:`.open_client`'s rule)."""
    return open_client(client, token=token, environment=environment, url=url)


def typed_empty(
    pa_schema: pa.Schema, fields: Sequence[Sequence[OutputField]], meta_columns: Sequence[str]
) -> pa.Table:
    """An empty table of ``pa_schema`` whose dictionary columns hold the allowed values.

    Pandas' ``category`` dtype includes its categories, so ``meta`` must carry
    them: the field's allowed values, as in every non-empty page. Pools whose
    fields allow different values share the union, in order of first appearance.
    """
    allowed: dict[str, list[Any]] = {}
    for pool_fields in fields:
        for f in pool_fields:
            values = allowed.setdefault(schema.result_column_name(f.name, meta_columns), [])
            values.extend(v for v in f.allowed_values or () if v not in values)
    arrays = []
    for column in pa_schema:
        if pa.types.is_dictionary(column.type) and allowed.get(column.name):
            dictionary = pa.array(allowed[column.name], type=column.type.value_type)
            indices = pa.array([], type=column.type.index_type)
            arrays.append(pa.DictionaryArray.from_arrays(indices, dictionary))
        else:
            arrays.append(pa.array([], type=column.type))
    return pa.Table.from_arrays(arrays, schema=pa_schema)


def conform(frame: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """Give categorical columns the categories of ``meta``, a superset of the pool's own.

    An empty pool's column has no categories, and pools may allow different
    values; the values themselves are unchanged.
    """
    for column, dtype in meta.dtypes.items():
        if isinstance(dtype, pd.CategoricalDtype) and frame[column].dtype != dtype:
            frame[column] = frame[column].astype(dtype)
    return frame


def same_schema(per_pool: Mapping[str, pa.Schema], what: str) -> pa.Schema:
    groups: dict[pa.Schema, list[str]] = {}
    for pool, pa_schema in per_pool.items():
        groups.setdefault(pa_schema, []).append(pool)
    if len(groups) > 1:
        described = "; ".join(
            f"pools {pools[:5]}{'...' if len(pools) > 5 else ''}: "
            + ", ".join(f"{f.name} {f.type}" for f in pa_schema)
            for pa_schema, pools in groups.items()
        )
        raise InvalidArgumentError(
            f"The pools' {what} have different columns or types, so they cannot share one "
            f"Dask DataFrame ({described}). Read each group of pools separately."
        )
    return next(iter(groups))
