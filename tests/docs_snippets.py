"""The code blocks of the Markdown docs, for the tests that run them as written.

``tests/test_accessor.py`` runs docs/accessor.md's example and ``tests/test_docs.py``
the others; both read the blocks with :func:`code_blocks` and run them with
:func:`run_block`, so a block runs exactly as a reader would paste it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def code_blocks(relative_path: str, language: str = "python") -> list[str]:
    """The fenced ``language`` blocks of a Markdown file of the repository, in order."""
    text = (ROOT / relative_path).read_text(encoding="utf-8")
    return re.findall(rf"```{re.escape(language)}\n(.*?)```", text, re.S)


def run_block(code: str, *, source: str, namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    """Execute one block in ``namespace`` (a fresh one by default) and return it.

    ``source`` (e.g. ``"docs/reader.md"``) names the block in tracebacks.
    """
    namespace = {} if namespace is None else namespace
    exec(compile(code, source, "exec"), namespace)
    return namespace
