"""One attempt of a request: send it, read the answer, and say what it came to.

:func:`send_once` (:func:`exchange` then :func:`judge`) returns the parsed answer or
raises :class:`Failed`, holding
the :class:`.retry.Attempt` that :func:`.retry.decide` judges and the error
to raise should the request not be retried. The one place that tells a
connection never opened from one lost after sending, a read timeout (the
server may still be working) from a reset, and a garbled answer from an
error answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
import urllib3.exceptions

from ..errors import ProtocolError, TolokaConnectionError, TolokaError
from .api_errors import api_error
from .clock import ServerClock
from .retry import Attempt, AttemptKind, parse_retry_after

__all__ = ["Exchange", "Failed", "exchange", "judge", "outcome_text", "send_once"]

#: Failures after which the request may have reached the server.
LOST = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def _never_sent(exc: BaseException) -> bool:
    """Whether a connection error certainly happened before the request was sent."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, urllib3.exceptions.NewConnectionError):
            return True
        reason = getattr(cause, "reason", None)
        nested = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
        cause = reason if isinstance(reason, BaseException) else nested or cause.__cause__
    return False


class Failed(Exception):
    """One attempt's failure, with the error to raise if it is not retried."""

    def __init__(self, attempt: Attempt, error: TolokaError) -> None:
        self.attempt = attempt
        self.error = error
        super().__init__(str(error))


@dataclass(frozen=True)
class Exchange:
    """An answer as it arrived (status and whole body), not yet judged; and when."""

    response: requests.Response
    content: bytes
    sent: float
    received: float
    #: The body was found to be one whole JSON object where it arrived (the fetching thread).
    whole: bool = False


def send_once(
    session: requests.Session,
    request: tuple[str, str, Any, bytes | None, Any],
    number: int,
    parse: Callable[[bytes], Any],
    *,
    redact: Callable[[str], str],
    clock: ServerClock,
    base_url: str,
) -> Any:
    """Send once; the parsed answer, or :class:`Failed` saying what happened."""
    answer = exchange(session, request, number, redact=redact)
    return judge(answer, request, number, parse, redact=redact, clock=clock, base_url=base_url)


def exchange(
    session: requests.Session,
    request: tuple[str, str, Any, bytes | None, Any],
    number: int,
    *,
    redact: Callable[[str], str],
) -> Exchange:
    """Send ``request`` and read the whole answer; :class:`Failed` when none came.

    Safe to run on another thread than :func:`judge` (the prefetch of the next page).
    """
    method, url, params, data, timeout = request
    where = f"{method} {url}"
    sent = time.monotonic()
    try:
        response = session.request(
            method,
            url,
            params=params,
            data=data,
            headers={"Content-Type": "application/json"} if data is not None else None,
            timeout=timeout,
            allow_redirects=False,
        )
        content = response.content
    except LOST as exc:
        kind: AttemptKind = (
            "not_sent"
            if _never_sent(exc)
            else "timed_out"
            if isinstance(exc, requests.Timeout)
            else "lost"
        )
        raise Failed(
            Attempt(number, kind),
            TolokaConnectionError(
                f"{where} failed after {number} attempt(s): "
                f"{redact(type(exc).__name__ + ': ' + str(exc))}. Check the URL and "
                "your network, then try again."
            ),
        ) from None
    except (requests.RequestException, ValueError) as exc:  # invalid URL, header...
        raise Failed(
            Attempt(number, "unsendable"),
            TolokaConnectionError(
                f"{where} could not be sent: {redact(type(exc).__name__ + ': ' + str(exc))}."
            ),
        ) from None
    return Exchange(response, content, sent, time.monotonic())


def judge(
    answer: Exchange,
    request: tuple[str, str, Any, bytes | None, Any],
    number: int,
    parse: Callable[[bytes], Any],
    *,
    redact: Callable[[str], str],
    clock: ServerClock,
    base_url: str,
) -> Any:
    """What an answer came to: ``parse(body)`` of a success, else :class:`Failed`."""
    response, content = answer.response, answer.content
    where = f"{request[0]} {request[1]}"
    clock.observe(response.headers.get("Date"), sent=answer.sent, received=answer.received)
    status = response.status_code
    if status < 300:
        try:
            return parse(content)
        except TolokaError:  # the answer is readable; what it says is wrong: final
            raise
        except ValueError as exc:
            raise Failed(
                Attempt(number, "garbled", status),
                ProtocolError(
                    f"{where} answered {status} with a body the protocol does not allow "
                    f"({redact(str(exc))}; {len(content)} bytes). Retrying did not "
                    "help: check that the URL points at the Toloka API and no proxy alters "
                    "its answers."
                ),
            ) from None
    if status < 400:
        location = response.headers.get("Location") or "(no Location)"
        raise Failed(
            Attempt(number, "answered", status),
            ProtocolError(
                f"{where} answered {status}, a redirect to {redact(location)!r}; the "
                "client does not follow redirects (the token would go along): pass the "
                "final URL as url= instead."
            ),
        )
    error = api_error(response, content, redact=redact, base_url=base_url)
    raise Failed(
        Attempt(
            number,
            "answered",
            status,
            parse_retry_after(response.headers.get("Retry-After")),
            error.payload,
        ),
        error,
    )


def outcome_text(attempt: Attempt) -> str:
    """What an attempt came to, for the log."""
    if attempt.kind == "answered":
        return f"answered {attempt.status}"
    return {
        "not_sent": "could not connect",
        "lost": "the connection broke",
        "timed_out": "no answer came within the read timeout",
        "garbled": f"answered {attempt.status} with an incomplete or malformed body",
        "unsendable": "could not be sent",
    }[attempt.kind]
