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

There is one registration per distinct token, URL, client settings and
``distributed`` client, however many readers use it: each reader's frame
holds a lease on it (through its expression, which every frame derived from
it references). The registration -- the plugin on the scheduler and the
workers, their clients and connections, the client kept in this process --
is released when the last lease is garbage-collected, when the driver's
client is closed, or by :func:`release_credentials`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import os
import threading
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any, Literal

import requests
from distributed.diagnostics.plugin import WorkerPlugin
from requests.structures import CaseInsensitiveDict

from .. import client as _client_module
from ..client import Client
from ..errors import InvalidArgumentError, MissingTokenError

__all__ = [
    "ClientDescription",
    "Credentials",
    "Lease",
    "registrations",
    "release_credentials",
    "share_client",
    "worker_client",
]

logger = logging.getLogger(__name__)

#: ``"ship"``: send the driver's client to the workers in a plugin; ``"worker-env"``:
#: workers read the token from their own environment.
Credentials = Literal["ship", "worker-env"]

_lock = threading.RLock()
#: credential_id -> the client tasks of this process use.
_registry: dict[str, Client] = {}
#: description -> a client built from this process's environment ("worker-env").
_env_clients: dict[ClientDescription, Client] = {}
#: A random key of this process: registrations are found by an HMAC of the token, so the
#: token itself is never a dictionary key.
_SALT = os.urandom(32)


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
        ("max_answer_bytes", client.settings.max_answer_bytes),
        ("deadline", client.settings.deadline),
    )


class TolokaCredentials(WorkerPlugin):
    """Registers a client under its credential id on each worker; its repr is token-free."""

    def __init__(self, credential_id: str, client: Client) -> None:
        self.name = f"pandas-toloka-credentials-{credential_id}"
        self.credential_id = credential_id
        self.client = client
        self._installed = False

    def setup(self, worker: Any) -> None:
        with _lock:
            # A worker thread of the driver's own process already has the driver's entry.
            if self.credential_id not in _registry:
                _registry[self.credential_id] = self.client
                self._installed = True

    def teardown(self, worker: Any) -> None:
        if not self._installed:
            return
        with _lock:
            if _registry.get(self.credential_id) is self.client:
                del _registry[self.credential_id]
        self.client.close()

    def __repr__(self) -> str:
        return f"TolokaCredentials({self.credential_id!r}, {self.client!r})"


@dataclass(eq=False)
class _Registration:
    """One shipped credential: the client, the readers holding it, where it was shipped."""

    credential_id: str
    client: Client
    owned: bool
    dask_client: Any | None
    leases: int = 0
    key: tuple[Any, ...] = field(default=())

    @property
    def plugin_name(self) -> str:
        return f"pandas-toloka-credentials-{self.credential_id}"


#: (token digest, url, settings, scheduler) -> its registration, on the driver.
_registrations: dict[tuple[Any, ...], _Registration] = {}


def _distributed_client() -> Any | None:
    from distributed import get_client

    try:
        return get_client()
    except ValueError:  # no distributed client: local schedulers share this process
        return None


def _token_digest(client: Client) -> str:
    """An HMAC of the client's ``Authorization`` header under this process's random key."""
    auth = getattr(getattr(client, "_session", None), "auth", None)
    if not callable(auth):  # a client built otherwise: one registration per client object
        return f"client-{id(client)}"
    probe = requests.PreparedRequest()
    probe.headers = CaseInsensitiveDict()
    auth(probe)
    header = str(probe.headers.get("Authorization", ""))
    return hmac.new(_SALT, header.encode(), hashlib.sha256).hexdigest()


def registrations() -> int:
    """How many credential registrations this process holds (for tests and diagnostics)."""
    with _lock:
        return len(_registrations)


class Lease:
    """A reader's hold on a registration, kept by the frame the reader returns.

    :meth:`keep_with` ties it to an object (the frame's expression, which
    every frame derived from it references; the task graph is not used, as
    ``distributed`` keeps recent messages for diagnostics); :meth:`close` drops
    it when it was never tied, e.g. when the reader failed.
    """

    def __init__(self, key: tuple[Any, ...] | None, credential_id: str | None) -> None:
        self._key = key
        self._credential_id = credential_id
        self._held = key is not None

    def keep_with(self, owner: object) -> None:
        """Hold the registration until ``owner`` is garbage-collected."""
        if not self._held or self._key is None or self._credential_id is None:
            return
        finalizer = weakref.finalize(owner, _drop_lease, self._key, self._credential_id)
        finalizer.atexit = False  # at exit the scheduler goes too
        self._held = False

    def close(self) -> None:
        """Drop the hold if :meth:`keep_with` was not called."""
        if self._held and self._key is not None and self._credential_id is not None:
            self._held = False
            _drop_lease(self._key, self._credential_id)


