"""docs/export.md runs as written: its commands, its script, its notebook cell and its Dask block.

Against the server ``pandas-toloka serve`` starts (the demo pools), with
``TOLOKA_URL`` and ``TOLOKA_API_KEY`` set as the page says; files land in a
temporary directory.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from docs_snippets import code_blocks, run_block

from pandas_toloka.cli import main
from pandas_toloka.server import LocalTolokaServer, add_demo_pools

PAGE = "docs/export.md"


@pytest.fixture(scope="module")
def served() -> Iterator[LocalTolokaServer]:
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


def test_the_commands_run_as_written_in_order(docs_env: LocalTolokaServer, tmp_path: Path) -> None:
    commands = [
        line.removeprefix("$ ").split("  #", 1)[0].strip()
        for block in code_blocks(PAGE, language="console")
        for line in block.splitlines()
        if line.startswith("$ pandas-toloka ")
    ]
    assert [shlex.split(c)[1] for c in commands] == [
        "export",
        "export",
        "responses",
        "aggregate-local",
    ]
    for command in commands:
        assert main(shlex.split(command)[1:]) == 0, command
    dataset = pd.read_parquet(tmp_path / "dataset.parquet")
    assert list(dataset.columns) == ["pool_id", "task_id", "image", "confidence", "result"]
    golden = pd.read_parquet(tmp_path / "dataset-golden.parquet")
    assert golden.columns[-1] == "golden.result" and golden["golden.result"].notna().any()
    labels = pd.read_parquet(tmp_path / "labels.parquet")
    assert len(labels) == len(dataset)


def test_the_script_and_the_notebook_cell(docs_env: LocalTolokaServer, tmp_path: Path) -> None:
    script, accuracy, local, cell, _ = code_blocks(PAGE)
    namespace = run_block(script, source=PAGE)
    dataset = namespace["dataset"]
    assert len(dataset) == 2000 and dataset["result"].notna().all()
    assert list(dataset.columns) == [
        "pool_id",
        "task_id",
        "image",
        "confidence",
        "result",
        "golden.result",
    ]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dataset.parquet"), dataset)
    # the one call is the export command's file
    main(["export", "36502086", "--field", "result", "--golden", "-o", "cli.parquet"])
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "cli.parquet"), dataset)
    assert run_block(accuracy, source=PAGE, namespace=namespace)["accuracy"] > 0.8
    here = run_block(local, source=PAGE, namespace=dict(namespace))
    assert list(here["local"].columns) == ["pool_id", "task_id", "confidence", "result", "image"]
    assert here["report"]["n_tasks"] == (dataset["golden.result"].notna()).sum()
    shown = run_block(cell, source=PAGE, namespace=namespace)["dataset"]
    assert list(shown.columns) == ["pool_id", "task_id", "image", "confidence", "result"]


def test_the_dask_block(docs_env: LocalTolokaServer, tmp_path: Path) -> None:
    pytest.importorskip("dask.dataframe", reason="the dask extra is not installed")
    import dask

    *_, block = code_blocks(PAGE)
    with dask.config.set(scheduler="sync"):
        namespace = run_block(block, source=PAGE)
    back = pd.read_parquet(tmp_path / "lake")
    assert len(back) == 2000 and "golden.result" in back.columns
    assert namespace["lake"].npartitions == 1
