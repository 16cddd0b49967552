"""Phase timings of a compile, printed to stderr when ``SYLLABUS_TRACE`` is set.

Each line gives the seconds since the compile started, the process's resident memory, its own CPU
time and that of the worker processes it forked (once they have ended) then, and the phase just
finished: enough to see where a slow or large compile spends its time and memory without a
profiler (which slows the pure-Python parts several times over).
"""
from __future__ import annotations

import os
import sys
import time

_start: float | None = None
listener = None  # a callable(name) told of every finished phase (the CLI's progress line), tracing or not


def enabled() -> bool:
    return bool(os.environ.get("SYLLABUS_TRACE"))


def start() -> None:
    global _start
    _start = time.perf_counter()


def phase(name: str) -> None:
    """Report that *name* is done (a no-op unless tracing is on or a listener is set)."""
    if listener is not None:
        listener(name)
    if not enabled():
        return
    t = time.perf_counter() - (_start if _start is not None else time.perf_counter())
    try:
        with open("/proc/self/statm") as fh:
            rss = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        mem = f"{rss / 1e9:6.2f} GB"
    except (OSError, ValueError):  # not Linux
        mem = "     ? GB"
    times = os.times()  # CPU time: this process's own, and its worker processes' once they have ended
    cpu, workers = times.user + times.system, times.children_user + times.children_system
    print(f"syllabus trace: {t:8.3f} s {mem} {cpu:8.2f} s CPU {workers:8.2f} s workers' CPU  {name}",
          file=sys.stderr, flush=True)
