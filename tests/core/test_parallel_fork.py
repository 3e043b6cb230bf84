"""The worker pool in a fork()ed child (multiprocessing's default start method on Linux): the
child has none of the parent's worker threads, so work queued for them used to hang forever."""

import multiprocessing
import warnings

import numpy as np
import pytest

import dispersionkit as dk

SPOT = np.linspace(50.0, 150.0, 200_000)  # large enough to be split over two threads


def price_in_child(queue):
    queue.put(dk.bs_price(SPOT, 100.0, 1.0, 0.2, threads=2))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork()")
def test_forked_child_can_use_the_thread_pool():
    expected = dk.bs_price(SPOT, 100.0, 1.0, 0.2, threads=2)  # starts the parent's workers
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Python >= 3.12 warns on fork with threads
        child = context.Process(target=price_in_child, args=(queue,))
        child.start()
    try:
        got = queue.get(timeout=20)
    finally:
        child.join(5)
        if child.is_alive():
            child.kill()
            child.join()
    np.testing.assert_array_equal(got, expected)
    assert child.exitcode == 0
