"""Tests of the sorted factorization of Arrow string columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pandas_toloka.aggregation import _strings
from pandas_toloka.aggregation._strings import arrow_strings, factorize_strings

DTYPES = [
    pd.ArrowDtype(pa.string()),
    pd.ArrowDtype(pa.large_string()),
    pd.StringDtype("pyarrow"),
    # pandas 3's default string dtype; before pandas 3, "str" meant object.
    pytest.param(
        "str",
        marks=pytest.mark.skipif(
            pd.Series(["a"], dtype="str").dtype == object, reason="pandas < 3: 'str' is object"
        ),
    ),
]


def _check(series: pd.Series) -> None:
    data = arrow_strings(series)
    assert data is not None
    codes, uniques = factorize_strings(series, data)
    expected_codes, expected_uniques = series.factorize(sort=True)
    np.testing.assert_array_equal(codes, expected_codes)
    assert codes.dtype == np.intp
    assert uniques.dtype == series.dtype
    assert list(uniques) == list(expected_uniques)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "values",
    [
        ["b", "a", "", "ab", "a", "abcdefgh", "abcdefg", "é", "zz"],  # packed
        ["t10", "t9", "t100", "t1", "t10"],  # a prefix sorts first
        ["x" * n for n in (0, 3, 9, 12, 3, 0)],  # longer than 8 bytes: Arrow's own sort
        ["a\x00", "a", "\x00", "a"],  # NUL bytes would pack like the padding
        ["", ""],
        ["日本", "日", "本日", "ü", "u"],  # code point order = UTF-8 byte order
        ["abcdefgh", "abcdefgi", "abcdefgh"],  # all 8 bytes: no mask
        ["abc", "abd", "abb"],  # one length: one mask for all
    ],
)
def test_equals_pandas_factorize(values: list[str], dtype: object) -> None:
    _check(pd.Series(values, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES[:2])
def test_chunked_and_sliced_columns(dtype: object) -> None:
    chunks = pa.chunked_array([["b", "a", "c"], ["a", "zz", ""], ["q" * 9]])
    series = pd.Series(pd.arrays.ArrowExtensionArray(chunks))
    _check(series)
    _check(series.iloc[2:5])  # an offset into the buffers
    _check(pd.Series(["t1", "t22", "t333"] * 4, dtype=dtype).iloc[5:])


def test_the_last_rows_read_past_no_buffer_end() -> None:
    # A buffer exactly as long as its strings: the last words come from a padded copy.
    data = pa.py_buffer(b"abcdefgh" + b"ij" + b"k")
    offsets = pa.py_buffer(np.array([0, 8, 10, 11], dtype=np.int32).tobytes())
    array = pa.StringArray.from_buffers(3, offsets, data)
    _check(pd.Series(pd.arrays.ArrowExtensionArray(array)))


def test_other_columns_are_left_to_pandas() -> None:
    assert arrow_strings(pd.Series(["a", "b"], dtype=object)) is None
    assert arrow_strings(pd.Series([1, 2], dtype="int64[pyarrow]")) is None
    dictionary = pd.Series(pd.arrays.ArrowExtensionArray(pa.array(["a", "b"]).dictionary_encode()))
    assert arrow_strings(dictionary) is None
    assert arrow_strings(pd.Series(["a", "b"], dtype=pd.StringDtype("python"))) is None


def test_long_strings_take_the_arrow_path(monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(_strings, "_unpacked", lambda keys: calls.append(keys))
    _check(pd.Series(["a" * 9, "b"], dtype="string[pyarrow]"))
    assert calls == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=10), min_size=1, max_size=40))
def test_any_strings(values: list[str]) -> None:
    _check(pd.Series(values, dtype="string[pyarrow]"))


class _HugeChunks:
    """A two-chunk column whose text would overflow 32-bit offsets once combined."""

    num_chunks = 2

    def __init__(self, data: pa.ChunkedArray) -> None:
        self.data = data
        self.cast_to: pa.DataType | None = None

    def combine_chunks(self) -> pa.Array:
        raise pa.ArrowCapacityError("offset overflow while concatenating arrays")

    def cast(self, target: pa.DataType) -> pa.ChunkedArray:
        self.cast_to = target
        return self.data.cast(target)


def test_text_past_2_gib_is_combined_with_64_bit_offsets() -> None:
    # Arrow cannot concatenate string chunks holding more than 2 GiB of text in total:
    # the column is then combined as large_string (a real 2 GiB column is too big for a test).
    huge = _HugeChunks(pa.chunked_array([["b", "a"], ["c", "a"]]))
    combined = _strings._one_chunk(huge)  # type: ignore[arg-type]
    assert huge.cast_to == pa.large_string()
    assert combined.type == pa.large_string() and combined.to_pylist() == ["b", "a", "c", "a"]
    series = pd.Series(["b", "a", "c", "a"], dtype=pd.ArrowDtype(pa.string()))
    codes, uniques = factorize_strings(series, huge)  # type: ignore[arg-type]
    np.testing.assert_array_equal(codes, [1, 0, 2, 0])
    assert list(uniques) == ["a", "b", "c"] and uniques.dtype == series.dtype
