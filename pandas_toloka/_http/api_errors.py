"""What an error answer of the API becomes: a typed exception, and a hint for the user.

Pure computations (no network, no sleeping): the exception class chosen by the
status and the body's ``code`` (:func:`pandas_toloka.errors.error_class_for`),
every text the server echoed redacted, and a sentence saying what to do.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from .._protocol import loads_json
from ..errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TolokaApiError,
    error_class_for,
)
from .retry import MAX_RETRY_AFTER, parse_retry_after

__all__ = ["api_error", "error_hint", "is_toloka_environment", "rate_limit_hint"]

_QUOTA_WORDS = {"MIN": "per-minute", "HOUR": "hourly", "DAY": "daily"}
_QUOTA_SPANS = {"MIN": "a minute", "HOUR": "an hour", "DAY": "24 hours"}
#: Domains of Toloka's own environments (production, sandbox, their older hosts).
_TOLOKA_DOMAINS = ("toloka.dev", "toloka.ai", "toloka.yandex.com", "toloka.yandex.ru")


def is_toloka_environment(base_url: str) -> bool:
    """Whether ``base_url`` is one of Toloka's own services (not a local or other server)."""
    try:
        host = (urlsplit(base_url).hostname or "").lower()
    except ValueError:
        return False
    return any(host == domain or host.endswith("." + domain) for domain in _TOLOKA_DOMAINS)


def rate_limit_hint(
    interval: object, retry_after: float | None, *, now: _dt.datetime | None = None
) -> str:
    """A sentence telling the user when to come back after a 429."""
    quota = _QUOTA_WORDS.get(str(interval), "")
    what = f"The {quota} request quota" if quota else "The request quota"
    if retry_after is not None and not retry_after < MAX_RETRY_AFTER:
        return f"{what} is used up; the server asks to wait a day or more before trying again"
    if retry_after is not None:
        now = now or _dt.datetime.now(_dt.timezone.utc)
        try:
            when = (now + _dt.timedelta(seconds=retry_after)).strftime("%Y-%m-%d %H:%M:%S UTC")
        except OverflowError:  # a wait past the year 9999
            return f"{what} is used up; the server asks to wait {retry_after:.0f} s"
        return f"{what} is used up; try again after {when} (in {retry_after:.0f} s)"
    span = _QUOTA_SPANS.get(str(interval))
    if span:
        return f"{what} is used up; try again in up to {span}"
    return f"{what} is used up; try again later"


def error_hint(
    cls: type[TolokaApiError],
    code: str,
    payload: Mapping[str, Any] | None,
    retry_after: float | None,
    base_url: str,
) -> str | None:
    """What the user should do about an API error, as a sentence (or None)."""
    if issubclass(cls, RateLimitError):
        return rate_limit_hint((payload or {}).get("interval"), retry_after)
    if issubclass(cls, AuthenticationError):
        return (
            f"Check the token (token=, TOLOKA_API_KEY or TOLOKA_TOKEN) and that it belongs to "
            f"{base_url}"
        )
    if issubclass(cls, NotFoundError):
        if is_toloka_environment(base_url):
            return (
                f"Check the id and the environment ({base_url}: production and sandbox ids differ)"
            )
        return (
            f"Check the id: {base_url} is not a Toloka environment, so it knows only the "
            "pools, tasks, skills and operations loaded into it"
        )
    if code == "ONLY_FOR_POOL_WITH_MIXER":
        return (
            "WEIGHTED_DYNAMIC_OVERLAP needs a pool with smart mixing or dynamic overlap; "
            "use type='DAWID_SKENE' for this pool"
        )
    if issubclass(cls, ConflictError):
        return "The object's current status does not allow this request"
    if issubclass(cls, ServerError):
        return "The server kept failing; try again later"
    return None


def api_error(
    response: requests.Response,
    content: bytes,
    *,
    redact: Callable[[str], str],
    base_url: str,
) -> TolokaApiError:
    """The typed exception for an error answer, chosen by the body's ``code``.

    ``redact`` removes the token from any text the server echoed back.
    """
    status = response.status_code
    # Redact the whole text first: a server or proxy may echo the Authorization
    # header in any member of the body (code, request_id, ...) or in an HTML page.
    text = redact(content.decode("utf-8", "replace"))
    try:
        parsed = loads_json(text)
        body: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
    except ValueError:
        body = {}
    if body:  # and again once decoded, should the echo have been written with JSON escapes
        try:
            body = loads_json(redact(json.dumps(body, ensure_ascii=False)))
        except ValueError:  # pragma: no cover - a token with JSON metacharacters
            body = {"message": "(error body withheld: it may hold the token)"}
    code = str(body.get("code") or f"HTTP_{status}")
    message = str(body.get("message") or redact(response.reason or "") or "error")
    if not body:
        message += f" ({text[:200]!r})"  # cut after redacting, so no piece of a token survives
    payload = body.get("payload") if isinstance(body.get("payload"), dict) else None
    request_id = (
        body.get("request_id") or redact(response.headers.get("X-Request-Id") or "") or None
    )
    if request_id is not None:
        request_id = str(request_id)
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    cls = error_class_for(status, code)
    hint = error_hint(cls, code, payload, retry_after, base_url)
    return cls(
        status,
        code,
        message,
        request_id=request_id,
        payload=payload,
        hint=hint,
        retry_after=retry_after,
    )
