"""Read a pool's tasks (what was labeled, and the control tasks' answers) and skill values.

``GET /api/v1/tasks`` pages a pool's tasks in id order. :func:`read_tasks` types
every input field from the project's input spec and every known solution of a
control task from its output spec, through :mod:`pandas_toloka.schema`, exactly as
the other readers type answers, on the one keyset pager.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator, Mapping
from contextlib import closing
from typing import Any

import pandas as pd
import pyarrow as pa

from . import schema
from ._config import TASKS_PAGE_SIZE, USER_SKILLS_PAGE_SIZE
from ._read.args import check_page_size, check_progress_bar, id_text
from ._read.connect import check_connection, open_client
from ._read.doors import check_reading, iter_frames, open_stream, read_frame
from ._read.pager import iter_pages
from ._read.progress import count_bar, progress_enabled
from ._read.stream import TableStream
from ._read.tasks import TASKS, tasks_to_table
from ._read.user_skills import USER_SKILLS, USER_SKILLS_SCHEMA
from .client import Client
from .errors import InvalidArgumentError
from .schema import DtypeBackend, Provenance, make_provenance

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "Tasks",
    "iter_tasks",
    "open_tasks",
    "read_tasks",
    "read_user_skills",
]

logger = logging.getLogger(__name__)

#: The default ``page_size``: tasks asked for per request
#: (:data:`pandas_toloka._config.TASKS_PAGE_SIZE`).
DEFAULT_PAGE_SIZE = TASKS_PAGE_SIZE


class Tasks(TableStream):
    """A pool's tasks, streamed a page at a time.

    Made by :func:`open_tasks`; a context manager that closes the client it
    created and the progress bar. Iterating yields :class:`pyarrow.RecordBatch`
    objects with exactly :attr:`schema`, in task id order.

    Attributes
    ----------
    schema : pyarrow.Schema
        :func:`pandas_toloka.schema.tasks_schema` of the project's fields.
    attrs : dict
        The frame's provenance (:class:`~pandas_toloka.schema.TasksProvenance`).
    pool_id : str
    inputs : list of InputField
    outputs : list of OutputField
    """

    def __init__(
        self,
        pool_id: str,
        *,
        client: Client,
        owns_client: bool,
        input_spec: Mapping[str, Any] | None,
        output_spec: Mapping[str, Any] | None,
        page_size: int,
        progress_bar: bool | None,
    ) -> None:
        super().__init__()
        if owns_client:
            self._resources.callback(client.close)
        self.client = client
        self.pool_id = pool_id
        self._page_size = page_size
        # a spec the caller gave is checked before the request that fetches the other one
        inputs = None if input_spec is None else schema.parse_input_spec(input_spec)
        outputs = None if output_spec is None else schema.parse_output_spec(output_spec)
        if inputs is None or outputs is None:
            served_inputs, served_outputs = client.get_task_spec(pool_id)
            if inputs is None:
                inputs = schema.parse_input_spec(served_inputs)
            if outputs is None:
                outputs = schema.parse_output_spec(served_outputs)
        self.inputs = list(inputs.values())
        self.outputs = list(outputs.values())
        self.schema: pa.Schema = schema.tasks_schema(self.inputs, self.outputs)
        self.attrs: Provenance = make_provenance(
            "tasks",
            pool_id=pool_id,
            input_spec={f.name: f.to_spec() for f in self.inputs},
            output_spec={f.name: f.to_spec() for f in self.outputs},
        )
        self._bar = self._resources.enter_context(
            count_bar(
                progress_enabled(progress_bar), desc=f"pool {pool_id}: reading tasks", unit=" tasks"
            )
        )

    def __repr__(self) -> str:
        return f"Tasks(pool_id={self.pool_id!r}, columns={self.schema.names!r})"

    def __enter__(self) -> Tasks:
        return self

    def iter_pages(self) -> Generator[pa.Table, None, None]:
        """Yield one :class:`pyarrow.Table` per non-empty page of tasks."""
        pages = iter_pages(
            self.client,
            TASKS,
            params={"pool_id": self.pool_id},
            page_size=self._page_size,
            scope=f"pool {self.pool_id!r}",
            context={"inputs": self.inputs, "outputs": self.outputs, "pool_id": self.pool_id},
        )
        with closing(pages):
            for page in pages:
                table = page.rows
                if self._bar is not None:
                    self._bar.update(table.num_rows)
                if table.num_rows:
                    yield table

    def empty_table(self) -> pa.Table:
        """A table without rows with :attr:`schema`."""
        return tasks_to_table([], self.inputs, self.outputs, pool_id=self.pool_id)


def open_tasks(
    pool_id: str | int,
    *,
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    input_spec: Mapping[str, Any] | None = None,
    output_spec: Mapping[str, Any] | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress_bar: bool | None = None,
) -> Tasks:
    """Open a stream of a pool's tasks, to take as Arrow, pandas or chunks.

    The lower-level form of :func:`read_tasks` and :func:`iter_tasks`, whose
    arguments it takes (but ``dtype_backend``, given when the rows are taken).

    Returns
    -------
    Tasks
        Use it as a context manager, then :meth:`~Tasks.to_arrow`,
        :meth:`~Tasks.to_pandas`, :meth:`~Tasks.iter_frames`, or iterate over
        its :class:`pyarrow.RecordBatch` objects.

    Raises
    ------
    InvalidArgumentError
        If ``page_size`` is invalid, or both ``client`` and credentials are given.
    TolokaApiError
        If the API answers with an error (e.g. :class:`NotFoundError` for an
        unknown pool).

    See Also
    --------
    read_tasks : Read every task into one DataFrame.
    """
    pool = id_text(pool_id, name="pool_id")
    check_page_size(page_size)
    check_progress_bar(progress_bar)
    return open_stream(
        lambda resolved, owned: Tasks(
            pool,
            client=resolved,
            owns_client=owned,
            input_spec=input_spec,
            output_spec=output_spec,
            page_size=page_size,
            progress_bar=progress_bar,
        ),
        client=client,
        token=token,
        environment=environment,
        url=url,
    )


def iter_tasks(
    pool_id: str | int,
    *,
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    input_spec: Mapping[str, Any] | None = None,
    output_spec: Mapping[str, Any] | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress_bar: bool | None = None,
    dtype_backend: DtypeBackend = "pyarrow",
) -> Iterator[pd.DataFrame]:
    """Stream a pool's tasks, one DataFrame per page.

    Takes the same arguments as :func:`read_tasks`; ``pd.concat`` of the chunks
    equals what :func:`read_tasks` returns, and memory stays bounded by a page.

    Yields
    ------
    DataFrame
        One chunk, with ``attrs["toloka"]`` set as in :func:`read_tasks`.
    """
    pool = id_text(pool_id, name="pool_id")
    arguments = dict(
        client=client,
        token=token,
        environment=environment,
        url=url,
        input_spec=input_spec,
        output_spec=output_spec,
        page_size=page_size,
        progress_bar=progress_bar,
    )
    backend = check_reading(arguments, dtype_backend)
    return iter_frames(open_tasks, pool, backend, arguments)


def read_tasks(
    pool_id: str | int,
    *,
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    input_spec: Mapping[str, Any] | None = None,
    output_spec: Mapping[str, Any] | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress_bar: bool | None = None,
    dtype_backend: DtypeBackend = "pyarrow",
) -> pd.DataFrame:
    """Read a pool's tasks into a DataFrame, one row per task: what was labeled.

    Parameters
    ----------
    pool_id : str
        The pool whose tasks to read.
    client : Client, optional
        The client to use; otherwise one is built from ``token``,
        ``environment`` and ``url`` as :func:`read_aggregated_solutions` does.
    token, environment, url : str, optional
        Credentials and target, when ``client`` is not given.
    input_spec, output_spec : dict, optional
        The project's ``task_spec.input_spec`` / ``output_spec``; read from the
        pool's project when omitted.
    page_size : int, default 100000
        Tasks per request, at most 100,000. The next page is fetched while one
        is decoded, so two pages bound the extra memory.
    progress_bar : bool, optional
        Show a progress bar over the tasks read; None shows it only in a
        terminal or notebook.
    dtype_backend : {'pyarrow', 'numpy_nullable'}, default 'pyarrow'
        Back-end data type applied to the resultant :class:`DataFrame`.

    Returns
    -------
    DataFrame
        In task id order: ``pool_id``, ``task_id``, one column per input field
        (named as the field, or ``input_values.<name>`` when it is named like
        another column), ``overlap``, ``infinite_overlap``,
        ``remaining_overlap``, ``created`` (UTC), ``origin_task_id``; then
        what control tasks carry (missing elsewhere): ``golden.<field>`` per
        output field (the first known solution, typed like the outputs), its
        ``correctness_weight``, the ``hint`` (``message_on_unknown_solution``)
        and ``known_solutions``, every known solution as a list of
        ``{output_values, correctness_weight}``. ``attrs["toloka"]`` holds
        ``{"kind": "tasks", "pool_id", "input_spec", "output_spec"}``.

    Raises
    ------
    InvalidArgumentError
        If an argument is invalid (before any request).
    OutputValueError
        If an input value or a known solution does not fit its spec (names the
        task and the field).
    TolokaApiError
        If the API answers with an error (e.g. :class:`NotFoundError`).

    See Also
    --------
    iter_tasks : The same, one chunk per page.
    open_tasks : The stream underneath, for Arrow.
    read_responses : The answers to the tasks.

    Examples
    --------
    >>> tasks = ptk.read_tasks("36502086")  # doctest: +SKIP
    >>> tasks[["task_id", "image", "golden.result"]].head()  # doctest: +SKIP
    """
    arguments = dict(
        client=client,
        token=token,
        environment=environment,
        url=url,
        input_spec=input_spec,
        output_spec=output_spec,
        page_size=page_size,
        progress_bar=progress_bar,
    )
    return read_frame(open_tasks, pool_id, dtype_backend, arguments)


def read_user_skills(
    *,
    skill_id: str | int | None = None,
    user_id: str | int | None = None,
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    page_size: int = USER_SKILLS_PAGE_SIZE,
    dtype_backend: DtypeBackend = "pyarrow",
) -> pd.DataFrame:
    """Read workers' skill values (``GET /user-skills``) into a DataFrame.

    Parameters
    ----------
    skill_id, user_id : str or int, optional
        Only the values of this skill, or of this worker; at least one is needed.
    client : Client, optional
        The client to use; otherwise one is built from ``token``,
        ``environment`` and ``url`` as :func:`read_aggregated_solutions` does.
    token, environment, url : str, optional
        Credentials and target, when ``client`` is not given.
    page_size : int, default 100000
        Values per request, at most 100,000.
    dtype_backend : {'pyarrow', 'numpy_nullable'}, default 'pyarrow'
        Back-end data type applied to the resultant :class:`DataFrame`.

    Returns
    -------
    DataFrame
        One row per (skill, worker), in the API's id order: ``skill_id``,
        ``worker_id`` (the API's ``user_id``), ``value`` (0..100, rounded),
        ``exact_value``, ``created``, ``modified`` (UTC) and ``id``. The
        columns ``skills=`` of local skill weighting takes
        (``skill_worker="worker_id"``, ``skill_value="exact_value"``).

    Raises
    ------
    InvalidArgumentError
        Without ``skill_id`` and ``user_id``, or for another invalid argument.
    TolokaApiError
        If the API answers with an error.

    Examples
    --------
    >>> skills = ptk.read_user_skills(skill_id="11294")  # doctest: +SKIP
    """
    if skill_id is None and user_id is None:
        raise InvalidArgumentError(
            "read_user_skills needs skill_id= or user_id= (all skills of all workers is "
            "rarely what is meant)."
        )
    params = {}
    if skill_id is not None:
        params["skill_id"] = id_text(skill_id, name="skill_id")
    if user_id is not None:
        params["user_id"] = id_text(user_id, name="user_id")
    check_page_size(page_size)
    backend = schema.check_dtype_backend(dtype_backend)
    check_connection(client, token=token, environment=environment, url=url)
    resolved, owned = open_client(client, token=token, environment=environment, url=url)
    try:
        pages = iter_pages(
            resolved,
            USER_SKILLS,
            params=params,
            page_size=page_size,
            scope="user skills " + ", ".join(f"{k}={v!r}" for k, v in params.items()),
        )
        with closing(pages):
            tables = [page.rows for page in pages]
    finally:
        if owned:
            resolved.close()
    table = pa.concat_tables(tables) if tables else USER_SKILLS_SCHEMA.empty_table()
    return schema.to_pandas(table, dtype_backend=backend)
