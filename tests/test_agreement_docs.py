"""docs/agreement.md's example runs as written and gives the figures the definitions give."""

from __future__ import annotations

import pytest
from docs_snippets import code_blocks, run_block


def test_agreement_page_example(capsys: pytest.CaptureFixture[str]) -> None:
    (block,) = code_blocks("docs/agreement.md")
    namespace = run_block(block, source="docs/agreement.md")
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
