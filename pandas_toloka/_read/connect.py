"""How a public function gets its Client: the one given, or one built from credentials.

Every front door (the readers, ``df.toloka``, the Dask readers, the command
line) resolves ``client=`` / ``token=`` / ``environment=`` / ``url=`` here, with
one rule: a client or credentials, never both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .._http.auth import resolve_token
from .._http.endpoint import resolve_base_url
from ..client import Client
from ..errors import InvalidArgumentError

__all__ = ["check_connection", "check_credentials", "client_scope", "open_client"]


def check_credentials(client: object, *, token: object, environment: object, url: object) -> None:
    """The rule shared by every public function: ``client=`` or credentials, not both."""
    if client is None:
        return
    if not isinstance(client, Client):
        raise InvalidArgumentError(
            f"client must be a pandas_toloka.Client, got {type(client).__name__}; pass the token "
            "with token= instead."
        )
    if token is not None or environment is not None or url is not None:
        raise InvalidArgumentError(
            "Pass either client= or token=/environment=/url=, not both: the client already "
            "holds its token and URL."
        )


def check_connection(client: object, *, token: object, environment: object, url: object) -> None:
    """:func:`check_credentials`, and without ``client=`` the token and URL a client would take.

    Eager: the same checks :class:`~pandas_toloka.client.Client` makes, without
    opening a connection (for the lazy iterators, which build it later).
    """
    check_credentials(client, token=token, environment=environment, url=url)
    if client is None:
        resolve_token(token)  # type: ignore[arg-type]
        resolve_base_url(environment, url)  # type: ignore[arg-type]


def open_client(
    client: Client | None,
    *,
    token: str | None,
    environment: str | None,
    url: str | None,
    **settings: Any,
) -> tuple[Client, bool]:
    """``(client, owned)``: ``client`` as given, or a new one from the credentials.

    ``owned`` says whether the caller made it and must close it. ``settings``
    are the Client's other keyword arguments (``max_attempts``, ...), for a new
    client only.

    Raises
    ------
    InvalidArgumentError
        For a client and credentials both, or a client that is not a Client.
    MissingTokenError
        Without a client, if no token is given or set in the environment.
    """
    check_credentials(client, token=token, environment=environment, url=url)
    if client is not None:
        return client, False
    return Client(token, environment=environment, url=url, **settings), True


@contextlib.contextmanager
def client_scope(
    client: Client | None, *, token: str | None, environment: str | None, url: str | None
) -> Iterator[Client]:
    """Use ``client`` as given, or build one from the credentials and close it afterwards."""
    resolved, owned = open_client(client, token=token, environment=environment, url=url)
    if not owned:
        yield resolved
        return
    with resolved:
        yield resolved
