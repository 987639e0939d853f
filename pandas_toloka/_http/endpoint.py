"""Where to connect: the public environments, base URLs and their resolution.

Pure functions without network access, used by :class:`pandas_toloka.Client`.
A URL carrying ``user:password@`` is refused (its password would otherwise
show in reprs and errors, and requests would send Basic auth in place of the
token); so is a URL with a query or a fragment. :func:`without_userinfo` is the
one function that takes credentials out of a URL (reprs, printed commands).
"""

from __future__ import annotations

import enum
import os
import re
import urllib.parse
from collections.abc import Mapping

from .._protocol import API_PREFIX
from ..errors import InvalidArgumentError

__all__ = [
    "BASE_URLS",
    "URL_ENV_VAR",
    "Environment",
    "display_url",
    "resolve_base_url",
    "without_userinfo",
]

#: Environment variable with a base URL (e.g. the bundled local server's).
URL_ENV_VAR = "TOLOKA_URL"


class Environment(str, enum.Enum):
    """The public Toloka environments.

    Any other environment (a local server, a proxy) is given by its URL.
    """

    PRODUCTION = "PRODUCTION"
    SANDBOX = "SANDBOX"

    def __str__(self) -> str:
        return self.value


#: Base URL of each public environment (the API root is ``<base>/api/v1``).
BASE_URLS: dict[Environment, str] = {
    Environment.PRODUCTION: "https://toloka.dev",
    Environment.SANDBOX: "https://sandbox.toloka.dev",
}


def without_userinfo(url: str) -> tuple[str, bool]:
    """``url`` without anything before an ``@`` of its authority, and whether there was one.

    THE one place credentials are taken out of a URL. Done on the text rather
    than with :func:`urllib.parse.urlsplit`, which ends the authority at a
    ``/`` even inside a password (``http://u:pa/ss@host`` would keep ``ss@``).
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    head = re.split(r"[?#]", rest, maxsplit=1)[0]
    if "@" not in head:
        return url, False
    return f"{scheme}{sep}{rest[head.rindex('@') + 1 :]}", True


def _mask_userinfo(url: str) -> tuple[str, bool]:
    """``url`` with anything before an ``@`` of its authority shown as ``***@``."""
    bare, found = without_userinfo(url)
    if not found:
        return url, False
    scheme, sep, rest = bare.partition("://")
    return (f"{scheme}{sep}***@{rest}" if sep else f"***@{bare}"), True


def display_url(url: str) -> str:
    """``url`` safe to show: a user or password, a query and a fragment masked."""
    masked, _ = _mask_userinfo(url.strip())
    text, _, fragment = masked.partition("#")
    text, _, query = text.partition("?")
    if query or "?" in masked.split("#")[0]:
        text += "?***"
    if fragment or "#" in masked:
        text += "#***"
    return text


def _normalize_url(url: object, source: str = "url") -> str:
    if not isinstance(url, str):
        raise InvalidArgumentError(
            f"{source} must be a str such as 'http://127.0.0.1:8000', got {type(url).__name__}."
        )
    shown = display_url(url)
    url = url.strip()
    if _mask_userinfo(url)[1]:
        raise InvalidArgumentError(
            f"Toloka URL {shown!r} (from {source}) carries a user or password: remove it and "
            "pass the token with token= (or TOLOKA_API_KEY); only the token authenticates."
        )
    if not url.startswith(("http://", "https://")):
        raise InvalidArgumentError(
            f"Toloka URL {shown!r} (from {source}) must start with http:// or https://, "
            "e.g. 'http://127.0.0.1:8000' for a local server."
        )
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        raise InvalidArgumentError(
            f"Toloka URL {shown!r} (from {source}) is not a valid URL: check the host and port."
        ) from None
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise InvalidArgumentError(
            f"Toloka URL {shown!r} (from {source}) has a query or a fragment; pass the base URL "
            "only, e.g. 'http://127.0.0.1:8000'."
        )
    if (
        not parts.hostname
        or any(c.isspace() or ord(c) < 32 for c in url)
        or (port is not None and not 0 < port < 65536)
    ):
        raise InvalidArgumentError(
            f"Toloka URL {shown!r} (from {source}) has no valid host; use e.g. "
            "'http://127.0.0.1:8000'."
        )
    return url.rstrip("/").removesuffix(API_PREFIX)


def resolve_base_url(
    environment: str | Environment | None = None,
    url: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """Return ``(base_url, environment_name)`` for the given settings.

    Parameters
    ----------
    environment : {'PRODUCTION', 'SANDBOX'}, Environment, URL or None
        A public environment by name (case-insensitive) or any base URL.
    url : str, optional
        A base URL; wins over ``environment``.
    environ : mapping, optional
        Environment variables (default ``os.environ``).

    Returns
    -------
    tuple of str
        The base URL without trailing slash and without ``/api/v1``, and the
        environment's name (``"PRODUCTION"``, ``"SANDBOX"`` or ``"URL"``).

    Notes
    -----
    Precedence: ``url``, then ``environment``, then the ``TOLOKA_URL``
    environment variable, then PRODUCTION.
    """
    env = os.environ if environ is None else environ
    if environment is not None and not isinstance(environment, str):
        raise InvalidArgumentError(
            f"environment must be 'PRODUCTION', 'SANDBOX' or a URL, got {type(environment).__name__}."
        )
    if url is not None and url != "":
        return _normalize_url(url), "URL"
    if environment is None or environment == "":
        from_env = env.get(URL_ENV_VAR, "").strip()
        if from_env:
            if from_env.upper() in Environment.__members__:
                member = Environment[from_env.upper()]
                return BASE_URLS[member], member.value
            return _normalize_url(from_env, URL_ENV_VAR), "URL"
        return BASE_URLS[Environment.PRODUCTION], Environment.PRODUCTION.value
    if isinstance(environment, Environment):
        return BASE_URLS[environment], environment.value
    if not isinstance(environment, str):
        raise InvalidArgumentError(
            f"environment must be 'PRODUCTION', 'SANDBOX' or a URL, got {type(environment).__name__}."
        )
    name = environment.strip().upper()
    if name in Environment.__members__:
        return BASE_URLS[Environment[name]], name
    if environment.strip().startswith(("http://", "https://")):
        return _normalize_url(environment, "environment"), "URL"
    raise InvalidArgumentError(
        f"Unknown environment {display_url(environment)!r}; use 'PRODUCTION', 'SANDBOX' or a URL "
        "such as 'http://127.0.0.1:8000'."
    )
