"""Progress bars: no warning on import, one clean line per call, one style of labels and units."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pandas as pd
import pytest
from tqdm.std import tqdm as text_tqdm

import pandas_toloka as ptk
from pandas_toloka._read import progress
from pandas_toloka.client import Client
from pandas_toloka.server import LocalTolokaServer
from pandas_toloka.server.demo import DemoData

Served = tuple[LocalTolokaServer, Client, DemoData]

# A Jupyter kernel as tqdm.auto and the package recognise one, without Jupyter.
_FAKE_KERNEL = """
import sys, types
shell = type("ZMQInteractiveShell", (), {"config": {"IPKernelApp": {}}})()
ipython = types.ModuleType("IPython")
ipython.get_ipython = lambda: shell
sys.modules["IPython"] = ipython
sys.modules["ipykernel"] = types.ModuleType("ipykernel")
sys.modules["ipykernel.zmqshell"] = types.ModuleType("ipykernel.zmqshell")
"""


def _lines(err: str) -> list[str]:
    """What a terminal shows at the end: the last redraw of each line."""
    return [line.rsplit("\r", 1)[-1].rstrip() for line in err.split("\n") if line]


def test_import_in_a_notebook_without_widgets_is_silent() -> None:
    code = _FAKE_KERNEL + textwrap.dedent(
        """
        import importlib.util
        real_find_spec = importlib.util.find_spec
        importlib.util.find_spec = lambda name, *a: None if name == "ipywidgets" else real_find_spec(name, *a)
        import pandas_toloka
        from pandas_toloka._read import progress
        assert progress.in_notebook()
        assert "tqdm.auto" not in sys.modules and "tqdm.autonotebook" not in sys.modules
        bar = progress.count_bar(True, desc="pool 1: downloading", unit=" rows")
        assert type(bar).__module__ == "tqdm.std", type(bar)
        bar.update(5)
        bar.close()
        """
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, timeout=60
    )
    err = done.stderr.decode()  # bytes: text mode would turn the bar's "\r" into lines
    assert done.returncode == 0, err
    assert "Warning" not in err and "IProgress" not in err
    (line,) = _lines(err)
    assert line.startswith("pool 1: downloading: 5 rows [00:00, ")


def test_bar_class(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    monkeypatch.setattr(progress, "_has_widgets", lambda: False)
    assert progress.bar_class() is text_tqdm
    monkeypatch.setattr(progress, "_has_widgets", lambda: True)
    assert progress.bar_class().__module__ == "tqdm.notebook"
    monkeypatch.setattr(progress, "in_notebook", lambda: False)
    assert progress.bar_class() is text_tqdm


def test_read_shows_one_bar_for_the_wait_and_the_download(
    demo_served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    _, client, _ = demo_served
    df = ptk.read_aggregated_solutions("1001", fields="result", client=client, progress_bar=True)
    err = capsys.readouterr().err
    assert err.count("\n") == 1  # one line, closed once
    assert "pool 1001: aggregating:" in err  # the first step, redrawn in place
    (line,) = _lines(err)
    assert line.startswith(f"pool 1001: downloading: {len(df):,} rows [")
    assert line.endswith(" rows/s]")


def test_every_bar_has_the_same_style(
    demo_served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    _, client, data = demo_served
    responses = ptk.read_responses("1001", client=client, progress_bar=True)
    tasks = data.pools["1001"].ground_truth[["task_id"]].head(12).assign(pool_id="1001")
    tasks.toloka.aggregate(fields="result", client=client, progress_bar=True)
    lines = _lines(capsys.readouterr().err)
    assert len(lines) == 2
    assert lines[0].startswith(f"pool 1001: reading responses: {len(responses):,} responses [")
    assert lines[1].startswith("pool 1001: aggregating tasks: 100%|")
    assert " 12/12 tasks [" in lines[1]


def test_percent_bar_and_switch() -> None:
    import io

    stream = io.StringIO()
    bar = progress.percent_bar(True, desc="pool 7: aggregating", file=stream)
    bar.update(40)
    bar.refresh()
    assert _lines(stream.getvalue())[-1].startswith("pool 7: aggregating:  40%|")
    progress.switch_to_count(bar, desc="pool 7: downloading", unit=" rows", total=1500)
    bar.update(1500)
    bar.close()
    bar.close()  # closing twice prints nothing more
    lines = _lines(stream.getvalue())
    assert len(lines) == 1
    assert lines[0].startswith("pool 7: downloading: 100%|") and "1,500/1,500 rows" in lines[0]


def test_disabled_bars_print_nothing(
    demo_served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    _, client, _ = demo_served
    frame = ptk.read_aggregated_solutions("1001", fields="result", client=client)
    assert isinstance(frame, pd.DataFrame)
    ptk.read_responses("1001", client=client, progress_bar=False)
    assert capsys.readouterr().err == ""


def test_switch_rescales_a_notebook_widget(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ipywidgets", reason="the notebook extra brings the widgets")
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    bar = progress.percent_bar(True, desc="pool 7: aggregating")
    assert type(bar).__module__ == "tqdm.notebook"
    bar.update(100)
    progress.switch_to_count(bar, desc="pool 7: downloading", unit=" rows")
    widget = bar.container.children[1]
    assert (widget.max, widget.bar_style) == (1, "info")  # unknown total, as tqdm draws it
    progress.switch_to_count(bar, desc="pool 7: downloading", unit=" rows", total=250)
    bar.update(250)
    bar.refresh()
    assert (widget.max, widget.value) == (250, 250)
    bar.close()
