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
from concurrent.futures import Future
from contextlib import closing, contextmanager
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import schema
from ._config import RESPONSES_PAGE_SIZE
from ._http.urls import api_path
from ._read.args import STATUSES, check_page_size, check_progress_bar, check_statuses, id_text
from ._read.assignments import assignments_to_table, decode_assignments_page
from ._read.connect import check_connection, client_scope
from ._read.prefetch import one_ahead
from ._read.progress import count_bar, progress_enabled
from .client import Client
from .errors import PagingError
from .schema import ATTRS_KEY, DtypeBackend, OutputField, Provenance, make_provenance

__all__ = ["read_responses", "iter_responses", "ATTRS_KEY", "DEFAULT_PAGE_SIZE", "STATUSES"]

logger = logging.getLogger(__name__)

#: The default ``page_size``: assignments asked for per request (the one value is
#: :data:`pandas_toloka._config.RESPONSES_PAGE_SIZE`, which says why 10,000).
DEFAULT_PAGE_SIZE = RESPONSES_PAGE_SIZE


def _page_params(
    pool_id: str, statuses: tuple[str, ...] | None, page_size: int, last_id: str | None
) -> dict[str, Any]:
    params: dict[str, Any] = {"pool_id": pool_id, "sort": "id", "limit": page_size}
    if statuses is not None and len(statuses) == 1:
        params["status"] = statuses[0]
    if last_id is not None:
        params["id_gt"] = last_id
    return params


def _iter_tables(
    pool_id: str,
    *,
    statuses: tuple[str, ...] | None,
    client: Client,
    fields: Sequence[OutputField],
    page_size: int,
    progress: Any,
) -> Generator[pa.Table, None, None]:
    """Keyset-page ``GET /assignments`` and yield one typed table per page.

    The next page is fetched and decoded on a background thread while the
    caller works on this one (one page ahead); leaving the generator stops it.
    """

    def fetch(last_id: str | None) -> tuple[pa.Table, bool, str | None]:
        params = _page_params(pool_id, statuses, page_size, last_id)
        # Decoded inside the retry loop: a page that breaks the protocol is fetched again.
        return client.get_decoded(
            api_path("assignments"),
            params=params,
            decode=lambda body: decode_assignments_page(body, fields, pool_id=pool_id),
        )

    last_id: str | None = None
    pages = 0
    with one_ahead() as pool:
        pending: Future[tuple[pa.Table, bool, str | None]] | None = pool.submit(fetch, None)
        while pending is not None:
            table, has_more, page_last = pending.result()
            pages += 1
            pending = None
            if has_more and page_last is None:
                raise PagingError(
                    f"The server answered has_more=true with an empty page of assignments of pool "
                    f"{pool_id!r} (after id {last_id!r}); stopping instead of looping forever."
                )
            if last_id is not None and page_last is not None and page_last <= last_id:
                raise PagingError(
                    f"The server sent assignment {page_last!r} after {last_id!r} (id_gt="
                    f"{last_id!r} was asked); the assignments of pool {pool_id!r} are not "
                    "in id order."
                )
            if has_more:
                last_id = page_last
                pending = pool.submit(fetch, last_id)
            n_rows = table.num_rows
            if statuses is not None and len(statuses) != 1 and table.num_rows:
                table = table.filter(pc.is_in(table.column("status"), pa.array(statuses)))
            if progress is not None:
                progress.update(table.num_rows)
            logger.debug(
                "pool %s: page %d, %d rows, %d kept", pool_id, pages, n_rows, table.num_rows
            )
            yield table


def _fields_and_spec(
    client: Client, pool_id: str, output_spec: Mapping[str, Any] | None
) -> tuple[list[OutputField], dict[str, Any]]:
    spec = client.get_output_spec(pool_id) if output_spec is None else output_spec
    fields = list(schema.parse_output_spec(spec).values())
    return fields, {f.name: f.to_spec() for f in fields}


