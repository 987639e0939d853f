"""Read many pools into one Dask DataFrame: one partition per pool.

The driver does the cheap, sequential-by-nature part: it checks the
arguments, fetches the output specs (and with ``inputs=`` the input specs,
checking the names asked for before anything starts) for ``meta``, the exact
dtypes the pandas readers give, and starts the aggregations (:mod:`._start`).
Each partition then runs the pandas reader's core for its pool on a worker,
resuming the operation the driver started (``operation_id=``), with a client
rebuilt from a token-free description (:mod:`._credentials`); the inputs are
joined there by the pandas readers' own code (:mod:`pandas_toloka._read.labeled`
for the aggregated solutions, the assignments' ``input_values`` for responses).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import replace
from typing import Any

import dask.dataframe as dd
import pandas as pd
import pyarrow as pa

from .. import reader as _reader
from .. import responses as _responses
from .. import schema
from .._config import (
    MAX_CONCURRENT_OPERATIONS,
    MAX_CONCURRENT_REQUESTS,
    RESPONSES_PAGE_SIZE,
    SOLUTIONS_PAGE_SIZE,
    WAIT_TIMEOUT,
)
from .._protocol import AggregationTypeName
from .._read.args import check_page_size, check_statuses, input_names, renamed_arguments
from .._read.assignments import assignments_to_table
from .._read.labeled import labeled_schema
from .._read.operations import (
    AggregationJob,
    resumable,
    wait_operation,
)
from .._read.specs import pool_inputs, pool_outputs_and_inputs
from ..client import AggregationType, Client
from ..schema import DtypeBackend, InputField, OutputField
from ._credentials import ClientDescription, Credentials, worker_client
from ._frames import conform, driver_client, keep_dtypes, shared_driver, union_meta
from ._start import (
    check_pool_ids,
    check_positive,
    operation_map,
    run_in_threads,
    start_aggregations_with,
)

__all__ = ["read_aggregated_solutions", "read_responses", "start_aggregations"]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- aggregated solutions
def _read_aggregated_partition(
    part: tuple[str, str, list[OutputField], list[InputField]],
    *,
    description: ClientDescription,
    like: pd.DataFrame,
    type: AggregationType,
    answer_weight_skill_id: str | None,
    dtype_backend: DtypeBackend,
    page_size: int,
    wait_timeout: float | None,
) -> pd.DataFrame:
    """One pool: wait for its operation, then stream its pages, as the pandas reader does.

    The driver already checked the operation against the pool, type and
    fields, so the partition goes straight to the operation (no output spec
    read again) and reads it with :class:`pandas_toloka.reader.AggregatedSolutions`,
    which merge-joins the pool's tasks for ``inputs`` (checked by the driver).
    """
    pool_id, operation_id, fields, inputs = part
    client = worker_client(description)
    interrupted = f"Interrupted while reading aggregation {operation_id}: resume it with operation_id={operation_id!r}."
    with resumable(operation_id, doing="waiting for", interrupted=interrupted):
        operation = client.get_operation(operation_id)
    operation = wait_operation(client, operation, wait_timeout=wait_timeout, progress=False)
    request = AggregationJob(pool_id, type, fields, answer_weight_skill_id, operation)
    with _reader.AggregatedSolutions(
        client, request, owns_client=False, page_size=page_size, progress=False, inputs=inputs
    ) as stream:
        table = stream.read_table()
        frame = schema.to_pandas(table, dtype_backend=dtype_backend)
        frame.attrs[schema.ATTRS_KEY] = dict(stream.attrs)
    return conform(frame, like)


@renamed_arguments(max_concurrent_operations="max_concurrency")
def start_aggregations(
    pool_ids: Sequence[str | int],
    *,
    type: AggregationTypeName | AggregationType | None = None,
    fields: str | Sequence[str] | None = None,
    answer_weight_skill_id: str | int | None = None,
    operation_ids: Mapping[str, str] | None = None,
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    max_concurrency: int = MAX_CONCURRENT_OPERATIONS,
) -> dict[str, str]:
    """Start the aggregation of every pool, at most ``max_concurrency`` at a time.

    Returns as soon as the last pool's aggregation is started (the last few
    may still be running). Pass the result as ``operation_ids=`` to
    :func:`read_aggregated_solutions` to read them without starting them again.

    Parameters
    ----------
    pool_ids : list of str
        The pools.
    type, fields, answer_weight_skill_id, operation_ids, client, token, environment, url, \
