"""What every subcommand shares: exit codes, the error line, option types, signals.

A subcommand's ``run(args)`` returns an exit code, or raises :class:`CommandError`
(one line on stderr, ``pandas-toloka <subcommand>: error: ...``, and its exit
code). Ctrl-C, SIGTERM and SIGHUP all unwind as :class:`KeyboardInterrupt`, so the
same ``finally`` blocks clean up; :func:`main` tells them apart by the signal
recorded in :class:`SignalState` and asks the subcommand what to print (its
``interrupted`` default: the command that resumes, or that runs again).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shlex
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

from ._files import remove_temporaries

__all__ = [
    "CLEANUP_GRACE",
    "EXIT_CODES_HELP",
    "EXIT_ERROR",
    "EXIT_HANGUP",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "CommandError",
    "SignalState",
    "cli_message",
    "note_interruption",
    "note_operation",
    "command_line",
    "count",
    "non_negative_seconds",
    "port",
    "positive_seconds",
    "report",
    "signals_as_interrupts",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 3
EXIT_HANGUP = 129  # 128 + SIGHUP: the terminal or the SSH session closed
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_TERMINATED = 143  # 128 + SIGTERM

EXIT_CODES_HELP = """\
exit codes:
  0    success
  1    error: the Toloka API or the server refused, an aggregation failed, no
       token, a file that could not be written, a port in use
  2    usage: a bad option or argument, or an output path refused; found
       before anything was started
  3    aggregate: the wait timed out; the message gives the command to resume
  129  hung up (SIGHUP: the terminal or SSH session closed); as SIGTERM
  130  interrupted by Ctrl-C (SIGINT); aggregate prints the command to resume
  143  terminated by SIGTERM (kill PID); likewise
  (serve stops with 0 on Ctrl-C, SIGTERM or SIGHUP: that is how it is meant to end)"""


class CommandError(Exception):
    """A subcommand failed in a way the user can fix; ``main`` prints one line and exits.

    Parameters
    ----------
    message : str
        What went wrong and what to do, in the CLI's terms (flag names).
    exit_code : int
        :data:`EXIT_ERROR` (default) or :data:`EXIT_USAGE`, :data:`EXIT_TIMEOUT`.
    notes : sequence of str
        Further lines printed as they are (e.g. ``Resume with: ...``).
    """

    def __init__(self, message: str, *, exit_code: int = EXIT_ERROR, notes: Sequence[str] = ()):
        super().__init__(message)
        self.exit_code = exit_code
        self.notes = tuple(notes)


def report(command: str, message: str, *, notes: Sequence[str] = ()) -> None:
    """Print ``pandas-toloka <command>: error: <message>`` (and ``notes``) on stderr."""
    print(f"pandas-toloka {command}: error: {message}", file=sys.stderr)
    for note in notes:
        print(note, file=sys.stderr)


# The library speaks Python (keyword arguments); the CLI speaks flags. The messages
# stay right for Python users and are translated here, at the edge, for the shell.
_FLAG_FOR: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\bfields=\.\.\.", "--field NAME"),
        (r"\bfields=", "--field "),
        (r"\banswer_weight_skill_id=?", "--skill"),
        (r"\btype='([A-Z_]+)'", r"--type \1"),
        (r"\btype=", "--type"),
        (r"\boperation_id='([^'\s]+)'", r"--operation-id \1"),
        (r"\boperation_id=", "--operation-id"),
        (r"\btoken=\.\.\.", "--token"),
        (r"\btoken=", "--token"),
        (r"\benvironment=", "--environment"),
        (r"\burl=", "--url"),
        (r"\bpage_size\b", "--page-size"),
        (r"\bwait_timeout\b", "--wait-timeout"),
        (r"\bpool_id\b", "POOL_ID"),
    )
)


def cli_message(text: str) -> str:
    """``text`` with the library's keyword names replaced by the CLI's flags."""
    for pattern, replacement in _FLAG_FOR:
        text = pattern.sub(replacement, text)
    return text


def command_line(command: str, *arguments: str) -> str:
    """A command line the user can paste into a shell (every argument quoted as needed)."""
    return shlex.join(["pandas-toloka", command, *arguments])


# -- option types: argparse turns their ValueError/ArgumentTypeError into a usage error --


def port(text: str) -> int:
    """A TCP port, 0 to 65535 (0: any free port)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port: use 0 to 65535 (0: a free one)")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number of seconds")
    return value


