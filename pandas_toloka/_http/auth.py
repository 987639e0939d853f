"""How to authenticate: the token, its header, and its redaction.

Pure functions without network access, used by :class:`pandas_toloka.Client`
(where to connect is :mod:`.endpoint`'s job).

Credentials reach the client only through ``token=`` and the token
environment variables (a URL with a user or password is refused by
:mod:`.endpoint`). :class:`Redactor` is the one redaction of the client: it
knows every form the token takes (bare, after its ``OAuth``/``ApiKey``
scheme, percent-encoded, with JSON's escaped slashes) and is applied to every
text the client shows.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from collections.abc import Iterable, Mapping

from ..errors import InvalidArgumentError, MissingTokenError

__all__ = [
    "TOKEN_ENV_VARS",
    "Redactor",
    "auth_header",
    "bare_secret",
    "is_api_key",
    "resolve_token",
]

#: Environment variables searched for a token, in order.
TOKEN_ENV_VARS: tuple[str, ...] = ("TOLOKA_API_KEY", "TOLOKA_TOKEN")


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


#: Secrets at least this long are masked wherever they occur, even inside a longer word.
_EVERYWHERE = 8


class Redactor:
    """Replaces every form of the given secrets in a text by ``***``.

    The forms: the secret itself (which covers ``OAuth <secret>`` and
    ``ApiKey <secret>``), percent-encoded (upper- or lower-case hex, ``+`` or
    ``%20`` for spaces), JSON-escaped (``\\"``, ``\\\\``), and with the ``\\/``
    that some JSON encoders write for ``/``. Longer forms are replaced first, so no
    piece of a secret survives. A secret shorter than 8 characters (a test's token)
    is replaced only where it is not part of a longer word.

    Parameters
    ----------
    secrets : iterable of str
        The tokens (with or without their scheme); empty ones are ignored.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        short: set[str] = set()
        for token in secrets:
            secret = bare_secret(token) if token else ""
            if not secret:
                continue
            into = forms if len(secret) >= _EVERYWHERE else short
            for text in (
                secret,
                urllib.parse.quote(secret, safe=""),
                urllib.parse.quote_plus(secret),
            ):
                into.update({text, _lower_hex(text), text.replace("/", "\\/")})
                escaped = json.dumps(text)[1:-1]  # as a JSON string holds it
                into.update({escaped, escaped.replace("/", "\\/")})
        parts = [re.escape(form) for form in sorted(forms, key=len, reverse=True)]
        # A short secret (a test's "t") is masked where it stands alone -- a header, a
        # query value, a word -- not inside longer words, which would garble the message.
        parts += [
            rf"(?<![\w%-]){re.escape(form)}(?![\w%-])"
            for form in sorted(short, key=len, reverse=True)
        ]
        self._pattern = re.compile("|".join(parts)) if parts else None

    def __call__(self, text: str) -> str:
        """``text`` with every form of the secrets replaced by ``***``."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub("***", text)

    def __repr__(self) -> str:
        return "Redactor(...)"


def _lower_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)
