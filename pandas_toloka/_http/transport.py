"""The HTTP transport under :class:`~pandas_toloka.client.Client`: session, requests, retries.

:class:`Transport` owns the one pooled :class:`requests.Session` (safe to share
between threads), the authentication and the one retry loop (every decision is
:func:`.retry.decide`'s; each attempt is :func:`.attempt.send_once`, which
reads the answer, checks its shape with :mod:`.payloads`, maps API errors to
exceptions and feeds the server's clock). :class:`Client` adds the typed API
methods on top.

Only the token authenticates: the session's ``auth`` sends it, so requests
never consults ``~/.netrc`` (whose entry would otherwise replace it), while
proxies and CA bundles from the environment still apply. Redirects are not
followed (the token is never sent where an answer points). The token, in any
of its forms, never appears in log records, reprs or error messages.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import logging
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests
import requests.auth

from .._config import ClientSettings
from .._protocol import API_PREFIX, loads_json
from .._version import __version__
from ..errors import TolokaError
from . import payloads
from .attempt import Bounds, Exchange, Failed, exchange, judge, outcome_text, send_once
from .auth import Redactor, auth_header, resolve_token
from .bodies import query
from .clock import ServerClock
from .endpoint import Environment, resolve_base_url
from .reading import DeadlineAdapter
from .retry import RetryPolicy, Safety, decide
from .urls import check_api_path

__all__ = ["Transport", "json_parser"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


class _TokenAuth(requests.auth.AuthBase):
    """Sets the ``Authorization`` header; as the session's ``auth`` it keeps netrc out."""

    def __init__(self, header: str) -> None:
        self.__header = header

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self.__header
        return request

    def __repr__(self) -> str:
        return "_TokenAuth(***)"