max_concurrency
        As for :func:`read_aggregated_solutions` (``max_concurrent_operations=``
        is the deprecated spelling of ``max_concurrency=``).

    Returns
    -------
    dict
        Pool id -> operation id, in the order of ``pool_ids``.
    """
    pools = check_pool_ids(pool_ids)
    limit = check_positive(max_concurrency, "max_concurrency")
    resume = operation_map(operation_ids, pools)
    driver, owns = driver_client(client, token, environment, url)
    try:
        requests = start_aggregations_with(
            driver,
            pools,
            type=type,
            fields=fields,
            answer_weight_skill_id=answer_weight_skill_id,
            operation_ids=resume,
            max_concurrent_operations=limit,
        )
    finally:
        if owns:
            driver.close()
    return {pool: request.operation_id for pool, request in requests.items()}


@renamed_arguments(max_concurrent_operations="max_concurrency")
def read_aggregated_solutions(
    pool_ids: Sequence[str | int],
    *,
    type: AggregationTypeName | AggregationType | None = None,
    fields: str | Sequence[str] | None = None,
    answer_weight_skill_id: str | int | None = None,
    operation_ids: Mapping[str, str] | None = None,
    inputs: bool | str | Sequence[str] | None = None,
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    max_concurrency: int = MAX_CONCURRENT_OPERATIONS,
    dtype_backend: DtypeBackend = "pyarrow",
    page_size: int = SOLUTIONS_PAGE_SIZE,
    wait_timeout: float | None = WAIT_TIMEOUT,
    credentials: Credentials = "ship",
) -> dd.DataFrame:
    """Aggregate many pools on the Toloka server into a Dask DataFrame, one partition per pool.

    The driver checks the arguments, reads each pool's output spec and starts
    the aggregations, keeping at most ``max_concurrency`` running on
    the server (the API's quota on ``aggregate-by-pool``); it returns once the
    last one is started. Each partition then waits for its pool's operation and
    pages through its results on a worker, exactly as
    :func:`pandas_toloka.read_aggregated_solutions` with ``operation_id=``.

    Parameters
    ----------
    pool_ids : list of str
        The pools, one partition each, in this order.
    type, fields, answer_weight_skill_id
        As for :func:`pandas_toloka.read_aggregated_solutions`; the same for
        every pool.
    operation_ids : dict, optional
        Pool id -> id of an aggregation already started for it (e.g. from
        :func:`start_aggregations`, or the ``operation_ids`` attribute of an
        error): those pools are read without starting anything.
    inputs : bool, str or list of str, optional
        Add what was labeled, as for :func:`pandas_toloka.read_aggregated_solutions`:
        True (or ``"all"``) for every input field of each pool's input spec, or
        the names of some. The driver reads the input specs and checks the
        names before starting any aggregation (a name a pool's spec lacks is
        the pandas reader's ``InvalidArgumentError``); each partition
        merge-joins its pool's tasks with the results page by page.
    client, token, environment, url
        How the driver reaches Toloka, as for the pandas reader. The workers
        get a client of their own (see ``credentials``).
    max_concurrency : int, default 8
        Aggregations running on the server at once. Formerly
        ``max_concurrent_operations=`` (deprecated, still accepted with a
        ``FutureWarning``).
    dtype_backend : {'pyarrow', 'numpy_nullable'}, default 'pyarrow'
        As for the pandas reader; ``meta`` has exactly the dtypes it returns.
    page_size, wait_timeout
        As for the pandas reader, per pool.
    credentials : {'ship', 'worker-env'}, default 'ship'
        ``'ship'`` sends the driver's client to the workers in a Dask worker
        plugin of the active ``distributed`` client, never in the task graph;
        ``'worker-env'`` lets each worker read ``TOLOKA_API_KEY`` (or
        ``TOLOKA_TOKEN``) from its own environment.

    Returns
    -------
    dask.dataframe.DataFrame
        Columns and dtypes of :func:`pandas_toloka.read_aggregated_solutions`
        (with the same ``inputs``); partition ``i`` holds pool ``pool_ids[i]``
        sorted by ``task_id``, equal to the pandas reader's frame of that pool.

    Raises
    ------
    InvalidArgumentError
        In the driver, for bad arguments, input fields a pool lacks, or pools
        whose output (or input) fields differ in type.
    OperationFailedError
        At compute time, for a pool whose aggregation failed; names its
        ``operation_id``. Other errors are those of the pandas reader.
    TolokaError
        An error met while starting; its ``operation_ids`` attribute maps the
        pools already started to their operations, to pass back as
        ``operation_ids=``.
    """
    pools = check_pool_ids(pool_ids)
    limit = check_positive(max_concurrency, "max_concurrency")
    resume = operation_map(operation_ids, pools)
    wanted = input_names(inputs)
    backend = schema.check_dtype_backend(dtype_backend)
    check_page_size(page_size)

    def start(driver: Client) -> tuple[dict[str, list[InputField]], dict[str, AggregationJob]]:
        # Inputs checked before any aggregation starts, as the pandas reader does.
        chosen = _pool_inputs(driver, pools, wanted, limit)
        return chosen, start_aggregations_with(
            driver,
            pools,
            type=type,
            fields=fields,
            answer_weight_skill_id=answer_weight_skill_id,
            operation_ids=resume,
            max_concurrent_operations=limit,
        )

    description, lease, (chosen, requests) = shared_driver(
        client, token, environment, url, credentials, start
    )
    with closing(lease):
        first = next(iter(requests.values()))
        empties = {p: _empty_aggregated(r.fields, chosen[p]) for p, r in requests.items()}
        meta = union_meta(empties, "aggregated results", backend)
        parts = [(pool, r.operation_id, r.fields, chosen[pool]) for pool, r in requests.items()]
        with keep_dtypes():
            frame = dd.from_map(
                _read_aggregated_partition,
                parts,
                meta=meta,
                label="read-aggregated-solutions",
                description=description,
                like=meta,
                type=first.type,
                answer_weight_skill_id=first.answer_weight_skill_id,
                dtype_backend=backend,
                page_size=page_size,
                wait_timeout=wait_timeout,
            )
            lease.keep_with(frame.expr)
    return frame


def _pool_inputs(
    driver: Client, pools: list[str], wanted: list[str] | bool, threads: int
) -> dict[str, list[InputField]]:
    """Each pool's input fields that ``inputs=`` asks for, resolved as the pandas reader does
    (no request when none is asked for); the first pool, in order, lacking a name raises."""
    if wanted is False:
        return {pool: [] for pool in pools}
    found = run_in_threads(lambda pool: pool_inputs(driver, pool, wanted), pools, threads)
    return dict(zip(pools, found))


def _empty_aggregated(fields: list[OutputField], inputs: list[InputField]) -> pa.Table:
    """A pool's results without rows, its dictionaries holding the allowed values (for ``meta``)."""
    base = pa.Table.from_batches([schema.aggregated_page_to_batch([], fields)])
    arrays = [*base.columns, *(schema.field_to_arrow([], f) for f in inputs)]
    return pa.Table.from_arrays(arrays, schema=labeled_schema(base.schema, inputs))


# --------------------------------------------------------------------------- responses
def _read_responses_partition(
    part: tuple[str, dict[str, Any], dict[str, Any]],
    *,
    description: ClientDescription,
    like: pd.DataFrame,
    status: str | list[str] | None,
    dtype_backend: DtypeBackend,
    page_size: int,
) -> pd.DataFrame:
    """One pool: :func:`pandas_toloka.read_responses` with the specs the driver resolved."""
    pool_id, output_spec, input_spec = part
    frame = _responses.read_responses(
        pool_id,
        status=status,
        client=worker_client(description),
        output_spec=output_spec,
        inputs=list(input_spec) or None,
        input_spec=input_spec or None,
        page_size=page_size,
        progress_bar=False,
        dtype_backend=dtype_backend,
    )
    return conform(frame, like)


def _union_spec(per_pool: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """The first pool's fields as a spec, each allowing what the field allows in any pool."""
    union = {f.name: list(f.allowed_values or ()) for f in per_pool[0]}
    for pool_fields in per_pool:
        for f in pool_fields:
            union[f.name].extend(v for v in f.allowed_values or () if v not in union[f.name])
    return {
        f.name: (
            replace(f, allowed_values=tuple(union[f.name])) if f.allowed_values else f
        ).to_spec()
        for f in per_pool[0]
    }


@renamed_arguments(max_concurrent_requests="max_concurrency")
def read_responses(
    pool_ids: Sequence[str | int],
    *,
    status: str | Sequence[str] | None = "ACCEPTED",
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    output_spec: Mapping[str, Any] | None = None,
    inputs: bool | str | Sequence[str] | None = None,
    input_spec: Mapping[str, Any] | None = None,
    max_concurrency: int = MAX_CONCURRENT_REQUESTS,
    page_size: int = RESPONSES_PAGE_SIZE,
    dtype_backend: DtypeBackend = "pyarrow",
    credentials: Credentials = "ship",
) -> dd.DataFrame:
    """Read the raw responses of many pools into a Dask DataFrame, one partition per pool.

    The driver reads the pools' specs (``max_concurrency`` at a time) to build
    ``meta``; each partition is :func:`pandas_toloka.read_responses` of its
    pool, run on a worker.

    Parameters
    ----------
    pool_ids : list of str
        The pools, one partition each, in this order.
    status, output_spec, dtype_backend, page_size
        As for :func:`pandas_toloka.read_responses`; ``output_spec``, when
        given, is used for every pool instead of reading theirs.
    inputs : bool, str or list of str, optional
        Add what was labeled, as for :func:`pandas_toloka.read_responses`: True
        (or ``"all"``) for every input field of each pool's input spec, or the
        names of some; the assignments carry their tasks' input values. The
        driver checks the names against every pool's spec before building the
        frame (a name a pool's spec lacks is the pandas reader's
        ``InvalidArgumentError``).
    input_spec : dict, optional
        The project's ``input_spec`` typing the input columns, used for every
        pool instead of reading theirs (as ``output_spec``).
    client, token, environment, url, credentials
        As for :func:`read_aggregated_solutions`.
    max_concurrency : int, default 8
        Specs read at once by the driver. Formerly
        ``max_concurrent_requests=`` (deprecated, still accepted with a
        ``FutureWarning``).

    Returns
    -------
    dask.dataframe.DataFrame
        Columns and dtypes of :func:`pandas_toloka.read_responses` (with the
        same ``inputs``); partition ``i`` is the pandas reader's frame of pool
        ``pool_ids[i]``. Its ``attrs["toloka"]`` (on the frame's ``meta``)
        holds the output spec (and with ``inputs`` the input spec of the input
        columns), which :meth:`aggregate_locally` uses as the pandas accessor does.

    Raises
    ------
    InvalidArgumentError
        For bad arguments, input fields a pool lacks, or pools whose specs give
        different columns.
    TolokaApiError
        From the driver (reading a spec) or at compute time, as the pandas reader.
    """
    pools = check_pool_ids(pool_ids)
    threads = check_positive(max_concurrency, "max_concurrency")
    statuses = check_statuses(status)
    wanted = input_names(inputs)
    backend = schema.check_dtype_backend(dtype_backend)
    check_page_size(page_size)
    # The pandas reader's own resolution: one request per pool for both specs when
    # inputs are wanted and a spec is not given, the output spec alone otherwise.
    description, lease, resolved = shared_driver(
        client,
        token,
        environment,
        url,
        credentials,
        lambda driver: run_in_threads(
            lambda pool: pool_outputs_and_inputs(driver, pool, output_spec, input_spec, wanted),
            pools,
            threads,
        ),
    )
    with closing(lease):
        specs = dict(zip(pools, resolved))
        empties = {
            p: assignments_to_table([], fields, pool_id=p, inputs=chosen)
            for p, (fields, chosen) in specs.items()
        }
        meta = union_meta(empties, "responses", backend)
        # The frame's pools are in its pool_id column; the provenance names none of them, and
        # its specs allow, per field, what any of the pools allows.
        chosen_inputs = [chosen for _, chosen in resolved]
        extra = {"input_spec": _union_spec(chosen_inputs)} if chosen_inputs[0] else {}
        meta.attrs[schema.ATTRS_KEY] = schema.make_provenance(
            "responses",
            pool_id=None,
            output_spec=_union_spec([fields for fields, _ in resolved]),
            status=None if statuses is None else list(statuses),
            **extra,
        )
        parts = [
            (
                pool,
                {f.name: f.to_spec() for f in fields},
                {f.name: f.to_spec() for f in chosen},
            )
            for pool, (fields, chosen) in specs.items()
        ]
        with keep_dtypes():
            frame = dd.from_map(
                _read_responses_partition,
                parts,
                meta=meta,
                label="read-responses",
                description=description,
                like=meta,
                status=None if statuses is None else list(statuses),
                dtype_backend=backend,
                page_size=page_size,
            )
            lease.keep_with(frame.expr)
    return frame
