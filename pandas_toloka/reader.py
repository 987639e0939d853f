"""Read the results of a Toloka pool aggregation into typed DataFrames.

:func:`read_aggregated_solutions` starts the server-side aggregation of a
pool (or resumes one by ``operation_id``), waits for it, pages through the
results with keyset paging, fetching the next page while it decodes the
current one straight from its JSON bytes into Arrow with the schema the
project's output spec declares. :func:`iter_aggregated_solutions`
does the same in bounded chunks.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from typing import Any

import pandas as pd
import pyarrow as pa

from ._config import SOLUTIONS_PAGE_SIZE, WAIT_TIMEOUT
from ._http.endpoint import without_userinfo
from ._protocol import AggregationTypeName
from ._read.args import (
    check_aggregation_request,
    check_page_size,
    check_progress_bar,
    check_wait_timeout,
    id_text,
    input_names,
    resolve_inputs,
)
from ._read.connect import check_connection, check_credentials
from ._read.doors import iter_frames
from ._read.labeled import labeled_schema, merge_inputs
from ._read.operations import (
    AggregationJob,
    resumable,
    start_or_resume,
    wait_operation,
)
from ._read.pager import iter_pages
from ._read.progress import percent_bar, progress_enabled, switch_to_count
from ._read.solutions import iter_solution_pages
from ._read.stream import TableStream
from ._read.tasks import TASKS, join_columns
from .client import AggregationType, Client
from .schema import (
    DtypeBackend,
    InputField,
    Provenance,
    aggregated_page_to_batch,
    aggregated_schema,
    check_dtype_backend,
    make_provenance,
    parse_input_spec,
)

__all__ = [
    "AggregatedSolutions",
    "iter_aggregated_solutions",
    "open_aggregated_solutions",
    "read_aggregated_solutions",
]

logger = logging.getLogger(__name__)


class AggregatedSolutions(TableStream):
    """A finished pool aggregation whose results are streamed as Arrow batches.

    Made by :func:`open_aggregated_solutions`; a context manager that closes
    the client it created. Iterating yields :class:`pyarrow.RecordBatch`
    objects with exactly :attr:`schema`, one per page, in ``task_id`` order;
    :meth:`to_arrow`, :meth:`to_pandas` and :meth:`iter_frames` take the rows
    as one table, one DataFrame or one DataFrame per page.

    Attributes
    ----------
    schema : pyarrow.Schema
        Columns ``pool_id``, ``task_id``, ``confidence``, then the fields, then
        the input fields asked for with ``inputs=``.
    attrs : dict
        The frame's provenance (:class:`~pandas_toloka.schema.AggregatedSolutionsProvenance`),
        stored as ``df.attrs["toloka"]``.
    operation_id : str
    inputs : list of InputField
        The input fields joined from the pool's tasks (``inputs=``).
    """

    def __init__(
        self,
        client: Client,
        request: AggregationJob,
        *,
        owns_client: bool,
        page_size: int,
        progress: bool,
        bar: Any = None,
        inputs: Sequence[InputField] = (),
    ) -> None:
        super().__init__()
        self.client = client
        self.request = request
        self.inputs = list(inputs)
        self.schema: pa.Schema = labeled_schema(aggregated_schema(request.fields), self.inputs)
        self.attrs: Provenance = _provenance(client, request, self.inputs)
        if owns_client:
            self._resources.callback(client.close)
        self._page_size = page_size
        self._progress = progress
        # the bar that showed the wait, continued by the download and closed once
        self._bar = bar

    @property
    def operation_id(self) -> str:
        return self.request.operation_id

    def __repr__(self) -> str:
        attrs: dict[str, Any] = dict(self.attrs)
        parts = [
            f"pool_id={attrs['pool_id']!r}",
            f"operation_id={attrs['operation_id']!r}",
            f"type={attrs['type']!r}",
        ]
        if attrs.get("answer_weight_skill_id") is not None:
            parts.append(f"answer_weight_skill_id={attrs['answer_weight_skill_id']!r}")
        parts += [
            f"status={self.request.operation.get('status')!r}",
            f"finished={attrs.get('finished')!r}",
            f"columns={self.schema.names!r}",
            f"base_url={without_userinfo(str(attrs['base_url']))[0]!r}",
        ]
        return f"AggregatedSolutions({', '.join(parts)})"

    def __enter__(self) -> AggregatedSolutions:
        return self

    def close(self) -> None:
        """Close the progress bar, and the client if this object created it."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        super().close()

    def iter_pages(self) -> Generator[pa.Table, None, None]:
        """Yield one :class:`pyarrow.Table` per page of results (at most ``page_size`` rows)."""
        op_id = self.operation_id
        bar = self._bar if self._bar is not None else percent_bar(False, desc="")
        self._bar = None
        switch_to_count(bar, desc=f"pool {self.request.pool_id}: downloading", unit=" rows")
        interrupted = (
            f"Interrupted while downloading the results of aggregation {op_id}; they stay on "
            f"the server: read them with operation_id={op_id!r}."
        )
        try:
            with (
                resumable(op_id, doing="reading the results of", interrupted=interrupted),
                closing(
                    iter_solution_pages(
                        self.client,
                        op_id,
                        self.request.fields,
                        page_size=self._page_size,
                    )
                ) as results,
                closing(self._with_inputs(results)) as pages,
            ):
                for page in pages:
                    bar.update(page.num_rows)
                    yield page
        finally:
            bar.close()

    def _with_inputs(self, results: Iterator[pa.Table]) -> Generator[pa.Table, None, None]:
        """The pages of results, merge-joined with the pool's tasks when inputs are asked for."""
        if not self.inputs:
            yield from results
            return
        tasks = iter_pages(
            self.client,
            TASKS,
            params={"pool_id": self.request.pool_id},
            page_size=self._page_size,
            scope=f"pool {self.request.pool_id!r}",
            context={
                "inputs": self.inputs,
                "outputs": self.request.fields,
                "pool_id": self.request.pool_id,
                # only the ids and inputs the join keeps are typed
                "columns": join_columns(self.inputs, self.request.fields),
            },
        )
        with closing(tasks):
            yield from merge_inputs(
                results, (page.rows for page in tasks), self.inputs, self.schema
            )

    def empty_table(self) -> pa.Table:
        """A table without rows with :attr:`schema`, whose dictionaries hold the allowed values."""
        base = pa.Table.from_batches([aggregated_page_to_batch([], self.request.fields)])
        for field in list(self.schema)[base.num_columns :]:  # the input columns
            base = base.append_column(field, pa.nulls(0, field.type))
        return base


