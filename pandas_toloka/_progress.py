"""Progress bars: ``progress_bar=None`` means auto, on only for a person watching.

Thin helpers over :mod:`tqdm.auto` (a notebook widget in Jupyter, text on
stderr elsewhere), shared by the reader and the accessor.
"""

from __future__ import annotations

import sys
from typing import Any

from tqdm.auto import tqdm

from ._args import check_progress_bar

__all__ = ["in_notebook", "make_bar", "progress_enabled"]


def in_notebook() -> bool:
    """Whether the code runs in a Jupyter (IPython kernel) session."""
    shell_module = sys.modules.get("IPython")
    if shell_module is None:
        return False
    get_ipython = getattr(shell_module, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def progress_enabled(progress_bar: bool | None) -> bool:
    """Resolve ``progress_bar``: True/False as given; None: on in a terminal or notebook."""
    if check_progress_bar(progress_bar) is not None:
        return bool(progress_bar)
    if in_notebook():
        return True
    stream = sys.stderr
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # closed stream
        return False


def make_bar(enabled: bool, **kwargs: Any) -> tqdm:
    """A :class:`tqdm.auto.tqdm` on stderr, a silent no-op one when not ``enabled``."""
    kwargs.setdefault("file", sys.stderr)
    kwargs.setdefault("dynamic_ncols", True)
    kwargs.setdefault("leave", True)
    return tqdm(disable=not enabled, **kwargs)
