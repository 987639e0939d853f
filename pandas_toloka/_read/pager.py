"""THE keyset pager: every paged list of the API read one way, with one set of guards.

A paged resource is one :class:`PagedResource` row: its path, its sort key and a
decoder of one page's bytes (:class:`DecodedPage`: the rows, the items' keys,
``has_more``). :func:`iter_pages` reads it: ``sort=<key>`` first, then
``<key>_gt=<the last item's key>`` while the server says ``has_more``.

The guards, the same for every resource:

* A page that breaks the protocol (cut short, not JSON, ``items`` not a list,
  an item without its key, keys not increasing within the page) is refused
  with :class:`~pandas_toloka._http.payloads.ShapeError` inside the
  transport's one retry loop (:meth:`Client.get_decoded`) and fetched again
  like a dropped connection; when every attempt gets one, the
  :class:`~pandas_toloka.errors.ProtocolError` names the resource.
* The first key of a page must come after the cursor, so keys increase from
  page to page: nothing is read twice (no duplicates) and nothing skipped;
  else :class:`~pandas_toloka.errors.PagingError`.
* ``has_more`` with no items is a :class:`~pandas_toloka.errors.PagingError`
  (it would loop for ever).
* The cursor is the last item's key as decoded, never a count or an offset.

The next page is fetched on one background thread (:mod:`.prefetch`) while this
one is decoded and used: at most one request is in flight and one page waits.
A resource whose decoder releases the GIL is decoded on that thread too
(``decode_ahead``); one that can read the next cursor from the raw end of a
body (``guess_cursor``) has its next request sent before the body is decoded,
the answer judged by the retry loop as its first attempt; a wrong guess costs a
discarded request, never a wrong page. A resource with both is a pipeline of
two background threads: one receives page ``k + 2`` while the other decodes
page ``k + 1`` and the caller uses page ``k`` (one body, one page being decoded
and one page in use: memory stays flat).

Adding a reader: write the decoder, add one :class:`PagedResource` row next
to it, call :func:`iter_pages` (DEVELOPERS.md, "How to add a reader").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Generator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

import pyarrow as pa

from .._http.attempt import Exchange
from .._http.payloads import ShapeError, check_item_ids
from .._http.transport import Transport
from .._http.urls import api_path
from .._protocol import loads_json
from ..errors import PagingError
from .args import check_page_size
from .prefetch import discard, one_ahead, settled

__all__ = ["DecodedPage", "PagedResource", "iter_pages", "last_key"]

logger = logging.getLogger(__name__)

R = TypeVar("R")


@dataclass(frozen=True)
class DecodedPage(Generic[R]):
    """One page as its resource's decoder made it.

    Attributes
    ----------
    rows : object
        What the page holds, typed (a :class:`pyarrow.Table`, a list of dicts).
    keys : pyarrow.Array
        The sort key of every item, in page order (text; the cursor is the last).
    has_more : bool
        The server's ``has_more``.
    """

    rows: R
    keys: pa.Array | pa.ChunkedArray
    has_more: bool


@dataclass(frozen=True, kw_only=True)
class PagedResource(Generic[R]):
    """A keyset-paged list endpoint: all the pager needs to know about it.

    Attributes
    ----------
    name : str
        The items in plain words (``"assignments"``), for messages.
    path : tuple of str
        The path below ``/api/v1``: the resource, then ``"{}"`` for each id
        given to :func:`iter_pages` as ``path_ids``.
    sort : str
        The key the server sorts by and the pager keys on: sent as ``sort=``;
        the cursor goes in ``<sort>_gt``.
    decode : callable
        ``decode(body, **context) -> DecodedPage``; raises
        :class:`~pandas_toloka._http.payloads.ShapeError` (a ``ValueError``)
        for a body that breaks the protocol, a
        :class:`~pandas_toloka.errors.TolokaError` for one that is final.
    decode_ahead : bool
        Decode on the background thread (for decoders that release the GIL).
    guess_cursor : callable, optional
        ``guess_cursor(body) -> str | None``: the last key read from the raw
        body, so the next request leaves before this page is decoded.
    checks_whole : bool
        ``decode`` parses every byte of the body strictly and raises
        :class:`~pandas_toloka._http.payloads.ShapeError` for any body that is
        not one whole JSON object (cut short anywhere, even exactly after an
        item, or followed by anything), so the transport's separate whole-body
        check (:func:`~pandas_toloka._http.payloads.complete_json_object`) is
        skipped: the guard holds, paid for once.
    """

    name: str
    path: tuple[str, ...]
    sort: str
    decode: Callable[..., DecodedPage[R]]
    decode_ahead: bool = False
    guess_cursor: Callable[[bytes], str | None] | None = None
    checks_whole: bool = False

    @property
    def cursor_param(self) -> str:
        """The query parameter of the cursor: ``<sort>_gt``."""
        return f"{self.sort}_gt"


def iter_pages(
    client: Transport,
    resource: PagedResource[R],
    *,
    path_ids: Sequence[object] = (),
    params: Mapping[str, Any] | None = None,
    page_size: int,
    scope: str,
    context: Mapping[str, Any] | None = None,
    attempts: int | None = None,
    timeout: float | tuple[float, float] | None = None,
) -> Generator[DecodedPage[R], None, None]:
    """Yield every page of ``resource``, in key order, until ``has_more`` is false.

    Parameters
    ----------
    client : Client
        Any :class:`~pandas_toloka.Client` (the pager needs only its transport).
    resource : PagedResource
    path_ids : sequence
        The ids filling the ``"{}"`` segments of ``resource.path``.
    params : mapping, optional
        Filters sent with every request (``pool_id``, ``status``, ...).
    page_size : int
        The ``limit`` of each request.
    scope : str
        What is being paged, for messages (``"operation 5"``, ``"pool '7'"``).
    context : mapping, optional
        Keyword arguments of ``resource.decode`` (fields, pool id, ...).
    attempts, timeout : optional
        Override the client's ``max_attempts`` and ``timeout`` per page.

    Yields
    ------
    DecodedPage
        Every page, the empty ones included (an empty pool is one empty page).

    Raises
    ------
    PagingError
        If a page says ``has_more`` but holds no item, or its first key is not
        after the cursor.
    ProtocolError
        If every attempt at a page got a body that breaks the protocol.
    """
    ids = iter(path_ids)
    path = api_path(*(str(next(ids)) if part == "{}" else part for part in resource.path))
    base = {**(params or {}), "sort": resource.sort, "limit": check_page_size(page_size)}
    decode = partial(_checked_decode, resource, dict(context or {}))

    def query(cursor: str | None) -> dict[str, Any]:
        return base if cursor is None else {**base, resource.cursor_param: cursor}

    def fetch_decoded(cursor: str | None) -> DecodedPage[R]:
        return client.get_decoded(
            path,
            params=query(cursor),
            decode=decode,
            attempts=attempts,
            timeout=timeout,
            check_whole=not resource.checks_whole,
        )

    cursor: str | None = None
    # The decoding thread is left first: a decode in flight may still send a request.
    with one_ahead() as thread, one_ahead() as decoder:
        ahead: _DecodedAhead[R] | _SentAhead[R]
        if resource.decode_ahead and resource.guess_cursor is None:
            ahead = _DecodedAhead(thread, fetch_decoded)
        else:
            ahead = _SentAhead(
                thread,
                client,
                path,
                query,
                decode,
                resource,
                attempts,
                timeout,
                decoder=decoder if resource.decode_ahead else None,
            )
        ahead.start(None)
        while ahead.pending:
            page = ahead.take()
            _check_page(resource, page, cursor, scope)
            if page.has_more:
                cursor = str(page.keys[-1].as_py())
                ahead.start(cursor)
            else:
                ahead.stop()
            yield page


def _checked_decode(
    resource: PagedResource[R], context: dict[str, Any], body: bytes
) -> DecodedPage[R]:
    """The resource's decoder, and the page's keys present and increasing (ShapeError)."""
    try:
        page = resource.decode(body, **context)
        check_item_ids(page.keys, resource.name, resource.sort)
    except ShapeError as exc:
        if resource.name in str(exc):
            raise
        raise ShapeError(f"a page of {resource.name}: {exc}") from None
    return page


def _check_page(
    resource: PagedResource[Any], page: DecodedPage[Any], cursor: str | None, scope: str
) -> None:
    """The guards between pages: items after ``has_more``, the first key after the cursor."""
    if not len(page.keys):
        if page.has_more:
            raise PagingError(
                f"The server said has_more for {scope} but sent no items: it answered "
                f"has_more=true with an empty page of {resource.name} (after "
                f"{resource.sort} {cursor!r}); stopping instead of looping for ever."
            )
        return
    first = str(page.keys[0].as_py())
    if cursor is not None and first <= cursor:
        raise PagingError(
            f"The server sent {resource.sort} {first!r} after {cursor!r} "
            f"({resource.cursor_param}={cursor!r} was asked); the {resource.name} of {scope} "
            f"are not in {resource.sort} order."
        )


class _DecodedAhead(Generic[R]):
    """Fetch and decode the next page on the background thread, the retry loop included."""

    def __init__(self, thread: Any, fetch_decoded: Callable[[str | None], DecodedPage[R]]) -> None:
        self._thread = thread
        self._fetch = fetch_decoded
        self.pending: Future[DecodedPage[R]] | None = None

    def start(self, cursor: str | None) -> None:
        self.pending = self._thread.submit(self._fetch, cursor)

    def take(self) -> DecodedPage[R]:
        assert self.pending is not None
        future, self.pending = self.pending, None
        return settled(future)

    def stop(self) -> None:
        discard(self.pending)
        self.pending = None


class _SentAhead(Generic[R]):
    """Send the next request on the background thread; decode in the retry loop.

    The request for page ``k + 1`` leaves as soon as page ``k``'s body has
    arrived, with the cursor guessed from its raw end (when the resource can
    guess it); decoding page ``k`` confirms the guess or sends it again. The
    decoding runs here, or with ``decoder`` on that second thread, started as
    soon as the page's cursor is known (:meth:`start`), so it overlaps the
    caller's use of the page before.
    """

    def __init__(
        self,
        thread: Any,
        client: Transport,
        path: str,
        query: Callable[[str | None], dict[str, Any]],
        decode: Callable[[bytes], DecodedPage[R]],
        resource: PagedResource[R],
        attempts: int | None,
        timeout: float | tuple[float, float] | None,
        *,
        decoder: Any = None,
    ) -> None:
        self._thread = thread
        self._decoder = decoder
        self._client = client
        self._path = path
        self._query = query
        self._decode = decode
        self._resource = resource
        self._attempts = attempts
        self._timeout = timeout
        #: the cursor of the request in flight, and its answer to come
        self._sent: tuple[str | None, Future[Exchange]] | None = None
        self._next: tuple[str | None, Future[Exchange]] | None = None
        #: the page being decoded on the second thread
        self._decoded: Future[DecodedPage[R]] | None = None

    @property
    def pending(self) -> bool:
        """Whether a page is on its way."""
        return self._sent is not None or self._decoded is not None

    def _send(self, cursor: str | None) -> tuple[str | None, Future[Exchange]]:
        answer = self._thread.submit(
            self._client.exchange_get,
            self._path,
            params=self._query(cursor),
            timeout=self._timeout,
            check_whole=not self._resource.checks_whole,
        )
        return cursor, answer

    def start(self, cursor: str | None) -> None:
        if self._next is not None and self._next[0] == cursor:
            self._sent, self._next = self._next, None
        else:
            if self._next is not None:  # a wrong guess: its answer is dropped unread
                logger.debug(
                    "%s: the cursor %r was a wrong guess", self._resource.name, self._next[0]
                )
                discard(self._next[1])
                self._next = None
            self._sent = self._send(cursor)
        if self._decoder is not None:
            self._decoded = self._decoder.submit(self._take_sent)

    def take(self) -> DecodedPage[R]:
        if self._decoded is not None:
            future, self._decoded = self._decoded, None
            return settled(future)
        return self._take_sent()

    def _take_sent(self) -> DecodedPage[R]:
        assert self._sent is not None
        (cursor, answer), self._sent = self._sent, None
        guess = self._resource.guess_cursor

        def decode(body: bytes) -> DecodedPage[R]:
            if guess is not None and self._next is None:
                early = guess(body)
                if early is not None:
                    self._next = self._send(early)
            page = self._decode(body)
            # Hand the decoder's working memory back between pages (mimalloc would keep it).
            pa.default_memory_pool().release_unused()
            return page

        return self._client.get_decoded(
            self._path,
            params=self._query(cursor),
            decode=decode,
            attempts=self._attempts,
            timeout=self._timeout,
            first=partial(settled, answer),
            check_whole=not self._resource.checks_whole,
        )

    def stop(self) -> None:
        if self._next is not None:
            discard(self._next[1])
            self._next = None
        self._sent = None


_HAS_MORE_TRUE = re.compile(rb'"has_more"[ \t\n\r]*:[ \t\n\r]*true')


def last_key(body: bytes, opener: bytes, key: re.Pattern[bytes]) -> str | None:
    """A page's last key read from its raw end, for ``PagedResource.guess_cursor``.

    The string ``key`` matches at the last ``opener`` in ``body`` (its group 1 is the
    JSON string); None when the body does not say ``has_more: true`` or no key is
    found. A guess: the decoded page confirms it.
    """
    at = body.rfind(b'"has_more"')
    if at < 0 or not _HAS_MORE_TRUE.match(body, at):
        return None
    at = body.rfind(opener)
    match = key.match(body, at) if at >= 0 else None
    if match is None:
        return None
    try:
        value = loads_json(match.group(1))
    except ValueError:
        return None
    return value if isinstance(value, str) else None
