"""Work spread over the machine's cores: worker processes that start clean.

forkserver, not fork: the workers start from a clean server process, not a copy of
the caller (which may hold threads and an open warehouse connection). Modules named
in ``preload`` are imported once by that server, so each worker starts warm.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor


def default_workers() -> int:
    """One worker per core the process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def worker_count(workers: int | None) -> int:
    """The workers asked for (at least one), or one per core when none are named."""
    return default_workers() if workers is None else max(1, workers)


def process_pool(workers: int, preload: list[str], initializer=None, initargs: tuple = ()) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(preload)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=initializer,
                               initargs=initargs)
