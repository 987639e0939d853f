"""What both pools readers share: the driver's client, and one ``meta`` for many pools."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import dask
import pandas as pd
import pyarrow as pa

from .. import schema
from .._read.connect import open_client
from ..client import Client
from ..errors import InvalidArgumentError
from ..schema import DtypeBackend
from ._credentials import ClientDescription, Credentials, Lease, share_client

__all__ = [
    "conform",
    "driver_client",
    "keep_dtypes",
    "same_schema",
    "shared_driver",
    "union_meta",
]

_T = TypeVar("_T")


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


def shared_driver(
    client: Client | None,
    token: str | None,
    environment: str | None,
    url: str | None,
    credentials: Credentials,
    work: Callable[[Client], _T],
) -> tuple[ClientDescription, Lease, _T]:
    """The driver's client shared with the workers, and ``work`` done with it on the driver.

    Returns what the partitions carry, the lease the frame must hold (released
    here if ``work`` fails: no frame will hold it), and ``work``'s result. A
    client made here is closed once ``work`` is done when the workers bring
    their own (``credentials="worker-env"``); shipped, it lives with the lease.
    """
    driver, owns = driver_client(client, token, environment, url)
    lease = None
    try:
        description, lease = share_client(driver, credentials=credentials, owned=owns)
        result = work(driver)
    except BaseException:
        if lease is not None:
            lease.close()
        raise
    finally:
        if owns and credentials == "worker-env":
            driver.close()
    return description, lease, result


def union_meta(tables: Mapping[str, pa.Table], what: str, backend: DtypeBackend) -> pd.DataFrame:
    """``meta`` of many pools: their one schema, categoricals holding every pool's allowed values.

    ``tables`` are the pools' empty tables (their dictionary columns hold the
    fields' allowed values, as every non-empty page does). Pandas' ``category``
    dtype includes its categories, so ``meta`` must carry them; pools whose
    fields allow different values share the union, in order of first appearance.
    """
    same_schema({p: t.schema for p, t in tables.items()}, what)
    frames = [schema.to_pandas(t, dtype_backend=backend) for t in tables.values()]
    meta = frames[0]
    for column, dtype in meta.dtypes.items():
        if isinstance(dtype, pd.CategoricalDtype):
            categories: list[Any] = []
            for frame in frames:
                categories += [c for c in frame[column].cat.categories if c not in categories]
            meta[column] = meta[column].astype(pd.CategoricalDtype(categories))
    return meta


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