def _provenance(
    client: Client, request: AggregationJob, inputs: Sequence[InputField] = ()
) -> Provenance:
    operation = request.operation
    extra = {"input_spec": {f.name: f.to_spec() for f in inputs}} if inputs else {}
    return make_provenance(
        "aggregated_solutions",
        pool_id=request.pool_id,
        operation_id=request.operation_id,
        type=request.type.value,
        fields=[f.name for f in request.fields],
        answer_weight_skill_id=request.answer_weight_skill_id,
        submitted=operation.get("submitted"),
        started=operation.get("started"),
        finished=operation.get("finished"),
        environment=client.environment,
        base_url=client.base_url,
        output_spec={f.name: f.to_spec() for f in request.fields},
        **extra,
    )


def open_aggregated_solutions(
    pool_id: str | int | None = None,
    *,
    type: AggregationTypeName | AggregationType | None = None,
    fields: str | Sequence[str] | None = None,
    answer_weight_skill_id: str | int | None = None,
    operation_id: str | None = None,
    inputs: bool | str | Sequence[str] | None = None,
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    progress_bar: bool | None = None,
    page_size: int = SOLUTIONS_PAGE_SIZE,
    wait_timeout: float | None = WAIT_TIMEOUT,
) -> AggregatedSolutions:
    """Start or resume an aggregation, wait for it, and return a stream of its batches.

    The lower-level form of :func:`read_aggregated_solutions`, for writers that
    consume Arrow batches (the ``pandas-toloka aggregate`` command writes them
    to Parquet). The arguments are those of :func:`read_aggregated_solutions`.

    Returns
    -------
    AggregatedSolutions
        Use it as a context manager and iterate over it.
    """
    check_page_size(page_size)
    wait_timeout = check_wait_timeout(wait_timeout)
    wanted = input_names(inputs)
    check_credentials(client, token=token, environment=environment, url=url)
    owns = client is None
    if client is None:
        client = Client(token, environment=environment, url=url)
    progress = progress_enabled(progress_bar)
    bar = None
    chosen: list[InputField] = []
    try:
        if wanted is not False and pool_id is not None:  # checked before the aggregation starts
            pool = id_text(pool_id, name="pool_id")
            chosen = _input_fields(client, pool, wanted)
        request = start_or_resume(
            client,
            pool_id,
            type=type,
            fields=fields,
            answer_weight_skill_id=answer_weight_skill_id,
            operation_id=operation_id,
        )
        if wanted is not False and pool_id is None:
            chosen = _input_fields(client, request.pool_id, wanted)
        bar = percent_bar(progress, desc=f"pool {request.pool_id}: aggregating")
        request.operation = wait_operation(
            client, request.operation, wait_timeout=wait_timeout, bar=bar
        )
    except BaseException:
        if bar is not None:
            bar.close()
        if owns:
            client.close()
        raise
    return AggregatedSolutions(
        client,
        request,
        owns_client=owns,
        page_size=page_size,
        progress=progress,
        bar=bar,
        inputs=chosen,
    )


