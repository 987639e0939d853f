"""The server's clock, as the ``Date`` headers of its answers tell it.

Every answer the transport receives feeds :class:`ServerClock`; adoption of a
lost start request (:mod:`.adoption`) reads it, so that "submitted after the
first attempt" is judged on the server's clock, not the client's.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import time

__all__ = ["ServerClock"]


class ServerClock:
    """What the ``Date`` headers tell of the server's clock.

    Keeps bounds ``lo <= offset <= hi`` on ``offset = server time - time.monotonic()``
    (seconds since the epoch on the server's side). An answer whose ``Date``
    says ``D`` was generated while the server's clock read ``[D, D + 1)`` and
    while the client's read ``[sent, received]``, so ``D - received <= offset <
    D + 1 - sent``. Pure bookkeeping, safe enough to share between threads
    (a racing update only loses one observation).
    """

    def __init__(self) -> None:
        self.lo: float | None = None
        self.hi: float | None = None

    def observe(self, date: str | None, *, sent: float, received: float) -> None:
        """Narrow the bounds with the ``Date`` header of an answer (monotonic send/receive times)."""
        if not date:
            return
        try:
            when = email.utils.parsedate_to_datetime(date)
        except (TypeError, ValueError, IndexError):
            return
        if when.tzinfo is None:
            when = when.replace(tzinfo=_dt.timezone.utc)
        stamp = when.timestamp()
        lo, hi = stamp - received, stamp + 1.0 - sent
        if self.lo is None or self.hi is None or max(self.lo, lo) > min(self.hi, hi):
            self.lo, self.hi = lo, hi  # the first answer, or a clock that jumped: start afresh
        else:
            self.lo, self.hi = max(self.lo, lo), min(self.hi, hi)

    @property
    def known(self) -> bool:
        """Whether some answer carried a usable ``Date``."""
        return self.lo is not None

    def earliest(self, monotonic: float) -> _dt.datetime | None:
        """The earliest the server's clock can have read at ``monotonic`` (None if unknown)."""
        if self.lo is None:
            return None
        return _dt.datetime.fromtimestamp(monotonic + self.lo, _dt.timezone.utc)

    def now(self) -> _dt.datetime:
        """The server's current time, best estimate (the local time when unknown)."""
        if self.lo is None or self.hi is None:
            return _dt.datetime.now(_dt.timezone.utc)
        return _dt.datetime.fromtimestamp(
            time.monotonic() + (self.lo + self.hi) / 2, _dt.timezone.utc
        )
