"""The client of the Toloka API: its typed methods, and starting an aggregation at most once.

:class:`Client` is the one place that talks HTTP. It is safe to share between
threads (one :class:`requests.Session` with a pooled adapter); the reader and
the ``df.toloka`` accessor build on its small typed methods. The session,
authentication, retries and error mapping are its base class's,
:class:`._transport.Transport`; this module holds the API's typed methods and
the search for an aggregation a failed ``aggregate-by-pool`` may have started.
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ._adoption import newest_matching_operation
from ._auth import Environment
from ._protocol import AggregationType, format_datetime, parse_datetime
from ._request_bodies import aggregation_body
from ._transport import Transport
from .errors import (
    InvalidArgumentError,
    NotFoundError,
    ServerError,
    TolokaConnectionError,
    TolokaError,
)

__all__ = ["AggregationType", "Client", "Environment", "format_datetime", "parse_datetime"]

logger = logging.getLogger(__name__)


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
        quotas) raise :class:`RateLimitError` saying when to come back.
    pool_size : int, default 32
        Connections kept open, enough for as many concurrent threads.
    poll_min, poll_max : float, default 0.2 and 5
        First and longest interval between polls of a running operation.

    Notes
    -----
    The client is a context manager that closes its connections on exit, and
    it may be used from several threads at once. The token never appears in
    its repr, in log records or in error messages.

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
        timeout: float | tuple[float, float] = (10.0, 300.0),
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        rate_limit_wait: float = 60.0,
        max_wait: float = 300.0,
        pool_size: int = 32,
        poll_min: float = 0.2,
        poll_max: float = 5.0,
    ) -> None:
        super().__init__(
            token,
            environment=environment,
            url=url,
            timeout=timeout,
            max_attempts=max_attempts,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            rate_limit_wait=rate_limit_wait,
            max_wait=max_wait,
            pool_size=pool_size,
        )
        self.poll_min = poll_min
        self.poll_max = poll_max

    # ------------------------------------------------------------------ basics

    def __repr__(self) -> str:
        return f"Client(environment={self.environment!r}, base_url={self.base_url!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ typed helpers

    def get_pool(self, pool_id: str) -> dict[str, Any]:
        """``GET /pools/{pool_id}``."""
        return dict(self.get_json(f"/pools/{pool_id}"))

    def get_project(self, project_id: str) -> dict[str, Any]:
        """``GET /projects/{project_id}``."""
        return dict(self.get_json(f"/projects/{project_id}"))

    def get_output_spec(self, pool_id: str) -> dict[str, Any]:
        """The output spec of a pool's project (pool → project → ``task_spec.output_spec``)."""
        pool = self.get_pool(pool_id)
        project = self.get_project(str(pool["project_id"]))
        spec = (project.get("task_spec") or {}).get("output_spec")
        if not isinstance(spec, dict):
            raise InvalidArgumentError(
                f"Project {pool['project_id']!r} of pool {pool_id!r} has no task_spec.output_spec."
            )
        return spec

    def get_operation(self, operation_id: str) -> dict[str, Any]:
        """``GET /operations/{operation_id}``."""
        return dict(self.get_json(f"/operations/{operation_id}"))

    def iter_operations(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Page through ``GET /operations`` with keyset paging on ``id``.

        Parameters
        ----------
        **filters
            Query filters such as ``type="SOLUTION.AGGREGATE"``,
            ``status="RUNNING"`` or ``submitted_gte="2024-01-01T00:00:00"``;
            datetimes may be given as :class:`datetime.datetime`.
        """
        params = {
            k: format_datetime(v) if isinstance(v, _dt.datetime) else v for k, v in filters.items()
        }
        params.setdefault("limit", 500)
        params["sort"] = "id"
        while True:
            page = self.get_json("/operations", params)
            items = page.get("items") or []
            yield from items
            if not page.get("has_more") or not items:
                return
            params["id_gt"] = items[-1]["id"]

    def list_operations(self, **filters: Any) -> list[dict[str, Any]]:
        """All operations matching ``filters`` (see :meth:`iter_operations`)."""
        return list(self.iter_operations(**filters))

    def get_aggregated_solutions_page(self, operation_id: str, **params: Any) -> dict[str, Any]:
        """One page of ``GET /aggregated-solutions/{operation_id}``: ``{"items", "has_more"}``."""
        return dict(self.get_json(f"/aggregated-solutions/{operation_id}", params))

    def aggregate_by_task(
        self,
        task_id: str,
        *,
        pool_id: str,
        type: str | AggregationType,
        fields: str | Sequence[str],
        answer_weight_skill_id: str | None = None,
    ) -> dict[str, Any]:
        """Aggregate one task synchronously (``POST /aggregated-solutions/aggregate-by-task``).

        Safe to call from many threads at once; retried like a GET since it
        changes nothing on the server.
        """
        body = aggregation_body(pool_id, type, fields, answer_weight_skill_id)
        body["task_id"] = str(task_id)
        return dict(
            self.post_json("/aggregated-solutions/aggregate-by-task", body, idempotent=True)
        )

    def aggregate_by_pool(
        self,
        pool_id: str,
        *,
        type: str | AggregationType,
        fields: str | Sequence[str],
        answer_weight_skill_id: str | None = None,
    ) -> dict[str, Any]:
        """Start aggregating a whole pool; returns the Operation.

        The POST is not idempotent, so it is never blindly retried: after a
        connection error or a 5xx the client lists the aggregations submitted
        since the first attempt and adopts one matching this pool, type and
        fields before it posts again. Hence at most one aggregation is started.
        """
        body = aggregation_body(pool_id, type, fields, answer_weight_skill_id)
        margin = 2.0 if self._clock_offset is not None else 120.0
        since = self.server_now() - _dt.timedelta(seconds=margin)
        attempt = 0
        while True:
            attempt += 1
            try:
                return dict(self.post_json("/aggregated-solutions/aggregate-by-pool", body))
            except (TolokaConnectionError, ServerError) as exc:
                wait = max(self.retry.backoff(attempt), getattr(exc, "retry_after", None) or 0.0)
                if attempt >= self.retry.max_attempts or wait > self.retry.max_wait:
                    # Giving up: the failed attempt may still have started it (a dropped answer).
                    found = self._find_aggregation(body, since, quiet=True)
                    if found is not None:
                        logger.info(
                            "Adopted aggregation %s started by the failed attempt", found["id"]
                        )
                        return found
                    raise
                logger.warning(
                    "Starting the aggregation of pool %s failed (%s); checking whether it started "
                    "anyway before trying again in %.2f s",
                    pool_id,
                    exc.__class__.__name__,
                    wait,
                )
                time.sleep(wait)
                found = self._find_aggregation(body, since)
                if found is not None:
                    logger.info("Adopted aggregation %s started by the failed attempt", found["id"])
                    return found

    def _find_aggregation(
        self, body: Mapping[str, Any], since: _dt.datetime, *, quiet: bool = False
    ) -> dict[str, Any] | None:
        """The newest SOLUTION.AGGREGATE operation submitted since ``since`` that matches ``body``.

        With ``quiet``, a failure to list the operations means "none found"
        (the caller then raises its own, more telling error).
        """
        try:
            operations = self.list_operations(type="SOLUTION.AGGREGATE", submitted_gte=since)
        except NotFoundError:
            logger.warning(
                "This server cannot list operations; cannot check for a started aggregation"
            )
            return None
        except TolokaError:
            if not quiet:
                raise
            logger.warning("Could not list operations to check for a started aggregation")
            return None
        return newest_matching_operation(operations, body, since)
