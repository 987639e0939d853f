"""A local Toloka-compatible server for the aggregation API (tests, demos, benchmarks).

It serves ``/api/v1`` as ``docs/server.md`` and the wire protocol describe:
asynchronous aggregation of a pool, aggregation of one task, operations,
paged aggregated solutions, pools, projects, assignments and user skills.

>>> from pandas_toloka.server import LocalTolokaServer
>>> with LocalTolokaServer() as server:  # doctest: +SKIP
...     print(server.url)
"""

from ._errors import ApiError
from ._faults import Faults
from ._limits import Limits, Network
from ._server import LocalTolokaServer
from .demo import add_demo_pools, demo_data, demo_pools, make_demo_data

__all__ = [
    "ApiError",
    "Faults",
    "Limits",
    "LocalTolokaServer",
    "Network",
    "add_demo_pools",
    "demo_data",
    "demo_pools",
    "make_demo_data",
]
