"""A pool's labeled dataset in one call: what was labeled, the label and its confidence.

:func:`read_labeled_dataset` is the pandas front of the join the ``pandas-toloka
export`` command and :func:`pandas_toloka.dask.read_labeled_dataset` share
(:mod:`pandas_toloka._read.dataset`): one row per task, tasks without an
aggregated answer kept and counted.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import pandas as pd

from . import schema
from ._config import SOLUTIONS_PAGE_SIZE, WAIT_TIMEOUT
from ._protocol import AggregationTypeName
from ._read.args import (
    check_page_size,
    check_wait_timeout,
    dataset_inputs,
    field_names,
    id_text,
    table_inputs,
)
from ._read.connect import check_credentials, client_scope
from ._read.dataset import read_labeled_table
from ._read.specs import pool_inputs
from .client import AggregationType, Client
from .errors import InvalidArgumentError, MissingAggregatesWarning
from .schema import DtypeBackend

__all__ = ["read_labeled_dataset"]

logger = logging.getLogger(__name__)


def read_labeled_dataset(
    pool_id: str | int,
    *,
    type: AggregationTypeName | AggregationType | None = None,
    fields: str | Sequence[str] | None = None,
    inputs: bool | str | Sequence[str] | None = None,
    golden: bool = False,
    answer_weight_skill_id: str | int | None = None,
    operation_id: str | None = None,
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    progress_bar: bool | None = None,
    dtype_backend: DtypeBackend = "pyarrow",
    page_size: int = SOLUTIONS_PAGE_SIZE,
    wait_timeout: float | None = WAIT_TIMEOUT,
) -> pd.DataFrame:
    """Read a pool's labeled dataset: one row per task, its inputs next to its label.

    Aggregates the pool on the server (as :func:`read_aggregated_solutions`),
    reads its tasks (as :func:`read_tasks`) while the aggregation runs, and
    left-joins the two on ``task_id``: every task the pool lists has one row,
    with the input fields that were labeled (the image URL, the text), the
    aggregated outputs and ``confidence``, and with ``golden=True`` the
    control tasks' known answers. This is ``pandas-toloka export``'s file.

    Parameters
    ----------
    pool_id : str
        The pool.
    type, fields, answer_weight_skill_id, operation_id
        As for :func:`read_aggregated_solutions`.
    inputs : bool, str or list of str, optional
        The input fields to keep: the names of some, or None, True or ``"all"``
        (the default) for every one; False keeps none. A name the project's
        input spec lacks is an ``InvalidArgumentError`` raised before the
        aggregation starts.
    golden : bool, default False
        Add the control tasks' known answers, ``golden.<field>`` per aggregated
        field (missing on the other tasks).
    client, token, environment, url
        As for :func:`read_aggregated_solutions`.
    progress_bar : bool, optional
        Show the aggregation's progress and the download on stderr. Default
        (None): shown in a terminal or notebook, hidden otherwise.
    dtype_backend : {'pyarrow', 'numpy_nullable'}, default 'pyarrow'
        Back-end data type applied to the resultant :class:`DataFrame`.
    page_size : int, default 100000
        Results and tasks per request (the API's maximum is 100,000).
    wait_timeout : float or None, default 21600 (6 hours)
        Seconds to wait for the aggregation; None waits forever.

    Returns
    -------
    DataFrame
        ``pool_id``, ``task_id``, the input columns (an input named like an
        output column takes the ``input_values.`` prefix), ``confidence``, the
        aggregated outputs typed by the output spec, then with ``golden`` the
        ``golden.<field>`` columns; one row per task in task id order.
        ``df.attrs["toloka"]`` holds the aggregation's provenance.

    Warns
    -----
    MissingAggregatesWarning
        With the counts, when some tasks have no aggregated answer (kept, with
        empty ``confidence`` and outputs), or some answers are for tasks the
        pool does not list (kept at the end, with empty inputs).

    Raises
    ------
    InvalidArgumentError
        For bad arguments, or input fields the pool's project lacks (before the
        aggregation starts).
    OperationFailedError, OperationTimeoutError, OperationInterruptedError
        As for :func:`read_aggregated_solutions`.
    TolokaApiError
        For errors answered by the server.

    See Also
    --------
    read_aggregated_solutions : The labels only, with ``inputs=`` for the inputs
        of the tasks that have one.
    read_tasks : What was labeled, with the control tasks' known solutions.
    pandas_toloka.dask.read_labeled_dataset : Many pools, one partition each.

    Examples
    --------
    >>> dataset = ptk.read_labeled_dataset("36502086", fields="result")  # doctest: +SKIP
    >>> dataset.to_parquet("dataset.parquet")  # doctest: +SKIP
    """
    pool = id_text(pool_id, name="pool_id")
    kind = AggregationType.parse(type) if type is not None else None
    names = field_names(fields)
    wanted = dataset_inputs(inputs)
    if not isinstance(golden, bool):
        raise InvalidArgumentError(f"golden must be True or False, got {golden!r}.")
    skill = (
        None
        if answer_weight_skill_id is None
        else id_text(answer_weight_skill_id, name="answer_weight_skill_id")
    )
    operation = None if operation_id is None else id_text(operation_id, name="operation_id")
    backend = schema.check_dtype_backend(dtype_backend)
    check_page_size(page_size)
    wait_timeout = check_wait_timeout(wait_timeout)
    check_credentials(client, token=token, environment=environment, url=url)
    with client_scope(client, token=token, environment=environment, url=url) as resolved:
        if isinstance(wanted, list):  # an unknown input is refused before aggregating
            pool_inputs(resolved, pool, wanted)
        labeled = read_labeled_table(
            pool,
            client=resolved,
            type=kind,
            fields=names,
            inputs=table_inputs(wanted),
            golden=golden,
            answer_weight_skill_id=skill,
            operation_id=operation,
            page_size=page_size,
            tasks_page_size=page_size,
            wait_timeout=wait_timeout,
            progress_bar=progress_bar,
        )
    lines = labeled.counts.describe()
    if lines:
        warnings.warn(
            MissingAggregatesWarning(f"pool {pool}: " + "; ".join(lines) + "."), stacklevel=2
        )
    frame = schema.to_pandas(labeled.table, dtype_backend=backend)
    frame.attrs[schema.ATTRS_KEY] = dict(labeled.attrs)
    return frame
