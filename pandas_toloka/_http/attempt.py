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

from ..errors import AnswerTooLargeError, ProtocolError, TolokaConnectionError, TolokaError
from .api_errors import api_error
from .clock import ServerClock
from .reading import PastDeadline, TooLarge, deadline_scope, read_body
from .retry import Attempt, AttemptKind, parse_retry_after

__all__ = ["Bounds", "Exchange", "Failed", "exchange", "judge", "outcome_text", "send_once"]

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


@dataclass(frozen=True)
class Bounds:
    """What one answer may take: ``max_bytes`` decoded bytes, ``deadline`` seconds (None: no end).

    The client's ``max_answer_bytes`` and ``deadline`` settings.
    """

    max_bytes: int
    deadline: float | None


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
    bounds: Bounds,
) -> Any:
    """Send once; the parsed answer, or :class:`Failed` saying what happened."""
    answer = exchange(session, request, number, redact=redact, bounds=bounds)
    return judge(answer, request, number, parse, redact=redact, clock=clock, base_url=base_url)


def exchange(
    session: requests.Session,
    request: tuple[str, str, Any, bytes | None, Any],
    number: int,
    *,
    redact: Callable[[str], str],
    bounds: Bounds,
) -> Exchange:
    """Send ``request`` and read the whole answer; :class:`Failed` when none came.

    The answer is read within ``bounds`` (:func:`.reading.read_body`): one
    still arriving at the deadline fails like a read timeout (``timed_out``),
    one whose decoded body passes ``max_bytes`` is refused (``garbled``:
    retried like a body cut short, never kept). Safe to run on another thread
    than :func:`judge` (the prefetch of the next page).
    """
    method, url, params, data, timeout = request
    where = f"{method} {url}"
    sent = time.monotonic()
    deadline = sent + (bounds.deadline if bounds.deadline is not None else 1e9)
    try:
        with deadline_scope(deadline):
            try:
                response = session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers={"Content-Type": "application/json"} if data is not None else None,
                    timeout=_within(timeout, bounds.deadline),
                    allow_redirects=False,
                    stream=True,
                )
            except LOST:
                if time.monotonic() >= deadline:  # the socket shut down at the deadline
                    raise PastDeadline(0) from None
                raise
        content = read_body(response, limit=bounds.max_bytes, deadline=deadline)
    except TooLarge as exc:
        raise Failed(
            Attempt(number, "garbled", response.status_code),
            AnswerTooLargeError(
                f"{where} answered {response.status_code} with a body larger than "
                f"max_answer_bytes ({exc.limit:,} bytes decoded); it was refused while "
                "arriving. If the server's pages are legitimately this large, raise "
                "Client(max_answer_bytes=...) or ask for smaller pages (page_size=); else "
                "check that no proxy alters the answers."
            ),
        ) from None
    except PastDeadline as exc:
        raise Failed(
            Attempt(number, "timed_out"),
            TolokaConnectionError(
                f"{where} failed after {number} attempt(s): the answer was still arriving "
                f"after the deadline of {bounds.deadline:g} s ({exc.read:,} bytes read). "
                "Raise Client(deadline=...) if answers legitimately take this long, or "
                "check your network."
            ),
        ) from None
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


def _within(
    timeout: float | tuple[float, float], deadline: float | None
) -> float | tuple[float, float]:
    """``timeout`` with neither wait longer than the whole request's ``deadline``."""
    if deadline is None:
        return timeout
    if isinstance(timeout, tuple):
        return (min(timeout[0], deadline), min(timeout[1], deadline))
    return min(timeout, deadline)


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
