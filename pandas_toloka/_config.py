"""Every default of the client side, and a Client's settings, in one place.

The wire's own facts (the API prefix, the largest ``limit`` a list endpoint
accepts, its default ``limit``) are in :mod:`pandas_toloka._protocol`; what this
package chooses when the caller does not -- page sizes, attempts, timeouts,
waits, concurrency -- is here, read by the public functions' signatures, the
Client, the Dask layer and the command line alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._protocol import MAX_PAGE_SIZE
from ._read.args import check_count, check_seconds
from .errors import InvalidArgumentError

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_MAX",
    "DEADLINE",
    "MAX_ANSWER_BYTES",
    "MAX_ATTEMPTS",
    "MAX_CONCURRENT_OPERATIONS",
    "MAX_CONCURRENT_REQUESTS",
    "MAX_WAIT",
    "MAX_WORKERS",
    "MIN_POLL_INTERVAL",
    "OPERATIONS_PAGE_SIZE",
    "POLL_MAX",
    "POLL_MIN",
    "POOL_SIZE",
    "RATE_LIMIT_WAIT",
    "RESPONSES_PAGE_SIZE",
    "SOLUTIONS_PAGE_SIZE",
    "TASKS_PAGE_SIZE",
    "USER_SKILLS_PAGE_SIZE",
    "TIMEOUT",
    "WAIT_TIMEOUT",
    "ClientSettings",
]

# --- one request (Client) -------------------------------------------------------------
#: Connect and read timeouts of one HTTP request, in seconds.
TIMEOUT: tuple[float, float] = (10.0, 300.0)
#: Seconds one attempt of a request may take in all (connect and the whole answer); an
#: answer still arriving then is abandoned and retried like a read timeout.
DEADLINE = 900.0
#: The largest answer accepted, in decoded bytes (512 MiB): four times a 100,000-item
#: page of assignments with 31 output fields (129 MB, measured on the bundled server;
#: docs/reliability.md); a larger answer is refused while it arrives
#: (AnswerTooLargeError), so memory stays bounded.
MAX_ANSWER_BYTES = 512 << 20
#: Attempts per request, the first included.
MAX_ATTEMPTS = 5
#: First and longest exponential back-off between attempts, in seconds.
BACKOFF_BASE = 0.5
BACKOFF_MAX = 30.0
#: Seconds waited when the per-minute quota is used up and the server does not say.
RATE_LIMIT_WAIT = 60.0
#: The longest single wait accepted (longer quotas raise RateLimitError).
MAX_WAIT = 300.0
#: Connections kept open, enough for as many concurrent threads.
POOL_SIZE = 32

# --- operations -----------------------------------------------------------------------
#: First and longest interval between polls of a running operation, in seconds.
POLL_MIN = 0.2
POLL_MAX = 5.0
#: The shortest first interval between polls of an operation: a smaller one floods the server.
MIN_POLL_INTERVAL = 0.01
#: How long a reader waits for an aggregation to finish, in seconds (6 hours).
WAIT_TIMEOUT = 6 * 3600.0

# --- pages (the ``limit`` sent; the wire's default and maximum are in _protocol) ------
#: Aggregated solutions per page: the largest page the API gives.
SOLUTIONS_PAGE_SIZE = MAX_PAGE_SIZE
#: Assignments per page. The API allows up to 100,000; two pages are in memory at a
#: time (one decoded, the next arriving), 10,000 assignments keep that to tens of MB
#: for suites of 5 tasks and cost few extra requests (benchmarks/bench_reader.py).
RESPONSES_PAGE_SIZE = 10_000
#: Tasks asked for per request: the API's largest page (a task is small, and fewer
#: round trips is what makes reading a million tasks fast).
TASKS_PAGE_SIZE = MAX_PAGE_SIZE
#: User-skill values asked for per request (the API's largest page).
USER_SKILLS_PAGE_SIZE = MAX_PAGE_SIZE
#: Operations per page when listing them (adoption of a lost start).
OPERATIONS_PAGE_SIZE = 500

# --- concurrency ----------------------------------------------------------------------
#: Concurrent per-task requests of ``df.toloka.aggregate(strategy="by_task")``.
MAX_WORKERS = 16
#: Aggregations the Dask readers run at once.
MAX_CONCURRENT_OPERATIONS = 8
#: Concurrent page requests of the Dask responses reader.
MAX_CONCURRENT_REQUESTS = 8


@dataclass(frozen=True, kw_only=True)
class ClientSettings:
    """The settings of :class:`~pandas_toloka.Client` (its docstring says what each means), checked.

    One object instead of the settings spelled out again at every layer: the
    client builds it from its keyword arguments, the transport reads it.
    ``timeout`` is kept as requests takes it (seconds, or a connect/read pair).

    Raises
    ------
    InvalidArgumentError
        For a setting of the wrong type or out of range.
    """

    timeout: float | tuple[float, float]
    max_attempts: int
    backoff_base: float
    backoff_max: float
    rate_limit_wait: float
    max_wait: float
    pool_size: int
    poll_min: float
    poll_max: float
    max_answer_bytes: int = MAX_ANSWER_BYTES
    deadline: float | None = DEADLINE

    def __post_init__(self) -> None:
        timeout: object = self.timeout
        if isinstance(timeout, tuple) and len(timeout) == 2:
            checked: float | tuple[float, float] = (
                check_seconds(timeout[0], name="timeout[0] (connect)", inclusive=False),
                check_seconds(timeout[1], name="timeout[1] (read)", inclusive=False),
            )
        elif isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
            checked = check_seconds(timeout, name="timeout", inclusive=False)
        else:
            raise InvalidArgumentError(
                f"timeout must be seconds or a (connect, read) pair of seconds, got {timeout!r}."
            )
        object.__setattr__(self, "timeout", checked)
        check_count(self.max_attempts, name="max_attempts", low=1, high=100)
        base = check_seconds(self.backoff_base, name="backoff_base")
        cap = check_seconds(self.backoff_max, name="backoff_max")
        if cap < base:
            raise InvalidArgumentError(
                f"backoff_max ({cap:g} s) must not be shorter than backoff_base ({base:g} s)."
            )
        check_seconds(self.rate_limit_wait, name="rate_limit_wait")
        check_seconds(self.max_wait, name="max_wait", infinite=True)  # inf: any Retry-After
        check_count(self.pool_size, name="pool_size", low=1, high=1024)
        check_count(self.max_answer_bytes, name="max_answer_bytes", low=1024, high=1 << 40)
        if self.deadline is not None:
            object.__setattr__(
                self,
                "deadline",
                check_seconds(self.deadline, name="deadline", inclusive=False),
            )
        low = check_seconds(self.poll_min, name="poll_min", minimum=MIN_POLL_INTERVAL)
        high = check_seconds(self.poll_max, name="poll_max", minimum=MIN_POLL_INTERVAL)
        if high < low:
            raise InvalidArgumentError(
                f"poll_max ({high:g} s) must not be shorter than poll_min ({low:g} s)."
            )
