"""Forked work over a graph loaded a part at a time (workers.map_as_loaded)."""
import os

import pytest

from syllabus.compile import workers

LOADED: list[str] = []  # what the "parent" has loaded so far; a fork sees it as it was at its start


def _seen(items):  # one result per part
    return [(os.getpid(), list(LOADED), [x * 2 for x in items])]


def _fails(items):
    if 3 in items:
        raise ValueError(f"bad item in {items}")
    return [items]


def _stages(parts):
    for name, items in parts:
        LOADED.append(name)
        yield items


@pytest.mark.skipif(not workers.can_fork(), reason="needs fork")
def test_each_part_runs_in_a_fork_that_sees_the_graph_as_loaded_then_and_results_come_in_order():
    LOADED.clear()
    parts = [("a", [1, 2, 3]), ("b", [4]), ("c", list(range(10))), ("d", [])]
    got = list(workers.map_as_loaded(_seen, _stages(parts), 2, lambda: None, min_items=2))
    assert [r[2] for r in got] == [[x * 2 for x in items] for _, items in parts]
    assert [r[1] for r in got] == [["a"], ["a", "b"], ["a", "b", "c"], ["a", "b", "c", "d"]]
    forked = [r[0] != os.getpid() for r in got]
    assert forked == [True, False, True, False]  # lists shorter than min_items stay in this process
    LOADED.clear()
    serial = list(workers.map_as_loaded(_seen, _stages(parts), 1, lambda: None, min_items=0))
    assert {r[0] for r in serial} == {os.getpid()} and [r[2] for r in serial] == [r[2] for r in got]


@pytest.mark.skipif(not workers.can_fork(), reason="needs fork")
def test_an_error_in_a_fork_is_raised_in_the_parent():
    parts = [("a", [1, 2]), ("b", [3, 4]), ("c", [5, 6])]
    with pytest.raises(ValueError, match=r"bad item in \[3, 4\]"):
        list(workers.map_as_loaded(_fails, _stages(parts), 2, lambda: None, min_items=1))


def _dies(items):
    os._exit(3)


def _many(items):  # several results per part
    return [x * 10 for x in items]


@pytest.mark.skipif(not workers.can_fork(), reason="needs fork")
def test_a_fork_that_dies_is_an_error_not_a_hang():
    with pytest.raises(RuntimeError, match="exit code 3"):
        list(workers.map_as_loaded(_dies, _stages([("a", [1])]), 2, lambda: None, min_items=1))


@pytest.mark.skipif(not workers.can_fork(), reason="needs fork")
def test_a_part_may_give_several_results_and_they_keep_their_order():
    parts = [("a", [1, 2, 3]), ("b", []), ("c", [4, 5])] * 3
    got = list(workers.map_as_loaded(_many, _stages(parts), 2, lambda: None, min_items=1))
    assert got == [x * 10 for _, items in parts for x in items]
