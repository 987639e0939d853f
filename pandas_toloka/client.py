"""The client of the Toloka API: its typed methods, and starting an aggregation at most once.

:class:`Client` is the one place that talks HTTP. It is safe to share between
threads (one :class:`requests.Session` with a pooled adapter); the reader and
the ``df.toloka`` accessor build on its small typed methods. The session,
authentication, retries and error mapping are its base class's,
:class:`._http.transport.Transport`; this module holds the API's typed methods and
the search for an aggregation a failed ``aggregate-by-pool`` may have started.
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from typing import Any

from . import _config
from ._config import ClientSettings
from ._http import payloads
from ._http.adoption import newest_matching_operation
from ._http.bodies import aggregation_body
from ._http.endpoint import Environment
from ._http.transport import Transport
from ._http.urls import api_path
from ._protocol import AggregationType, format_datetime, parse_datetime
from ._read.args import id_text
from ._read.operation_list import OPERATIONS
from ._read.pager import iter_pages
from .errors import (
    InvalidArgumentError,
    NotFoundError,
    OperationInterruptedError,
    ProtocolError,
    StartInterruptedError,
    TolokaError,
)

__all__ = ["AggregationType", "Client", "Environment", "format_datetime", "parse_datetime"]

logger = logging.getLogger(__name__)

#: Client -> what to call when it closes (kept out of the client, which is pickled).
_close_hooks: weakref.WeakKeyDictionary[Client, list[Callable[[Client], None]]] = (
    weakref.WeakKeyDictionary()
)


def on_close(client: Client, hook: Callable[[Client], None]) -> None:
    """Call ``hook(client)`` when ``client`` is closed (once; at once if already closed)."""
    if client.closed:
        hook(client)
        return
    _close_hooks.setdefault(client, []).append(hook)


class Client(Transport):
    """A connection to the Toloka API (or a Toloka-compatible server).

    Parameters
    ----------
    token : str, optional
        An API key or a legacy OAuth token. Default: the environment variable
        ``TOLOKA_API_KEY``, else ``TOLOKA_TOKEN``.
    environment : {'PRODUCTION', 'SANDBOX'}, Environment or URL, optional
        Which Toloka to talk to. Default: the ``TOLOKA_URL`` environment
        variable when set, else PRODUCTION.
    url : str, optional
        A base URL such as ``http://127.0.0.1:8000`` (``/api/v1`` is added);
        wins over ``environment``.
    timeout : float or (float, float), default (10, 300)
        Connect and read timeouts of one HTTP request, in seconds.
    max_attempts : int, default 5
        Attempts per request, the first included.
    backoff_base, backoff_max : float, default 0.5 and 30
        First and longest exponential back-off between attempts, in seconds.
    rate_limit_wait : float, default 60
        Seconds waited when the per-minute quota is used up and the server
        does not say how long to wait.
    max_wait : float, default 300
        The longest single wait accepted; longer waits (hourly or daily
        quotas) raise :class:`RateLimitError` saying when to come back;
        ``math.inf`` accepts any ``Retry-After`` shorter than a day (hourly
        and daily quotas, and longer waits, still raise).
    pool_size : int, default 32
        Connections kept open, enough for as many concurrent threads.
    poll_min, poll_max : float, default 0.2 and 5
        First and longest interval between polls of a running operation
        (``poll_min`` at least 0.01 s, ``poll_max`` at least ``poll_min``).
    max_answer_bytes : int, default 512 MiB (``2**29``)
        The largest answer accepted, counted decoded (after gzip), from 1024.
        A larger one is refused while it arrives, so a broken proxy or a
        hostile server (a gzip bomb, an endless body) cannot exhaust memory:
        retried like a body cut short, then
        :class:`~pandas_toloka.errors.AnswerTooLargeError`. A page of 100,000
        assignments with 31 output fields is 129 MB (docs/reliability.md).
    deadline : float or None, default 900
        Seconds one attempt of a request may take in all: connecting and the
        whole answer. An answer still arriving then (one trickling a byte at a
        time never trips the read timeout, which bounds each wait) is
        abandoned and retried like a read timeout. None: no deadline.

    Raises
    ------
    InvalidArgumentError
        For a setting of the wrong type or out of range, or a URL with a
        user or password, a query or a fragment -- before any request.
    MissingTokenError
        If no token is given or set in the environment.

    Notes
    -----
    The client is a context manager that closes its connections on exit, and
    it may be used from several threads at once. Only the token
    authenticates (a ``~/.netrc`` entry for the host is ignored; proxies from
    the environment are used). The token, in any form, never appears in its
    repr, in log records or in error messages.

    Examples
    --------
    >>> with ptk.Client(environment="SANDBOX") as client:  # doctest: +SKIP
    ...     spec = client.get_output_spec("36502086")
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        environment: str | Environment | None = None,
        url: str | None = None,
        timeout: float | tuple[float, float] = _config.TIMEOUT,
        max_attempts: int = _config.MAX_ATTEMPTS,
        backoff_base: float = _config.BACKOFF_BASE,
        backoff_max: float = _config.BACKOFF_MAX,
        rate_limit_wait: float = _config.RATE_LIMIT_WAIT,
        max_wait: float = _config.MAX_WAIT,
        pool_size: int = _config.POOL_SIZE,
        poll_min: float = _config.POLL_MIN,
        poll_max: float = _config.POLL_MAX,
        max_answer_bytes: int = _config.MAX_ANSWER_BYTES,
        deadline: float | None = _config.DEADLINE,
    ) -> None:
        settings = ClientSettings(
            timeout=timeout,
            max_attempts=max_attempts,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            rate_limit_wait=rate_limit_wait,
            max_wait=max_wait,
            pool_size=pool_size,
            poll_min=poll_min,
            poll_max=poll_max,
            max_answer_bytes=max_answer_bytes,
            deadline=deadline,
        )
        super().__init__(token, environment=environment, url=url, settings=settings)

    # ------------------------------------------------------------------ basics

    def __repr__(self) -> str:
        return self.redact(f"Client(environment={self.environment!r}, base_url={self.base_url!r})")

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections, and release what was registered for this client.

        A client shipped to Dask workers (:mod:`pandas_toloka.dask`) is
        unregistered from them. Closing twice is harmless.
        """
        super().close()
        self._closed = True
        for hook in _close_hooks.pop(self, []):
            hook(self)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return bool(getattr(self, "_closed", False))

    # ------------------------------------------------------------------ typed helpers

    def get_pool(self, pool_id: str | int) -> dict[str, Any]:
        """``GET /pools/{pool_id}``."""
        return dict(self.get_json(api_path("pools", pool_id), shape=payloads.pool))

    def get_project(self, project_id: str | int) -> dict[str, Any]:
        """``GET /projects/{project_id}``."""
        return dict(self.get_json(api_path("projects", project_id), shape=payloads.project))

    def get_output_spec(self, pool_id: str | int) -> dict[str, Any]:
        """The output spec of a pool's project (pool → project → ``task_spec.output_spec``)."""
        return self.get_task_spec(pool_id)[1]

    def get_task_spec(self, pool_id: str | int) -> tuple[dict[str, Any], dict[str, Any]]:
        """The input and output specs of a pool's project (``task_spec.input_spec``, ``output_spec``).

        A project without an ``input_spec`` has no input fields (``{}``).
        """
        pool = self.get_pool(pool_id)
        project_id = pool["project_id"]
        if isinstance(project_id, bool) or not isinstance(project_id, (str, int)):
            raise ProtocolError(
                f"Pool {pool_id!r}: the server sent project_id {project_id!r}, not an id."
            )
        project = self.get_project(project_id)
        task_spec = project.get("task_spec")
        spec = task_spec.get("output_spec") if isinstance(task_spec, dict) else None
        if not isinstance(spec, dict):
            raise InvalidArgumentError(
                f"Project {project_id!r} of pool {pool_id!r} has no task_spec.output_spec."
            )
        inputs = task_spec.get("input_spec") if isinstance(task_spec, dict) else None
        if inputs is not None and not isinstance(inputs, dict):
            raise ProtocolError(
                f"Project {project_id!r} of pool {pool_id!r}: task_spec.input_spec is not an object."
            )
        return dict(inputs or {}), spec

    def get_operation(self, operation_id: str | int) -> dict[str, Any]:
        """``GET /operations/{operation_id}``."""
        return dict(self.get_json(api_path("operations", operation_id), shape=payloads.operation))

    def get_assignments_page(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """One page of ``GET /assignments``: ``{"items", "has_more"}``, its shape checked."""
        return dict(self.get_json(api_path("assignments"), params, shape=payloads.assignments_page))

    def iter_operations(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Page through ``GET /operations`` with keyset paging on ``id``.

        Parameters
        ----------
        **filters
            Query filters such as ``type="SOLUTION.AGGREGATE"``,
            ``status="RUNNING"`` or ``submitted_gte="2024-01-01T00:00:00"``;
            datetimes may be given as :class:`datetime.datetime`.
        """
        return self._iter_operations(filters)

    def _iter_operations(
        self, filters: Mapping[str, Any], *, quick: bool = False
    ) -> Iterator[dict[str, Any]]:
        params = {
            k: format_datetime(v) if isinstance(v, _dt.datetime) else v for k, v in filters.items()
        }
        page_size = int(params.pop("limit", _config.OPERATIONS_PAGE_SIZE))
        params.pop("sort", None)
        pages = iter_pages(
            self,
            OPERATIONS,
            params=params,
            page_size=page_size,
            scope="the listing of operations",
            # quick: one short attempt a page (after Ctrl-C, never hang)
            attempts=1 if quick else None,
            timeout=(2.0, 5.0) if quick else None,
        )
        with closing(pages):
            for page in pages:
                yield from page.rows

    def list_operations(self, **filters: Any) -> list[dict[str, Any]]:
        """All operations matching ``filters`` (see :meth:`iter_operations`)."""
        return list(self.iter_operations(**filters))

    def get_aggregated_solutions_page(
        self, operation_id: str | int, **params: Any
    ) -> dict[str, Any]:
        """One page of ``GET /aggregated-solutions/{operation_id}``: ``{"items", "has_more"}``."""
        return dict(
            self.get_json(
                api_path("aggregated-solutions", operation_id),
                params,
                shape=payloads.solutions_page,
            )
        )

    def aggregate_by_task(
        self,
        task_id: str | int,
        *,
        pool_id: str | int,
        type: str | AggregationType,
        fields: str | Sequence[str],
        answer_weight_skill_id: str | int | None = None,
    ) -> dict[str, Any]:
        """Aggregate one task synchronously (``POST /aggregated-solutions/aggregate-by-task``).

        Safe to call from many threads at once; retried like a GET since it
        changes nothing on the server.
        """
        body = aggregation_body(pool_id, type, fields, answer_weight_skill_id)
        body["task_id"] = id_text(task_id, name="task_id")
        return dict(
            self.post_json(
                api_path("aggregated-solutions", "aggregate-by-task"),
                body,
                safety="idempotent",
                shape=payloads.task_aggregate,
            )
        )

    def aggregate_by_pool(
        self,
        pool_id: str | int,
        *,
        type: str | AggregationType,
        fields: str | Sequence[str],
        answer_weight_skill_id: str | int | None = None,
    ) -> dict[str, Any]:
        """Start aggregating a whole pool; returns the Operation.

        The POST is not idempotent, so it is never blindly retried: after a
        lost answer, a malformed one or a 5xx, the client lists the
        aggregations submitted since the first attempt and adopts one matching
        this pool, type and fields before it posts again (the rule:
        :mod:`pandas_toloka._http.adoption`). Hence at most one aggregation is started.

        Raises
        ------
        OperationInterruptedError
            On Ctrl-C once the operation was found to have started (its id
            says how to resume).
        StartInterruptedError
            On Ctrl-C when it may have started but was not found: its
            ``submitted_gte`` and ``pool_id`` say how to look for it.
        """
        body = aggregation_body(pool_id, type, fields, answer_weight_skill_id)
        first_sent = time.monotonic()

        def adopt(quick: bool = False) -> dict[str, Any] | None:
            found = self._find_aggregation(body, first_sent, quick=quick)
            if found is not None:
                logger.info("Adopted aggregation %s started by a failed attempt", found["id"])
            return found

        try:
            return dict(
                self.post_json(
                    api_path("aggregated-solutions", "aggregate-by-pool"),
                    body,
                    safety="adopt",
                    shape=payloads.operation,
                    adopt=adopt,
                    unsure=lambda: _look_for_it(self._submitted_since(first_sent)),
                )
            )
        except KeyboardInterrupt as exc:
            if isinstance(exc, OperationInterruptedError):
                raise
            raise self._interrupted_start(body, adopt, first_sent) from exc

    def _interrupted_start(
        self,
        body: Mapping[str, Any],
        adopt: Callable[..., dict[str, Any] | None],
        first_sent: float,
    ) -> KeyboardInterrupt:
        """The error for Ctrl-C during a start request, naming the operation when it exists."""
        pool = body["pool_id"]
        try:
            found = adopt(quick=True)
        except (TolokaError, KeyboardInterrupt):
            found = None
        if found is not None:
            op_id = str(found["id"])
            return OperationInterruptedError(
                f"Interrupted while starting the aggregation of pool {pool}; it started as "
                f"operation {op_id} and goes on on the server: read it with "
                f"operation_id={op_id!r}.",
                operation_id=op_id,
            )
        since = self._submitted_since(first_sent)
        return StartInterruptedError(
            f"Interrupted while starting the aggregation of pool {pool}: it may have started "
            f"on the server. {_look_for_it(since)}",
            pool_id=str(pool),
            submitted_gte=since,
        )

    def _submitted_since(self, first_sent: float) -> str:
        """A server time no later than the first attempt: the ``submitted_gte`` to look from."""
        earliest = self.clock.earliest(first_sent) or self.server_now() - _dt.timedelta(minutes=5)
        return format_datetime(earliest - _dt.timedelta(seconds=1))

    def _find_aggregation(
        self, body: Mapping[str, Any], first_sent: float, *, quick: bool = False
    ) -> dict[str, Any] | None:
        """The newest SOLUTION.AGGREGATE operation matching ``body`` submitted since ``first_sent``.

        ``first_sent`` is the monotonic time of the first attempt, converted
        to the server's clock by :class:`._http.clock.ServerClock` (see the
        rule in :mod:`pandas_toloka._http.adoption`).
        """
        lower = self.clock.earliest(first_sent)
        if lower is None:  # no Date seen yet: a wide query, narrowed once the listing's Date is in
            lower = _dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(
                seconds=time.monotonic() - first_sent + _NO_CLOCK_MARGIN
            )
        filters = {"type": "SOLUTION.AGGREGATE", "submitted_gte": lower - _dt.timedelta(seconds=1)}
        try:
            operations = list(self._iter_operations(filters, quick=quick))
        except NotFoundError:
            logger.warning(
                "This server cannot list operations; cannot check for a started aggregation"
            )
            return None
        since = self.clock.earliest(first_sent)
        if since is None:
            logger.warning(
                "The server sends no Date header: an aggregation submitted up to %.0f s before "
                "the first attempt may be taken for the one it started",
                _NO_CLOCK_MARGIN,
            )
            since = lower
        # The server's times have millisecond resolution: allow for their truncation.
        return newest_matching_operation(operations, body, since - _dt.timedelta(milliseconds=1))


def _look_for_it(since: str) -> str:
    """How the user finds an aggregation a start request may have started."""
    return (
        "Look for it with client.list_operations(type='SOLUTION.AGGREGATE', "
        f"submitted_gte='{since}') (GET /api/v1/operations) and read it with "
        "operation_id=<its id> instead of starting another."
    )


#: Without any Date header from the server, how far before the first attempt (by the
#: local clock) an operation may have been submitted and still be adopted.
_NO_CLOCK_MARGIN = 120.0
