"""How the parse stage cuts pending chunks into tasks for its executor."""
from syllabus.extract.parse import _BATCH_CHUNKS, task_size


def test_one_process_takes_large_tasks():
    assert task_size(100_000, 1, 64) == _BATCH_CHUNKS
    assert task_size(10, 0, 64) == _BATCH_CHUNKS


def test_several_workers_get_enough_tasks_to_share_the_work():
    # 2358 chunks (the 200k-word benchmark slice): 5 tasks of 512 would leave one worker with 3 of 5
    size = task_size(2358, 2, 64)
    tasks = -(-2358 // size)
    assert tasks >= 16 and size >= 64


def test_tasks_stay_between_the_pipe_batch_and_the_cap():
    assert task_size(50, 4, 64) == 64  # never below one spaCy batch
    assert task_size(10_000_000, 2, 64) == _BATCH_CHUNKS
