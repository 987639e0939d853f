"""Read Toloka's results export: the TSV the web interface downloads.

The export has one row per task of each assignment, its columns grouped by
prefix: ``INPUT:<field>``, ``OUTPUT:<field>``, ``GOLDEN:<field>`` (control and
training tasks), ``HINT:<...>`` (training tasks), ``ACCEPT:<...>`` (deferred
acceptance) and ``ASSIGNMENT:<...>`` (``link``, ``assignment_id``,
``task_id``, ``worker_id``, ``status``, ``started``, ``submitted``, ...), with
statuses spelled as the interface spells them (``APPROVED`` for the API's
``ACCEPTED``). :func:`read_assignments_tsv` turns it into the frame
:func:`~pandas_toloka.read_responses` returns, so that everything downstream
(``df.toloka.aggregate_locally``, golden tasks, plots, Parquet) works on it
unchanged.
"""

from __future__ import annotations

import logging
import mmap
import os
import re
import stat
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pandas.util import hash_array

from . import schema
from ._http.urls import api_path
from ._protocol import EXPORT_ASSIGNMENT_FIELDS, EXPORT_PATH, EXPORT_STATUSES
from ._read.args import check_statuses, id_text
from ._read.connect import client_scope
from .client import Client
from .errors import InvalidArgumentError, MissingColumnsError
from .schema import DtypeBackend, InputField, OutputField

__all__ = ["GOLDEN_PREFIX", "read_assignments_export", "read_assignments_tsv"]

logger = logging.getLogger(__name__)

GOLDEN_PREFIX = schema.GOLDEN_PREFIX
_ASSIGNMENT_TIMES = ("started", "submitted", "accepted", "rejected", "skipped", "expired")
_API_STATUS = {v: k for k, v in EXPORT_STATUSES.items()}
_BOM = b"\xef\xbb\xbf"
_LINK_POOL = re.compile(r"/task/(?P<pool>[^/?#]+)/")
_BLANK = re.compile(rb"[ \t\n\r\x0b\x0c]*")
#: Joins a row's input cells before hashing them into its task id.
_INPUT_SEPARATOR = "\x1f"
_KEY_PREFIX = b"inputs:"
#: Each byte value's two lowercase hex digits, as one 16-bit cell.
_HEX_PAIRS = np.frombuffer(b"".join(b"%02x" % i for i in range(256)), dtype=np.uint16)
_KEYS_PER_CHUNK = 1 << 22  # rows of one chunk of keys: its offsets stay 32-bit


def _read_bytes(path_or_buffer: str | os.PathLike[str] | IO[Any]) -> bytes | mmap.mmap:
    """The export's bytes: a regular file is mapped into memory, not copied."""
    if isinstance(path_or_buffer, (str, os.PathLike)):
        try:
            with open(path_or_buffer, "rb") as handle:
                info = os.fstat(handle.fileno())
                if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
                    return handle.read()  # a pipe (/dev/stdin, <(...)) or an empty file
                return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:
            raise InvalidArgumentError(f"Cannot read {os.fspath(path_or_buffer)!r}: {exc}") from exc
    if hasattr(path_or_buffer, "read"):
        data = path_or_buffer.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    raise InvalidArgumentError(
        "path_or_buffer must be a path or a file-like object opened for reading, got "
        f"{type(path_or_buffer).__name__}."
    )