def share_client(
    client: Client, *, credentials: Credentials = "ship", owned: bool = False
) -> tuple[ClientDescription, Lease]:
    """Make ``client`` usable by tasks; return the token-free description they carry.

    Parameters
    ----------
    client : Client
        The driver's client.
    credentials : {'ship', 'worker-env'}
        ``'ship'`` registers ``client`` in this process and, with an active
        ``distributed`` client, in a worker plugin; ``'worker-env'`` ships
        nothing.
    owned : bool, default False
        Whether ``client`` was made for this call: it is then closed when its
        registration is released, or at once when an equal registration exists.

    Returns
    -------
    description : ClientDescription
        What tasks carry.
    lease : Lease
        The caller's hold on the registration: tie it to the frame built
        (:meth:`Lease.keep_with`), and :meth:`Lease.close` it in any case.
    """
    if credentials == "worker-env":
        return ClientDescription(client.base_url, None, _settings(client)), Lease(None, None)
    if credentials != "ship":
        raise InvalidArgumentError(
            f"credentials must be 'ship' or 'worker-env', got {credentials!r}."
        )
    dask_client = _distributed_client()
    settings = _settings(client)
    scheduler = None if dask_client is None else id(dask_client)
    key = (_token_digest(client), client.base_url, settings, scheduler)
    duplicate: Client | None = None
    with _lock:
        registration = _registrations.get(key)
        if registration is not None and registration.client.closed:
            _release(registration)
            registration = None
        if registration is None:
            registration = _Registration(uuid.uuid4().hex, client, owned, dask_client, key=key)
            _registrations[key] = registration
            _registry[registration.credential_id] = client
            _client_module.on_close(client, functools.partial(_release_for, key))
            fresh = True
        else:
            fresh = False
            if owned:
                duplicate = client
        registration.leases += 1
        description = ClientDescription(client.base_url, registration.credential_id, settings)
        lease = Lease(key, registration.credential_id)
    if duplicate is not None:
        duplicate.close()
    if fresh and dask_client is not None:
        plugin = TolokaCredentials(registration.credential_id, client)
        dask_client.register_plugin(plugin, name=plugin.name)
        logger.debug("shipped Toloka credentials %s to the workers", registration.credential_id)
    return description, lease


def _drop_lease(key: tuple[Any, ...], credential_id: str) -> None:
    """A lease ended: release its registration if it was the last."""
    with _lock:
        registration = _registrations.get(key)
        if registration is None or registration.credential_id != credential_id:
            return
        registration.leases -= 1
        if registration.leases > 0:
            return
        _release(registration)


def _release_for(key: tuple[Any, ...], client: Client) -> None:
    """``client`` was closed: release its registration (not one a later client made)."""
    with _lock:
        registration = _registrations.get(key)
        if registration is not None and registration.client is client:
            _release(registration)


def _release(registration: _Registration) -> None:
    """Forget ``registration`` here, and unregister its plugin from the scheduler and workers."""
    with _lock:
        if _registrations.get(registration.key) is registration:
            del _registrations[registration.key]
        if _registry.get(registration.credential_id) is registration.client:
            del _registry[registration.credential_id]
    if registration.owned:
        registration.client.close()
    dask_client = registration.dask_client
    if dask_client is None or dask_client.status not in ("running", "connecting", "newly-created"):
        return
    try:
        if dask_client.asynchronous:  # on the event loop's thread: never block it
            dask_client.loop.add_callback(
                dask_client._unregister_worker_plugin, name=registration.plugin_name
            )
        else:
            dask_client.unregister_worker_plugin(registration.plugin_name)
    except Exception as error:  # a scheduler already gone holds nothing to release
        logger.debug(
            "could not unregister Toloka credentials %s: %s",
            registration.credential_id,
            type(error).__name__,
        )
    else:
        logger.debug("released Toloka credentials %s", registration.credential_id)


def release_credentials() -> None:
    """Release every credential this process shipped to Dask workers.

    Removes the worker plugins from the scheduler and the workers (closing
    their clients and connections) and forgets the clients kept in this
    process. Frames read before then fail at compute time with
    :class:`~pandas_toloka.errors.MissingTokenError`; read them again.
    Registrations are otherwise released when the last frame using them is
    garbage-collected, or when the driver's client is closed.
    """
    with _lock:
        held = list(_registrations.values())
    for registration in held:
        _release(registration)


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
