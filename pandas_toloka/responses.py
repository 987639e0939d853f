"""Read a pool's raw responses (one row per answered task) into a typed DataFrame.

``GET /api/v1/assignments`` returns assignments: one worker's answers to a
task suite, ``solutions[i]`` answering ``tasks[i]``. :func:`read_responses`
pages them with keyset paging on the assignment id and flattens every
assignment into one row per task (:func:`._read.assignments.assignments_to_table`),
typing the output columns from the project's output spec through
:mod:`pandas_toloka.schema`, exactly as the aggregated-solutions reader does.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator, Mapping, Sequence
from contextlib import closing
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._config import RESPONSES_PAGE_SIZE
from ._read.args import (
    STATUSES,
    check_page_size,
    check_progress_bar,
    check_statuses,
    id_text,
    input_names,
)
from ._read.assignments import ASSIGNMENTS, assignments_to_table, responses_input_schema
from ._read.doors import check_reading, iter_frames, open_stream, read_frame
from ._read.pager import iter_pages
from ._read.progress import count_bar, progress_enabled
from ._read.specs import pool_outputs_and_inputs
from ._read.stream import TableStream
from .client import Client
from .schema import ATTRS_KEY, DtypeBackend, InputField, OutputField, Provenance, make_provenance

__all__ = [
    "Responses",
    "open_responses",
    "read_responses",
    "iter_responses",
    "ATTRS_KEY",
    "DEFAULT_PAGE_SIZE",
    "STATUSES",
]

logger = logging.getLogger(__name__)

#: The default ``page_size``: assignments asked for per request (the one value is
#: :data:`pandas_toloka._config.RESPONSES_PAGE_SIZE`, which says why 10,000).
DEFAULT_PAGE_SIZE = RESPONSES_PAGE_SIZE


def _iter_tables(
    pool_id: str,
    *,
    statuses: tuple[str, ...] | None,
    client: Client,
    fields: Sequence[OutputField],
    page_size: int,
    progress: Any,
    inputs: Sequence[InputField] = (),
) -> Generator[pa.Table, None, None]:
    """One typed table per page of ``GET /assignments`` (:data:`._read.assignments.ASSIGNMENTS`).

    The one pager (:func:`._read.pager.iter_pages`) fetches and decodes the next
    page on a background thread while the caller works on this one; leaving the
    generator stops it. Several statuses are filtered here (the API takes one).
    """
    params: dict[str, Any] = {"pool_id": pool_id}
    if statuses is not None and len(statuses) == 1:
        params["status"] = statuses[0]
    pages = iter_pages(
        client,
        ASSIGNMENTS,
        params=params,
        page_size=page_size,
        scope=f"pool {pool_id!r}",
        context={"fields": fields, "pool_id": pool_id, "inputs": inputs},
    )
    with closing(pages):
        for number, page in enumerate(pages, start=1):
            table = page.rows
            n_rows = table.num_rows
            if statuses is not None and len(statuses) != 1 and table.num_rows:
                table = table.filter(pc.is_in(table.column("status"), pa.array(statuses)))
            if progress is not None:
                progress.update(table.num_rows)
            logger.debug(
                "pool %s: page %d, %d rows, %d kept", pool_id, number, n_rows, table.num_rows
            )
            yield table


def _attrs(
    pool_id: str,
    fields: Sequence[OutputField],
    inputs: Sequence[InputField],
    statuses: tuple[str, ...] | None,
) -> Provenance:
    extra = {"input_spec": {f.name: f.to_spec() for f in inputs}} if inputs else {}
    return make_provenance(
        "responses",
        pool_id=pool_id,
        output_spec={f.name: f.to_spec() for f in fields},
        status=None if statuses is None else list(statuses),
        **extra,
    )


class Responses(TableStream):
    """A pool's raw responses, streamed a page of assignments at a time.

    Made by :func:`open_responses`; a context manager that closes the client
    it created and the progress bar. Iterating yields :class:`pyarrow.RecordBatch`
    objects with exactly :attr:`schema`, in assignment id order;
    :meth:`to_arrow`, :meth:`to_pandas` and :meth:`iter_frames` take the rows
    as one table, one DataFrame or one DataFrame per page.

    Attributes
    ----------
    schema : pyarrow.Schema
        ``pool_id``, ``task_id``, ``worker_id``, ``assignment_id``, ``status``,
        ``submitted``, then the output fields.
    attrs : dict
        The frame's provenance (:class:`~pandas_toloka.schema.ResponsesProvenance`),
        stored as ``df.attrs["toloka"]``.
    pool_id : str
    fields : list of OutputField
        The project's output fields, in column order.
    inputs : list of InputField
        The input fields whose columns follow the outputs (``inputs=``).
    """

    def __init__(
        self,
        pool_id: str,
        *,
        client: Client,
        owns_client: bool,
        statuses: tuple[str, ...] | None,
        output_spec: Mapping[str, Any] | None,
        page_size: int,
        progress_bar: bool | None,
        inputs: list[str] | bool = False,
        input_spec: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if owns_client:
            self._resources.callback(client.close)
        self.client = client
        self.pool_id = pool_id
        self._statuses = statuses
        self._page_size = page_size
        self._bar = self._resources.enter_context(
            count_bar(
                progress_enabled(progress_bar),
                desc=f"pool {pool_id}: reading responses",
                unit=" responses",
            )
        )
        self.fields, self.inputs = pool_outputs_and_inputs(
            client, pool_id, output_spec, input_spec, inputs
        )
        self.schema: pa.Schema = responses_input_schema(self.fields, self.inputs)
        self.attrs: Provenance = _attrs(pool_id, self.fields, self.inputs, statuses)

    def __repr__(self) -> str:
        return (
            f"Responses(pool_id={self.pool_id!r}, status={self.attrs.get('status')!r}, "
            f"columns={self.schema.names!r})"
        )

    def __enter__(self) -> Responses:
        return self

    def iter_pages(self) -> Generator[pa.Table, None, None]:
        """Yield one :class:`pyarrow.Table` per non-empty page of assignments."""
        pages = _iter_tables(
            self.pool_id,
            statuses=self._statuses,
            client=self.client,
            fields=self.fields,
            page_size=self._page_size,
            progress=self._bar,
            inputs=self.inputs,
        )
        with closing(pages):
            for table in pages:
                if table.num_rows:
                    yield table

    def empty_table(self) -> pa.Table:
        """A table without rows with :attr:`schema` (dictionaries hold the allowed values)."""
        return assignments_to_table([], self.fields, pool_id=self.pool_id, inputs=self.inputs)


def open_responses(
    pool_id: str | int,
    *,
    status: str | Sequence[str] | None = "ACCEPTED",
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    output_spec: Mapping[str, Any] | None = None,
    inputs: bool | str | Sequence[str] | None = None,
    input_spec: Mapping[str, Any] | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress_bar: bool | None = None,
) -> Responses:
    """Open a stream of a pool's raw responses, to take as Arrow, pandas or chunks.

    The lower-level form of :func:`read_responses` and :func:`iter_responses`,
    whose arguments it takes (but ``dtype_backend``, given when the rows are
    taken). The project's output spec is read at once; the assignments as the
    stream is consumed.

    Returns
    -------
    Responses
        Use it as a context manager, then :meth:`~Responses.to_arrow`,
        :meth:`~Responses.to_pandas`, :meth:`~Responses.iter_frames`, or
        iterate over its :class:`pyarrow.RecordBatch` objects.

    Raises
    ------
    InvalidArgumentError
        If ``status`` or ``page_size`` is invalid, or both ``client`` and
        credentials are given.
    TolokaApiError
        If the API answers with an error (e.g. :class:`NotFoundError` for an
        unknown pool).

    See Also
    --------
    read_responses : Read every response into one DataFrame.
    open_aggregated_solutions : The same kind of stream over aggregated results.

    Examples
    --------
    >>> with ptk.open_responses("36502086", client=client) as stream:  # doctest: +SKIP
    ...     table = stream.to_arrow()
    """
    pool = id_text(pool_id, name="pool_id")
    statuses = check_statuses(status)
    wanted = input_names(inputs)
    check_page_size(page_size)
    check_progress_bar(progress_bar)
    return open_stream(
        lambda resolved, owned: Responses(
            pool,
            client=resolved,
            owns_client=owned,
            statuses=statuses,
            output_spec=output_spec,
            page_size=page_size,
            progress_bar=progress_bar,
            inputs=wanted,
            input_spec=input_spec,
        ),
        client=client,
        token=token,
        environment=environment,
        url=url,
    )


def iter_responses(
    pool_id: str | int,
    *,
    status: str | Sequence[str] | None = "ACCEPTED",
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    output_spec: Mapping[str, Any] | None = None,
    inputs: bool | str | Sequence[str] | None = None,
    input_spec: Mapping[str, Any] | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress_bar: bool | None = None,
    dtype_backend: DtypeBackend = "pyarrow",
) -> Iterator[pd.DataFrame]:
    """Stream a pool's raw responses, one DataFrame per page of assignments.

    Takes the same arguments as :func:`read_responses`. Each chunk holds the
    rows of at most ``page_size`` assignments and has the full schema, so
    memory stays bounded whatever the pool's size. Chunks come in assignment
    id order, with a running index, so ``pd.concat(chunks)`` equals what
    :func:`read_responses` returns; an empty pool yields one empty, fully typed
    DataFrame (as :func:`iter_aggregated_solutions` does).

    Yields
    ------
    DataFrame
        One chunk, with ``attrs["toloka"]`` set as in :func:`read_responses`.

    See Also
    --------
    read_responses : Read every response at once.
    open_responses : The stream underneath, for Arrow.
    """
    pool = id_text(pool_id, name="pool_id")
    check_statuses(status)
    input_names(inputs)
    arguments = dict(
        status=status,
        client=client,
        token=token,
        environment=environment,
        url=url,
        output_spec=output_spec,
        inputs=inputs,
        input_spec=input_spec,
        page_size=page_size,
        progress_bar=progress_bar,
    )
    backend = check_reading(arguments, dtype_backend)
    return iter_frames(open_responses, pool, backend, arguments)


def read_responses(
    pool_id: str | int,
    *,
    status: str | Sequence[str] | None = "ACCEPTED",
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    output_spec: Mapping[str, Any] | None = None,
    inputs: bool | str | Sequence[str] | None = None,
    input_spec: Mapping[str, Any] | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress_bar: bool | None = None,
    dtype_backend: DtypeBackend = "pyarrow",
) -> pd.DataFrame:
    """Read a pool's raw responses into a DataFrame, one row per (assignment, task).

    Parameters
    ----------
    pool_id : str
        The pool whose assignments to read.
    status : str, list of str or None, default "ACCEPTED"
        Keep assignments with this status (or any of these statuses); None
        keeps every status. Only ACCEPTED assignments are aggregated by Toloka.
    client : Client, optional
        The client to use; otherwise one is built from ``token``,
        ``environment`` and ``url`` as :func:`read_aggregated_solutions` does.
    token, environment, url : str, optional
        Credentials and target, when ``client`` is not given.
    output_spec : dict, optional
        The project's ``output_spec``; read from the pool's project when omitted.
    inputs : bool, str or list of str, optional
        Add what was labeled: True (or ``"all"``) for every input field of the
        project's input spec, or the names of some. The assignments carry their
        tasks' input values, so no request is added (but the spec's, when
        ``input_spec`` is omitted). A name the spec lacks is an
        ``InvalidArgumentError`` naming its fields, before any assignment is read.
    input_spec : dict, optional
        The project's ``input_spec`` typing the input columns; read from the
        pool's project when omitted.
    page_size : int, default 10000
        Assignments per request, at most 100,000. The next page is fetched
        while one is decoded, so two pages bound the extra memory.
    progress_bar : bool, optional
        Show a progress bar over the rows read; None shows it only in a terminal
        or notebook, as the reader does.
    dtype_backend : {'pyarrow', 'numpy_nullable'}, default 'pyarrow'
        Back-end data type applied to the resultant :class:`DataFrame`.

    Returns
    -------
    DataFrame
        Columns ``pool_id``, ``task_id``, ``worker_id`` (the assignment's
        ``user_id``), ``assignment_id``, ``status``, ``submitted``
        (``timestamp[us, UTC]``), then one column per output field typed as
        :func:`read_aggregated_solutions` types it (a field clashing with a
        metadata column is named ``output_values.<name>``), then with
        ``inputs=`` one column per input field, typed by the input spec and
        named as the field (``input_values.<name>`` when the frame already has
        a column of that name). Rows are in
        assignment id order, then in the suite's task order; an assignment
        without solutions (e.g. ACTIVE) gives rows with missing values.
        ``attrs["toloka"]`` holds ``{"kind": "responses", "pool_id",
        "output_spec", "status"}`` (and ``"input_spec"`` of the input columns), which :meth:`DataFrame.toloka.aggregate_locally`
        uses to type and count the options of each field.

    Raises
    ------
    InvalidArgumentError
        If ``status``, ``page_size`` or ``dtype_backend`` is invalid.
    OutputValueError
        If an answer does not fit its field's declared type.
    TolokaApiError
        If the API answers with an error (e.g. :class:`NotFoundError` for an
        unknown pool).

    See Also
    --------
    iter_responses : Stream the responses in bounded chunks.
    open_responses : The stream underneath, for Arrow.
    read_aggregated_solutions : Read the server's aggregated answers.

    Examples
    --------
    >>> responses = ptk.read_responses("36502086", client=client)  # doctest: +SKIP
    >>> responses.toloka.aggregate_locally(type="DAWID_SKENE")  # doctest: +SKIP
    """
    arguments = dict(
        status=status,
        client=client,
        token=token,
        environment=environment,
        url=url,
        output_spec=output_spec,
        inputs=inputs,
        input_spec=input_spec,
        page_size=page_size,
        progress_bar=progress_bar,
    )
    frame = read_frame(open_responses, pool_id, dtype_backend, arguments)
    logger.info("pool %s: read %d responses", frame.attrs[ATTRS_KEY]["pool_id"], len(frame))
    return frame
