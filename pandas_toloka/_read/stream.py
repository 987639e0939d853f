"""One stream object for every reader: typed pages, then Arrow, pandas or frames.

The shape of google-cloud-bigquery's ``RowIterator`` and pyarrow's dataset
scanner: a reader opens a stream (the request made, the schema known), and the
caller chooses how to take the rows -- :meth:`TableStream.to_arrow`,
:meth:`TableStream.to_pandas`, :meth:`TableStream.iter_frames`, or iterating for
:class:`pyarrow.RecordBatch` objects. ``read_*`` is ``to_pandas`` of the stream
and ``iter_*`` its ``iter_frames``; a subclass gives only its pages
(:meth:`TableStream.iter_pages`) and its empty table.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import ExitStack, closing
from typing import Any

import pandas as pd
import pyarrow as pa

from ..schema import ATTRS_KEY, DtypeBackend, Provenance, check_dtype_backend, pages_to_pandas
from ..schema import to_pandas as _table_to_pandas

__all__ = ["TableStream"]


class TableStream:
    """Typed pages of one read, streamed; a context manager that frees what it holds.

    Attributes
    ----------
    schema : pyarrow.Schema
        The schema of every page.
    attrs : dict
        The provenance stored as ``df.attrs["toloka"]`` of every frame made.
    """

    schema: pa.Schema
    attrs: Provenance

    def __init__(self) -> None:
        #: What :meth:`close` releases (a client the stream made, a progress bar).
        self._resources = ExitStack()

    # ------------------------------------------------------------ what a subclass gives

    def iter_pages(self) -> Generator[pa.Table, None, None]:
        """Yield one :class:`pyarrow.Table` per non-empty page, with :attr:`schema`."""
        raise NotImplementedError

    def empty_table(self) -> pa.Table:
        """A table without rows with :attr:`schema` (dictionaries hold the allowed values)."""
        raise NotImplementedError

    # ------------------------------------------------------------ the ways to take rows

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        for page in self.iter_pages():
            yield from page.to_batches()

    def to_arrow(self) -> pa.Table:
        """Every row as one :class:`pyarrow.Table` (empty but typed when there are none)."""
        with closing(self.iter_pages()) as pages:
            tables = list(pages)
        return pa.concat_tables(tables) if tables else self.empty_table()

    def read_table(self) -> pa.Table:
        """The same as :meth:`to_arrow` (its earlier name)."""
        return self.to_arrow()

    def to_pandas(self, *, dtype_backend: DtypeBackend = "pyarrow") -> pd.DataFrame:
        """Every row as one DataFrame, converted a page at a time, with ``attrs["toloka"]``.

        Parameters
        ----------
        dtype_backend : {'pyarrow', 'numpy_nullable'}, default 'pyarrow'
            Back-end data type applied to the resultant :class:`DataFrame`.
        """
        backend = check_dtype_backend(dtype_backend)
        with closing(self.iter_pages()) as pages:
            frame = pages_to_pandas(pages, empty=self.empty_table(), dtype_backend=backend)
        frame.attrs[ATTRS_KEY] = dict(self.attrs)
        return frame

    def iter_frames(
        self, *, dtype_backend: DtypeBackend = "pyarrow"
    ) -> Generator[pd.DataFrame, None, None]:
        """One DataFrame per page, with a running index and ``attrs["toloka"]``.

        ``pd.concat`` of the frames equals :meth:`to_pandas`; without rows, one
        empty, fully typed frame.

        Parameters
        ----------
        dtype_backend : {'pyarrow', 'numpy_nullable'}, default 'pyarrow'
            Back-end data type applied to each :class:`DataFrame`.
        """
        backend = check_dtype_backend(dtype_backend)
        offset = 0
        with closing(self.iter_pages()) as pages:
            for page in pages:
                frame = _table_to_pandas(page, dtype_backend=backend)
                del page
                frame.index = pd.RangeIndex(offset, offset + len(frame))
                offset += len(frame)
                frame.attrs[ATTRS_KEY] = dict(self.attrs)
                yield frame
        if offset == 0:
            frame = _table_to_pandas(self.empty_table(), dtype_backend=backend)
            frame.attrs[ATTRS_KEY] = dict(self.attrs)
            yield frame

    # ------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Release what the stream holds: its progress bar, and a client it made."""
        self._resources.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