def _input_fields(client: Client, pool_id: str, wanted: list[str] | bool) -> list[InputField]:
    inputs, _ = client.get_task_spec(pool_id)
    return resolve_inputs(wanted, parse_input_spec(inputs), pool_id)


def read_aggregated_solutions(
    pool_id: str | int | None = None,
    *,
    type: AggregationTypeName | AggregationType | None = None,
    fields: str | Sequence[str] | None = None,
    answer_weight_skill_id: str | int | None = None,
    operation_id: str | None = None,
    inputs: bool | str | Sequence[str] | None = None,
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    progress_bar: bool | None = None,
    dtype_backend: DtypeBackend = "pyarrow",
    page_size: int = SOLUTIONS_PAGE_SIZE,
    wait_timeout: float | None = WAIT_TIMEOUT,
) -> pd.DataFrame:
    """Aggregate a pool's responses on the Toloka server and return one row per task.

    Starts the aggregation (``POST /aggregated-solutions/aggregate-by-pool``),
    waits for it and reads every result with keyset paging, typing each column
    from the project's output spec.

    Parameters
    ----------
    pool_id : str
        The pool to aggregate. May be omitted with ``operation_id``.
    type : {'DAWID_SKENE', 'WEIGHTED_DYNAMIC_OVERLAP'} or AggregationType, optional
        The algorithm. Default: ``'DAWID_SKENE'``, or the operation's own
        when resuming with ``operation_id``.
    fields : str or list of str, optional
        Output fields to aggregate. Dawid-Skene takes exactly one; skill
        aggregation takes one or more. Default: the pool's only field that can
        be aggregated (an error names the choices when there are several).
    answer_weight_skill_id : str, optional
        The skill weighing each answer; required for ``WEIGHTED_DYNAMIC_OVERLAP``.
    operation_id : str, optional
        Read an aggregation that was already started (e.g. after a timeout or
        Ctrl-C) instead of starting a new one; waits if it is still running.
    inputs : bool, str or list of str, optional
        Add what was labeled: True (or ``"all"``) for every input field of the
        project's input spec, or the names of some, typed by the input spec.
        The pool's tasks (``GET /tasks``) are read alongside the results, both
        in task id order, and merge-joined page by page, so memory stays flat.
        A name the spec lacks is an ``InvalidArgumentError`` naming its fields,
        raised before the aggregation starts.
    client : Client, optional
        A configured client. Otherwise one is made from ``token``,
        ``environment`` and ``url`` and closed afterwards.
    token : str, optional
        Default: the ``TOLOKA_API_KEY`` or ``TOLOKA_TOKEN`` environment variable.
    environment : {'PRODUCTION', 'SANDBOX'} or URL, optional
        Default: the ``TOLOKA_URL`` environment variable, else PRODUCTION.
    url : str, optional
        Base URL of a Toloka-compatible server, e.g. ``http://127.0.0.1:8000``.
    progress_bar : bool, optional
        Show progress of the aggregation and of the download on stderr. Default
        (None): shown in a terminal or notebook, hidden otherwise.
    dtype_backend : {'pyarrow', 'numpy_nullable'}, default 'pyarrow'
        Back-end data type applied to the resultant :class:`DataFrame`.
        Behaviour is as follows:

        * ``"numpy_nullable"``: returns nullable-dtype-backed :class:`DataFrame`.
        * ``"pyarrow"``: returns pyarrow-backed nullable :class:`ArrowDtype`
          DataFrame.
    page_size : int, default 100000
        Results per request (the API's maximum is 100,000).
    wait_timeout : float or None, default 21600 (6 hours)
        Seconds to wait for the aggregation; None waits forever.

    Returns
    -------
    DataFrame
        One row per task, sorted by ``task_id``: ``pool_id``, ``task_id``,
        ``confidence``, then one column per field, named after it (a field
        named like one of those three becomes ``output_values.<name>``), then
        with ``inputs=`` one column per input field (``input_values.<name>``
        when that name is taken). Tasks without a result (no accepted answer)
        have no row, with or without inputs.
        ``df.attrs["toloka"]`` records the pool, operation, algorithm, fields,
        times and server, and survives ``to_parquet``.

    Raises
    ------
    MissingTokenError
        If no token is given or set in the environment.
    InvalidArgumentError
        If the arguments do not fit each other or the project's output spec.
    OperationFailedError, OperationTimeoutError, OperationInterruptedError
        If the aggregation fails, outlasts ``wait_timeout`` or is interrupted;
        each names the ``operation_id`` to resume with.
    OutputValueError
        If a value does not fit its field's declared type; names the task.
    TolokaApiError
        For errors answered by the server, by their ``code``.

    See Also
    --------
    iter_aggregated_solutions : The same, in chunks of bounded size.

    Examples
    --------
    >>> df = ptk.read_aggregated_solutions("36502086", fields="result")  # doctest: +SKIP
    >>> df.to_parquet("aggregated.parquet")  # doctest: +SKIP
    """
    check_dtype_backend(dtype_backend)
    with open_aggregated_solutions(
        pool_id,
        type=type,
        fields=fields,
        answer_weight_skill_id=answer_weight_skill_id,
        operation_id=operation_id,
        inputs=inputs,
        client=client,
        token=token,
        environment=environment,
        url=url,
        progress_bar=progress_bar,
        page_size=page_size,
        wait_timeout=wait_timeout,
    ) as stream:
        return stream.to_pandas(dtype_backend=dtype_backend)