def _parse(data: bytes | mmap.mmap) -> pa.Table:
    """Every cell as text (an empty cell is null), tabs and line breaks inside quotes kept."""
    start = len(_BOM) if data[: len(_BOM)] == _BOM else 0
    blank = _BLANK.match(data, start)
    if blank is None or blank.end() == len(data):
        raise InvalidArgumentError("The results export is empty: it has no header line.")
    header = _header(data, start)
    if len(set(header)) != len(header):
        duplicated = sorted({c for c in header if header.count(c) > 1})
        raise InvalidArgumentError(f"The results export has duplicate columns {duplicated}.")
    # Without a quote anywhere no cell can hold a line break: the reader may split
    # the file into blocks at line ends, which is faster.
    quoted = data.find(b'"', start) >= 0
    try:
        return pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data).slice(start)),
            parse_options=pacsv.ParseOptions(
                delimiter="\t", quote_char='"', double_quote=True, newlines_in_values=quoted
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise InvalidArgumentError(f"Cannot read the results export as TSV: {exc}") from exc


def _header(data: bytes | mmap.mmap, start: int) -> list[str]:
    """The header line's column names (the first line; names never hold tabs)."""
    end = data.find(b"\n", start)
    line = bytes(data[start:] if end < 0 else data[start:end]).rstrip(b"\r")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArgumentError(f"The results export is not UTF-8: {exc}") from exc
    return [name.strip('"') for name in text.split("\t")]


def _grouped(table: pa.Table) -> dict[str, dict[str, pa.Array]]:
    groups: dict[str, dict[str, pa.Array]] = {}
    for name, column in zip(table.column_names, table.columns):
        prefix, colon, rest = name.partition(":")
        if not colon or not rest:
            raise InvalidArgumentError(
                f"Column {name!r} is not a results-export column (INPUT:, OUTPUT:, GOLDEN:, "
                "HINT:, ACCEPT: or ASSIGNMENT: and a name); is this a Toloka results export?"
            )
        groups.setdefault(prefix.upper(), {})[rest] = column  # chunked: not copied
    unknown = sorted(set(groups) - {"INPUT", "OUTPUT", "GOLDEN", "HINT", "ACCEPT", "ASSIGNMENT"})
    if unknown:
        raise InvalidArgumentError(
            f"Unknown column group(s) {unknown} in the results export; it has INPUT:, OUTPUT:, "
            "GOLDEN:, HINT:, ACCEPT: and ASSIGNMENT: columns."
        )
    return groups


def _timestamps(texts: pa.Array, name: str) -> pa.Array:
    try:
        return schema.text_to_timestamps(texts)
    except ValueError as exc:
        raise InvalidArgumentError(f"Column ASSIGNMENT:{name} must hold datetimes: {exc}") from exc


def _fields(
    columns: Mapping[str, pa.Array],
    spec: Mapping[str, Any] | None,
    *,
    kind: type[OutputField] | type[InputField],
    what: str,
) -> tuple[dict[str, Any], list[str]]:
    """The fields of ``columns`` typed by ``spec``, or inferred (and which were inferred)."""
    if spec is not None:
        parsed = (schema.parse_output_spec if kind is OutputField else schema.parse_input_spec)(
            spec
        )
        missing = sorted(set(columns) - set(parsed))
        if missing:
            raise InvalidArgumentError(
                f"The results export has {what} column(s) {missing} that the {what.lower()} "
                f"spec does not declare ({list(parsed)})."
            )
        return {name: parsed[name] for name in columns}, []
    inferred = {
        name: kind(name, schema.infer_text_type(values)) for name, values in columns.items()
    }
    return inferred, list(inferred)


def read_assignments_tsv(
    path_or_buffer: str | os.PathLike[str] | IO[Any],
    *,
    pool_id: str | int | None = None,
    output_spec: Mapping[str, Any] | None = None,
    input_spec: Mapping[str, Any] | None = None,
    status: str | Sequence[str] | None = None,
    dtype_backend: DtypeBackend = "pyarrow",
) -> pd.DataFrame:
    """Read a results export downloaded from Toloka's web interface.

    Parameters
    ----------
    path_or_buffer : str, path object or file-like object
        The ``.tsv`` file (UTF-8, with or without a byte-order mark).
    pool_id : str or int, optional
        The pool the export belongs to; read from ``ASSIGNMENT:link`` when
        omitted.
    output_spec, input_spec : mapping, optional
        The project's ``task_spec.output_spec`` / ``input_spec``: the
        ``OUTPUT:``/``GOLDEN:`` and ``INPUT:`` columns are typed by them.
        Omitted, each column gets the narrowest of BOOLEAN, INTEGER, FLOAT
        and STRING that all its cells fit, and ``attrs["toloka"]`` lists the
        fields so inferred (``inferred_fields``).
    status : str, list of str or None, default None
        Keep rows of these assignment statuses (the API's names, or the
        export's ``APPROVED``); None keeps every row of the file.
    dtype_backend : {'pyarrow', 'numpy_nullable'}, default 'pyarrow'
        Back-end data type applied to the resultant :class:`DataFrame`.

    Returns
    -------
    DataFrame
        The columns of :func:`~pandas_toloka.read_responses`: ``pool_id``,
        ``task_id``, ``worker_id``, ``assignment_id``, ``status`` (the API's
        names: ``APPROVED`` becomes ``ACCEPTED``), ``submitted``, one column
        per output field; then one column per input field (named as the
        field, or ``input_values.<name>`` when that name is taken),
        ``golden.<field>`` per ``GOLDEN:`` column, ``hint`` (the ``HINT:``
        text), ``assignment.<name>`` for the other ``ASSIGNMENT:`` columns
        (times as UTC timestamps) and ``accept.<name>`` for ``ACCEPT:``.
        Without ``ASSIGNMENT:task_id`` (the default download lacks it) a task
        is known by its input values: ``task_id`` is ``"inputs:"`` and 16
        hexadecimal digits of a 64-bit hash of them (the same inputs give the
        same id in every file; see Notes), and
        ``attrs["toloka"]["task_ids_from_inputs"]`` is true.

    Raises
    ------
    InvalidArgumentError
        If the file cannot be read as a results export (a column outside the
        export's groups, duplicate columns, an unknown status, no pool id to
        be found), or ``status``/``dtype_backend`` is invalid.
    MissingColumnsError
        Without ``ASSIGNMENT:worker_id``, ``ASSIGNMENT:status`` or any
        ``OUTPUT:`` column.
    OutputValueError
        If a cell does not fit the type its spec declares.

    See Also
    --------
    read_responses : The same frame from the API.

    Notes
    -----
    A task id made from inputs hashes the row's ``INPUT:`` cells in the
    file's column order, joined by U+001F (an empty cell as empty text), with
    :func:`pandas.util.hash_array` (SipHash-2-4 with pandas' default key, then
    pandas' 64-bit mixing) and writes the 64 bits as big-endian hex.

    Examples
    --------
    >>> df = ptk.read_assignments_tsv("assignments_from_pool_36502086.tsv")  # doctest: +SKIP
    >>> df.toloka.aggregate_locally(type="DAWID_SKENE", fields="result")  # doctest: +SKIP
    """
    dtype_backend = schema.check_dtype_backend(dtype_backend)
    wanted = check_statuses(status)
    pool_text = None if pool_id is None else str(pool_id).strip()
    if pool_text == "":
        raise InvalidArgumentError("pool_id must not be empty.")
    return _export_frame(
        _read_bytes(path_or_buffer),
        pool_text=pool_text,
        output_spec=output_spec,
        input_spec=input_spec,
        wanted=wanted,
        dtype_backend=dtype_backend,
    )


def _export_frame(
    data: bytes | mmap.mmap,
    *,
    pool_text: str | None,
    output_spec: Mapping[str, Any] | None,
    input_spec: Mapping[str, Any] | None,
    wanted: tuple[str, ...] | None,
    dtype_backend: DtypeBackend,
) -> pd.DataFrame:
    """The bytes of a results export -> the frame of :func:`read_assignments_tsv`."""
    groups = _grouped(_parse(data))
    assignment = groups.get("ASSIGNMENT", {})
    outputs = groups.get("OUTPUT", {})
    missing = [f"ASSIGNMENT:{c}" for c in ("worker_id", "status") if c not in assignment]
    if not outputs:
        missing.append("OUTPUT:<field>")
    if missing:
        present = [f"{g}:{c}" for g, cols in groups.items() for c in cols]
        raise MissingColumnsError(
            missing, present, purpose="in a results export", source="The results export"
        )
    n = len(assignment["worker_id"])

    statuses = assignment["status"]
    known = pc.is_in(statuses, value_set=pa.array(list(_API_STATUS)))
    if not pc.all(pc.fill_null(known, False), min_count=0).as_py():
        index = pc.index(pc.fill_null(known, False), False).as_py()
        raise InvalidArgumentError(
            f"Row {index} of the results export has status {statuses[index].as_py()!r}; "
            f"the export's statuses are {list(_API_STATUS)}."
        )
    api_status = pc.take(
        pa.array(list(_API_STATUS.values())),
        pc.index_in(statuses, value_set=pa.array(list(_API_STATUS))),
    )

    if pool_text is None:
        pool_text = _pool_from_links(assignment.get("link"))
    kwargs: dict[str, Any] = {
        "n": n,
        "api_status": api_status,
        "pool_text": pool_text,
        "output_spec": output_spec,
        "input_spec": input_spec,
        "wanted": wanted,
        "dtype_backend": dtype_backend,
    }
    inputs = groups.get("INPUT", {})
    given = _given_task_ids(assignment.get("task_id"), inputs)
    if given is not None:
        return _export_columns(groups, given, None, **kwargs)
    # The ids hashed from the inputs on a thread while the columns are converted here
    # (pyarrow lets go of the GIL); an error naming a task waits for them.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pandas-toloka-ids") as pool:
        hashing = pool.submit(_input_keys, list(inputs.values()))
        return _export_columns(groups, _PendingIds(hashing), hashing, **kwargs)


def _export_columns(
    groups: dict[str, dict[str, pa.ChunkedArray]],
    task_ids: pa.ChunkedArray | _PendingIds,
    hashing: Future[pa.Array] | None,
    *,
    n: int,
    api_status: pa.ChunkedArray,
    pool_text: str,
    output_spec: Mapping[str, Any] | None,
    input_spec: Mapping[str, Any] | None,
    wanted: tuple[str, ...] | None,
    dtype_backend: DtypeBackend,
) -> pd.DataFrame:
    """The checked groups of an export, typed into the frame (``hashing``: ids on a thread)."""
    assignment = groups.get("ASSIGNMENT", {})
    outputs = groups["OUTPUT"]
    inputs = groups.get("INPUT", {})
    from_inputs = hashing is not None
    input_fields, inferred_inputs = _fields(inputs, input_spec, kind=InputField, what="INPUT")
    output_fields, inferred_outputs = _fields(outputs, output_spec, kind=OutputField, what="OUTPUT")
    golden = groups.get("GOLDEN", {})
    unknown_golden = sorted(set(golden) - set(output_fields))
    if unknown_golden:
        raise InvalidArgumentError(
            f"GOLDEN: column(s) {unknown_golden} name no OUTPUT: column of the export."
        )

    columns: dict[str, pa.Array] = {
        "pool_id": pa.repeat(pa.scalar(pool_text, pa.string()), n),
        "task_id": task_ids,
        "worker_id": assignment["worker_id"],
        "assignment_id": assignment.get("assignment_id", pa.nulls(n, pa.string())),
        "status": api_status,
        "submitted": _timestamps(assignment["submitted"], "submitted")
        if "submitted" in assignment
        else pa.nulls(n, schema.SUBMITTED_TYPE),
    }
    for name, field in output_fields.items():
        column = schema.result_column_name(name, schema.RESPONSES_META_COLUMNS)
        columns[column] = schema.text_to_arrow(outputs[name], field, task_ids=task_ids)
    for name, field in input_fields.items():
        column = name if name not in columns else "input_values." + name
        columns[column] = schema.text_to_arrow(inputs[name], field, task_ids=task_ids)
    for name, values in golden.items():
        columns[GOLDEN_PREFIX + name] = schema.text_to_arrow(
            values, output_fields[name], task_ids=task_ids
        )
    hints = groups.get("HINT", {})
    if hints:
        joined = list(hints.values())
        columns["hint"] = joined[0] if len(joined) == 1 else pc.coalesce(*joined)
    for name, values in assignment.items():
        if name in ("worker_id", "status", "task_id", "assignment_id", "submitted"):
            continue
        if name in _ASSIGNMENT_TIMES:
            values = _timestamps(values, name)
        elif name == "reward":
            values = schema.text_to_arrow(values, OutputField("reward", "FLOAT"))
        columns["assignment." + name] = values
    for name, values in groups.get("ACCEPT", {}).items():
        columns["accept." + name] = values
    if hashing is not None:
        columns["task_id"] = hashing.result()

    table = pa.table(columns)
    if wanted is not None:
        keep = pc.is_in(table.column("status"), value_set=pa.array(list(wanted)))
        table = table.filter(keep)
        logger.info(
            "results export: kept %d of %d rows (status %s)", table.num_rows, n, list(wanted)
        )
    inferred = inferred_outputs + [f"INPUT:{name}" for name in inferred_inputs]
    if inferred:
        logger.info("results export: types inferred from the cells for %s", inferred)
    frame = schema.to_pandas(table, dtype_backend=dtype_backend)
    frame.attrs[schema.ATTRS_KEY] = schema.make_provenance(
        "results_export",
        pool_id=pool_text,
        status=None if wanted is None else list(wanted),
        output_spec={name: f.to_spec() for name, f in output_fields.items()},
        input_spec={name: f.to_spec() for name, f in input_fields.items()},
        inferred_fields=inferred,
        task_ids_from_inputs=from_inputs,
    )
    return frame


def _pool_from_links(links: pa.Array | None) -> str:
    """The pool named in ``ASSIGNMENT:link`` (``…/task/<pool_id>/<assignment_id>``)."""
    if links is not None:
        links = links.drop_null()
        first = next(
            (m for m in map(_LINK_POOL.search, links.slice(0, 1000).to_pylist()) if m), None
        )
        if first is not None:  # the usual file: every link starts as the first one does
            prefix = first.string[: first.end()]
            if pc.all(pc.starts_with(links, prefix)).as_py():
                return first.group(1)
        found = pc.struct_field(pc.extract_regex(links, _LINK_POOL.pattern), [0])
        pools = sorted(p for p in pc.unique(found).to_pylist() if p is not None)
        if len(pools) == 1:
            return pools[0]
        if len(pools) > 1:
            raise InvalidArgumentError(
                f"The results export's links name several pools {pools}; pass pool_id=."
            )
    raise InvalidArgumentError(
        "The results export does not say its pool (no ASSIGNMENT:link column); pass pool_id=."
    )


def _given_task_ids(
    ids: pa.ChunkedArray | None, inputs: Mapping[str, pa.ChunkedArray]
) -> pa.ChunkedArray | None:
    """The file's task ids; None when they are to be made from the inputs."""
    if ids is not None:
        if ids.null_count:
            row = pc.index(ids.is_null(), True).as_py()
            raise InvalidArgumentError(
                f"ASSIGNMENT:task_id is empty in row {row}; ids are required."
            )
        return ids
    if not inputs:
        raise MissingColumnsError(
            ["ASSIGNMENT:task_id"],
            [],
            purpose="without INPUT: columns (a task is known by its id or its inputs)",
            source="The results export",
        )
    return None


class _PendingIds:
    """Task ids still being hashed: indexing waits for them (only to name a task in an error)."""

    def __init__(self, future: Future[pa.Array]) -> None:
        self._future = future

    def __len__(self) -> int:
        return len(self._future.result())

    def __getitem__(self, index: int) -> Any:
        return self._future.result()[index]


def _input_keys(columns: Sequence[pa.Array]) -> pa.Array:
    """A task's key made from its input cells: ``"inputs:"`` and 16 hexadecimal digits.

    The cells of a row (in the file's column order, an empty cell as empty
    text) are joined by U+001F; the key is the 64-bit
    :func:`pandas.util.hash_array` of that text's UTF-8 bytes (SipHash-2-4
    with pandas' default key, then pandas' 64-bit mixing), big-endian hex. The
    same inputs give the same key in every file, run and version.
    """
    if len(columns) == 1:
        joined = pc.fill_null(columns[0], "")
    else:
        joined = pc.binary_join_element_wise(
            *columns, _INPUT_SEPARATOR, null_handling="replace", null_replacement=""
        )
    if isinstance(joined, pa.Array):
        joined = pa.chunked_array([joined])
    raw = joined.cast(pa.binary()).to_numpy()  # bytes objects: nothing to encode
    hashes = hash_array(raw, categorize=False)
    return pa.chunked_array(
        [
            _hex_keys(hashes[start : start + _KEYS_PER_CHUNK])
            for start in range(0, len(hashes), _KEYS_PER_CHUNK)
        ],
        pa.string(),
    )


def _hex_keys(hashes: np.ndarray) -> pa.Array:
    """``"inputs:"`` and each 64-bit hash in 16 hex digits, built as one string buffer."""
    width = len(_KEY_PREFIX) + 16
    cells = np.empty((len(hashes), width), dtype=np.uint8)
    cells[:, : len(_KEY_PREFIX)] = np.frombuffer(_KEY_PREFIX, dtype=np.uint8)
    octets = hashes.astype(">u8").view(np.uint8).reshape(-1, 8)
    cells[:, len(_KEY_PREFIX) :] = _HEX_PAIRS[octets].view(np.uint8).reshape(-1, 16)
    offsets = np.arange(0, width * (len(hashes) + 1), width, dtype=np.int32)
    return pa.StringArray.from_buffers(len(hashes), pa.py_buffer(offsets), pa.py_buffer(cells))


def read_assignments_export(
    pool_id: str | int,
    *,
    status: str | Sequence[str] | None = "ACCEPTED",
    client: Client | None = None,
    token: str | None = None,
    environment: str | None = None,
    url: str | None = None,
    output_spec: Mapping[str, Any] | None = None,
    input_spec: Mapping[str, Any] | None = None,
    dtype_backend: DtypeBackend = "pyarrow",
) -> pd.DataFrame:
    """Download a pool's results export from the API and read it as :func:`read_assignments_tsv`.

    ``GET /new/requester/pools/{pool_id}/assignments.tsv``: the TSV the web
    interface downloads, asked for with every ``ASSIGNMENT:`` column
    (``field=``, ``ASSIGNMENT:task_id`` included), parsed by the same code as
    a downloaded file.

    Parameters
    ----------
    pool_id : str or int
        The pool to export.
    status : str, list of str or None, default "ACCEPTED"
        The assignment statuses to export, by the API's names (``ACCEPTED``,
        ``REJECTED``, ...; the export's ``APPROVED`` is accepted too); they are
        asked for by the export's names (``APPROVED``). None exports every status.
    client : Client, optional
        The client to use; otherwise one is built from ``token``,
        ``environment`` and ``url`` as :func:`read_aggregated_solutions` does.
    token, environment, url : str, optional
        Credentials and target, when ``client`` is not given.
    output_spec, input_spec : mapping, optional
        The project's specs typing the ``OUTPUT:``/``GOLDEN:`` and ``INPUT:``
        columns; read from the pool's project when either is omitted.
    dtype_backend : {'pyarrow', 'numpy_nullable'}, default 'pyarrow'
        Back-end data type applied to the resultant :class:`DataFrame`.

    Returns
    -------
    DataFrame
        As :func:`read_assignments_tsv` returns it, with Toloka's task ids (the
        ones :func:`read_responses` gives; ``attrs["toloka"]["task_ids_from_inputs"]``
        is false) and every ``ASSIGNMENT:`` column (``assignment.started``,
        ``assignment.accepted``, ..., ``assignment.reward``). Control tasks
        carry ``golden.<field>`` columns, which ``golden="pool"`` of
        :meth:`DataFrame.toloka.aggregate_locally` uses without a request. A
        server that answers without ``ASSIGNMENT:task_id`` gets task ids made
        from the inputs, as :func:`read_assignments_tsv` does.

    Raises
    ------
    InvalidArgumentError
        If an argument is invalid (before any request), or the answer cannot
        be read as a results export.
    TolokaApiError
        If the API answers with an error (e.g. :class:`NotFoundError`).

    See Also
    --------
    read_assignments_tsv : The same, from a downloaded file.
    read_responses : The answers from ``GET /assignments``, with the API's task ids.

    Examples
    --------
    >>> df = ptk.read_assignments_export("36502086", url="http://127.0.0.1:8000")  # doctest: +SKIP
    """
    pool = id_text(pool_id, name="pool_id")
    wanted = check_statuses(status)
    backend = schema.check_dtype_backend(dtype_backend)
    asked = list(EXPORT_STATUSES) if wanted is None else list(wanted)
    params = {
        "status": ",".join(EXPORT_STATUSES[s] for s in asked),
        "field": ",".join(EXPORT_ASSIGNMENT_FIELDS),  # task_id included: the default lacks it
        "addRowDelimiter": "false",
    }
    path = EXPORT_PATH.format(pool_id=api_path("pools", pool).rsplit("/", 1)[1])
    with client_scope(client, token=token, environment=environment, url=url) as resolved:
        if output_spec is None or input_spec is None:
            served_inputs, served_outputs = resolved.get_task_spec(pool)
            input_spec = served_inputs if input_spec is None else input_spec
            output_spec = served_outputs if output_spec is None else output_spec
        data = resolved.get_document(path, params=params)
    logger.info("pool %s: results export of %d bytes", pool, len(data))
    return _export_frame(
        data,
        pool_text=pool,
        output_spec=output_spec,
        input_spec=input_spec,
        wanted=wanted,
        dtype_backend=backend,
    )
