"""A small executor interface, so a stage's pure function can run serially, on local processes,
or later on a distributed engine (Dask, Spark) without changing the stage."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol


class Executor(Protocol):
    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """Apply *fn* to every item, yielding results in input order."""


class SerialExecutor:
    def map(self, fn, items):
        return map(fn, items)

    def close(self) -> None:
        pass


class ProcessExecutor:
    """Local worker processes; each runs *initializer* once (e.g. to load a model)."""

    def __init__(self, workers: int, initializer: Callable | None = None, initargs: tuple = ()) -> None:
        import multiprocessing

        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=initializer, initargs=initargs)
        self.workers = workers

    def map(self, fn, items):
        # a bounded window keeps memory flat however long the input is
        window: list = []
        for item in items:
            window.append(self._pool.submit(fn, item))
            if len(window) >= self.workers * 2:
                yield window.pop(0).result()
        for future in window:
            yield future.result()

    def close(self) -> None:
        self._pool.shutdown()


def make_executor(workers: int, initializer: Callable | None = None, initargs: tuple = ()):
    if workers <= 1:
        if initializer:
            initializer(*initargs)
        return SerialExecutor()
    return ProcessExecutor(workers, initializer, initargs)
