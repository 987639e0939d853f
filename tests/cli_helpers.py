"""Helpers shared by the CLI tests."""

from __future__ import annotations

import shlex


def resume_argv(err: str) -> list[str]:
    """The arguments of the ``Resume with: pandas-toloka ...`` line the CLI printed."""
    line = next(line for line in err.splitlines() if line.startswith("Resume with: "))
    argv = shlex.split(line.removeprefix("Resume with: "))
    assert argv[0] == "pandas-toloka"
    return argv[1:]