def non_negative_seconds(text: str) -> float:
    """Seconds, 0 or more."""
    value = _seconds(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative: give 0 or more seconds")
    return value


def positive_seconds(text: str) -> float:
    """Seconds, more than 0."""
    value = _seconds(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not positive: give more than 0 seconds")
    return value


def count(low: int, high: int | None = None) -> Callable[[str], int]:
    """An integer option from ``low`` to ``high`` (inclusive; no upper bound when None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            bounds = f"{low} or more" if high is None else f"{low} to {high}"
            raise argparse.ArgumentTypeError(f"{value} is out of range: use {bounds}")
        return value

    parse.__name__ = "count"  # argparse names the type in some messages
    return parse


# -- signals ------------------------------------------------------------------------


#: Seconds the clean-up after Ctrl-C or SIGTERM may take before the process exits anyway.
CLEANUP_GRACE = 15.0


#: What a subcommand says after Ctrl-C or SIGTERM: a message and lines such as the resume command.
Explain = Callable[[BaseException], tuple[str, list[str]]]


class SignalState:
    """The first of SIGINT / SIGTERM received while a subcommand ran (None if neither).

    ``explain`` (the subcommand's ``interrupted``) turns the interruption into the
    lines to print; a subcommand can :func:`note_interruption` before its
    clean-up, so that those lines are right even if the clean-up never ends.
    """

    def __init__(self, command: str, explain: Explain | None = None) -> None:
        self.command = command
        self.explain = explain
        self.received: int | None = None
        self.interruption: BaseException | None = None
        self.operation_id: str | None = None
        self.watchdog: threading.Timer | None = None

    @property
    def exit_code(self) -> int:
        if self.received == signal.SIGTERM:
            return EXIT_TERMINATED
        if self.received == getattr(signal, "SIGHUP", None):
            return EXIT_HANGUP
        return EXIT_INTERRUPTED

    @property
    def description(self) -> str:
        if self.received == signal.SIGTERM:
            return "terminated (SIGTERM)"
        if self.received == getattr(signal, "SIGHUP", None):
            return "hung up (SIGHUP)"
        return "interrupted (Ctrl-C)"

    def known_interruption(self, handling: BaseException | None) -> BaseException | None:
        """The best account of the interruption: noted, being handled, or the operation known.

        A second signal can come while the first one's exception still unwinds
        through the library, before the subcommand noted it: the exception
        being handled (or one it chains) names the operation; failing that,
        the operation the subcommand noted as started.
        """
        seen: list[BaseException] = []
        for first in (self.interruption, handling):
            exc = first
            while exc is not None and len(seen) < 50 and exc not in seen:
                seen.append(exc)
                exc = exc.__cause__ or exc.__context__
        for exc in seen:  # the most specific first: an error that names the operation
            if getattr(exc, "operation_id", None) is not None or type(exc).__name__ == (
                "StartInterruptedError"
            ):
                return exc
        if self.operation_id is not None:
            return _Interrupted(self.operation_id)
        return self.interruption or handling

    def report_lines(self, exc: BaseException | None) -> list[str]:
        """``pandas-toloka <command>: interrupted (Ctrl-C): <why>`` and the subcommand's notes."""
        message: str = ""
        notes: list[str] = []
        if self.explain is not None:
            message, notes = self.explain(exc if exc is not None else KeyboardInterrupt())
        head = f"pandas-toloka {self.command}: {self.description}"
        return [head + (f": {cli_message(message)}" if message else ""), *notes]

    def force_exit(self, why: str, handling: BaseException | None = None) -> None:
        """Exit now with the signal's code, without the clean-up that hangs or was refused.

        The hidden temporary files being written are removed first.
        """
        remove_temporaries()
        try:
            lines = self.report_lines(self.known_interruption(handling))
        except Exception:  # an explanation that fails must not keep the process alive
            lines = [f"pandas-toloka {self.command}: {self.description}"]
        lines.append(f"(exiting now: {why})")
        os.write(2, "".join(line + "\n" for line in lines).encode())
        os._exit(self.exit_code)


class _Interrupted(KeyboardInterrupt):
    """An interruption known only by the operation the subcommand noted as started."""

    def __init__(self, operation_id: str) -> None:
        super().__init__(f"interrupted; operation {operation_id} started")
        self.operation_id = operation_id


_active: SignalState | None = None


def note_interruption(exc: BaseException) -> None:
    """Record the interruption being handled, before a clean-up that might not end."""
    if _active is not None:
        _active.interruption = exc


def note_operation(operation_id: str | None) -> None:
    """Record the operation the subcommand started or resumed, for a signal at any moment."""
    if _active is not None and operation_id is not None:
        _active.operation_id = operation_id


@contextmanager
def signals_as_interrupts(command: str, explain: Explain | None = None) -> Iterator[SignalState]:
    """SIGTERM and SIGHUP raise :class:`KeyboardInterrupt` as Ctrl-C does; each is recorded.

    So a ``kill PID`` runs the same clean-up as Ctrl-C (temporary files removed,
    connections closed) and the library turns it into an
    :class:`~pandas_toloka.errors.OperationInterruptedError` naming the operation.
    The clean-up is bounded: a second signal, or :data:`CLEANUP_GRACE` seconds
    (an interrupt can land inside a library's critical section and leave a lock
    held), end the process at once with the same exit code. Outside the main
    thread (signals cannot be handled there) nothing changes.
    """
    global _active
    state = SignalState(command, explain)
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if state.received is not None:
            state.force_exit("a second signal during the clean-up", sys.exc_info()[1])
        state.received = signum
        state.watchdog = threading.Timer(
            CLEANUP_GRACE,
            state.force_exit,
            args=(f"the clean-up did not finish within {CLEANUP_GRACE:g} s",),
        )
        state.watchdog.daemon = True
        state.watchdog.start()
        raise KeyboardInterrupt

    previous_term = signal.signal(signal.SIGTERM, interrupt)
    hangup = getattr(signal, "SIGHUP", None)  # not on Windows
    if hangup is not None and signal.getsignal(hangup) is not signal.SIG_DFL:
        hangup = None  # under nohup it stays ignored
    previous_hup = None if hangup is None else signal.signal(hangup, interrupt)
    previous_int = signal.getsignal(signal.SIGINT)
    if previous_int is signal.default_int_handler:  # not when the shell made us ignore it
        signal.signal(signal.SIGINT, interrupt)
    _active = state
    try:
        yield state
    finally:
        _active = None
        signal.signal(signal.SIGTERM, previous_term)
        if hangup is not None:
            signal.signal(hangup, previous_hup)
        if previous_int is signal.default_int_handler:
            signal.signal(signal.SIGINT, previous_int)
        if state.watchdog is not None:
            state.watchdog.cancel()
