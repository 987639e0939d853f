"""The shared body of a pool reader's three front doors: ``open_X``, ``iter_X``, ``read_X``.

A reader is a :class:`~._read.stream.TableStream` subclass and three thin public
functions over it (:mod:`pandas_toloka.tasks`, :mod:`pandas_toloka.responses`;
``iter_aggregated_solutions`` takes :func:`iter_frames` too),
each checking its own arguments first and passing ``open_X``'s on as one mapping:

- ``open_X`` builds the stream with :func:`open_stream` (a client it built is
  closed when the stream cannot be made);
- ``iter_X`` checks every argument at the call (:func:`check_reading`), then
  returns :func:`iter_frames`, which opens the stream when iteration starts;
- ``read_X`` is :func:`read_frame`: ``open_X`` checks its arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import pandas as pd

from .. import schema
from ..client import Client
from ..schema import DtypeBackend
from .args import check_page_size, check_progress_bar
from .connect import check_connection, open_client
from .stream import TableStream

__all__ = ["check_reading", "iter_frames", "open_stream", "read_frame"]

S = TypeVar("S", bound=TableStream)


def open_stream(
    make: Callable[[Client, bool], S],
    *,
    client: Client | None,
    token: str | None,
    environment: str | None,
    url: str | None,
) -> S:
    """``make(client, owned)`` with ``client=`` or a client built from the credentials.

    ``owned`` says whether the stream must close the client; a client built
    here is closed at once when ``make`` raises.
    """
    resolved, owned = open_client(client, token=token, environment=environment, url=url)
    try:
        return make(resolved, owned)
    except BaseException:
        if owned:
            resolved.close()
        raise


def check_reading(arguments: Mapping[str, Any], dtype_backend: object) -> DtypeBackend:
    """Check what every ``open_X`` takes, and the backend, before any request.

    ``arguments`` are ``open_X``'s keyword arguments: ``page_size``,
    ``progress_bar``, ``client``, ``token``, ``environment``, ``url`` (and the
    reader's own, checked by the caller). For ``iter_X``, whose stream opens
    later: a mistake shows at the call. Returns the checked backend.
    """
    check_page_size(arguments["page_size"])
    backend = schema.check_dtype_backend(dtype_backend)
    check_progress_bar(arguments["progress_bar"])
    check_connection(
        arguments["client"],
        token=arguments["token"],
        environment=arguments["environment"],
        url=arguments["url"],
    )
    return backend


def iter_frames(
    open_: Callable[..., TableStream],
    pool_id: str | int | None,
    dtype_backend: DtypeBackend,
    arguments: Mapping[str, Any],
) -> Iterator[pd.DataFrame]:
    """One DataFrame per page of ``open_(pool_id, **arguments)``, opened on the first ``next``."""
    with open_(pool_id, **arguments) as stream:
        yield from stream.iter_frames(dtype_backend=dtype_backend)


def read_frame(
    open_: Callable[..., TableStream],
    pool_id: str | int,
    dtype_backend: object,
    arguments: Mapping[str, Any],
) -> pd.DataFrame:
    """Every row of ``open_(pool_id, **arguments)`` as one DataFrame; the stream is closed.

    The backend is checked first, then ``open_`` checks the rest.
    """
    backend = schema.check_dtype_backend(dtype_backend)
    with open_(pool_id, **arguments) as stream:
        return stream.to_pandas(dtype_backend=backend)
