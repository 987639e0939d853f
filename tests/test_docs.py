"""The Python examples of README.md, docs/reader.md and docs/server.md run as written.

They name Toloka's example pool ``36502086`` and take the token and server from the
environment, so each runs against a bundled server that serves the demo cats/dogs
pool under that id, with ``TOLOKA_URL`` and ``TOLOKA_API_KEY`` set; files they
write land in a temporary directory. (docs/accessor.md's example runs in
``test_accessor.py``.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from docs_snippets import code_blocks, run_block

from pandas_toloka.server import LocalTolokaServer, demo_pools, make_demo_data

POOL_ID = "36502086"


@pytest.fixture(scope="module")
def example_pool() -> Iterator[LocalTolokaServer]:
    pool = demo_pools()["1001"]
    with LocalTolokaServer() as server:
        server.add_pool(
            POOL_ID, responses=pool.responses, output_spec=pool.output_spec, project_id="133047"
        )
        yield server


@pytest.fixture
def docs_env(
    example_pool: LocalTolokaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> LocalTolokaServer:
    monkeypatch.setenv("TOLOKA_URL", example_pool.url)
    monkeypatch.setenv("TOLOKA_API_KEY", example_pool.token)
    monkeypatch.delenv("TOLOKA_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    return example_pool


def _tasks() -> pd.DataFrame:
    """The frame of uploaded tasks the README's accessor line works on."""
    task_ids = demo_pools()["1001"].ground_truth["task_id"].head(20)
    return pd.DataFrame({"task_id": task_ids, "pool_id": POOL_ID, "image": "https://..."})


def _check_result(df: Any) -> None:
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["pool_id", "task_id", "confidence", "result"]
    assert len(df) == 2000 and df["result"].notna().all()


def test_readme_example(docs_env: LocalTolokaServer, tmp_path: Path) -> None:
    (block,) = code_blocks("README.md")
    namespace = run_block(block, source="README.md", namespace={"tasks": _tasks()})
    _check_result(namespace["df"])
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "aggregated.parquet"), namespace["df"])
    out = namespace["out"]
    assert len(out) == 20 and out["result"].notna().all() and "image" in out.columns
    assert len(namespace["local"]) == 2000


def test_reader_examples(docs_env: LocalTolokaServer, tmp_path: Path) -> None:
    # One session, as a reader pastes them: the later blocks use the first one's import.
    blocks = code_blocks("docs/reader.md")
    assert len(blocks) == 6
    loaded: list[pd.DataFrame] = []
    namespace: dict[str, Any] = {"load": loaded.append}
    run_block(blocks[0], source="docs/reader.md", namespace=namespace)
    _check_result(namespace.pop("df"))
    assert (tmp_path / "aggregated.parquet").exists()
    run_block(blocks[1], source="docs/reader.md", namespace=namespace)
    assert sum(map(len, loaded)) == 2000
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
