"""``LocalTolokaServer``: the public face of the bundled Toloka-compatible server."""

from __future__ import annotations

import collections
import logging
import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, overload

import pandas as pd

from ..errors import InvalidArgumentError
from ..schema import parse_input_spec, parse_output_spec
from ._aggregate import Aggregator
from ._endpoints import Context
from ._faults import Faults
from ._httpd import HTTPServer
from ._limits import Limits, Network
from ._operations import OperationRunner
from ._serialize import utc_now
from ._store import Pool, Store, normalize_responses
from ._tasks import normalize_tasks

__all__ = ["LocalTolokaServer", "RequestLog"]

logger = logging.getLogger(__name__)


class RequestLog(Sequence[tuple[str, str]]):
    """``(method, path_with_query)`` of the latest authenticated requests, under a lock.

    Only requests that carry the server's token are recorded, and only the
    newest ``maxlen``: nobody without the token can make the log grow, and
    nobody with it without bound. It reads like a list (``len``, indexing,
    iteration, ``==`` with a list) but is not one, so nothing -- ``extend``,
    ``+=``, ``insert`` -- can get past the bound. :attr:`requests_seen` counts
    every request read, with or without the token, malformed ones too (a number
    costs nothing), so a test can check that no request at all was sent.
    """

    def __init__(self, maxlen: int = Limits.request_log_size) -> None:
        self.maxlen = maxlen
        self.requests_seen = 0
        self._entries: collections.deque[tuple[str, str]] = collections.deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def observe(self) -> None:
        """Count one request read (authenticated or not, well-formed or not)."""
        with self._lock:
            self.requests_seen += 1

    def append(self, item: tuple[str, str]) -> None:
        """Record one authenticated request; the oldest entry goes beyond ``maxlen``."""
        method, target = item
        with self._lock:
            self._entries.append((str(method), str(target)))

    def clear(self) -> None:
        """Forget the entries and reset :attr:`requests_seen`."""
        with self._lock:
            self._entries.clear()
            self.requests_seen = 0

    def snapshot(self) -> list[tuple[str, str]]:
        """A copy, safe to iterate while requests arrive."""
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @overload
    def __getitem__(self, index: int) -> tuple[str, str]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[str, str]]: ...

    def __getitem__(self, index: int | slice) -> tuple[str, str] | list[tuple[str, str]]:
        return self.snapshot()[index]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.snapshot())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RequestLog):
            return self.snapshot() == other.snapshot()
        if isinstance(other, (list, tuple)):
            return self.snapshot() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by content

    def __repr__(self) -> str:
        return f"RequestLog({self.snapshot()!r}, maxlen={self.maxlen}, requests_seen={self.requests_seen})"


