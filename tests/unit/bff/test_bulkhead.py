"""The bulkhead: waits for a slot while slots turn over, refuses at once when they have stopped turning."""

import threading
import time

import pytest

from bff.upstream import Bulkhead, UpstreamError


def hold(bulkhead, release):
    """Take a slot in another thread until release is set; return the thread once the slot is taken."""
    taken = threading.Event()

    def run():
        with bulkhead:
            taken.set()
            release.wait(10)

    holder = threading.Thread(target=run, daemon=True)
    holder.start()
    assert taken.wait(10)
    return holder


def test_a_call_waits_for_a_slot_that_is_given_back():
    bulkhead, release = Bulkhead(1, wait=5, stall=5), threading.Event()
    hold(bulkhead, release)
    threading.Timer(0.05, release.set).start()
    with bulkhead:  # the holder gives its slot back while this call waits
        pass


def test_a_call_is_refused_when_the_slots_have_stopped_turning(eventually):
    bulkhead, release = Bulkhead(1, wait=5, stall=0.05), threading.Event()
    hold(bulkhead, release)
    taken_at = time.monotonic()
    eventually(lambda: time.monotonic() - taken_at > 0.1)  # the slot sits taken past `stall`
    try:
        started = time.monotonic()
        with pytest.raises(UpstreamError) as refused:
            with bulkhead:
                pass
        assert time.monotonic() - started < 5  # refused at once, not after `wait`
        assert (refused.value.error_code, refused.value.retryable, refused.value.retry_after) == ("BFF-BUSY", True, "1")
    finally:
        release.set()


def test_a_tenant_slot_is_given_back_when_the_shared_bulkhead_is_full():
    shared, release = Bulkhead(1, wait=0, stall=0), threading.Event()
    holder = hold(shared, release)
    tenant = Bulkhead(1, wait=0, stall=0, parent=shared)
    with pytest.raises(UpstreamError):
        with tenant:
            pass
    release.set()
    holder.join()
    with tenant:  # its own slot was not kept by the refused call
        pass
