"""The doors that must never exist between the package's rooms.

Aggregation and agreement are pure computation (agreement builds on aggregation, never
the other way round); the bundled server never imports the client
side, and the client side never imports the bundled server. Checked on the
source with :mod:`ast`, so that a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pandas_toloka"

#: Rooms that are not the client side: the bundled server, the pure computations and
#: facts both sides share, and the console script (whose ``serve`` and ``demo`` join the
#: server and the client on purpose).
NOT_CLIENT_SIDE = frozenset(
    {
        "server",
        "aggregation",
        "agreement",
        "schema",
        "errors",
        "_protocol",
        "_version",
        "cli",
        "__main__",
    }
)
#: Every other module or sub-package is the client side, found rather than listed, so
#: that a new module is checked without anyone remembering to add it here.
CLIENT_SIDE = tuple(
    sorted(
        path.stem if path.is_file() else path.name
        for path in PACKAGE.iterdir()
        if (path.suffix == ".py" or (path / "__init__.py").is_file())
        and (path.stem if path.is_file() else path.name) not in NOT_CLIENT_SIDE
    )
)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    # room (module or sub-package)    -> modules it must not import (relative to the package, or top-level names)
    "aggregation": ("requests", "urllib3", "http", "socket", "server", "agreement", *CLIENT_SIDE),
    # agreement may use aggregation (majority vote, encoding) and errors, nothing with I/O
    "agreement": ("requests", "urllib3", "http", "socket", "server", *CLIENT_SIDE),
    "server": CLIENT_SIDE,
    **{name: ("server",) for name in CLIENT_SIDE},
}


def _imports(path: Path) -> set[str]:
    """Absolute dotted names imported by a module, relative imports resolved."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package_parts = module.split(".")[:-1]  # for __init__.py the "module" part is "__init__"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            found.add(stem)
            found.update(f"{stem}.{alias.name}" for alias in node.names)
    return found


def _room_files(room: str) -> list[Path]:
    directory = PACKAGE / room
    if directory.is_dir():
        return sorted(directory.rglob("*.py"))
    single = PACKAGE / f"{room}.py"
    return [single] if single.exists() else []


def _violations(room: str) -> list[str]:
    bad = []
    for path in _room_files(room):
        for name in _imports(path):
            for target in FORBIDDEN[room]:
                qualified = f"pandas_toloka.{target}"
                if any(name == t or name.startswith(t + ".") for t in (target, qualified)):
                    bad.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    return bad


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_no_forbidden_imports(room: str) -> None:
    assert _room_files(room), f"pandas_toloka.{room} is gone: update the rooms in this test"
    assert _violations(room) == []


DASK_NAMES = ("dask", "distributed", "pandas_toloka.dask")


def test_only_the_dask_layer_imports_dask() -> None:
    # The core runs without the [dask] extra: nothing outside pandas_toloka/dask/ imports
    # dask, distributed or the Dask layer itself.
    outside = [p for p in PACKAGE.rglob("*.py") if (PACKAGE / "dask") not in p.parents]
    bad = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in outside
        for name in _imports(path)
        if any(name == d or name.startswith(d + ".") for d in DASK_NAMES)
    ]
    assert bad == []
    assert any(
        "dask" in _imports(p) or "dask.dataframe" in _imports(p) for p in _room_files("dask")
    )


def test_the_client_side_is_found_not_listed() -> None:
    for module in ("client", "reader", "accessor", "_args", "_remote_aggregate", "__init__"):
        assert module in CLIENT_SIDE
    assert not NOT_CLIENT_SIDE & set(CLIENT_SIDE)


def test_the_checker_sees_relative_imports(tmp_path: Path) -> None:
    found = _imports(PACKAGE / "schema" / "_values.py")
    assert "pandas_toloka.errors.OutputValueError" in found
    assert "pyarrow" in found
