"""How workers get a Toloka client without the token ever entering the task graph.

A task carries a :class:`ClientDescription`: the server's URL, the client's
timeouts and retry settings, and a random ``credential_id``. None of that is
secret, so the description can appear in task keys, reprs and pickled graphs.

The token travels separately. :func:`share_client` registers the driver's
:class:`~pandas_toloka.client.Client` under the ``credential_id`` in this
process (for the local schedulers) and, when a ``distributed`` client is
active, ships it to every worker, present and future, as a worker plugin.
Plugins live on the scheduler and the workers, not in any graph, so the token
never appears in task keys, graphs or on the dashboard. Alternatively
(``credentials="worker-env"``) nothing is shipped and each worker builds its
client from its own ``TOLOKA_API_KEY``/``TOLOKA_TOKEN`` environment variables.
"""

from __future__ import annotations

import logging
import threading
import uuid
import weakref
from dataclasses import dataclass
from typing import Any, Literal

from distributed.diagnostics.plugin import WorkerPlugin

from ..client import Client
from ..errors import InvalidArgumentError, MissingTokenError

__all__ = ["ClientDescription", "Credentials", "share_client", "worker_client"]

logger = logging.getLogger(__name__)

#: ``"ship"``: send the driver's client to the workers in a plugin; ``"worker-env"``:
#: workers read the token from their own environment.
Credentials = Literal["ship", "worker-env"]

_lock = threading.Lock()
#: credential_id -> the client tasks of this process use.
_registry: dict[str, Client] = {}
#: description -> a client built from this process's environment ("worker-env").
_env_clients: dict[ClientDescription, Client] = {}
#: driver clients already described, so that repeated calls reuse one credential id.
_shipped: weakref.WeakKeyDictionary[Client, str] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class ClientDescription:
    """Everything a worker needs to rebuild a client, except the token.

    Attributes
    ----------
    base_url : str
        The server, without ``/api/v1``.
    credential_id : str or None
        Key under which the token was shipped; None when workers read their
        environment.
    settings : tuple of (str, value)
        The client's keyword arguments (timeouts, retries, polling).
    """

    base_url: str
    credential_id: str | None
    settings: tuple[tuple[str, Any], ...] = ()

    def build_from_environment(self) -> Client:
        """A client for :attr:`base_url` with the token of this process's environment."""
        return Client(None, url=self.base_url, **dict(self.settings))


def _settings(client: Client) -> tuple[tuple[str, Any], ...]:
    retry = client.retry
    return (
        ("timeout", client.timeout),
        ("max_attempts", retry.max_attempts),
        ("backoff_base", retry.backoff_base),
        ("backoff_max", retry.backoff_max),
        ("rate_limit_wait", retry.rate_limit_wait),
        ("max_wait", retry.max_wait),
        ("poll_min", client.poll_min),
        ("poll_max", client.poll_max),
    )


class TolokaCredentials(WorkerPlugin):
    """Registers a client under its credential id on each worker; its repr is token-free."""

    def __init__(self, credential_id: str, client: Client) -> None:
        self.name = f"pandas-toloka-credentials-{credential_id}"
        self.credential_id = credential_id
        self.client = client

    def setup(self, worker: Any) -> None:
        with _lock:
            _registry[self.credential_id] = self.client

    def teardown(self, worker: Any) -> None:
        with _lock:
            client = _registry.pop(self.credential_id, None)
        if client is not None:
            client.close()

    def __repr__(self) -> str:
        return f"TolokaCredentials({self.credential_id!r}, {self.client!r})"


def _distributed_client() -> Any | None:
    from distributed import get_client

    try:
        return get_client()
    except ValueError:  # no distributed client: local schedulers share this process
        return None


def share_client(client: Client, *, credentials: Credentials = "ship") -> ClientDescription:
    """Make ``client`` usable by tasks; return the token-free description they carry.

    Parameters
    ----------
    client : Client
        The driver's client.
    credentials : {'ship', 'worker-env'}
        ``'ship'`` registers ``client`` in this process and, with an active
        ``distributed`` client, in a worker plugin; ``'worker-env'`` ships
        nothing.
    """
    if credentials == "worker-env":
        return ClientDescription(client.base_url, None, _settings(client))
    if credentials != "ship":
        raise InvalidArgumentError(
            f"credentials must be 'ship' or 'worker-env', got {credentials!r}."
        )
    dask_client = _distributed_client()
    with _lock:
        credential_id = _shipped.get(client)
        if credential_id is None:
            credential_id = _shipped[client] = uuid.uuid4().hex
        _registry[credential_id] = client
    if dask_client is not None:
        # Registering under the same name again replaces the plugin: idempotent.
        plugin = TolokaCredentials(credential_id, client)
        dask_client.register_plugin(plugin, name=plugin.name)
        logger.debug("shipped Toloka credentials %s to the workers", credential_id)
    return ClientDescription(client.base_url, credential_id, _settings(client))


def worker_client(description: ClientDescription) -> Client:
    """The client a task uses: the shipped one, else one from this process's environment.

    Raises
    ------
    MissingTokenError
        If the credentials were meant to be shipped but this process has none.
    """
    with _lock:
        if description.credential_id is not None:
            client = _registry.get(description.credential_id)
            if client is None:
                raise MissingTokenError(
                    "This Dask worker has no Toloka credentials: they are shipped as a worker "
                    "plugin by the distributed client that was active when the frame was made. "
                    "Compute on that client, or pass credentials='worker-env' and set "
                    "TOLOKA_API_KEY in the workers' environment."
                )
            return client
        cached = _env_clients.get(description)
        if cached is None:
            cached = _env_clients[description] = description.build_from_environment()
        return cached