class Transport:
    """Authenticated JSON requests to the Toloka API, retried as each request allows.

    The base of :class:`~pandas_toloka.client.Client`, whose docstring
    describes the parameters (and whose constructor holds their defaults);
    the settings come checked, as one :class:`pandas_toloka._config.ClientSettings`.
    """

    def __init__(
        self,
        token: str | None,
        *,
        environment: str | Environment | None,
        url: str | None,
        settings: ClientSettings,
    ) -> None:
        self.settings = settings
        self.timeout = settings.timeout
        self.poll_min = float(settings.poll_min)
        self.poll_max = float(settings.poll_max)
        self.base_url, self.environment = resolve_base_url(environment, url)
        self.api_url = self.base_url + API_PREFIX
        self.retry = RetryPolicy(
            settings.max_attempts,
            settings.backoff_base,
            settings.backoff_max,
            settings.rate_limit_wait,
            settings.max_wait,
        )
        token = resolve_token(token)
        self._redact = Redactor([token, *_proxy_passwords(self.base_url)])
        self.clock = ServerClock()
        self.bounds = Bounds(settings.max_answer_bytes, settings.deadline)
        self._session = requests.Session()
        size = settings.pool_size
        adapter = DeadlineAdapter(pool_connections=size, pool_maxsize=size, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.auth = _TokenAuth(auth_header(token))
        self._session.headers.update(
            {
                "User-Agent": f"pandas-toloka/{__version__}",
                "Accept": "application/json",
                # the encodings reading.read_body inflates within max_answer_bytes
                "Accept-Encoding": "gzip, deflate",
            }
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def redact(self, text: str) -> str:
        """``text`` with every form of the token replaced by ``***``."""
        return self._redact(text)

    def server_now(self) -> _dt.datetime:
        """The server's current time, as far as its ``Date`` headers tell (else local time)."""
        return self.clock.now()

    # ------------------------------------------------------------------ requests

    def get_json(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        shape: payloads.Shape | None = None,
    ) -> Any:
        """GET ``path`` (below ``/api/v1``) and return the parsed JSON body.

        Retried on connection errors (including a body cut short), 408, 429
        and 5xx with exponential back-off, honouring ``Retry-After``; an
        answer that is not JSON, or not of ``shape``, is retried likewise.

        Raises
        ------
        TolokaApiError
            Its subclass chosen by the error's ``code``.
        TolokaConnectionError
            If the server cannot be reached after all attempts.
        ProtocolError
            If every answer was cut short, not JSON or not of ``shape``.
        """
        return self._request("GET", path, params=params, parse=json_parser(shape))

    def post_json(
        self,
        path: str,
        body: Any,
        *,
        params: Mapping[str, Any] | None = None,
        safety: Safety = "once",
        shape: payloads.Shape | None = None,
        adopt: Callable[[], Any] | None = None,
        unsure: Callable[[], str] | None = None,
    ) -> Any:
        """POST ``body`` as JSON to ``path`` and return the parsed JSON answer.

        ``safety`` says how the request may be repeated (see
        :data:`.retry.Safety`): ``"once"`` is retried only where it was
        certainly not processed (429, a connection never opened);
        ``"idempotent"`` like a GET; ``"adopt"`` only after ``adopt()`` found
        no operation started by an earlier attempt (its result, when not None,
        is returned instead). An ``"adopt"`` request whose answer timed out is
        never posted again: ``adopt()`` is called, with back-off, for at least
        the read timeout, and if it finds nothing the error is raised with the
        sentence ``unsure()`` returns (how to look for the operation).
        """
        return self._request(
            "POST",
            path,
            params=params,
            body=body,
            safety=safety,
            parse=json_parser(shape),
            adopt=adopt,
            unsure=unsure,
        )

    def get_bytes(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        check: Callable[[bytes], object] | None = None,
    ) -> bytes:
        """GET ``path`` and return the raw body of a successful answer, one whole JSON object.

        Retried like :meth:`get_json`. A body that is not one complete JSON
        object (:func:`.payloads.complete_json_object`), or that ``check``
        refuses with :class:`ValueError`, is retried like a dropped connection.
        """

        def decode(content: bytes) -> bytes:
            if check is not None:
                check(content)
            return content

        body: bytes = self.get_decoded(path, params=params, decode=decode)
        return body

    def exchange_get(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        timeout: float | tuple[float, float] | None = None,
        check_whole: bool = False,
    ) -> Exchange:
        """Send ``GET path`` once and return the answer unjudged (any thread may call it).

        The prefetch of the next page: :meth:`get_decoded` judges the answer as its
        first attempt (``first=``), so it is retried, decoded and its errors raised
        exactly as if :meth:`get_decoded` had sent it. Raises the attempt's
        :class:`.attempt.Failed` when no answer came. With ``check_whole`` a
        successful body is checked here to be one whole JSON object
        (:func:`.payloads.complete_json_object`, the work moved off the thread
        that decodes); one that is not is judged garbled by :meth:`get_decoded`.
        """
        request = self._prepared("GET", path, params, timeout=timeout)
        answer = exchange(self._session, request, 1, redact=self._redact, bounds=self.bounds)
        if check_whole and answer.response.status_code < 300:
            try:
                payloads.complete_json_object(answer.content)
            except ValueError:
                return answer
            return dataclasses.replace(answer, whole=True)
        return answer

    def get_decoded(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        decode: Callable[[bytes], _T],
        attempts: int | None = None,
        timeout: float | tuple[float, float] | None = None,
        first: Callable[[], Exchange] | None = None,
        check_whole: bool = True,
    ) -> _T:
        """GET ``path`` and return ``decode(body)`` of a successful answer.

        The one rule for pages: a body that is not one complete JSON object, or
        that ``decode`` refuses with a :class:`ValueError` that is not a
        :class:`~pandas_toloka.errors.TolokaError` (e.g. a
        :class:`.payloads.ShapeError`), is retried like a dropped connection,
        and raises :class:`~pandas_toloka.errors.ProtocolError` when every
        attempt got one. A ``TolokaError`` from ``decode`` (a value that does
        not fit its field) is raised at once. ``attempts`` and ``timeout``
        override the client's ``max_attempts`` and ``timeout``. ``first``, when
        given, returns the first attempt's answer already sent
        (:meth:`exchange_get`, on a prefetch thread) instead of sending it.
        ``check_whole=False`` skips :func:`.payloads.complete_json_object` for
        a ``decode`` that itself refuses, with a ``ValueError``, any body that
        is not one whole JSON object (cut short anywhere, or followed by
        anything): the rule holds, checked once instead of twice.
        """

        checked: list[bytes] = []  # the first answer's body, when found whole where it arrived

        def first_answer() -> Exchange:
            assert first is not None
            answer = first()
            if answer.whole:
                checked.append(answer.content)
            return answer

        def parse(content: bytes) -> _T:
            if check_whole and not (checked and content is checked[0]):
                payloads.complete_json_object(content)
            checked.clear()
            return decode(content)

        return self._request(
            "GET",
            path,
            params=params,
            parse=parse,
            attempts=attempts,
            timeout=timeout,
            first=None if first is None else first_answer,
        )

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        safety: Safety = "idempotent",
        parse: Callable[[bytes], Any],
        adopt: Callable[[], Any] | None = None,
        unsure: Callable[[], str] | None = None,
        attempts: int | None = None,
        timeout: float | tuple[float, float] | None = None,
        first: Callable[[], Exchange] | None = None,
    ) -> Any:
        """The one retry loop: attempt, let :func:`decide` judge, then return, wait or raise."""
        request = self._prepared(method, path, params, body, timeout)
        policy = self.retry
        if attempts is not None:
            policy = RetryPolicy(attempts, *(getattr(policy, k) for k in _POLICY_WAITS))
        number = 0
        while True:
            number += 1
            try:
                if number == 1 and first is not None:  # sent ahead by exchange_get
                    return judge(
                        first(),
                        request,
                        number,
                        parse,
                        redact=self._redact,
                        clock=self.clock,
                        base_url=self.base_url,
                    )
                return send_once(
                    self._session,
                    request,
                    number,
                    parse,
                    redact=self._redact,
                    clock=self.clock,
                    base_url=self.base_url,
                    bounds=self.bounds,
                )
            except Failed as failed:
                attempt, error = failed.attempt, failed.error
            decision = decide(attempt, safety=safety, policy=policy)
            if decision.action == "retry":
                logger.warning(
                    "%s %s: %s; retry %d in %.2f s%s",
                    method,
                    path,
                    outcome_text(attempt),
                    number,
                    decision.wait,
                    ", once sure the failed attempt started nothing"
                    if decision.adopt_first
                    else "",
                )
                time.sleep(decision.wait)
            if decision.adopt_first and adopt is not None:
                try:  # the failed attempt may have started the operation: adopt it
                    if decision.keep_looking:
                        found = self._keep_looking(adopt, policy, _read_timeout(request[4]))
                    else:
                        found = adopt()
                except TolokaError as failed_search:  # never post again without knowing
                    _note(
                        error,
                        f"; it may have started an operation, and looking for one failed "
                        f"({type(failed_search).__name__}): list the operations before starting "
                        "again",
                    )
                    raise error from failed_search
                if found is not None:
                    return found
                if decision.keep_looking:
                    _note(
                        error,
                        "; the server may still be starting the operation, and none was found "
                        "in time, so the request was not sent again. "
                        + (
                            unsure()
                            if unsure is not None
                            else "List the operations before starting again."
                        ),
                    )
            if decision.action == "raise":
                raise error

    def _prepared(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any = None,
        timeout: float | tuple[float, float] | None = None,
    ) -> tuple[str, str, Any, bytes | None, Any]:
        """The request as :func:`.attempt.exchange` sends it: method, URL, query, body, timeout."""
        return (
            method,
            self.api_url + check_api_path(path),
            query(params),
            None if body is None else json.dumps(body).encode(),
            timeout or self.timeout,
        )

    def _keep_looking(
        self, adopt: Callable[[], Any], policy: RetryPolicy, read_timeout: float
    ) -> Any:
        """``adopt()``'s first find, looking with back-off for at least ``read_timeout`` seconds."""
        deadline = time.monotonic() + read_timeout
        looks = 0
        while True:
            looks += 1
            found = adopt()
            left = deadline - time.monotonic()
            if found is not None or left <= 0:
                return found
            wait = min(left, policy.backoff(looks))
            logger.warning(
                "The start request timed out: looking again in %.2f s for the operation it may "
                "have started (%.1f s left)",
                wait,
                left,
            )
            time.sleep(wait)

    def get_document(self, path: str, *, params: Mapping[str, Any] | None = None) -> bytes:
        """GET ``path`` below the server's root (not ``/api/v1``) and return the raw body.

        For answers that are not JSON, such as the results export
        (:data:`~pandas_toloka._protocol.EXPORT_PATH`). Retried like
        :meth:`get_json` on connection errors, 408, 429 and 5xx; the body is
        returned as sent (a body cut short is a dropped connection).
        """
        request = ("GET", self.base_url + check_api_path(path), query(params), None, self.timeout)
        number = 0
        while True:
            number += 1
            try:
                content: bytes = send_once(
                    self._session,
                    request,
                    number,
                    bytes,
                    redact=self._redact,
                    clock=self.clock,
                    base_url=self.base_url,
                    bounds=self.bounds,
                )
                return content
            except Failed as failed:
                decision = decide(failed.attempt, safety="idempotent", policy=self.retry)
                if decision.action != "retry":
                    raise failed.error from None
                logger.warning(
                    "GET %s: %s; retry %d in %.2f s",
                    path,
                    outcome_text(failed.attempt),
                    number,
                    decision.wait,
                )
                time.sleep(decision.wait)


_POLICY_WAITS = ("backoff_base", "backoff_max", "rate_limit_wait", "max_wait")


def _proxy_passwords(url: str) -> list[str]:
    """Passwords of the proxies the environment sets for ``url``: redacted like the token."""
    try:
        proxies = requests.utils.get_environ_proxies(url)
    except (OSError, ValueError):
        return []
    secrets = []
    for proxy in proxies.values():
        try:
            parts = urllib.parse.urlsplit(proxy)
        except ValueError:
            continue
        if parts.password:
            secrets.append(parts.password)
    return secrets


def json_parser(shape: payloads.Shape | None) -> Callable[[bytes], Any]:
    """Strict JSON decoding (:func:`.loads_json`), then ``shape``'s check: ValueError if garbled."""

    def parse(content: bytes) -> Any:
        value = loads_json(content) if content.strip() else None
        return value if shape is None else shape(value)

    return parse


def _read_timeout(timeout: float | tuple[float, float]) -> float:
    return float(timeout[1] if isinstance(timeout, tuple) else timeout)


def _note(error: BaseException, text: str) -> None:
    """Append ``text`` to the message of ``error``."""
    if error.args and isinstance(error.args[0], str):
        error.args = (error.args[0] + text, *error.args[1:])
