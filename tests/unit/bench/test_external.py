"""Reading external multiple-choice benchmarks: accepted shapes, coded errors, stable ids and splits."""
import json

import pytest

from syllabus.bench.external import auto_split, item_id, read_benchmark
from syllabus.errors import SyllabusError

GOOD = {"id": "q1", "question": "What is force?", "choices": ["a push", "a colour"], "answer_index": 0}


def write(tmp_path, *lines, name="bench.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


def test_reads_items_tolerating_extra_keys_blank_lines_and_letters(tmp_path):
    path = write(tmp_path, {**GOOD, "labels": ["A", "B"], "source": "x"}, "",
                 {"id": 7, "question": " Q2 ", "choices": ["x", "y", "z"], "answer": "c"},
                 {"id": "q3", "question": "Q3", "choices": ["x", "y", "z", "w"], "labels": ["1", "2", "3", "4"],
                  "answer": "4"},
                 {"id": "q4", "question": "Q4", "choices": ["x", "y"], "answer_index": 1, "answer": "B"})
    items = read_benchmark(path)
    assert [(i.line, i.external_id, i.question, i.answer) for i in items] == [
        (1, "q1", "What is force?", 0), (3, "7", "Q2", 2), (4, "q3", "Q3", 3), (5, "q4", "Q4", 1)]
    assert items[0].choices == ("a push", "a colour")


@pytest.mark.parametrize("line, detail", [
    ('{"id": "q2", "question": ', "not valid JSON"),
    ("[1, 2]", "a JSON list where an object was expected"),
    ({"question": "Q", "choices": ["a", "b"], "answer_index": 0}, "missing key `id`"),
    ({"id": "q2", "choices": ["a", "b"], "answer_index": 0}, "missing key `question`"),
    ({"id": "q2", "question": "Q", "answer_index": 0}, "missing key `choices`"),
    ({"id": "q2", "question": "Q", "choices": ["only one"], "answer_index": 0}, "at least two strings"),
    ({"id": "q2", "question": "Q", "choices": ["a", 3], "answer_index": 0}, "choice 1 must be a non-empty string"),
    ({"id": "q2", "question": "Q", "choices": ["a", "b"]}, "missing key `answer_index`"),
    ({"id": "q2", "question": "Q", "choices": ["a", "b"], "answer_index": 2}, "answer_index 2 is out of range"),
    ({"id": "q2", "question": "Q", "choices": ["a", "b"], "answer_index": -1}, "out of range for 2 choices"),
    ({"id": "q2", "question": "Q", "choices": ["a", "b"], "answer_index": True}, "must be an integer"),
    ({"id": "q2", "question": "Q", "choices": ["a", "b"], "answer": "C"}, "names no choice: expected a letter A..B"),
    ({"id": "q2", "question": "Q", "choices": ["a", "b"], "answer": "AB"}, "names no choice"),
    ({"id": "q2", "question": "Q", "choices": ["a", "b"], "answer_index": 0, "answer": "B"}, "disagree"),
    ({**GOOD}, "duplicate id `q1` (first on line 1)"),
])
def test_bad_line_is_e080_with_file_line_and_what_was_expected(tmp_path, line, detail):
    path = write(tmp_path, GOOD, line)
    with pytest.raises(SyllabusError) as err:
        read_benchmark(path)
    assert err.value.code == "E080"
    assert err.value.fields["line"] == 2 and err.value.fields["file"] == str(path)
    assert detail in err.value.message
    assert '"answer_index"' in err.value.fix


def test_invalid_utf8_missing_and_empty_files(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(json.dumps(GOOD).encode() + b"\n\xff\xfe\n")
    with pytest.raises(SyllabusError, match="bad.jsonl:2: not valid UTF-8"):
        read_benchmark(bad)
    with pytest.raises(SyllabusError) as err:
        read_benchmark(tmp_path / "nope.jsonl")
    assert err.value.code == "E020"
    empty = write(tmp_path, "", name="empty.jsonl")
    with pytest.raises(SyllabusError) as err:
        read_benchmark(empty)
    assert err.value.code == "E085" and "empty.jsonl" in err.value.message


def test_ids_and_auto_split_are_stable_and_balanced():
    assert item_id("arc.jsonl", "q1") == item_id("arc.jsonl", "q1")
    assert item_id("arc.jsonl", "q1") != item_id("other.jsonl", "q1")
    assert item_id("arc.jsonl", "q1").startswith("it-") and len(item_id("arc.jsonl", "q1")) == 27
    splits = [auto_split(item_id("b.jsonl", str(n))) for n in range(2000)]
    assert splits == [auto_split(item_id("b.jsonl", str(n))) for n in range(2000)]
    assert 900 < splits.count("dev") < 1100
