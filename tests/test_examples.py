"""The examples run as written, against the bundled server, configured only by environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from pandas_toloka.client import Client
from pandas_toloka.server import LocalTolokaServer
from pandas_toloka.server.demo import DemoData

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_export_pools_writes_one_partition_per_pool(
    tmp_path: Path, demo_served: tuple[LocalTolokaServer, Client, DemoData]
) -> None:
    server, _, data = demo_served
    env = {**os.environ, "TOLOKA_URL": server.url, "TOLOKA_API_KEY": server.token}
    env.pop("TOLOKA_TOKEN", None)
    out = tmp_path / "dataset"
    runs = [["1001", "--field", "result"], ["1002", "--field", "result", "--skill", "501"]]
    for arguments in runs:  # Dawid-Skene for one pool, by skill for the other: one dataset
        done = subprocess.run(
            [sys.executable, str(EXAMPLES / "export_pools.py"), str(out), *arguments],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert server.token not in done.stdout + done.stderr
    dataset = pd.read_parquet(out, dtype_backend="pyarrow")
    expected = {pool_id: len(data.pools[pool_id].ground_truth) for pool_id in ("1001", "1002")}
    assert dataset.groupby("pool_id", observed=True).size().to_dict() == expected
    assert not dataset.duplicated(["pool_id", "task_id"]).any()
    assert set(dataset["result"].astype(str)) <= {"cat", "dog", "other"}


def test_export_pools_fails_cleanly_on_an_unknown_pool(
    tmp_path: Path, demo_served: tuple[LocalTolokaServer, Client, DemoData]
) -> None:
    server, _, _ = demo_served
    env = {**os.environ, "TOLOKA_URL": server.url, "TOLOKA_API_KEY": server.token}
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "export_pools.py"),
            str(tmp_path),
            "404404",
            "--field",
            "result",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "NotFoundError" in done.stderr and "Traceback" not in done.stderr
