"""The error every request handler raises to answer with a Toloka error body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["STATUS_CODES", "ApiError", "not_found", "validation_error"]

#: The default Toloka error ``code`` for an HTTP status.
STATUS_CODES: dict[int, str] = {
    400: "VALIDATION_ERROR",
    401: "AUTHENTICATION_ERROR",
    403: "ACCESS_DENIED",
    404: "DOES_NOT_EXIST",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT_STATE",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_ERROR",
    503: "REMOTE_SERVICE_UNAVAILABLE",
}


class ApiError(Exception):
    """An error answer: HTTP status, Toloka ``code``, message and payload.

    Parameters
    ----------
    status : int
        HTTP status code.
    code : str
        Toloka error code, e.g. ``"DOES_NOT_EXIST"``.
    message : str
        Human-readable message.
    payload : mapping, optional
        Structured details (field paths for validation errors, ``interval`` for 429).
    headers : mapping, optional
        Extra response headers, e.g. ``Retry-After``.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        payload: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.payload = dict(payload) if payload is not None else None
        self.headers = dict(headers or {})

    def body(self, request_id: str) -> dict[str, Any]:
        """Return the JSON body of the answer."""
        out: dict[str, Any] = {"request_id": request_id, "code": self.code, "message": self.message}
        if self.payload is not None:
            out["payload"] = self.payload
        return out


def validation_error(path: str, message: str, *, code: str = "VALUE_INVALID") -> ApiError:
    """Return a 400 ``VALIDATION_ERROR`` whose payload names the field ``path``."""
    return ApiError(
        400, "VALIDATION_ERROR", "Validation failed", {path: {"code": code, "message": message}}
    )


def not_found(what: str, ident: str) -> ApiError:
    """Return a 404 ``DOES_NOT_EXIST`` about object ``what`` with id ``ident``."""
    return ApiError(404, "DOES_NOT_EXIST", f"{what} {ident!r} does not exist")