class LocalTolokaServer:
    """A local server speaking the Toloka aggregation API under ``/api/v1``.

    Parameters
    ----------
    token : str, optional
        The token clients must send (``Authorization: ApiKey <token>`` or
        ``OAuth <token>``); generated with :func:`secrets.token_urlsafe` if omitted.
    host : str, default "127.0.0.1"
    port : int, default 0
        0 picks a free port; read it back from :attr:`url` once started.
    faults : Faults, optional
        A fault switchboard to share; a fresh one by default.
    operation_delay : float, default 0
        Seconds an aggregation spends in PENDING and again in RUNNING (with the
        progress rising), so clients can observe the lifecycle.
    max_body_bytes, max_request_line, max_header_bytes, max_headers, \
max_connections, max_open_connections, header_timeout, body_timeout, idle_timeout, \
max_finished_operations, operation_ttl, max_active_operations, request_log_size
        Resource limits; see :class:`~pandas_toloka.server.Limits` for their
        defaults and docs/server.md ("Limits") for what a client sees at each.
    gzip : bool, default True
        Answer ``Accept-Encoding: gzip`` with gzip bodies (level ``gzip_level``, default 1).
    latency : float, default 0
        Simulated network: seconds added before every answer.
    bandwidth : float, optional
        Simulated network: bytes per second shared by all connections
        (``12.5e6`` is 100 Mbit/s); unlimited by default.

    Examples
    --------
    >>> server = LocalTolokaServer(token="secret")
    >>> server.add_pool("7", responses=df, output_spec={"result": {"type": "BOOLEAN"}})  # doctest: +SKIP
    >>> with server:  # doctest: +SKIP
    ...     requests.get(server.url + "/api/v1/pools/7", headers={"Authorization": "ApiKey secret"})
    """

    def __init__(
        self,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        faults: Faults | None = None,
        operation_delay: float = 0.0,
        max_body_bytes: int = Limits.max_body_bytes,
        max_request_line: int = Limits.max_request_line,
        max_header_bytes: int = Limits.max_header_bytes,
        max_headers: int = Limits.max_headers,
        max_connections: int = Limits.max_connections,
        max_open_connections: int = Limits.max_open_connections,
        header_timeout: float = Limits.header_timeout,
        body_timeout: float = Limits.body_timeout,
        idle_timeout: float = Limits.idle_timeout,
        max_finished_operations: int = Limits.max_finished_operations,
        operation_ttl: float = Limits.operation_ttl,
        max_active_operations: int = Limits.max_active_operations,
        request_log_size: int = Limits.request_log_size,
        gzip: bool = Network.gzip,
        gzip_level: int = Network.gzip_level,
        latency: float = Network.latency,
        bandwidth: float | None = Network.bandwidth,
    ) -> None:
        if token is not None and (not isinstance(token, str) or not token.strip() or " " in token):
            raise InvalidArgumentError("token must be a non-empty string without spaces")
        self.limits = Limits(
            max_body_bytes=max_body_bytes,
            max_request_line=max_request_line,
            max_header_bytes=max_header_bytes,
            max_headers=max_headers,
            max_connections=max_connections,
            max_open_connections=max_open_connections,
            header_timeout=header_timeout,
            body_timeout=body_timeout,
            idle_timeout=idle_timeout,
            max_finished_operations=max_finished_operations,
            operation_ttl=operation_ttl,
            max_active_operations=max_active_operations,
            request_log_size=request_log_size,
        )
        self.network = Network(
            gzip=gzip, gzip_level=gzip_level, latency=latency, bandwidth=bandwidth
        )
        self.token = token if token is not None else secrets.token_urlsafe(24)
        self.host = host
        self.port = int(port)
        self.faults = faults if faults is not None else Faults()
        self.request_log = RequestLog(self.limits.request_log_size)
        self.store = Store()
        self.aggregator = Aggregator(self.store)
        self.operations = OperationRunner(
            self.aggregator,
            delay=operation_delay,
            max_finished=self.limits.max_finished_operations,
            ttl=self.limits.operation_ttl,
            max_active=self.limits.max_active_operations,
        )
        self._lock = threading.Lock()
        self._httpd: HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ data

    def add_pool(
        self,
        pool_id: str | int,
        *,
        responses: pd.DataFrame,
        output_spec: Mapping[str, Any],
        skills: pd.DataFrame | None = None,
        smart_mixing: bool = False,
        project_id: str | int | None = None,
        dynamic_overlap_config: Mapping[str, Any] | None = None,
        mixer_config: Mapping[str, Any] | None = None,
        ground_truth: pd.DataFrame | None = None,
        pool_info: Mapping[str, Any] | None = None,
        project_info: Mapping[str, Any] | None = None,
        tasks: pd.DataFrame | None = None,
        input_spec: Mapping[str, Any] | None = None,
    ) -> None:
        """Serve a pool (replacing one with the same id); works before and after start.

        Parameters
        ----------
        pool_id : str or int
        responses : DataFrame
            ``task_id``, ``worker_id``, one column per output field; optional
            ``status`` (default ``ACCEPTED``), ``assignment_id`` (default: one
            assignment per row) and ``submitted`` (default: now). Ids may be
            numbers (``9`` and ``9.0`` are served as ``"9"``), never missing or
            empty. A field named like one of these columns (e.g. ``task_id``)
            is read from ``output_values.<name>``, as :func:`read_responses`
            names it; any field may use that column name.
        output_spec : mapping
            The project's ``task_spec.output_spec``.
        skills : DataFrame, optional
            ``worker_id``, ``skill_id``, ``value`` (0..100); merged into the
            server-wide skills served by ``/user-skills``.
        smart_mixing : bool, default False
            Give the pool a ``mixer_config`` (allows aggregation by skill).
        project_id : str or int, optional
            Defaults to the pool id. Pools may share a project with the same spec.
        dynamic_overlap_config, mixer_config : mapping, optional
            Served as the pool's fields of the same name; either allows aggregation by skill.
        ground_truth : DataFrame, optional
            ``task_id`` and true values per field; kept for demos, not served.
        pool_info, project_info : mapping, optional
            Extra JSON fields of the pool and project objects.
        tasks : DataFrame, optional
            The pool's tasks, served by ``GET /tasks`` and embedded in
            assignments: ``task_id``, a column per input field (or
            ``input_values.<name>``, required for a field named like one of
            these columns), and optionally ``known_solutions`` (for control
            tasks: a list of ``{"output_values": {...}, "correctness_weight":
            0..1}``, None elsewhere), ``message_on_unknown_solution`` (the
            hint), ``overlap``, ``infinite_overlap``, ``remaining_overlap``,
            ``origin_task_id``, ``created``. Every task a response answers must
            be among them. Default: the tasks the responses answer, with no
            input values.
        input_spec : mapping, optional
            The project's ``task_spec.input_spec`` (default: no input fields).

        Raises
        ------
        InvalidArgumentError, MissingColumnsError, OutputValueError
            On a bad spec, missing columns or values the spec does not allow.
        """
        pool_key = str(pool_id).strip()
        if not pool_key or "/" in pool_key:
            raise InvalidArgumentError(
                f"pool_id must be a non-empty string without '/', got {pool_id!r}"
            )
        project_key = pool_key if project_id is None else str(project_id).strip()
        if not project_key or "/" in project_key:
            raise InvalidArgumentError(
                f"project_id must be a non-empty string without '/', got {project_id!r}"
            )
        if smart_mixing and mixer_config is None:
            mixer_config = {
                "real_tasks_count": 1,
                "golden_tasks_count": 0,
                "training_tasks_count": 0,
            }
        fields = parse_output_spec(output_spec)
        if not fields:
            raise InvalidArgumentError("output_spec declares no field")
        created = utc_now()
        table = normalize_responses(pool_key, responses, fields, created)
        if ground_truth is not None and "task_id" not in ground_truth.columns:
            raise InvalidArgumentError("ground_truth needs a task_id column")
        inputs = parse_input_spec(input_spec)
        task_table = normalize_tasks(pool_key, tasks, inputs, fields, table, created)
        project = self.store.add_project(project_key, output_spec, project_info, input_spec)
        if skills is not None:
            self.store.add_skills(skills)
        pool = Pool(
            pool_key,
            project,
            table,
            task_table,
            mixer_config=mixer_config,
            dynamic_overlap_config=dynamic_overlap_config,
            info=pool_info,
            ground_truth=ground_truth,
            created=created,
        )
        self.store.put_pool(pool)
        logger.info(
            "serving pool %s: %d responses, %d tasks (%d control)",
            pool_key,
            table.num_rows,
            len(task_table.ids),
            task_table.n_control,
        )

    def add_skills(self, skills: pd.DataFrame) -> None:
        """Merge skill values (``worker_id``, ``skill_id``, ``value``) into ``/user-skills``."""
        self.store.add_skills(skills)

    def ground_truth(self, pool_id: str | int) -> pd.DataFrame | None:
        """The ground truth given for a pool, if any."""
        pool = self.store.pool(str(pool_id))
        return None if pool is None else pool.ground_truth

    @property
    def pool_ids(self) -> list[str]:
        """Ids of the pools served."""
        return [p.id for p in self.store.pools()]

    @classmethod
    def from_directory(cls, path: str | Path, **kwargs: Any) -> LocalTolokaServer:
        """A server serving every pool of a data directory (see docs/server.md)."""
        from ._loader import load_directory

        server = cls(**kwargs)
        load_directory(server, Path(path))
        return server

    # ------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def url(self) -> str:
        """``http://host:port`` (without ``/api/v1``); the bound port once started."""
        port = self._httpd.server_address[1] if self._httpd is not None else self.port
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{port}"

    def start(self) -> LocalTolokaServer:
        """Bind and serve in a background daemon thread; returns ``self``."""
        with self._lock:
            if self._httpd is not None:
                return self
            self.operations.resume()
            context = Context(self.store, self.aggregator, self.operations, self.faults)
            httpd = HTTPServer(
                (self.host, self.port),
                context,
                self.token,
                self.request_log,
                limits=self.limits,
                network=self.network,
            )
            self._httpd = httpd
            self._thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="toloka-local-server",
                daemon=True,
            )
            self._thread.start()
        logger.info("local Toloka server listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and join the server thread."""
        with self._lock:
            httpd, thread = self._httpd, self._thread
            self._httpd = self._thread = None
        if httpd is None:
            return
        self.faults.release_held()  # a held request goes on (its connection is closed below)
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if thread is not None:
            thread.join()
        self.operations.stop()
        logger.info("local Toloka server stopped")

    def serve_forever(self) -> None:
        """Start if needed and block until :meth:`stop` (or Ctrl-C in the main thread)."""
        self.start()
        thread = self._thread
        while thread is not None and thread.is_alive():
            thread.join(0.2)

    def __enter__(self) -> LocalTolokaServer:  # noqa: PYI034 - Self needs Python 3.11
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"url={self.url!r}" if self.running else "stopped"
        return f"LocalTolokaServer({state}, pools={self.pool_ids})"
