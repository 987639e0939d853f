"""Exceptions and warnings raised by pandas-toloka.

Every exception the package raises on purpose derives from :class:`TolokaError`,
so ``except pandas_toloka.TolokaError`` catches them all -- except a user's
Ctrl-C, which stays a :class:`KeyboardInterrupt` (:class:`OperationInterruptedError`
adds the operation to resume). Errors that mean "your input is wrong" also derive
from :class:`ValueError` (or :class:`TypeError`), so code written against plain
Python conventions keeps working.

API errors (:class:`TolokaApiError` and its subclasses) mirror the Toloka
error body: ``status``, ``code``, ``message``, ``request_id`` and ``payload``.
They are chosen by the ``code`` of the body, as the Toloka API reference asks
clients to do, falling back to the HTTP status when the body has no code.

Every class here survives :mod:`pickle` and :func:`copy.deepcopy` with its
message and attributes, so errors raised in a worker process (a
:class:`~concurrent.futures.ProcessPoolExecutor`, :mod:`multiprocessing`, Dask)
reach the caller intact.

The tree::

    Exception
    +-- TolokaError                      (every error has .operation_id: str or None)
    |   +-- InvalidArgumentError         (also ValueError)
    |   |   +-- MissingColumnsError
    |   +-- MissingTokenError
    |   +-- OutputValueError             (also ValueError)
    |   +-- TolokaConnectionError        (also ConnectionError)
    |   +-- TolokaApiError
    |   |   +-- ValidationError          (also ValueError)
    |   |   +-- AuthenticationError
    |   |   |   +-- AccessDeniedError
    |   |   +-- NotFoundError            (also LookupError)
    |   |   +-- ConflictError
    |   |   +-- RateLimitError
    |   |   +-- ServerError
    |   +-- ProtocolError                (the server's answer breaks the protocol)
    |   |   +-- PagingError
    |   |   +-- AnswerTooLargeError      (an answer past the client's max_answer_bytes)
    |   +-- OperationError
    |   |   +-- OperationFailedError
    |   |   +-- OperationTimeoutError    (also TimeoutError)
    |   +-- PlottingUnavailableError     (also ImportError)
    +-- UserWarning
        +-- TolokaWarning
            +-- MissingAggregatesWarning
            +-- DroppedResponsesWarning
    BaseException
    +-- KeyboardInterrupt
        +-- OperationInterruptedError    (not a TolokaError: Ctrl-C is never swallowed)
        +-- StartInterruptedError        (Ctrl-C while starting; the operation's id unknown)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "TolokaError",
    "InvalidArgumentError",
    "MissingColumnsError",
    "MissingTokenError",
    "OutputValueError",
    "TolokaApiError",
    "ValidationError",
    "AuthenticationError",
    "AccessDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "ServerError",
    "TolokaConnectionError",
    "OperationError",
    "OperationFailedError",
    "OperationTimeoutError",
    "OperationInterruptedError",
    "StartInterruptedError",
    "ProtocolError",
    "PagingError",
    "AnswerTooLargeError",
    "PlottingUnavailableError",
    "TolokaWarning",
    "MissingAggregatesWarning",
    "DroppedResponsesWarning",
    "error_class_for",
]


def _rebuild(cls: type[BaseException], args: tuple[Any, ...]) -> BaseException:
    """Unpickle an error without calling its ``__init__`` (whose signature varies)."""
    error = cls.__new__(cls, *args)
    error.args = args
    return error


class _Picklable(BaseException):
    """Pickling by ``args`` and ``__dict__``, whatever the subclass's ``__init__`` takes.

    :class:`BaseException` pickles by calling ``cls(*args)``, which fails for
    classes whose ``__init__`` takes other arguments than the message.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args), dict(self.__dict__) or None)


class TolokaError(_Picklable, Exception):
    """Base class of every error raised by pandas-toloka.

    Attributes
    ----------
    operation_id : str or None
        The asynchronous operation the error was met in, when there was one:
        pass it as ``operation_id=`` to resume instead of starting again.
    """

    operation_id: str | None = None


class InvalidArgumentError(TolokaError, ValueError):
    """An argument has a wrong value; the message says which and how to fix it."""


