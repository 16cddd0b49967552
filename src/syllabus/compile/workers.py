"""Running a compile's per-unit work in forked processes that share the graph already loaded.

A full compile of a large graph spends most of its time in pure Python per unit (fingerprints,
renderers, templates, signatures). :func:`map_blocks` runs a block function over blocks of units,
in order, either in this process or in worker processes forked from it: a fork inherits the
loaded graph, the compiled templates and the compile's decisions so far without copying or
reloading them. A worker has no store: the caller's *detach* swaps the sessions it would read
through for :class:`NoStore`, whose first use raises :class:`StoreNeeded`, and the block function
hands such a unit back for the parent to do. :func:`map_as_loaded` forks a process per part of the
work as the parent produces the parts (a discipline's units as soon as it is loaded). Rendered
lines go to a :class:`Spool`, one append-only file per process, so they are never held in memory
or sent through a pipe.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

# below this many units a compile stays in one process: forking costs more than it saves
PARALLEL_MIN_UNITS = 20_000
BLOCK_UNITS = 2_000


class StoreNeeded(Exception):
    """A worker process tried to read the store; the unit is done by the parent instead."""


class NoStore:
    """Stands in for a session in a worker process: any use raises :class:`StoreNeeded`."""

    def __getattr__(self, name: str):
        raise StoreNeeded(name)


def worker_count(requested: int | None) -> int:
    """Processes to use: *requested*, or one per CPU core when it is 0 or None."""
    if requested:
        return max(1, requested)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def collector_paused():
    """Python's cyclic garbage collector off for a compile's bulk work (forked workers inherit that).

    A large compile allocates millions of long-lived objects (the graph's views, fingerprints,
    rendered rows). The collector's full passes, started again and again while the heap grows, walk
    all of them each time: 38 passes and 8 s of CPU in the parent of a 250k-concept compile. Nothing
    the compile makes per unit forms reference cycles, so there is nothing for them to find; the
    collector is on again afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def map_blocks(fn: Callable, blocks: list, workers: int, detach: Callable[[], None],
               forked: Callable[[], None] | None = None) -> Iterator:
    """``fn(block)`` for every block, in order; in *workers* forked processes when that is worth it.

    *detach* runs first in each worker (to give it a :class:`NoStore`); *forked* runs in this process
    once the workers exist (to let go of what only they need now). Results come back in block
    order, so the outcome never depends on the number of processes.
    """
    if workers <= 1 or len(blocks) < 2 or not can_fork():
        yield from map(fn, blocks)
        return
    if gc.isenabled():  # else paused for the compile (see collector_paused): a full pass would find nothing
        gc.collect()
    gc.freeze()  # keep the collector from touching (and so copying) the inherited objects
    try:
        with multiprocessing.get_context("fork").Pool(min(workers, len(blocks)), initializer=detach) as pool:
            if forked is not None:
                forked()
            yield from pool.imap(fn, blocks)
    finally:
        gc.unfreeze()


def map_as_loaded(fn: Callable[[list], list], stages: Iterable[list], workers: int, detach: Callable[[], None],
                  min_items: int) -> Iterator:
    """The results of ``fn(items)`` (a list each) for each list of items *stages* yields, in order,
    each list done in a process forked for it alone as soon as a slot is free.

    A fork inherits what the parent had loaded when it started: a producer that loads the graph a
    part at a time (a discipline, say) and yields that part's units has them worked on while it
    loads the next part. *fn* hands back (as ``deferred``, see :class:`StoreNeeded`) what it cannot
    do without the rest. At most *workers* forks run at once; between results, finished forks are
    collected and new ones started, so no core waits while the caller handles a result. A list
    shorter than *min_items* (or any list, with one worker) is done here: a fork would cost more.
    """
    stages = iter(stages)
    context = multiprocessing.get_context("fork") if workers > 1 and can_fork() else None
    ahead: deque = deque()  # in stage order: a _Fork (maybe finished) or a list of results done here
    more = True

    def top_up() -> None:
        nonlocal more
        for entry in ahead:
            if isinstance(entry, _Fork):
                entry.poll()
        while more and sum(isinstance(e, _Fork) and e.running for e in ahead) < workers and len(ahead) <= workers:
            items = next(stages, None)
            if items is None:
                more = False
            elif context is not None and len(items) >= min_items:
                gc.freeze()  # keep the collector from touching (and so copying) the inherited objects
                ahead.append(_Fork(context, fn, items, detach))
            else:
                ahead.append(fn(items))

    try:
        top_up()
        while ahead:
            entry = ahead.popleft()
            for result in entry.results() if isinstance(entry, _Fork) else entry:
                top_up()
                yield result
            top_up()
    finally:
        for entry in ahead:
            if isinstance(entry, _Fork):
                entry.stop()
        gc.unfreeze()


class _Fork:
    """``fn(items)`` in a forked process, its result collected when ready (:meth:`poll`) or awaited."""

    def __init__(self, context, fn: Callable, items: list, detach: Callable[[], None]) -> None:
        self._pipe, child_end = context.Pipe(duplex=False)
        self._process = context.Process(target=_run_forked, args=(child_end, fn, items, detach), daemon=True)
        self._process.start()
        child_end.close()
        self._message: tuple | None = None

    @property
    def running(self) -> bool:
        return self._message is None

    def poll(self) -> None:
        """Collect the result if the fork has sent it (the fork then ends, freeing its slot)."""
        if self._message is None and self._pipe.poll():
            self._collect()

    def results(self) -> list:
        """The fork's results (waiting for them); its error, raised here."""
        if self._message is None:
            self._collect()
        ok, value = self._message
        if not ok:
            raise value
        return value

    def _collect(self) -> None:
        try:
            self._message = self._pipe.recv()
        except EOFError:
            self._process.join()
            self._message = (False, RuntimeError(f"a compile worker process died (exit code {self._process.exitcode})"))
        finally:
            self._pipe.close()
        self._process.join()

    def stop(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._pipe.close()


def _run_forked(pipe, fn: Callable, items: list, detach: Callable[[], None]) -> None:
    try:
        detach()
        message = (True, fn(items))
    except BaseException as exc:  # handed to the parent, which raises it
        message = (False, exc)
    try:
        pipe.send(message)
    except Exception as exc:  # an error that does not pickle still reaches the parent, as text
        pipe.send((False, RuntimeError(f"{type(exc).__name__} in a compile worker: {exc}")))
    pipe.close()


def blocks_of(items: Iterable, size: int | None = None) -> list[list]:
    items, size = list(items), size or BLOCK_UNITS
    return [items[i:i + size] for i in range(0, len(items), size)]


class Spool:
    """Append-only files of rendered lines in *folder*, one per process (named by its pid)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._fh = None
        self._pid = None

    def write(self, data: bytes) -> tuple[str, int]:
        """Append *data*; returns (file name, offset) of its first byte."""
        if self._pid != os.getpid():  # first write, or first in a forked worker: a file of its own
            self.folder.mkdir(parents=True, exist_ok=True)
            self._pid = os.getpid()
            self._fh = open(self.folder / f"{self._pid}.jsonl", "ab")
        offset = self._fh.tell()
        self._fh.write(data)
        self._fh.flush()
        return Path(self._fh.name).name, offset

    def close(self) -> None:
        if self._fh is not None and self._pid == os.getpid():
            self._fh.close()
        self._fh = self._pid = None