def iter_aggregated_solutions(
    pool_id: str | int | None = None,
    *,
    type: AggregationTypeName | AggregationType | None = None,
    fields: str | Sequence[str] | None = None,
    answer_weight_skill_id: str | int | None = None,
    operation_id: str | None = None,
    inputs: bool | str | Sequence[str] | None = None,
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    progress_bar: bool | None = None,
    dtype_backend: DtypeBackend = "pyarrow",
    page_size: int = SOLUTIONS_PAGE_SIZE,
    wait_timeout: float | None = WAIT_TIMEOUT,
) -> Iterator[pd.DataFrame]:
    """Like :func:`read_aggregated_solutions`, in DataFrames of at most ``page_size`` rows.

    Memory stays flat however large the pool: one page at a time. The chunks
    carry a running index and the same ``attrs``, so ``pd.concat(chunks)``
    equals what :func:`read_aggregated_solutions` returns. A pool without
    results yields one empty, fully typed DataFrame.

    Parameters
    ----------
    pool_id, type, fields, answer_weight_skill_id, operation_id, inputs, client, token, \
environment, url, progress_bar, dtype_backend, page_size, wait_timeout
        As for :func:`read_aggregated_solutions`. The aggregation starts when
        iteration starts.

    Yields
    ------
    DataFrame
    """
    backend = check_dtype_backend(dtype_backend)
    check_page_size(page_size)
    # Every argument checked now, as iter_responses does: a mistake shows at the call.
    check_wait_timeout(wait_timeout)
    check_progress_bar(progress_bar)
    input_names(inputs)
    check_connection(client, token=token, environment=environment, url=url)
    check_aggregation_request(
        pool_id,
        type=type,
        fields=fields,
        answer_weight_skill_id=answer_weight_skill_id,
        operation_id=operation_id,
    )
    arguments = dict(
        type=type,
        fields=fields,
        answer_weight_skill_id=answer_weight_skill_id,
        operation_id=operation_id,
        inputs=inputs,
        client=client,
        token=token,
        environment=environment,
        url=url,
        progress_bar=progress_bar,
        page_size=page_size,
        wait_timeout=wait_timeout,
    )
    return iter_frames(open_aggregated_solutions, pool_id, backend, arguments)
