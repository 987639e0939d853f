"""Ctrl-C while a page request is in flight returns at once: it never waits for the request
(:mod:`pandas_toloka._read.prefetch`).

A stalled server would otherwise keep a notebook's interrupt waiting for the read timeout
(minutes). The request held here is let go only after the interrupt has been handled.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pandas as pd
import pytest

import pandas_toloka as ptk
from pandas_toloka.server import LocalTolokaServer

BOUND = 30.0  # seconds: a hold never outlives this, and no wait here is longer
SPEC = {"result": {"type": "STRING", "allowed_values": ["cat", "dog"]}}


def _interrupt_once_held(fault, done: threading.Event, to: str) -> threading.Thread:  # type: ignore[no-untyped-def]
    def run() -> None:
        if fault.held.wait(BOUND) and not done.is_set():
            if to == "process":  # as a terminal's Ctrl-C: the kernel picks the thread
                os.kill(os.getpid(), signal.SIGINT)
            else:  # the hard case: delivered to a thread that is not the waiting one
                signal.pthread_kill(threading.get_ident(), signal.SIGINT)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("to", ["process", "another thread"])
def test_ctrl_c_during_a_page_request_does_not_wait_for_it(to: str) -> None:
    responses = pd.DataFrame(
        {
            "task_id": [f"t{i:03d}" for i in range(40)],
            "worker_id": ["w1"] * 40,
            "result": ["cat"] * 40,
        }
    )
    with LocalTolokaServer() as server:
        server.add_pool("p", responses=responses, output_spec=SPEC)
        with ptk.Client(server.token, url=server.url, poll_min=0.02) as client:
            first = ptk.read_aggregated_solutions("p", client=client, progress_bar=False)
            operation_id = first.attrs["toloka"]["operation_id"]
            fault = server.faults.add(
                "hold", method="GET", path="/api/v1/aggregated-solutions/", timeout=BOUND
            )
            done = threading.Event()
            _interrupt_once_held(fault, done, to)
            started = time.monotonic()
            with pytest.raises((KeyboardInterrupt, ptk.OperationInterruptedError)):
                ptk.read_aggregated_solutions(
                    operation_id=operation_id, client=client, progress_bar=False, page_size=10
                )
            waited = time.monotonic() - started
            held_still = fault.held.is_set()
            done.set()
            fault.release()
    # the interrupt came back while the request was still held (released only above)
    assert held_still
    assert waited < BOUND
