"""The HTTP transport under :class:`~pandas_toloka.client.Client`: session, requests, retries.

:class:`Transport` owns the one pooled :class:`requests.Session` (safe to share
between threads), the authentication header, the retry loop with back-off
(the decisions are :mod:`._retry`'s), the mapping of API errors to exceptions,
and the server's clock as its ``Date`` headers tell it. :class:`Client` adds
the typed API methods on top. The token never appears in log records or
error messages.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from ._auth import Environment, auth_header, resolve_base_url, resolve_token
from ._protocol import API_PREFIX
from ._request_bodies import query
from ._retry import RetryPolicy, api_error, parse_retry_after
from ._version import __version__
from .errors import InvalidArgumentError, TolokaConnectionError

__all__ = ["Transport"]

logger = logging.getLogger(__name__)

_TRANSIENT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class Transport:
    """Authenticated JSON requests to the Toloka API, retried as each request allows.

    The base of :class:`~pandas_toloka.client.Client`, whose docstring
    describes the parameters (and whose constructor holds their defaults).
    """

    def __init__(
        self,
        token: str | None,
        *,
        environment: str | Environment | None,
        url: str | None,
        timeout: float | tuple[float, float],
        max_attempts: int,
        backoff_base: float,
        backoff_max: float,
        rate_limit_wait: float,
        max_wait: float,
        pool_size: int,
    ) -> None:
        self.base_url, self.environment = resolve_base_url(environment, url)
        self.api_url = self.base_url + API_PREFIX
        if max_attempts < 1:
            raise InvalidArgumentError(f"max_attempts must be at least 1, got {max_attempts}.")
        self.retry = RetryPolicy(max_attempts, backoff_base, backoff_max, rate_limit_wait, max_wait)
        self.timeout = timeout
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

        def parse(content: bytes) -> bytes:
            if check is not None:
                check(content)
            return content

        body: bytes = self._request("GET", path, params=params, idempotent=True, parse=parse)
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
