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
import secrets
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "PARQUET_SUFFIXES",
    "RefusedPathError",
    "atomic_output",
    "not_a_directory",
    "not_writable",
    "remove_temporaries",
    "staged_directory",
    "temporary_name",
    "wrong_suffix",
]

#: File name suffixes of Parquet files the CLI accepts for ``-o``.
PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


#: Hidden files and folders being written, removed by :func:`remove_temporaries` if the
#: process must exit at once (a second Ctrl-C skips every ``finally``).
_temporaries: set[Path] = set()
_temporaries_lock = threading.Lock()


def remove_temporaries() -> None:
    """Remove the hidden temporary files and folders still being written (best effort)."""
    with _temporaries_lock:
        paths = list(_temporaries)
        _temporaries.clear()
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _track(path: Path | None, *, keep: bool) -> None:
    if path is None:
        return
    with _temporaries_lock:
        if keep:
            _temporaries.add(path)
        else:
            _temporaries.discard(path)


class RefusedPathError(FileExistsError):
    """A path the CLI will not write: it exists and is not a regular file (the message says why)."""


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


def not_writable(path: Path, *, parents: bool = False) -> str | None:
    """Why the file ``path`` cannot be written (checked before any work), or None.

    Checked where the file will really be written -- through a symbolic link,
    as the writer follows it: the target is a regular file or absent; its
    folder exists (or, with ``parents``, can be created: a missing folder is
    never created through a symbolic link) and is writable; its name and the
    hidden temporary name written first both fit the file system's limit.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode  # follows a symbolic link to what would be written
    except FileNotFoundError:
        mode = None
    except OSError as exc:  # a name too long, a loop of links, a component not a directory
        if isinstance(exc, NotADirectoryError):
            return _parent_problem(path, path, parents=parents)
        return f"{path}: {exc.strerror or exc}."
    if mode is not None and not stat.S_ISREG(mode):
        return (
            f"{path} is {_kind(mode)}; pandas-toloka writes only regular files: give the path "
            "of a file to write."
        )
    target = _followed(path)
    return (
        _parent_problem(path, target, parents=parents)
        or _name_problem(path, target)
        or _probe_problem(path, target)
    )


def _probe_problem(path: Path, target: Path) -> str | None:
    """Create and remove the temporary file where it will be written: what fails, fails now.

    Permission bits do not tell everything (a read-only mount, a folder
    where nothing can be created, an administrator's process): trying does.
    A folder still missing (created with ``--parents``) is not tried.
    """
    directory = _directory_of(target)
    if not directory.is_dir():
        return None
    try:
        _create_temporary(directory, target.name).unlink()
    except OSError as exc:
        where = "" if target == path else f" (where the symbolic link {path} points)"
        return f"{path}: cannot create a file in {directory}{where}: {exc.strerror or exc}."
    return None


def _followed(path: Path) -> Path:
    """Where writing ``path`` writes: through its symbolic links, dangling ones included."""
    if not path.is_symlink():
        return path
    return Path(os.path.realpath(path))


def temporary_name(name: str, tag: str = "0" * 8) -> str:
    """The hidden name :func:`atomic_output` writes before renaming it to ``name``."""
    return f".{name}.{tag}.tmp"


def _name_problem(path: Path, target: Path) -> str | None:
    directory = _directory_of(target)
    limit = 255
    for folder in (directory, *directory.parents):
        try:
            limit = os.pathconf(folder, "PC_NAME_MAX")
            break
        except (OSError, ValueError):
            continue
    longest = len(os.fsencode(temporary_name(target.name)))
    if longest <= limit:
        return None
    room = limit - (longest - len(os.fsencode(target.name)))
    return (
        f"{path}: the name {target.name[:40]}... is {len(os.fsencode(target.name))} bytes; "
        f"with the hidden temporary name written first it passes the file system's limit of "
        f"{limit} bytes: use a name of at most {room} bytes."
    )


def _parent_problem(path: Path, target: Path, *, parents: bool = False) -> str | None:
    directory = _directory_of(target)
    for parent in (directory, *directory.parents):
        if parent.exists():
            if not parent.is_dir():
                return f"{path}: {parent} is not a directory."
            if not os.access(parent, os.W_OK | os.X_OK):
                where = "" if target == path else f" (where the symbolic link {path} points)"
                return f"{path}: cannot write in {parent}{where} (permission denied)."
            return None
        if parent.is_symlink():
            return (
                f"{path}: {parent} is a symbolic link to a folder that does not exist; "
                "pandas-toloka never creates folders through a symbolic link: create it first."
            )
        if target != path:
            return (
                f"{path} is a symbolic link into {directory}, which does not exist; "
                "pandas-toloka never creates folders through a symbolic link: create it first."
            )
        if not parents:
            return (
                f"{path}: the folder {directory} does not exist; create it, or pass --parents "
                "to create the missing folders."
            )
    return None  # pragma: no cover - the root always exists


def not_a_directory(path: Path) -> str | None:
    """Why ``path`` cannot be used as an output directory, or None."""
    path = Path(path)
    try:
        if path.exists() and not path.is_dir():
            return f"{path} exists and is not a directory; give a directory for the output files."
    except OSError as exc:
        return f"{path}: {exc.strerror or exc}."
    return _parent_problem(path / "x", path / "x", parents=True)


def _directory_of(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _create_temporary(directory: Path, name: str) -> Path:
    """Create an empty, new, hidden file next to the target, as any new file is created.

    Mode 0o666 is passed to ``open(2)``, so the kernel applies the umask (and a
    default ACL of the directory) itself: the process-wide umask is never read
    or changed (``os.umask`` sets it to read it, which races with other threads).
    ``O_EXCL`` makes the name ours; a collision picks another name.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = directory / temporary_name(name, secrets.token_hex(4))
        try:
            os.close(os.open(tmp, flags, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"{directory}: no free temporary name for {name}")


def _keep_mode(tmp: Path, path: Path) -> None:
    """Give ``tmp`` the permissions of the file it replaces, if there is one.

    Replacing a file must not widen (or narrow) who may read it: a 0600 file
    stays 0600. A new file keeps the mode it was created with.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode):
        os.chmod(tmp, stat.S_IMODE(mode))


@contextmanager
def atomic_output(path: Path, *, parents: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` if the block succeeds.

    A file that is replaced keeps its permissions; a new file gets those any
    new file gets (the umask), not the owner-only mode of a temporary file
    (:func:`tempfile.mkstemp`'s). Missing folders are created only with
    ``parents`` (and never through a symbolic link). On any exception -- including
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
    elif parents:
        _directory_of(path).mkdir(parents=True, exist_ok=True)
    directory = _directory_of(path)
    tmp: Path | None = None
    try:
        tmp = _create_temporary(directory, path.name)
        _track(tmp, keep=True)
        yield tmp
        _keep_mode(tmp, path)
        problem = not_writable(path)  # it may have changed since the first check
        if problem is not None:
            raise FileExistsError(problem)
        os.replace(tmp, path)
        _track(tmp, keep=False)
        tmp = None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
            _track(tmp, keep=False)


@contextmanager
def staged_directory(root: Path) -> Iterator[Path]:
    """Yield a hidden empty directory inside ``root``; then move what was written there into ``root``.

    Nothing is opened in ``root`` while the files are written, so a named pipe
    in the way cannot block the writer (pyarrow retries an interrupted
    ``open`` without returning to Python: Ctrl-C could not stop it). Once the
    block succeeds, every file's place in ``root`` is checked *before* any is
    moved: a non-regular one (a FIFO, a device, a directory) raises
    :class:`RefusedPathError` and nothing in ``root`` changes. Files then
    replace their namesakes one by one (each rename is atomic), keeping a
    replaced file's permissions. The hidden directory is always removed.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".pandas-toloka-", suffix=".tmp", dir=root))
    _track(stage, keep=True)
    try:
        yield stage
        moves = [
            (staged, root / staged.relative_to(stage))
            for staged in sorted(stage.rglob("*"))
            if not staged.is_dir()
        ]
        problems = [
            problem for _, target in moves if (problem := not_writable(target, parents=True))
        ]
        if problems:
            raise RefusedPathError(" ".join(problems))
        for staged, target in moves:
            target.parent.mkdir(parents=True, exist_ok=True)
            _keep_mode(staged, target)
            os.replace(staged, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        _track(stage, keep=False)
