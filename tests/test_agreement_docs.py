"""docs/agreement.md's examples run as written and give the figures the definitions give."""

from __future__ import annotations

from pathlib import Path

import pytest
from docs_snippets import code_blocks, run_block


def test_agreement_page_examples(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first, second = code_blocks("docs/agreement.md")
    namespace = run_block(first, source="docs/agreement.md")
    # t1: 1 1 2, t2: 3 3 3, t3: 1 2, t4: 2 2 -> n_1 = 3, n_2 = 4, n_3 = 3, n = 10
    # D_o sum = (9 - 5)/2 + 0 + (4 - 2)/1 + 0 = 4; D_e sum = 100 - 34 = 66
    assert namespace["alpha"] == pytest.approx(1 - 9 * 4 / 66)
    assert list(namespace["pairs"].columns) == [
        "worker_a",
        "worker_b",
        "n_shared",
        "agreement",
        "kappa",
    ]
    assert namespace["tasks"]["entropy"].tolist()[1] == 0.0
    assert capsys.readouterr().out.strip() == (
        f"{round(namespace['alpha'], 3)} {round(namespace['alpha_interval'], 3)} "
        f"{round(namespace['kappa'], 3)}"
    )
    namespace = run_block(second, source="docs/agreement.md", namespace=namespace)
    assert namespace["per_pool"]["krippendorff_alpha"].iloc[0] == pytest.approx(namespace["alpha"])
    assert namespace["report"]["krippendorff_alpha"] == pytest.approx(namespace["alpha"])
    assert (tmp_path / "reliability.png").stat().st_size > 5000
    assert "p1" in capsys.readouterr().out
