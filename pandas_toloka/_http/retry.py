"""How the client handles failures: which to retry and how long to wait.

Pure computations (no network, no sleeping), so they can be unit-tested
(what an error answer becomes, and what to tell the user: :mod:`.api_errors`).
:func:`decide` is the one decision behind the transport's one retry loop:
given what an attempt came to (an :class:`Attempt`) and how safe the request
is to repeat, it says return, retry after so many seconds, or raise -- and
whether the caller, once the wait is over, first looks for the operation a
start request may have started, to adopt it instead.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from .. import _config

__all__ = [
    "MAX_RETRY_AFTER",
    "RETRY_STATUSES",
    "Attempt",
    "AttemptKind",
    "Decision",
    "RetryPolicy",
    "Safety",
    "decide",
    "backoff_delay",
    "parse_retry_after",
]

#: HTTP statuses a GET is retried on.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def backoff_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    rand: Callable[[], float] = random.random,
) -> float:
    """Exponential back-off with jitter for the ``attempt``-th retry (1-based).

    The delay is ``min(cap, base * 2 ** (attempt - 1))`` scaled by a random
    factor in ``[0.5, 1)``, so that clients retrying together spread out.
    """
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    ceiling = min(cap, base * 2.0 ** (attempt - 1))
    return ceiling * (0.5 + 0.5 * rand())


#: The longest ``Retry-After`` taken as said (a day): longer ones are capped to it, and a
#: wait this long is never slept, whatever ``max_wait`` (even ``math.inf``) accepts.
MAX_RETRY_AFTER = 24 * 3600.0


def parse_retry_after(value: str | None, *, now: _dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date).

    None for a missing or unreadable header, ``nan`` or ``inf``; a wait longer
    than :data:`MAX_RETRY_AFTER` is capped to it (and then never slept).
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=_dt.timezone.utc)
        now = now or _dt.datetime.now(_dt.timezone.utc)
        return min(MAX_RETRY_AFTER, max(0.0, (when - now).total_seconds()))
    return None if not math.isfinite(seconds) else min(MAX_RETRY_AFTER, max(0.0, seconds))


@dataclass(frozen=True)
class RetryPolicy:
    """How the client retries.

    Parameters
    ----------
    max_attempts : int
        Attempts per request, the first included.
    backoff_base, backoff_max : float
        Seconds of the first back-off and the longest one.
    rate_limit_wait : float
        Seconds waited on a per-minute quota (``payload.interval == "MIN"``)
        when the server sends no ``Retry-After``.
    max_wait : float
        The longest single wait the client accepts; a server asking for longer
        makes the request fail with a message saying when to come back.
    """

    max_attempts: int = _config.MAX_ATTEMPTS
    backoff_base: float = _config.BACKOFF_BASE
    backoff_max: float = _config.BACKOFF_MAX
    rate_limit_wait: float = _config.RATE_LIMIT_WAIT
    max_wait: float = _config.MAX_WAIT

    def backoff(self, attempt: int) -> float:
        """Back-off before the ``attempt``-th retry."""
        return backoff_delay(attempt, base=self.backoff_base, cap=self.backoff_max)

    def wait_for(
        self,
        status: int,
        attempt: int,
        *,
        retry_after: float | None,
        payload: Mapping[str, object] | None,
    ) -> float | None:
        """Seconds to wait before retrying a failed answer, or None to give up.

        Parameters
        ----------
        status : int
            HTTP status of the answer (only :data:`RETRY_STATUSES` are retried).
        attempt : int
            Attempts made so far (1 after the first failure).
        retry_after : float or None
            The ``Retry-After`` header, in seconds.
        payload : mapping or None
            The error body's payload (``interval`` of a 429).
        """
        if status not in RETRY_STATUSES or attempt >= self.max_attempts:
            return None
        interval = (payload or {}).get("interval") if status == 429 else None
        if interval in ("HOUR", "DAY"):
            return None
        if status == 429:
            if retry_after is not None:
                wait = retry_after
            elif interval == "MIN":
                wait = self.rate_limit_wait
            else:
                wait = self.backoff(attempt)
        else:
            wait = max(self.backoff(attempt), retry_after or 0.0)
        return wait if _acceptable(wait, self.max_wait) else None


#: What an attempt came to.
#:
#: ``answered``: the server answered with a status and a complete body, which
#: parsed to the expected shape when the status is below 300. ``not_sent``: the
#: connection could not be opened, so the server certainly never saw the request.
#: ``lost``: the connection broke after the request may have reached the server
#: (the server has finished with it). ``timed_out``: no answer came within the read
#: timeout, so the server may still be processing the request. ``garbled``: a 2xx answer whose body is cut short, not JSON or not
#: the expected shape. ``unsendable``: the request cannot be sent at all (an
#: invalid URL or header).
AttemptKind = Literal["answered", "not_sent", "lost", "timed_out", "garbled", "unsendable"]

#: How safe a request is to repeat. ``idempotent``: repeating it is harmless (GETs,
#: ``aggregate-by-task``). ``adopt``: it starts an operation, so before it is
#: repeated the caller looks for the operation a lost attempt may have started.
#: ``once``: never repeated unless the server certainly did not process it.
Safety = Literal["idempotent", "adopt", "once"]


@dataclass(frozen=True)
class Attempt:
    """The outcome of one attempt of a request.

    Parameters
    ----------
    number : int
        1 for the first attempt.
    kind : AttemptKind
        What the attempt came to.
    status : int, optional
        The HTTP status, when the server answered.
    retry_after : float, optional
        The ``Retry-After`` header, in seconds.
    payload : mapping, optional
        The error body's ``payload`` (``interval`` of a 429).
    """

    number: int
    kind: AttemptKind
    status: int | None = None
    retry_after: float | None = None
    payload: Mapping[str, object] | None = None


@dataclass(frozen=True)
class Decision:
    """What to do after an attempt.

    ``action`` is ``"return"`` (the answer is good), ``"retry"`` (after
    ``wait`` seconds) or ``"raise"``. With ``adopt_first``, the caller, after
    waiting, looks for the operation the attempt may have started, and returns
    it if found (instead of retrying or raising). With ``keep_looking`` (a
    start request that timed out, which the server may still be processing),
    the caller looks again and again, with back-off, for at least the read
    timeout before it gives up and raises: it never posts such a request again.
    """

    action: Literal["return", "retry", "raise"]
    wait: float = 0.0
    adopt_first: bool = False
    keep_looking: bool = False


def decide(attempt: Attempt, *, safety: Safety, policy: RetryPolicy) -> Decision:
    """The one retry decision of the client, for every request and every failure.

    * A 2xx (or 1xx) answer is returned; any other answer below 400 (a
      redirect) is raised: the token is never sent to where a redirect points.
    * ``not_sent`` and 429 were certainly not processed: retried whatever the
      safety, as long as attempts and the longest wait allow.
    * ``lost``, ``garbled`` and the retryable statuses (408, 5xx) may have
      been processed: an idempotent request is retried; a start request is
      retried only after waiting and then looking for its operation
      (``adopt_first``), and looks for it once more before giving up; a
      ``once`` request is raised.
    * ``timed_out`` may still be in progress on the server: an idempotent
      request is retried; a start request is never posted again, only looked
      for until a bounded search finds it or gives up (``keep_looking``).
    * Everything else (4xx, an unsendable request) is raised at once.
    """
    kind, status = attempt.kind, attempt.status
    if kind == "answered" and status is not None and status < 300:
        return Decision("return")
    if kind == "unsendable" or (kind == "answered" and (status is None or status < 400)):
        return Decision("raise")
    left = attempt.number < policy.max_attempts
    if kind == "not_sent":
        return Decision("retry", policy.backoff(attempt.number)) if left else Decision("raise")
    if status == 429:
        wait = policy.wait_for(
            429, attempt.number, retry_after=attempt.retry_after, payload=attempt.payload
        )
        return Decision("raise") if wait is None else Decision("retry", wait)
    if kind == "answered" and status not in RETRY_STATUSES:
        return Decision("raise")
    if kind == "timed_out" and safety == "adopt":
        return Decision("raise", 0.0, True, True)
    if kind == "answered":
        wait = max(policy.backoff(attempt.number), attempt.retry_after or 0.0)
    else:
        wait = policy.backoff(attempt.number)
    can_wait = left and _acceptable(wait, policy.max_wait)
    if safety == "idempotent":
        return Decision("retry", wait) if can_wait else Decision("raise")
    if safety == "adopt":
        return Decision("retry" if can_wait else "raise", wait if can_wait else 0.0, True)
    return Decision("raise")


def _acceptable(wait: float, max_wait: float) -> bool:
    """Whether a wait may be slept: within ``max_wait`` and shorter than :data:`MAX_RETRY_AFTER`."""
    return wait <= max_wait and wait < MAX_RETRY_AFTER
