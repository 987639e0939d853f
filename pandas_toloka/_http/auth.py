"""Where to connect and how to authenticate: environments, base URLs, tokens, redaction.

Pure functions without network access, used by :class:`pandas_toloka.Client`.

Credentials reach the client only through ``token=`` and the token
environment variables. A URL carrying ``user:password@`` is refused (its
password would otherwise show in reprs and errors, and requests would send
Basic auth in place of the token); so is a URL with a query or a fragment.
:class:`Redactor` is the one redaction of the client: it knows every form
the token takes (bare, after its ``OAuth``/``ApiKey`` scheme, percent-encoded,
with JSON's escaped slashes) and is applied to every text the client shows.
"""

from __future__ import annotations

import enum
import json
import os
import re
import urllib.parse
from collections.abc import Iterable, Mapping

from .._protocol import API_PREFIX
from ..errors import InvalidArgumentError, MissingTokenError

__all__ = [
    "API_PREFIX",
    "BASE_URLS",
    "TOKEN_ENV_VARS",
    "URL_ENV_VAR",
    "Environment",
    "Redactor",
    "auth_header",
    "bare_secret",
    "display_url",
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


def _mask_userinfo(url: str) -> tuple[str, bool]:
    """``url`` with anything before an ``@`` of its authority masked, and whether there was one.

    Done on the text rather than with :func:`urllib.parse.urlsplit`, which
    ends the authority at a ``/`` even inside a password.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    head = re.split(r"[?#]", rest, maxsplit=1)[0]
    if "@" not in head:
        return url, False
    return f"{scheme}{sep}***@{rest[head.rindex('@') + 1 :]}", True


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


_SCHEMES = ("ApiKey ", "OAuth ")


def bare_secret(token: str) -> str:
    """The secret part of ``token``: without an ``ApiKey ``/``OAuth `` scheme prefix."""
    token = token.strip()
    for scheme in _SCHEMES:
        if token.startswith(scheme):
            return token[len(scheme) :].strip()
    return token


def _checked(token: str, source: str) -> str:
    """``token`` if it can be sent in an HTTP header; the error never shows the token."""
    secret = bare_secret(token)
    if not secret or secret in ("ApiKey", "OAuth"):
        raise InvalidArgumentError(
            f"The Toloka token from {source} is only a scheme ('ApiKey' or 'OAuth') without the "
            "key; copy the token again (Profile → Integrations)."
        )
    for position, char in enumerate(secret):
        if not "!" <= char <= "~":  # printable ASCII without spaces
            kind = "a space" if char.isspace() else "a non-ASCII or control character"
            raise InvalidArgumentError(
                f"The Toloka token from {source} contains {kind} at position {position}, which "
                "cannot be sent in an HTTP header; copy the token again (Profile → Integrations)."
            )
        if char in _NEVER_IN_TOKENS:
            raise InvalidArgumentError(
                f"The Toloka token from {source} contains a quote or a backslash at position "
                f"{position}, which Toloka tokens never contain; copy the token again without "
                "the quoting (Profile → Integrations)."
            )
    return token


#: Characters no Toloka token contains, refused so that no quoting of them can hide a token.
_NEVER_IN_TOKENS = frozenset("\"'\\`")


def is_api_key(token: str) -> bool:
    """Whether ``token`` looks like an API key rather than an OAuth token.

    toloka-kit's heuristic: exactly two dots, the first at index 22 to 24.
    """
    return token.count(".") == 2 and 22 <= token.index(".") <= 24


def auth_header(token: str) -> str:
    """The ``Authorization`` header value for ``token``.

    A token that already starts with ``ApiKey `` or ``OAuth `` keeps its scheme.
    """
    secret = bare_secret(token)
    for scheme in _SCHEMES:
        if token.strip().startswith(scheme):
            return scheme + secret
    return f"ApiKey {secret}" if is_api_key(secret) else f"OAuth {secret}"


class Redactor:
    """Replaces every form of the given secrets in a text by ``***``.

    The forms: the secret itself (which covers ``OAuth <secret>`` and
    ``ApiKey <secret>``), percent-encoded (upper- or lower-case hex, ``+`` or
    ``%20`` for spaces), JSON-escaped (``\\"``, ``\\\\``), and with the ``\\/``
    that some JSON encoders write for ``/``. Longer forms are replaced first, so no piece of a secret survives.

    Parameters
    ----------
    secrets : iterable of str
        The tokens (with or without their scheme); empty ones are ignored.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for token in secrets:
            secret = bare_secret(token) if token else ""
            if not secret:
                continue
            for text in (
                secret,
                urllib.parse.quote(secret, safe=""),
                urllib.parse.quote_plus(secret),
            ):
                forms.update({text, _lower_hex(text), text.replace("/", "\\/")})
                escaped = json.dumps(text)[1:-1]  # as a JSON string holds it
                forms.update({escaped, escaped.replace("/", "\\/")})
        ordered = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        """``text`` with every form of the secrets replaced by ``***``."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub("***", text)

    def __repr__(self) -> str:
        return "Redactor(...)"


def _lower_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)
