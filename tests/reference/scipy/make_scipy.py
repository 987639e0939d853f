"""Regenerate SciPy's digamma values that tests/aggregation/test_special.py compares against.

Run from the project root with the reference venv (it has SciPy)::

    /work/refvenv/bin/python tests/reference/scipy/make_scipy.py

It writes ``digamma.csv`` next to itself: columns ``x`` and ``digamma``
(``scipy.special.digamma(x)``), every float written with the shortest repr
that reads back to the same double. The tests never import SciPy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy
from scipy import special

HERE = Path(__file__).resolve().parent


def main() -> None:
    # small arguments (where the recurrence is used), the asymptotic range, both ends
    x = np.r_[np.linspace(0.01, 30, 600), 1e-3, 0.5, 1.0, 1e5]
    lines = [f"# scipy {scipy.__version__}", "x,digamma"]
    lines += [f"{a!r},{b!r}" for a, b in zip(x.tolist(), special.digamma(x).tolist())]
    (HERE / "digamma.csv").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
