"""The doors that must never exist between the package's rooms.

Aggregation and agreement are pure computation (agreement builds on aggregation; the
aggregation report imports agreement's modules, never its package, so no cycle forms); the bundled server never imports the client side, and the client
side never imports the bundled server; no module imports itself back through others (no
import cycles). Checked on the source with :mod:`ast`, so that a lazy import inside a
function counts too.
"""

from __future__ import annotations

import ast
import re
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
#: The client side's private rooms, by pipeline stage (DEVELOPERS.md, "Module map"):
#: requests and answers, reading pages and operations, what ``df.toloka`` does to a frame.
CLIENT_ROOMS = ("_http", "_read", "_frame")
FORBIDDEN: dict[str, tuple[str, ...]] = {
    # room (module or sub-package)    -> modules it must not import (relative to the package, or top-level names)
    "aggregation": ("requests", "urllib3", "http", "socket", "server", *CLIENT_SIDE),
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
    for module in ("client", "reader", "accessor", *CLIENT_ROOMS, "__init__"):
        assert module in CLIENT_SIDE
    assert not NOT_CLIENT_SIDE & set(CLIENT_SIDE)


def test_the_client_rooms_hold_the_private_modules() -> None:
    # The top level holds the public modules and the rooms: a new private client module
    # goes into the room of its stage, not next to the public ones.
    for room in CLIENT_ROOMS:
        assert (PACKAGE / room / "__init__.py").is_file(), f"pandas_toloka.{room} is gone"
    flat = sorted(
        path.name
        for path in PACKAGE.glob("_*.py")
        if path.stem not in {"__init__", "__main__", "_version", "_protocol", "_config"}
    )
    assert flat == []


def test_the_checker_sees_relative_imports(tmp_path: Path) -> None:
    found = _imports(PACKAGE / "schema" / "_values.py")
    assert "pandas_toloka.errors.OutputValueError" in found
    assert "pyarrow" in found


def test_the_module_map_matches_the_tree() -> None:
    # DEVELOPERS.md's module map names every top-level module and room, and every module
    # of the client rooms, as the tree has them (and nothing the tree no longer has).
    text = (PACKAGE.parent / "DEVELOPERS.md").read_text(encoding="utf-8")
    block = text.split("## Module map", 1)[1].split("```", 2)[1]
    entries = re.findall(r"^( *)(\S+(?:\.py|/))", block, flags=re.MULTILINE)
    top = {name for indent, name in entries if len(indent) == 2}
    expected_top = {
        path.name if path.is_file() else path.name + "/"
        for path in PACKAGE.iterdir()
        if path.suffix == ".py" or (path / "__init__.py").is_file()
    }
    assert top == expected_top
    in_rooms = {name for indent, name in entries if len(indent) == 4}
    expected_rooms = {
        path.name for room in CLIENT_ROOMS for path in (PACKAGE / room).glob("[!_]*.py")
    }
    assert in_rooms == expected_rooms


# ---------------------------------------------------------------------------------------
# No import cycles


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _module_imports(path: Path) -> set[str]:
    """The package's modules a module imports (lazy and TYPE_CHECKING imports count).

    ``from package import name`` is an edge to ``package.name`` when that is a module,
    else to ``package`` (whose ``__init__`` defines the name).
    """
    name = _module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    edges = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            edges.update(alias.name for alias in node.names if alias.name in MODULES)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            for alias in node.names:
                if f"{stem}.{alias.name}" in MODULES:
                    edges.add(f"{stem}.{alias.name}")
                elif stem in MODULES:
                    edges.add(stem)
    edges.discard(name)
    return edges


def _cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            step = next(successors, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph.get(step, ())))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(tuple(sorted(component)))
    return sorted(found)


#: Cycles known and being removed elsewhere; a cycle not listed here fails the test.
#: Empty: the server's two (_http <-> _httpd, _loader <-> _server) are gone.
KNOWN_CYCLES: frozenset[tuple[str, ...]] = frozenset()


def test_no_import_cycles() -> None:
    graph = {name: _module_imports(path) for name, path in MODULES.items()}
    assert set(_cycles(graph)) == KNOWN_CYCLES


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e", "d"}}
    assert _cycles(graph) == [("a", "b", "c")]
    assert _cycles({"x": {"y"}, "y": {"x"}, "z": {"x"}}) == [("x", "y")]
    assert _cycles({"x": {"y"}, "y": set()}) == []


def test_the_import_graph_sees_lazy_and_package_imports() -> None:
    # cli.demo_data imports the demo inside a function; client imports from the _http room.
    assert "pandas_toloka.server.demo" in _module_imports(PACKAGE / "cli" / "demo_data.py")
    assert "pandas_toloka._http.transport" in _module_imports(PACKAGE / "client.py")
