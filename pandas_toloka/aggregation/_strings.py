"""Sorted factorization of Arrow-backed string columns.

Task, worker and label ids are usually strings, and factorizing them is most
of the cost of a fast aggregation. pandas' ``factorize(sort=True)`` hashes
the strings with Arrow, then sorts the distinct strings by comparison. Here:

- Strings of at most 8 bytes without NUL bytes (labels, most worker ids,
  short task ids) are packed into one ``uint64`` each: their bytes,
  zero-padded. For such strings the packing is one-to-one, and read
  big-endian it keeps the order (a prefix sorts first, as zero bytes sort
  before any other byte), so hashing the integers and sorting the distinct
  ones gives the same codes as the strings, several times faster.
- Other strings are dictionary-encoded by Arrow and their distinct values
  sorted by Arrow directly.

Either way the codes and the sorted uniques equal ``factorize(sort=True)``'s
(byte order, which is Unicode code point order for UTF-8).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["arrow_strings", "factorize_strings"]

#: ``MASKS[n]`` keeps the ``n`` low bytes of a little-endian ``uint64``.
_MASKS = np.array(
    [(1 << (8 * n)) - 1 for n in range(8)] + [(1 << 64) - 1],
    dtype=np.uint64,
)


def arrow_strings(series: pd.Series) -> pa.ChunkedArray | None:
    """The Arrow string data behind ``series``, or None if it has none."""
    dtype = series.dtype
    storage = getattr(dtype, "storage", None)
    if not (isinstance(dtype, pd.ArrowDtype) or (storage == "pyarrow")):
        return None
    # The chunks themselves: pa.array(series.array) would concatenate them, which
    # fails past 2 GiB of text (handled by _one_chunk).
    data = getattr(series.array, "_pa_array", None)
    if not isinstance(data, pa.ChunkedArray):
        return None
    if not (pa.types.is_string(data.type) or pa.types.is_large_string(data.type)):
        return None
    return data


def factorize_strings(series: pd.Series, data: pa.ChunkedArray) -> tuple[np.ndarray, pd.Index]:
    """``series.factorize(sort=True)`` for a null-free Arrow string column.

    Parameters
    ----------
    series : pandas.Series
        The column, whose dtype the uniques keep.
    data : pyarrow.ChunkedArray
        Its string data (:func:`arrow_strings`), without nulls.

    Returns
    -------
    codes : numpy.ndarray
        ``intp`` codes, one per row.
    uniques : pandas.Index
        The distinct strings, sorted, with ``series``' dtype.
    """
    array = _one_chunk(data)
    if len(array) == 0:
        return np.zeros(0, dtype=np.intp), pd.Index(series.array[:0])
    keys = _packed(array)
    if keys is not None:
        encoded = pc.dictionary_encode(pa.array(keys, type=pa.uint64()))
        distinct = encoded.dictionary.to_numpy()
        order = _sort_order(distinct)
        uniques = _unpacked(distinct[order]).cast(array.type)
    else:
        encoded = pc.dictionary_encode(array)
        order = pc.array_sort_indices(encoded.dictionary).to_numpy()
        uniques = encoded.dictionary.take(pa.array(order))
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order), dtype=np.intp)
    codes = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    return codes, pd.Index(series.dtype.__from_arrow__(uniques))


def _one_chunk(data: pa.ChunkedArray) -> pa.Array:
    """The column as one array; past 2 GiB of text, with 64-bit offsets."""
    if data.num_chunks == 1:
        return data.chunk(0)
    try:
        return data.combine_chunks()
    except (pa.ArrowInvalid, pa.ArrowCapacityError):  # 32-bit offsets overflow
        return data.cast(pa.large_string()).combine_chunks()


def _packed(array: pa.Array) -> np.ndarray | None:
    """Each string's bytes as a little-endian ``uint64``, or None if some cannot be packed.

    Little-endian (each string's first byte lowest) is what one unaligned load
    gives; byte-swapped, the keys sort as the strings do (:func:`_sort_order`).
    """
    offset_type = np.int64 if pa.types.is_large_string(array.type) else np.int32
    buffers = array.buffers()
    offsets = np.frombuffer(buffers[1], dtype=offset_type)[
        array.offset : array.offset + len(array) + 1
    ]
    lengths = np.diff(offsets)
    shortest, longest = int(lengths.min()), int(lengths.max())
    if longest > 8:
        return None
    keys = np.zeros(len(array), dtype=np.uint64)
    if longest == 0:
        return keys  # every string is ""
    buffer = np.frombuffer(buffers[2], dtype=np.uint8)
    first, last = int(offsets[0]), int(offsets[-1])
    if not buffer[first:last].all():  # a NUL byte would pack like the padding
        return None
    starts = offsets[:-1]
    # Rows whose 8-byte word lies inside the buffer are loaded in place (every
    # byte offset viewed as the start of an unaligned word); the last few from a
    # zero-padded copy of the buffer's end.
    # (The bound in the offsets' own type: a Python int would make NumPy convert them all.)
    bound = starts.dtype.type(len(buffer) - 8)
    safe = int(np.searchsorted(starts, bound, side="right")) if len(buffer) >= 8 else 0
    if safe:
        words = np.ndarray((len(buffer) - 7,), dtype="<u8", buffer=buffer, strides=(1,))
        keys[:safe] = words[starts[:safe]]
    if safe < len(array):
        tail_start = int(starts[safe])
        tail = np.zeros(len(buffer) - tail_start + 8, dtype=np.uint8)
        tail[: len(buffer) - tail_start] = buffer[tail_start:]
        tail_words = np.ndarray((len(tail) - 7,), dtype="<u8", buffer=tail, strides=(1,))
        keys[safe:] = tail_words[starts[safe:] - tail_start]
    if shortest == longest:
        if longest < 8:
            keys &= _MASKS[longest]
    else:
        keys &= _MASKS[lengths]
    return keys


def _sort_order(keys: np.ndarray) -> np.ndarray:
    """The order that sorts packed keys as their strings sort (big-endian value order).

    A least-significant-digit radix sort on 16-bit digits (NumPy's stable sort
    of ``uint16`` is a counting sort): faster than ``argsort`` of ``uint64``.
    """
    big_endian = keys.byteswap()
    order = np.arange(len(keys))
    for shift in range(0, 64, 16):
        digit = (big_endian[order] >> np.uint64(shift)).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
    return order


def _unpacked(keys: np.ndarray) -> pa.Array:
    """The strings of packed keys (:func:`_packed`), as an Arrow ``string`` array."""
    # Each key's 8 bytes as one string, then the zero padding trimmed (the
    # strings themselves hold no NUL byte).
    raw = np.ascontiguousarray(keys, dtype="<u8").view(np.uint8)
    offsets = np.arange(0, len(raw) + 1, 8, dtype=np.int32)
    padded = pa.StringArray.from_buffers(len(keys), pa.py_buffer(offsets), pa.py_buffer(raw))
    return pc.utf8_rtrim(padded, characters="\x00")
