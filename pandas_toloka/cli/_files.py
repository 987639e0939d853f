"""How the CLI writes files: regular files only, atomically, never half-written.

A file is written under a hidden temporary name in its directory and renamed
over the target only when complete; on any failure, Ctrl-C or SIGTERM the
temporary file is removed. A target that exists but is not a regular file (a
directory, a FIFO, a device such as ``/dev/null``, a socket) is refused, so the
CLI never replaces one; a symbolic link is written through, as a shell's ``>``
does.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["PARQUET_SUFFIXES", "atomic_output", "not_a_directory", "not_writable", "wrong_suffix"]

#: File name suffixes of Parquet files the CLI accepts for ``-o``.
PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def wrong_suffix(path: Path) -> str | None:
    """Why ``path`` is not a name for a Parquet file (a suffix of another format), or None.

    A name without a suffix is accepted; ``.csv``, ``.json``, ``.xlsx``, ... are not,
    since the file would hold Parquet whatever its name says.
    """
    suffix = Path(path).suffix
    if not suffix or suffix.lower() in PARQUET_SUFFIXES:
        return None
    return (
        f"{path}: the output is always Parquet, not {suffix}; name the file with "
        f"{PARQUET_SUFFIXES[0]} (read it with pandas.read_parquet and convert it if you need "
        f"another format)."
    )


def not_writable(path: Path) -> str | None:
    """Why the file ``path`` cannot be written (checked before any work), or None."""
    path = Path(path)
    try:
        mode = path.stat().st_mode  # follows a symbolic link to what would be written
    except FileNotFoundError:
        mode = None
    except OSError as exc:  # a name too long, a loop of links, a component not a directory
        if isinstance(exc, NotADirectoryError):
            return _parent_problem(path)
        return f"{path}: {exc.strerror or exc}."
    if mode is not None and not stat.S_ISREG(mode):
        return (
            f"{path} is {_kind(mode)}; pandas-toloka writes only regular files: give the path "
            "of a file to write."
        )
    return _parent_problem(path)


def not_a_directory(path: Path) -> str | None:
    """Why ``path`` cannot be used as an output directory, or None."""
    path = Path(path)
    try:
        if path.exists() and not path.is_dir():
            return f"{path} exists and is not a directory; give a directory for the output files."
    except OSError as exc:
        return f"{path}: {exc.strerror or exc}."
    return _parent_problem(path / "x")


def _parent_problem(path: Path) -> str | None:
    directory = _directory_of(path)
    for parent in (directory, *directory.parents):
        if parent.exists():
            if not parent.is_dir():
                return f"{path}: {parent} is not a directory."
            if not os.access(parent, os.W_OK | os.X_OK):
                return f"{path}: cannot write in {parent} (permission denied)."
            return None
    return None  # pragma: no cover - the root always exists


def _directory_of(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` if the block succeeds.

    The file gets the permissions any new file gets (the umask), not the
    owner-only mode of a temporary file. On any exception -- including
    :class:`KeyboardInterrupt`, which SIGTERM raises in the CLI -- the temporary
    file is removed and ``path`` is left as it was.

    Raises
    ------
    OSError
        If ``path`` became something else than a regular file meanwhile
        (``IsADirectoryError`` or ``FileExistsError``), or writing failed.
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    directory = _directory_of(path)
    directory.mkdir(parents=True, exist_ok=True)
    tmp: Path | None = None
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        tmp = Path(name)
        os.close(handle)
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        problem = not_writable(path)  # it may have changed since the first check
        if problem is not None:
            raise FileExistsError(problem)
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
