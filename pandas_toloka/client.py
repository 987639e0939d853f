"""The HTTP client of the Toloka API: session, authentication, retries, errors.

:class:`Client` is the one place that talks HTTP. It is safe to share between
threads (one :class:`requests.Session` with a pooled adapter); the reader and
the ``df.toloka`` accessor build on its small typed methods.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from ._auth import Environment, auth_header, resolve_base_url, resolve_token
from ._bodies import aggregation_body, newest_matching_operation, query, raw
from ._protocol import API_PREFIX, AggregationType, format_datetime, parse_datetime
from ._retry import RetryPolicy, api_error, parse_retry_after
from ._version import __version__
from .errors import (
    InvalidArgumentError,
    NotFoundError,
    ServerError,
    TolokaConnectionError,
    TolokaError,
)

__all__ = ["AggregationType", "Client", "Environment", "format_datetime", "parse_datetime"]

logger = logging.getLogger(__name__)

_TRANSIENT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class Client:
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
        self.base_url, self.environment = resolve_base_url(environment, url)
        self.api_url = self.base_url + API_PREFIX
        if max_attempts < 1:
            raise InvalidArgumentError(f"max_attempts must be at least 1, got {max_attempts}.")
        self.retry = RetryPolicy(max_attempts, backoff_base, backoff_max, rate_limit_wait, max_wait)
        self.timeout = timeout
        self.poll_min = poll_min
        self.poll_max = poll_max
        self.__token = resolve_token(token)
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers.update(
            {
                "Authorization": auth_header(self.__token),
                "User-Agent": f"pandas-toloka/{__version__}",
                "Accept": "application/json",
            }
        )
        self._clock_offset: float | None = None  # server time minus local time, seconds
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ basics

    def __repr__(self) -> str:
        return f"Client(environment={self.environment!r}, base_url={self.base_url!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def _redact(self, text: str) -> str:
        return text.replace(self.__token, "***") if self.__token else text

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            raise InvalidArgumentError(
                "Pass a path below the API root, e.g. '/pools/1', not a URL."
            )
        return f"{self.api_url}/{path.lstrip('/')}"

    def server_now(self) -> _dt.datetime:
        """The server's current time, as far as its ``Date`` headers tell (else local time)."""
        now = time.time() + (self._clock_offset or 0.0)
        return _dt.datetime.fromtimestamp(now, _dt.timezone.utc)

    def _note_date(self, response: requests.Response) -> None:
        date = response.headers.get("Date")
        if not date:
            return
        try:
            server = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError, IndexError):
            return
        self._clock_offset = server - time.time()

    # ------------------------------------------------------------------ requests

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path`` (below ``/api/v1``) and return the parsed JSON body.

        Retried on connection errors (including a body cut short), 408, 429
        and 5xx with exponential back-off, honouring ``Retry-After``.

        Raises
        ------
        TolokaApiError
            Its subclass chosen by the error's ``code``.
        TolokaConnectionError
            If the server cannot be reached after all attempts.
        """
        return self._request("GET", path, params=params, idempotent=True)

    def post_json(
        self,
        path: str,
        body: Any,
        *,
        params: Mapping[str, Any] | None = None,
        idempotent: bool = False,
    ) -> Any:
        """POST ``body`` as JSON to ``path`` and return the parsed JSON answer.

        A POST is retried only where it was certainly not processed (429), unless
        ``idempotent=True`` says repeating it is harmless; otherwise a
        connection error or 5xx is raised for the caller to resolve.
        """
        return self._request("POST", path, params=params, body=body, idempotent=idempotent)

    def get_bytes(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        check: Callable[[bytes], object] | None = None,
    ) -> bytes:
        """GET ``path`` and return the raw body of a successful answer.

        Retried like :meth:`get_json`; ``check`` may raise :class:`ValueError`
        for a body that is incomplete, which is retried like a dropped connection.
        """
        body: bytes = self._request("GET", path, params=params, idempotent=True, parse=raw(check))
        return body

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotent: bool,
        parse: Callable[[bytes], Any] = json.loads,
    ) -> Any:
        url = self._url(path)
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else None
        query_params = query(params)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._session.request(
                    method,
                    url,
                    params=query_params,
                    data=data,
                    headers=headers,
                    timeout=self.timeout,
                )
                content = response.content
            except _TRANSIENT as exc:
                if idempotent and attempt < self.retry.max_attempts:
                    wait = self.retry.backoff(attempt)
                    logger.warning(
                        "%s %s failed (%s); retry %d in %.2f s",
                        method,
                        path,
                        type(exc).__name__,
                        attempt,
                        wait,
                    )
                    time.sleep(wait)
                    continue
                raise TolokaConnectionError(
                    f"{method} {self.api_url}{'/' + path.lstrip('/')} failed after {attempt} "
                    f"attempt(s): {self._redact(type(exc).__name__ + ': ' + str(exc))}. Check the "
                    "URL and your network, then try again."
                ) from exc
            except (
                requests.RequestException,
                ValueError,
            ) as exc:  # invalid URL, header...: not retried
                raise TolokaConnectionError(
                    f"{method} {self.api_url}{'/' + path.lstrip('/')} could not be sent: "
                    f"{self._redact(type(exc).__name__ + ': ' + str(exc))}."
                ) from None
            self._note_date(response)
            if response.status_code < 400:
                try:
                    return parse(content) if content else None
                except ValueError as exc:
                    if idempotent and attempt < self.retry.max_attempts:
                        logger.warning("%s %s: incomplete answer; retry %d", method, path, attempt)
                        time.sleep(self.retry.backoff(attempt))
                        continue
                    raise TolokaConnectionError(
                        f"{method} {path}: the server's answer is not valid JSON "
                        f"(status {response.status_code})."
                    ) from exc
            error = api_error(response, content, redact=self._redact, base_url=self.base_url)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if idempotent or response.status_code == 429:
                pause = self.retry.wait_for(
                    response.status_code, attempt, retry_after=retry_after, payload=error.payload
                )
                if pause is not None:
                    logger.warning(
                        "%s %s answered %d %s; retry %d in %.2f s",
                        method,
                        path,
                        error.status,
                        error.code,
                        attempt,
                        pause,
                    )
                    time.sleep(pause)
                    continue
            raise error

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
