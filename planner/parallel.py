"""Threads for the simulation: blocks of simulated trials run on the machine's cores.

A block of trials (:data:`planner.randomness.BLOCK_SIZE`) has its own random streams and its outcome is a
tally of integers, so blocks can run in any order on any thread and their sum is the same: the numbers do
not depend on the number of threads. numpy releases the GIL while it draws random numbers and computes on
arrays, so threads of one process share the work of one evaluation (1.8x on this project's 2-core machine;
``benchmarks/README.md``).

The number of threads is the cores this process may use, or the environment variable ``PLANNER_THREADS``
(1: no threads). Work submitted from one of the pool's own threads runs in that thread, so nested use
cannot deadlock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["simulation_threads", "map_in_threads"]

T = TypeVar("T")
R = TypeVar("R")

_pool: ThreadPoolExecutor | None = None
_pool_threads = 0
_pool_lock = threading.Lock()
_inside = threading.local()


def simulation_threads() -> int:
    """Threads for simulation: ``PLANNER_THREADS`` if set (a whole number >= 1), else the usable cores."""
    text = os.environ.get("PLANNER_THREADS", "").strip()
    if text:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"PLANNER_THREADS: expected a whole number >= 1, got {text!r}") from None
        if value < 1:
            raise ValueError(f"PLANNER_THREADS: expected a whole number >= 1, got {value}")
        return value
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _mark_inside() -> None:
    _inside.flag = True


def _shared_pool(threads: int) -> ThreadPoolExecutor:
    global _pool, _pool_threads
    with _pool_lock:
        if _pool is None or _pool_threads != threads:
            _pool = ThreadPoolExecutor(threads, thread_name_prefix="planner-sim", initializer=_mark_inside)
            _pool_threads = threads
        return _pool


def map_in_threads(fn: Callable[[T], R], items: Iterable[T], threads: int | None = None) -> Iterator[R]:
    """``fn`` over ``items`` on the shared pool, results in the order of ``items`` (as ``map``); in this thread
    when there is one thread, one item, or when called from one of the pool's threads."""
    items = list(items)
    threads = simulation_threads() if threads is None else threads
    if threads <= 1 or len(items) <= 1 or getattr(_inside, "flag", False):
        return map(fn, items)
    return _shared_pool(threads).map(fn, items)
