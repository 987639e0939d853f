"""The Python examples of README.md and docs/*.md run as written, and the docs' generated pages.

The examples name the pools the Toloka documentation uses (``36502086``, skill
``11294``) and take the token and server from the environment, so each runs
against a bundled server serving what ``pandas-toloka serve`` serves, with
``TOLOKA_URL`` and ``TOLOKA_API_KEY`` set; files they write land in a
temporary directory. (docs/accessor.md's example runs in ``test_accessor.py``.)
"""

from __future__ import annotations

import importlib
import re
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from docs_snippets import ROOT, code_blocks, run_block

from pandas_toloka.server import LocalTolokaServer, add_demo_pools, demo_pools, make_demo_data

POOL_ID = "36502086"


@pytest.fixture(scope="module")
def served() -> Iterator[LocalTolokaServer]:
    """What ``pandas-toloka serve`` serves without ``--data``: Toloka's example pools among them."""
    with LocalTolokaServer() as server:
        add_demo_pools(server)
        yield server


@pytest.fixture
def docs_env(
    served: LocalTolokaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> LocalTolokaServer:
    monkeypatch.setenv("TOLOKA_URL", served.url)
    monkeypatch.setenv("TOLOKA_API_KEY", served.token)
    monkeypatch.delenv("TOLOKA_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    return served


def _check_result(df: Any) -> None:
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["pool_id", "task_id", "confidence", "result"]
    assert len(df) > 0 and df["result"].notna().all()
    assert df.attrs["toloka"]["pool_id"] == POOL_ID


def test_readme_example(docs_env: LocalTolokaServer, tmp_path: Path) -> None:
    (block,) = code_blocks("README.md")
    namespace = run_block(block, source="README.md")
    df = namespace["df"]
    _check_result(df)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "aggregated.parquet"), df)
    out = namespace["out"]
    assert len(out) == 20 and out["result"].notna().all()
    assert list(out.columns) == ["pool_id", "task_id", "confidence", "result"]
    assert len(namespace["local"]) == len(df)


def test_index_example(docs_env: LocalTolokaServer) -> None:
    (block,) = code_blocks("docs/index.md")
    _check_result(run_block(block, source="docs/index.md")["df"])