class MissingColumnsError(InvalidArgumentError):
    """A DataFrame lacks columns a method needs.

    Attributes
    ----------
    missing : list of str
        The columns that are needed but absent.
    present : list of str
        The columns the frame has.
    """

    def __init__(
        self,
        missing: list[str],
        present: list[str],
        *,
        purpose: str = "",
        arguments: Mapping[str, str] | None = None,
        source: str = "The DataFrame",
    ) -> None:
        self.missing = list(missing)
        self.present = [str(c) for c in present]
        what = f" {purpose}" if purpose else ""
        # Name the argument that picks each missing column, e.g. task= for "task_id".
        named = [f"{arguments[c]}=" for c in self.missing if arguments and c in arguments]
        fix = (
            f"Rename your columns or name them with {', '.join(named)}"
            f" (e.g. {named[0]}'your_column')."
            if named
            else "Rename your columns or pass the column names as arguments."
        )
        super().__init__(
            f"{source} is missing column(s) {self.missing} needed{what}; "
            f"it has {self.present}. {fix}"
        )


class MissingTokenError(TolokaError):
    """No Toloka token was given and none was found in the environment."""


class OutputValueError(TolokaError, ValueError):
    """A value does not fit the type its output field declares.

    Attributes
    ----------
    task_id : str or None
        The task whose value is wrong.
    field : str
        The output field.
    value : object
        The offending value.
    """

    def __init__(self, message: str, *, task_id: str | None, field: str, value: Any) -> None:
        self.task_id = task_id
        self.field = field
        self.value = value
        super().__init__(message)


class TolokaConnectionError(TolokaError, ConnectionError):
    """The server could not be reached, or the connection broke, after all retries."""


class TolokaApiError(TolokaError):
    """The Toloka API answered with an error.

    Attributes
    ----------
    status : int
        HTTP status code.
    code : str
        Toloka error code from the body, e.g. ``"DOES_NOT_EXIST"``.
    message : str
        Human-readable message from the body.
    request_id : str or None
        The server's request id, useful when contacting support.
    payload : dict or None
        Structured details, e.g. per-field validation errors.
    retry_after : float or None
        Seconds the server asked to wait (``Retry-After``), when it said.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        request_id: str | None = None,
        payload: Mapping[str, Any] | None = None,
        hint: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.payload = dict(payload) if payload is not None else None
        self.hint = hint
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = f"{self.status} {self.code}: {self.message}"
        if self.payload:
            text += f" (payload: {self.payload})"
        if self.request_id:
            text += f" [request_id={self.request_id}]"
        if self.hint:
            text += f". {self.hint}"
        return text


class ValidationError(TolokaApiError, ValueError):
    """The server rejected the request's parameters (400 ``VALIDATION_ERROR``)."""


class AuthenticationError(TolokaApiError):
    """The token is missing, malformed or not accepted (401)."""


class AccessDeniedError(AuthenticationError):
    """The token is valid but may not access this object (403 ``ACCESS_DENIED``)."""


class NotFoundError(TolokaApiError, LookupError):
    """The pool, project, operation or task does not exist (404 ``DOES_NOT_EXIST``)."""


class ConflictError(TolokaApiError):
    """The object is in a state that does not allow the request (409).

    Codes: ``CONFLICT_STATE``, ``INAPPROPRIATE_STATUS``, ``ONLY_FOR_POOL_WITH_MIXER``.
    """


class RateLimitError(TolokaApiError):
    """Too many requests (429 ``TOO_MANY_REQUESTS``) and waiting is not sensible.

    Attributes
    ----------
    retry_after : float or None
        Seconds the server asked to wait, when it said.
    interval : str or None
        The exhausted quota: ``"MIN"``, ``"HOUR"`` or ``"DAY"``.
    """

    @property
    def interval(self) -> str | None:
        """The exhausted quota from ``payload.interval``, if the server named it."""
        value = (self.payload or {}).get("interval")
        return None if value is None else str(value)


class ServerError(TolokaApiError):
    """The server failed (5xx) after all retries."""


class OperationError(TolokaError):
    """Base class for errors about an asynchronous operation.

    Attributes
    ----------
    operation_id : str
        Pass it as ``operation_id=`` to resume reading the operation.
    """

    operation_id: str

    def __init__(self, message: str, *, operation_id: str) -> None:
        self.operation_id = operation_id
        super().__init__(message)


