"""Fixtures of the agreement tests: the stored references and the real datasets."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference" / "agreement" / "agreement.json"
#: ``$PANDAS_TOLOKA_DATASETS``, else ``../shared/datasets`` from the repository root.
DATASETS = Path(os.environ.get("PANDAS_TOLOKA_DATASETS", ROOT / ".." / "shared" / "datasets"))


@pytest.fixture(scope="session")
def reference() -> dict[str, Any]:
    """``agreement.json``, written by ``make_agreement.py`` with krippendorff and crowd-kit."""
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


@pytest.fixture(params=["duck", "product"])
def real(
    request: pytest.FixtureRequest, reference: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """(responses with columns task/worker/label, the references' values on them)."""
    name = request.param
    path = DATASETS / name / "answer.csv"
    if not path.exists():
        pytest.skip(f"dataset {name!r} not found at {path} (set PANDAS_TOLOKA_DATASETS)")
    answers = pd.read_csv(path).rename(columns={"question": "task", "answer": "label"})
    answers["task"] = answers["task"].astype(str)
    answers["worker"] = answers["worker"].astype(str)
    return answers, reference["real"][name]
