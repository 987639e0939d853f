"""pandas-toloka on Dask: many pools into one frame, aggregation beyond one process.

Install with ``pip install 'pandas-toloka[dask]'`` (``dask[dataframe]`` and
``distributed``). Importing this module registers the ``toloka`` accessor on
Dask DataFrames (``ddf.toloka.aggregate_locally(...)``).

- :func:`read_aggregated_solutions`, :func:`read_responses`: one partition per pool.
- :func:`read_tasks`: what was labeled, one partition per pool.
- :func:`read_labeled_dataset`: inputs, labels and confidence of many pools (a Parquet
  lake with ``.to_parquet(path, partition_on=["pool_id"])``), the aggregations started
  inside the partitions, a few at a time.
- :func:`start_aggregations`: start many pools' aggregations, a few at a time.
- :func:`rank`: pairwise rankings (Bradley–Terry, ...) of side-by-side pools, the
  comparisons counted on the cluster (a reduction), equal to the pandas ones.
- :func:`aggregate_locally`, :func:`worker_quality`: Dawid–Skene, majority vote
  and skill weighting on a Dask DataFrame of responses, equal to the pandas ones.

The core package never imports this module (``tests/test_architecture.py``).
"""

from __future__ import annotations

try:
    import dask.dataframe as _dd  # noqa: F401
    import distributed as _distributed  # noqa: F401
except ImportError as _exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "pandas_toloka.dask needs the optional dependencies dask[dataframe] and distributed: "
        "install them with  pip install 'pandas-toloka[dask]'"
        f"  ({_exc})"
    ) from _exc

from . import _accessor  # noqa: F401  (registers ddf.toloka)
from ._accessor import DaskTolokaAccessor
from ._aggregate import aggregate_locally, worker_quality
from ._agreement import agreement
from ._labeled import read_labeled_dataset, read_tasks
from ._rank import rank
from ._readers import read_aggregated_solutions, read_responses, start_aggregations

__all__ = [
    "DaskTolokaAccessor",
    "aggregate_locally",
    "agreement",
    "rank",
    "read_aggregated_solutions",
    "read_labeled_dataset",
    "read_responses",
    "read_tasks",
    "start_aggregations",
    "worker_quality",
]