class OperationFailedError(OperationError):
    """The operation ended with status ``FAIL``.

    Attributes
    ----------
    details : dict
        The operation's ``details`` as the server sent them (often empty).
    """

    def __init__(
        self, message: str, *, operation_id: str, details: Mapping[str, Any] | None
    ) -> None:
        self.details = dict(details or {})
        super().__init__(message, operation_id=operation_id)


class OperationTimeoutError(OperationError, TimeoutError):
    """The operation did not finish within the wait timeout."""


class OperationInterruptedError(_Picklable, KeyboardInterrupt):
    """Ctrl-C while an operation was started, waited for or read; it goes on on the server.

    A :class:`KeyboardInterrupt`, not a :class:`TolokaError`, so that
    ``except TolokaError`` never swallows a user's Ctrl-C.

    Attributes
    ----------
    operation_id : str
        Pass it as ``operation_id=`` to resume reading the operation.
    """

    def __init__(self, message: str, *, operation_id: str) -> None:
        self.operation_id = operation_id
        super().__init__(message)


class StartInterruptedError(_Picklable, KeyboardInterrupt):
    """Ctrl-C during the request that starts an aggregation, before its id was known.

    The aggregation may have started on the server anyway. Look for it among
    the operations submitted since ``submitted_gte`` (e.g.
    ``client.list_operations(type="SOLUTION.AGGREGATE", submitted_gte=...)``,
    ``GET /api/v1/operations``) and read it with ``operation_id=`` rather than
    starting another. A :class:`KeyboardInterrupt`, like
    :class:`OperationInterruptedError`, so ``except TolokaError`` never swallows it.

    Attributes
    ----------
    pool_id : str
        The pool whose aggregation was being started.
    submitted_gte : str
        A server time (ISO 8601, UTC) no later than the start request: an
        aggregation it started was submitted at or after it.
    """

    def __init__(self, message: str, *, pool_id: str, submitted_gte: str) -> None:
        self.pool_id = pool_id
        self.submitted_gte = submitted_gte
        super().__init__(message)


class ProtocolError(TolokaError):
    """The server's answer breaks the API's protocol: wrong shape, missing keys, bad pages.

    Retrying rarely helps; the message says what was wrong with the answer.
    """


class PagingError(ProtocolError):
    """The server's pages break the paging contract (order, repeats or ``has_more``)."""


class AnswerTooLargeError(ProtocolError):
    """An answer's decoded body passed the client's ``max_answer_bytes``; refused while read.

    Raised once every attempt got one. Raise ``Client(max_answer_bytes=...)``
    when the server's pages are legitimately that large, or ask for smaller
    pages (``page_size=``).
    """


class PlottingUnavailableError(TolokaError, ImportError):
    """matplotlib is not installed; ``pip install 'pandas-toloka[plot]'``."""


class TolokaWarning(_Picklable, UserWarning):
    """Base class of the warnings pandas-toloka issues."""


class MissingAggregatesWarning(TolokaWarning):
    """Some tasks of the frame got no aggregated answer; their rows hold missing values."""


class DroppedResponsesWarning(TolokaWarning):
    """Some responses were left out of a local aggregation (e.g. a missing label); says how many."""


_BY_CODE: dict[str, type[TolokaApiError]] = {
    "VALIDATION_ERROR": ValidationError,
    "AUTHENTICATION_ERROR": AuthenticationError,
    "ACCESS_DENIED": AccessDeniedError,
    "DOES_NOT_EXIST": NotFoundError,
    "CONFLICT_STATE": ConflictError,
    "INAPPROPRIATE_STATUS": ConflictError,
    "ONLY_FOR_POOL_WITH_MIXER": ConflictError,
    "TOO_MANY_REQUESTS": RateLimitError,
    "INTERNAL_ERROR": ServerError,
    "REMOTE_SERVICE_UNAVAILABLE": ServerError,
}

_BY_STATUS: dict[int, type[TolokaApiError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: AccessDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def error_class_for(status: int, code: str | None) -> type[TolokaApiError]:
    """Return the exception class for an API error, by ``code`` first, then by status."""
    if code and code in _BY_CODE:
        return _BY_CODE[code]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return TolokaApiError
