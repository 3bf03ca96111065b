"""Ctrl-C during a bulk batch: in-flight items finish, no new item starts, then it re-raises."""

from __future__ import annotations

import _thread
import threading

import pytest

import datawrapper as dw


def test_interrupt_waits_for_in_flight_items() -> None:
    """After KeyboardInterrupt every started item has finished and no further item started."""
    release = threading.Event()
    both_started = threading.Barrier(3, timeout=5)
    started: list[int] = []
    finished: list[int] = []
    lock = threading.Lock()

    def slow(item: int) -> int:
        with lock:
            started.append(item)
        if item < 2:
            both_started.wait()
        release.wait(5)
        with lock:
            finished.append(item)
        return item

    def interrupt() -> None:
        both_started.wait()
        _thread.interrupt_main()
        threading.Timer(0.3, release.set).start()

    client = dw.Datawrapper("t", transport=dw.MockTransport(lambda r: dw.Response(200)))
    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        client.map(slow, list(range(6)), max_workers=2)
    assert sorted(started) == [0, 1]
    assert sorted(finished) == [0, 1]