def test_getting_started_script(
    docs_env: LocalTolokaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script, by_task = code_blocks("docs/getting-started.md")
    namespace = run_block(script, source="docs/getting-started.md")
    _check_result(namespace["df"])
    assert (tmp_path / "aggregated.parquet").exists()
    assert list(namespace["wdo"].columns) == ["pool_id", "task_id", "confidence", "result", "sure"]
    assert "same answers as the server: 1.0" in capsys.readouterr().out
    answers = run_block(by_task, source="docs/getting-started.md")["answers"]
    assert len(answers) == 1 and answers["result"].iloc[0] in ("OK", "BAD")


def test_local_aggregation_page_names_every_local_method() -> None:
    from pandas_toloka.aggregation import LOCAL_METHODS

    page = (ROOT / "docs" / "local-aggregation.md").read_text(encoding="utf-8")
    assert all(f'`"{method}"`' in page for method in LOCAL_METHODS)


def test_local_aggregation_example() -> None:
    block, golden_block, inputs_block, dropped = code_blocks("docs/local-aggregation.md")
    counted = run_block(dropped, source="docs/local-aggregation.md")
    assert str(counted["warning"].message) == (
        "aggregate_locally: dropped 2 of 6 response(s): 1 not of status ['ACCEPTED'], "
        "1 without an answer in ['result']."
    )
    namespace = run_block(block, source="docs/local-aggregation.md")
    assert namespace["votes"]["label"].tolist() == ["cat", "dog", "cat"]
    assert namespace["em"]["label"].tolist() == ["cat", "dog", "cat"]
    assert list(namespace["out"].columns) == ["pool_id", "task_id", "confidence", "label"]
    assert namespace["quality"]["worker"].tolist() == ["w1", "w2", "w3"]
    golden = run_block(golden_block, source="docs/local-aggregation.md")
    assert golden["anchored"]["golden"].sum() == golden["report"]["n_tasks"] > 0
    assert {"n_golden", "golden_accuracy"} <= set(golden["quality"].columns)
    labeled = run_block(inputs_block, source="docs/local-aggregation.md")["local"]
    assert list(labeled.columns) == ["pool_id", "task_id", "confidence", "result", "image"]


def test_reader_examples(docs_env: LocalTolokaServer, tmp_path: Path) -> None:
    # One session, as a reader pastes them: the later blocks use the first one's import.
    blocks = code_blocks("docs/reader.md")
    assert len(blocks) == 6
    loaded: list[pd.DataFrame] = []
    namespace: dict[str, Any] = {"load": loaded.append}
    run_block(blocks[0], source="docs/reader.md", namespace=namespace)
    total = len(namespace["df"])
    _check_result(namespace.pop("df"))
    assert (tmp_path / "aggregated.parquet").exists()
    run_block(blocks[1], source="docs/reader.md", namespace=namespace)
    assert sum(map(len, loaded)) == total
    # resuming; the Client with every setting spelt out; the Parquet round trip
    for block in blocks[2:5]:
        run_block(block, source="docs/reader.md", namespace=namespace)
        _check_result(namespace.pop("df"))
    assert "assert_frame_equal" in blocks[4]


def test_reader_example_of_other_parquet_readers(
    docs_env: LocalTolokaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("polars", reason="polars is in the test extra; not installed here")
    pytest.importorskip("duckdb", reason="duckdb is in the test extra; not installed here")
    blocks = code_blocks("docs/reader.md")
    namespace: dict[str, Any] = {}
    run_block(blocks[0], source="docs/reader.md", namespace=namespace)
    run_block(blocks[5], source="docs/reader.md", namespace=namespace)
    out = capsys.readouterr().out
    assert "confidence: double" in out and "Categorical" in out and "cat" in out


def test_server_examples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_demo_data("demo/")  # docs/server.md's quick start, which the Python API block reads
    api, fixture, faults = code_blocks("docs/server.md")
    pool = demo_pools()["1001"]
    namespace = run_block(api, source="docs/server.md", namespace={"df": pool.responses})
    assert namespace["server"].pool_ids == sorted(demo_pools())
    namespace = run_block(
        fixture,
        source="docs/server.md",
        namespace={"pytest": pytest, "df": pool.responses, "spec": pool.output_spec},
    )
    assert callable(namespace["toloka"])
    with LocalTolokaServer() as server:
        run_block(faults, source="docs/server.md", namespace={"server": server})
        assert not server.faults.enforce_rate_limits and server.request_log == []


def _shell_commands(prefix: str) -> list[tuple[str, str]]:
    """``$ pandas-toloka …`` lines of the docs' console blocks, without placeholders."""
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        relative = str(page.relative_to(ROOT))
        for block in code_blocks(relative, language="console"):
            for line in block.splitlines():
                command = line.removeprefix("$ ").split("  #", 1)[0].strip()
                if line.startswith("$ ") and command.startswith(prefix) and "..." not in command:
                    found.append((relative, command))
    return found


def test_aggregate_commands_run_as_written(
    docs_env: LocalTolokaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pandas_toloka.cli import main

    commands = _shell_commands("pandas-toloka aggregate ")
    assert len(commands) >= 2
    for number, (page, command) in enumerate(commands):
        folder = tmp_path / str(number)
        folder.mkdir()
        monkeypatch.chdir(folder)
        argv = shlex.split(command)[1:]
        assert main(argv) == 0, f"{page}: {command}"
        (written,) = folder.glob("*.parquet")
        assert len(pd.read_parquet(written)) > 0


def test_every_python_example_is_run_by_a_test() -> None:
    """A page's ``python`` blocks are run by a test that reads them with code_blocks()."""
    texts = [p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py")]
    # the pages named in a test module that runs code (run_block or exec of a block)
    run = {
        page
        for text in texts
        if "run_block(" in text or "exec(compile(" in text
        for page in re.findall(r"\"((?:docs/[\w-]+|README)\.md)\"|(docs/[\w-]+\.md)", text)
        for page in page
        if page
    }
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    with_examples = {
        str(p.relative_to(ROOT)) for p in pages if code_blocks(str(p.relative_to(ROOT)))
    }
    assert with_examples - run == set()


# --------------------------------------------------------------------------- generated pages


@pytest.fixture(scope="module")
def generate() -> Any:
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        yield importlib.import_module("_generate")
    finally:
        sys.path.remove(str(ROOT / "docs"))


def test_api_reference_lists_every_public_name(generate: Any) -> None:
    text = generate.api_index()
    listed = set(re.findall(r"^   (\S+)$", text, re.M))
    modules = re.findall(r"^\.\. currentmodule:: (\S+)$", text, re.M)
    assert {"pandas_toloka", "pandas_toloka.aggregation", "pandas_toloka.server"} <= set(modules)
    for module_name in generate._public_modules():
        module = generate._import(module_name)
        if module is None:
            continue
        for name in getattr(module, "__all__", []):
            if name.startswith("__"):
                continue
            obj = getattr(module, name)
            owners = [
                m
                for m in modules
                if name in listed and getattr(importlib.import_module(m), name, None) is obj
            ]
            assert owners, f"{module_name}.{name} is not in the API reference"
    for method in ("aggregate", "aggregate_locally", "worker_quality", "plot_worker_quality"):
        assert f"TolokaAccessor.{method}" in listed


def test_cli_reference_has_every_subcommand(generate: Any) -> None:
    # The subcommands are the parser's, so a new one cannot be left out of the page.
    import argparse

    from pandas_toloka.cli import build_parser

    (subparsers,) = [
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    ]
    subcommands = list(subparsers.choices)
    assert {"serve", "make-demo-data", "demo", "aggregate"} <= set(subcommands)
    text = generate.cli_reference()
    for sub in subcommands:
        assert f"## `pandas-toloka {sub}`" in text and f"usage: pandas-toloka {sub}" in text
    assert text.count("## `pandas-toloka ") == len(subcommands)


def test_cli_page_lists_every_exit_code() -> None:
    from pandas_toloka import cli

    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    codes = {v for k, v in vars(cli).items() if k.startswith("EXIT_") and isinstance(v, int)}
    assert codes and all(f"| {code} |" in page for code in codes)


def test_type_mapping_page_is_the_table(generate: Any) -> None:
    from pandas_toloka.schema import type_mapping_table

    assert generate.type_mapping().strip() == type_mapping_table().strip()


def test_methods_table_is_the_registry(generate: Any) -> None:
    from pandas_toloka.aggregation._registry import METHODS

    text = generate.methods_table()
    for name, row in METHODS.items():
        assert f"| `{name}` | {row.title}" in text
    page = (ROOT / "docs" / "algorithms.md").read_text(encoding="utf-8")
    assert "```{include} _generated/methods.md" in page