def _attrs(pool_id: str, spec: dict[str, Any], statuses: tuple[str, ...] | None) -> Provenance:
    return make_provenance(
        "responses",
        pool_id=pool_id,
        output_spec=spec,
        status=None if statuses is None else list(statuses),
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
    """
    statuses = check_statuses(status)
    check_page_size(page_size)
    schema.check_dtype_backend(dtype_backend)
    check_progress_bar(progress_bar)
    check_connection(client, token=token, environment=environment, url=url)
    return _iter_frames(
        id_text(pool_id, name="pool_id"),
        statuses,
        client,
        dict(token=token, environment=environment, url=url),
        output_spec,
        page_size,
        progress_bar,
        dtype_backend,
    )


@contextmanager
def _open_pages(
    pool_id: str,
    statuses: tuple[str, ...] | None,
    client: Client | None,
    credentials: dict[str, Any],
    output_spec: Mapping[str, Any] | None,
    page_size: int,
    progress_bar: bool | None,
) -> Iterator[tuple[list[OutputField], dict[str, Any], Iterator[pa.Table]]]:
    """The client, the progress bar and the pool's fields, then its pages as tables.

    Shared by :func:`read_responses` and :func:`iter_responses`; closes the
    pages (and the client it built) on leaving.
    """
    with (
        client_scope(client, **credentials) as resolved,
        count_bar(
            progress_enabled(progress_bar),
            desc=f"pool {pool_id}: reading responses",
            unit=" responses",
        ) as bar,
    ):
        fields, spec = _fields_and_spec(resolved, pool_id, output_spec)
        pages = _iter_tables(
            pool_id,
            statuses=statuses,
            client=resolved,
            fields=fields,
            page_size=page_size,
            progress=bar,
        )
        with closing(pages):
            yield fields, spec, pages


def _iter_frames(
    pool_id: str,
    statuses: tuple[str, ...] | None,
    client: Client | None,
    credentials: dict[str, Any],
    output_spec: Mapping[str, Any] | None,
    page_size: int,
    progress_bar: bool | None,
    dtype_backend: DtypeBackend,
) -> Iterator[pd.DataFrame]:
    opened = _open_pages(
        pool_id, statuses, client, credentials, output_spec, page_size, progress_bar
    )
    with opened as (fields, spec, pages):
        attrs = _attrs(pool_id, spec, statuses)
        offset = 0
        for table in pages:
            if table.num_rows:
                frame = schema.to_pandas(table, dtype_backend=dtype_backend)
                frame.index = pd.RangeIndex(offset, offset + len(frame))
                offset += len(frame)
                frame.attrs[ATTRS_KEY] = dict(attrs)
                yield frame
        if offset == 0:
            empty = schema.to_pandas(
                assignments_to_table([], fields, pool_id=pool_id), dtype_backend=dtype_backend
            )
            empty.attrs[ATTRS_KEY] = dict(attrs)
            yield empty


def read_responses(
    pool_id: str | int,
    *,
    status: str | Sequence[str] | None = "ACCEPTED",
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    output_spec: Mapping[str, Any] | None = None,
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
        metadata column is named ``output_values.<name>``). Rows are in
        assignment id order, then in the suite's task order; an assignment
        without solutions (e.g. ACTIVE) gives rows with missing values.
        ``attrs["toloka"]`` holds ``{"kind": "responses", "pool_id",
        "output_spec", "status"}``, which :meth:`DataFrame.toloka.aggregate_locally`
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
    read_aggregated_solutions : Read the server's aggregated answers.

    Examples
    --------
    >>> responses = ptk.read_responses("36502086", client=client)  # doctest: +SKIP
    >>> responses.toloka.aggregate_locally(type="DAWID_SKENE")  # doctest: +SKIP
    """
    pool_id = id_text(pool_id, name="pool_id")
    statuses = check_statuses(status)
    check_page_size(page_size)
    schema.check_dtype_backend(dtype_backend)
    credentials = dict(token=token, environment=environment, url=url)
    opened = _open_pages(
        pool_id, statuses, client, credentials, output_spec, page_size, progress_bar
    )
    with opened as (fields, spec, pages):
        frame = schema.pages_to_pandas(
            (table for table in pages if table.num_rows),
            empty=assignments_to_table([], fields, pool_id=pool_id),
            dtype_backend=dtype_backend,
        )
    frame.attrs[ATTRS_KEY] = _attrs(pool_id, spec, statuses)
    logger.info("pool %s: read %d responses", pool_id, len(frame))
    return frame
