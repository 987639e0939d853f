"""Where to connect and how to authenticate: environments, base URLs, tokens.

Pure functions without network access, used by :class:`pandas_toloka.Client`.
"""

from __future__ import annotations

import enum
import os
import urllib.parse
from collections.abc import Mapping

from ._protocol import API_PREFIX
from .errors import InvalidArgumentError, MissingTokenError

__all__ = [
    "API_PREFIX",
    "BASE_URLS",
    "TOKEN_ENV_VARS",
    "URL_ENV_VAR",
    "Environment",
    "auth_header",
    "is_api_key",
    "resolve_base_url",
    "resolve_token",
]

#: Environment variables searched for a token, in order.
TOKEN_ENV_VARS: tuple[str, ...] = ("TOLOKA_API_KEY", "TOLOKA_TOKEN")
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


def _normalize_url(url: str) -> str:
    given = url
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise InvalidArgumentError(
            f"Toloka URL {given!r} must start with http:// or https://, "
            "e.g. 'http://127.0.0.1:8000' for a local server."
        )
    url = url.rstrip("/")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # raises ValueError for a port that is not a number
    except ValueError as exc:
        raise InvalidArgumentError(f"Toloka URL {given!r} is not a valid URL: {exc}.") from None
    if (
        not parts.hostname
        or any(c.isspace() for c in url)
        or (port is not None and not 0 < port < 65536)
    ):
        raise InvalidArgumentError(
            f"Toloka URL {given!r} has no valid host; use e.g. 'http://127.0.0.1:8000'."
        )
    url = url.removesuffix(API_PREFIX)
    return url


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
    if url:
        return _normalize_url(url), "URL"
    if environment is None or environment == "":
        from_env = env.get(URL_ENV_VAR, "").strip()
        if from_env:
            if from_env.upper() in Environment.__members__:
                member = Environment[from_env.upper()]
                return BASE_URLS[member], member.value
            return _normalize_url(from_env), "URL"
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
        return _normalize_url(environment), "URL"
    raise InvalidArgumentError(
        f"Unknown environment {environment!r}; use 'PRODUCTION', 'SANDBOX' or a URL "
        "such as 'http://127.0.0.1:8000'."
    )


def resolve_token(token: str | None = None, *, environ: Mapping[str, str] | None = None) -> str:
    """Return the token to use: ``token``, else ``TOLOKA_API_KEY``, else ``TOLOKA_TOKEN``.

    Raises
    ------
    MissingTokenError
        If none is set; the message names the environment variables.
    """
    if token is not None and not isinstance(token, str):
        raise InvalidArgumentError(f"token must be a str, got {type(token).__name__}.")
    if token and token.strip():
        return _checked(token.strip(), "token=")
    env = os.environ if environ is None else environ
    for name in TOKEN_ENV_VARS:
        value = env.get(name, "").strip()
        if value:
            return _checked(value, name)
    raise MissingTokenError(
        "No Toloka token: pass token=..., or set the environment variable "
        f"{TOKEN_ENV_VARS[0]} (an API key from Profile → Integrations) or {TOKEN_ENV_VARS[1]} "
        "(a legacy OAuth token)."
    )


def _checked(token: str, source: str) -> str:
    """``token`` if it can be sent in an HTTP header; the error never shows the token."""
    secret = token
    for scheme in ("ApiKey ", "OAuth "):
        if secret.startswith(scheme):
            secret = secret[len(scheme) :].strip()
    for position, char in enumerate(secret):
        if not "!" <= char <= "~":  # printable ASCII without spaces
            kind = "a space" if char.isspace() else "a non-ASCII or control character"
            raise InvalidArgumentError(
                f"The Toloka token from {source} contains {kind} at position {position}, which "
                "cannot be sent in an HTTP header; copy the token again (Profile → Integrations)."
            )
    return token


def is_api_key(token: str) -> bool:
    """Whether ``token`` looks like an API key rather than an OAuth token.

    toloka-kit's heuristic: exactly two dots, the first at index 22 to 24.
    """
    return token.count(".") == 2 and 22 <= token.index(".") <= 24


def auth_header(token: str) -> str:
    """The ``Authorization`` header value for ``token``.

    A token that already starts with ``ApiKey `` or ``OAuth `` is used as is.
    """
    if token.startswith(("ApiKey ", "OAuth ")):
        return token
    return f"ApiKey {token}" if is_api_key(token) else f"OAuth {token}"
