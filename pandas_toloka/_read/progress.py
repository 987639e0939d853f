"""Progress bars: ``progress_bar=None`` means auto, on only for a person watching.

One style for every bar of the package: the description names what is worked
on and the step (``"pool 36502086: aggregating"``), counts carry a unit with a
leading space (``" rows"``, ``" responses"``, ``" tasks"``) and are scaled
(``2.00k rows``), and an operation's own progress is shown as a percentage.

The bar class is chosen when a bar is made, never at import: a notebook widget
(:mod:`tqdm.notebook`) in a Jupyter kernel that has ipywidgets (the
``notebook`` extra), one plain text bar (:mod:`tqdm.std`) on stderr elsewhere.
So importing the package never warns, unlike :mod:`tqdm.auto`, which warns
("IProgress not found") in a notebook without ipywidgets.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any, Literal

from tqdm.std import tqdm

from .args import check_progress_bar

__all__ = [
    "CountUnit",
    "bar_class",
    "count_bar",
    "in_notebook",
    "make_bar",
    "percent_bar",
    "progress_enabled",
    "switch_to_count",
]

#: Units of the counting bars, each with its leading space.
CountUnit = Literal[" rows", " responses", " tasks"]

#: Seconds between two redraws of a text bar that is not a terminal (a notebook
#: without widgets, a log file): few enough lines to read back, often enough to
#: see it move.
_QUIET_INTERVAL = 1.0
_TERMINAL_INTERVAL = 0.1

_PERCENT_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}]"
# counts as whole numbers with thousands separators (tqdm's unit_scale would
# write "50.0 tasks"); the rate is scaled ("208k rows/s")
_COUNT_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n:,.0f}/{total:,.0f}{unit} [{elapsed}<{remaining}, {rate_fmt}]"
_OPEN_COUNT_FORMAT = "{desc}: {n:,.0f}{unit} [{elapsed}, {rate_fmt}]"


def in_notebook() -> bool:
    """Whether the code runs in a Jupyter (IPython kernel) session."""
    shell_module = sys.modules.get("IPython")
    if shell_module is None:
        return False
    get_ipython = getattr(shell_module, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _has_widgets() -> bool:
    try:
        return importlib.util.find_spec("ipywidgets") is not None
    except (ImportError, ValueError):
        return False


def bar_class() -> type[tqdm]:
    """The tqdm class for a new bar: the widget in a notebook with ipywidgets, else text."""
    if in_notebook() and _has_widgets():
        from tqdm.notebook import tqdm as notebook_tqdm

        return notebook_tqdm
    return tqdm


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # closed stream
        return False


def progress_enabled(progress_bar: bool | None) -> bool:
    """Resolve ``progress_bar``: True/False as given; None: on in a terminal or notebook."""
    if check_progress_bar(progress_bar) is not None:
        return bool(progress_bar)
    return in_notebook() or _is_terminal(sys.stderr)


def make_bar(enabled: bool, **kwargs: Any) -> tqdm:
    """A bar on stderr in the package's style, a silent no-op one when not ``enabled``.

    Prefer :func:`count_bar` and :func:`percent_bar`, which fix the units;
    ``kwargs`` go to tqdm. The bar prints its last state once, when closed.
    """
    stream = kwargs.setdefault("file", sys.stderr)
    kwargs.setdefault("leave", True)
    kwargs.setdefault("dynamic_ncols", True)
    kwargs.setdefault(
        "mininterval", _TERMINAL_INTERVAL if _is_terminal(stream) else _QUIET_INTERVAL
    )
    cls = bar_class() if enabled else tqdm
    return cls(disable=not enabled, **kwargs)


def count_bar(
    enabled: bool, *, desc: str, unit: CountUnit, total: int | None = None, **kwargs: Any
) -> tqdm:
    """A bar counting rows, responses or tasks, e.g. ``pool 1001: downloading: 2,000 rows``."""
    return make_bar(
        enabled,
        desc=desc,
        unit=unit,
        unit_scale=True,
        total=total,
        bar_format=_count_format(total),
        **kwargs,
    )


def _count_format(total: int | None) -> str:
    return _OPEN_COUNT_FORMAT if total is None else _COUNT_FORMAT


def percent_bar(enabled: bool, *, desc: str, **kwargs: Any) -> tqdm:
    """A bar over an operation's progress, 0 to 100 %, e.g. ``pool 1001: aggregating:  40%``."""
    return make_bar(enabled, desc=desc, total=100, bar_format=_PERCENT_FORMAT, **kwargs)


def switch_to_count(bar: tqdm, *, desc: str, unit: CountUnit, total: int | None = None) -> None:
    """Turn a bar into a counting bar for the next step of the same call.

    So a call that first waits for an operation then downloads its results
    shows one bar, not two: the line is redrawn in place, closed once.
    """
    if bar.disable:
        return
    bar.bar_format = _count_format(total)
    bar.unit = unit
    bar.unit_scale = True
    bar.total = total
    bar.set_description_str(desc, refresh=False)
    bar.reset()
    container = getattr(bar, "container", None)  # a notebook widget: its bar's scale
    if container is not None:
        widget = container.children[1]
        widget.max = 1 if total is None else total
        widget.bar_style = "info" if total is None else ""
