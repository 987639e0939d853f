"""How the CLI writes files (``cli/_files.py``): permissions kept, the umask left alone."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from pandas_toloka.cli._files import atomic_output


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _replace(path: Path, data: bytes) -> None:
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o604])
def test_a_replaced_file_keeps_its_permissions(tmp_path: Path, umask_022: None, mode: int) -> None:
    out = tmp_path / "out.parquet"
    out.write_bytes(b"old")
    out.chmod(mode)
    _replace(out, b"new")
    assert out.read_bytes() == b"new"
    assert _mode(out) == mode  # a 0600 file is not widened to the umask's 0644


def test_a_file_replaced_through_a_link_keeps_the_target_s_permissions(
    tmp_path: Path, umask_022: None
) -> None:
    target = tmp_path / "target.parquet"
    target.write_bytes(b"old")
    target.chmod(0o600)
    link = tmp_path / "link.parquet"
    link.symlink_to(target)
    _replace(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new" and _mode(target) == 0o600


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_a_new_file_gets_the_umask_without_the_umask_being_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: int, expected: int
) -> None:
    """``os.umask`` sets the process-wide mask to read it: racy with other threads."""
    old = os.umask(umask)
    try:

        def no_umask(mask: int) -> int:
            raise AssertionError("atomic_output changed the process-wide umask")

        monkeypatch.setattr(os, "umask", no_umask)
        out = tmp_path / "new.parquet"
        _replace(out, b"new")
    finally:
        monkeypatch.undo()
        os.umask(old)
    assert _mode(out) == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.parquet"]


def test_a_failure_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    out.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_output(out) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("writing failed")
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"]
