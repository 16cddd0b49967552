"""Exporters: each format's content, the split by primary unit, determinism, atomic failure."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from syllabus.compile.exporters import EXPORTERS, export_build, exporter_names, read_examples, split_of
from syllabus.errors import SyllabusError

SYSTEM = {"role": "system", "content": "You are a physics tutor."}


def _example(id_, units, messages, task="concept.definition"):
    return {"id": id_, "discipline": "physics", "task": task, "split": "train", "units": units,
            "messages": messages,
            "provenance": {"renderer": "concept@1", "template": "concept/definition/2.j2", "seed": 0,
                           "evidence": [{"id": 12, "document": "corpora/physics/heat.md", "span": [10, 80]}],
                           "dependencies": {units[0]: "9f1c"}}}


EXAMPLES = [
    _example("ex-heat", ["concept:phys:Heat", "concept:phys:Energy"],
             [SYSTEM, {"role": "user", "content": "What is heat?"},
              {"role": "assistant", "content": "Energy transferred because of a temperature difference."}]),
    _example("ex-work", ["concept:phys:Work"],  # no system message, non-ASCII text
             [{"role": "user", "content": "Définir le travail ?"},
              {"role": "assistant", "content": "W = F·d — force times displacement."}]),
    _example("ex-chain", ["chain:phys:7", "concept:phys:Heat"],  # multi-turn
             [SYSTEM, {"role": "user", "content": "Is heat energy?"}, {"role": "assistant", "content": "Yes."},
              {"role": "user", "content": "Why?"}, {"role": "assistant", "content": "Heat is_a Energy."}],
             task="chain.explain"),
]


def write_examples(path: Path, examples=EXAMPLES) -> Path:
    path.write_text("".join(json.dumps(ex, ensure_ascii=False) + "\n" for ex in examples), encoding="utf-8")
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def examples(tmp_path) -> Path:
    return write_examples(tmp_path / "examples.jsonl")


def test_registry_lists_the_built_in_formats():
    assert exporter_names() == ["alpaca", "openai", "parquet", "sharegpt"]


def test_openai_writes_only_messages_per_line(examples, tmp_path):
    report = export_build(examples, "openai", tmp_path / "out")
    assert report["out"] == [str(tmp_path / "out" / "train.jsonl")]
    assert report["counts"] == {"train": 3, "validation": 0}
    assert report["units"] == {"train": 3, "validation": 0}
    text = (tmp_path / "out" / "train.jsonl").read_text(encoding="utf-8")
    assert text.endswith("\n") and "\r" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines == [{"messages": ex["messages"]} for ex in EXAMPLES]
    assert "Définir" in text  # not \u-escaped


def test_sharegpt_records_and_dataset_info(examples, tmp_path):
    out = tmp_path / "out"
    report = export_build(examples, "sharegpt", out, dataset_name="phys")
    assert report["out"] == [str(out / "phys_sharegpt_train.json"), str(out / "dataset_info.json")]
    records = json.loads((out / "phys_sharegpt_train.json").read_text(encoding="utf-8"))
    assert records[0] == {
        "id": "ex-heat",
        "conversations": [{"from": "human", "value": "What is heat?"},
                          {"from": "gpt", "value": "Energy transferred because of a temperature difference."}],
        "system": "You are a physics tutor.", "task": "concept.definition", "discipline": "physics",
        "units": ["concept:phys:Heat", "concept:phys:Energy"]}
    assert records[1]["system"] == ""
    assert [m["from"] for m in records[2]["conversations"]] == ["human", "gpt", "human", "gpt"]
    assert records[2]["conversations"][3]["value"] == "Heat is_a Energy."
    info = json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))
    assert info == {"phys_sharegpt_train": {
        "file_name": "phys_sharegpt_train.json", "formatting": "sharegpt",
        "columns": {"messages": "conversations", "system": "system"},
        "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"}}}


def test_alpaca_records_carry_history_for_multi_turn(examples, tmp_path):
    out = tmp_path / "out"
    export_build(examples, "alpaca", out)
    records = json.loads((out / "syllabus_alpaca_train.json").read_text(encoding="utf-8"))
    assert {k: records[0][k] for k in ("instruction", "input", "output", "system", "history")} == {
        "instruction": "What is heat?", "input": "",
        "output": "Energy transferred because of a temperature difference.",
        "system": "You are a physics tutor.", "history": []}
    assert records[1]["system"] == "" and records[1]["output"] == "W = F·d — force times displacement."
    assert records[2]["instruction"] == "Why?" and records[2]["output"] == "Heat is_a Energy."
    assert records[2]["history"] == [["Is heat energy?", "Yes."]]
    info = json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))
    assert info["syllabus_alpaca_train"]["columns"] == {
        "prompt": "instruction", "query": "input", "response": "output", "system": "system", "history": "history"}


def test_parquet_reads_back_with_pandas_and_datasets(examples, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import datasets
    import pandas as pd
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    export_build(examples, "parquet", out)
    path = out / "train.parquet"
    frame = pd.read_parquet(path)
    assert list(frame.columns) == ["id", "discipline", "task", "split", "units", "messages", "provenance"]
    assert list(frame["id"]) == ["ex-heat", "ex-work", "ex-chain"]
    assert json.loads(frame["provenance"][0]) == EXAMPLES[0]["provenance"]
    schema = pq.read_schema(path)
    assert str(schema.field("units").type) == "list<element: string>"
    assert schema.metadata[b"syllabus.schema_version"] == b"1"

    loaded = datasets.load_dataset("parquet", data_files={"train": str(path)}, cache_dir=str(tmp_path / "hf"))
    rows = list(loaded["train"])
    assert [r["id"] for r in rows] == ["ex-heat", "ex-work", "ex-chain"]
    assert rows[2]["messages"] == EXAMPLES[2]["messages"]
    assert rows[0]["units"] == ["concept:phys:Heat", "concept:phys:Energy"]


def _many_examples(n=200):
    """n examples over ~80 primary units, one to four examples each."""
    examples, unit = [], 0
    while len(examples) < n:
        for k in range(1 + unit % 4):
            examples.append(_example(f"ex-{unit}-{k}", [f"concept:phys:C{unit}", "concept:phys:Energy"],
                                     [{"role": "user", "content": f"q{unit}.{k}"},
                                      {"role": "assistant", "content": f"a{unit}.{k}"}]))
        unit += 1
    return examples[:n]


def test_split_keeps_each_unit_on_one_side_and_respects_the_ratio(tmp_path):
    source = write_examples(tmp_path / "examples.jsonl", _many_examples())
    out = tmp_path / "out"
    report = export_build(source, "sharegpt", out, validation=0.2, seed=3)
    train = json.loads((out / "syllabus_sharegpt_train.json").read_text(encoding="utf-8"))
    valid = json.loads((out / "syllabus_sharegpt_validation.json").read_text(encoding="utf-8"))
    train_units = {r["units"][0] for r in train}
    valid_units = {r["units"][0] for r in valid}
    assert not train_units & valid_units
    assert len(train) + len(valid) == 200
    assert report["counts"] == {"train": len(train), "validation": len(valid)}
    assert report["units"] == {"train": len(train_units), "validation": len(valid_units)}
    assert 0.1 <= len(valid_units) / (len(train_units) + len(valid_units)) <= 0.3
    assert 0.1 <= len(valid) / 200 <= 0.3
    assert all(split_of(u, validation=0.2, seed=3) == "validation" for u in valid_units)
    # another seed moves units around
    assert {u for u in train_units | valid_units if split_of(u, validation=0.2, seed=4) == "validation"} != valid_units


@pytest.mark.parametrize("fmt", ["openai", "sharegpt", "alpaca", "parquet"])
def test_outputs_are_byte_identical_across_runs(fmt, tmp_path):
    source = write_examples(tmp_path / "examples.jsonl", EXAMPLES + _many_examples(40))
    export_build(source, fmt, tmp_path / "a", validation=0.3, seed=1)
    export_build(source, fmt, tmp_path / "b", validation=0.3, seed=1)
    first = snapshot(tmp_path / "a")
    assert first == snapshot(tmp_path / "b")
    assert len(first) >= 2
    export_build(source, fmt, tmp_path / "a", validation=0.3, seed=1)  # again, over the old files
    assert snapshot(tmp_path / "a") == first


def test_dataset_info_merge_keeps_other_entries_and_drops_stale_validation(examples, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    other = {"alpaca_en_demo": {"file_name": "alpaca_en_demo.json"}}
    (out / "dataset_info.json").write_text(json.dumps(other), encoding="utf-8")
    export_build(examples, "sharegpt", out, validation=0.5)
    info = json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))
    assert list(info) == ["alpaca_en_demo", "syllabus_sharegpt_train", "syllabus_sharegpt_validation"]
    assert (out / "syllabus_sharegpt_validation.json").exists()

    export_build(examples, "sharegpt", out)  # no validation split now: its file and entry go
    info = json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))
    assert list(info) == ["alpaca_en_demo", "syllabus_sharegpt_train"]
    assert not (out / "syllabus_sharegpt_validation.json").exists()
    assert info["alpaca_en_demo"] == other["alpaca_en_demo"]


def test_a_third_party_exporter_is_used_by_name(examples, tmp_path, monkeypatch):
    def ids(splits, out, name):
        return {f"{s}.txt": None if rows is None else "".join(ex["id"] + "\n" for ex in rows).encode()
                for s, rows in splits.items()}
    monkeypatch.setitem(EXPORTERS, "ids", ids)
    export_build(examples, "ids", tmp_path / "out")
    assert (tmp_path / "out" / "train.txt").read_text() == "ex-heat\nex-work\nex-chain\n"


# --- errors leave the outputs exactly as they were ---------------------------------------------

@pytest.fixture
def previous(examples, tmp_path):
    """An output folder holding an earlier export of every format."""
    out = tmp_path / "out"
    for fmt in exporter_names():
        export_build(examples, fmt, out, validation=0.5)
    return out, snapshot(out)


@pytest.mark.parametrize("line, detail", [
    ('{"id": "ex-x", "units": ["u"], "messages": [', "invalid JSON"),
    ('{"id": "ex-x", "units": ["u"]}', "missing `messages`"),
    ('{"id": "ex-x", "units": ["u"], "messages": [{"role": "user", "content": "q"}]}', "no assistant message"),
    ('{"id": "ex-x", "units": ["u"], "messages": [{"role": "assistant", "content": "a"}]}', "role `assistant`"),
    ('{"id": "ex-x", "units": [], "messages": [{"role": "user", "content": "q"}, '
     '{"role": "assistant", "content": "a"}]}', "missing `units`"),
    ('["not", "an", "object"]', "expected a JSON object"),
    (json.dumps(EXAMPLES[0]), "duplicate example id ex-heat (first on line 1)"),
])
def test_bad_input_line_names_the_line_and_writes_nothing(line, detail, previous, tmp_path):
    out, before = previous
    source = tmp_path / "bad.jsonl"
    source.write_text(json.dumps(EXAMPLES[0]) + "\n" + line + "\n" + json.dumps(EXAMPLES[1]) + "\n", encoding="utf-8")
    for fmt in exporter_names():
        with pytest.raises(SyllabusError) as err:
            export_build(source, fmt, out, validation=0.5)
        assert err.value.code == "E073"
        assert err.value.fields["line"] == 2 and err.value.fields["file"] == str(source)
        assert detail in err.value.message and "bad.jsonl:2: " in err.value.message
    assert snapshot(out) == before


def test_invalid_utf8_is_a_bad_line(tmp_path):
    source = tmp_path / "examples.jsonl"
    source.write_bytes(json.dumps(EXAMPLES[0]).encode() + b"\n\xff\xfe\n")
    with pytest.raises(SyllabusError) as err:
        export_build(source, "openai", tmp_path / "out")
    assert err.value.code == "E073" and err.value.fields["line"] == 2
    assert not (tmp_path / "out").exists()


def test_missing_examples_file_is_a_missing_build(tmp_path):
    with pytest.raises(SyllabusError) as err:
        export_build(tmp_path / "b-123" / "examples.jsonl", "openai", tmp_path / "out")
    assert err.value.code == "E070" and "b-123" in err.value.message


def test_unknown_format_lists_the_known_ones(previous, examples):
    out, before = previous
    with pytest.raises(SyllabusError) as err:
        export_build(examples, "csv", out)
    assert err.value.code == "E072"
    assert err.value.fields["known"] == "alpaca, openai, parquet, sharegpt"
    assert snapshot(out) == before


@pytest.mark.parametrize("fmt", ["openai", "sharegpt", "alpaca", "parquet"])
def test_out_under_a_file_cannot_be_written(fmt, examples, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(SyllabusError) as err:
        export_build(examples, fmt, blocker / "out")
    assert err.value.code == "E074"
    assert blocker.read_text() == "x"


@pytest.mark.parametrize("fmt, blocked", [("openai", "validation.jsonl"), ("parquet", "validation.parquet"),
                                          ("sharegpt", "dataset_info.json"), ("alpaca", "syllabus_alpaca_train.json")])
def test_failure_midway_leaves_every_output_as_it_was(fmt, blocked, previous, examples):
    out, _ = previous
    target = out / blocked
    target.unlink()
    target.mkdir()  # a folder in the way of one of the files
    before = snapshot(out)
    with pytest.raises(SyllabusError) as err:
        export_build(examples, fmt, out, validation=0.5, seed=9)
    assert err.value.code == "E074" and err.value.fields["file"] == str(target)
    assert snapshot(out) == before  # no file replaced, no temporary file left
    assert sorted(os.listdir(out)) == sorted([*before, blocked])


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write a read-only folder")
def test_read_only_folder_cannot_be_written(previous, examples):
    out, before = previous
    out.chmod(0o555)
    try:
        with pytest.raises(SyllabusError) as err:
            export_build(examples, "openai", out)
        assert err.value.code == "E074"
    finally:
        out.chmod(0o755)
    assert snapshot(out) == before


def test_unreadable_dataset_info_is_not_overwritten(previous, examples):
    out, _ = previous
    (out / "dataset_info.json").write_text("{broken", encoding="utf-8")
    before = snapshot(out)
    with pytest.raises(SyllabusError) as err:
        export_build(examples, "sharegpt", out)
    assert err.value.code == "E074" and err.value.fields["file"] == str(out / "dataset_info.json")
    assert snapshot(out) == before


def test_a_build_folder_is_read_shard_by_shard_in_id_order(tmp_path):
    from syllabus.compile.layout import shard_path

    build = tmp_path / "b-1"
    (build / "examples").mkdir(parents=True)
    ids = ["ex-" + h * 32 for h in "f0a"]  # shards ff, 00, aa
    for eid in ids:
        write_examples(shard_path(build, eid[3:5]), [dict(EXAMPLES[0], id=eid)])
    assert [ex["id"] for ex in read_examples(build)] == sorted(ids)
    # a bad line names its shard file; a duplicate id names the shard it came first in
    shard = shard_path(build, "aa")
    shard.write_text(shard.read_text(encoding="utf-8") + '{"id": 1}\n', encoding="utf-8")
    with pytest.raises(SyllabusError) as err:
        read_examples(build)
    assert err.value.fields["file"] == str(shard) and err.value.fields["line"] == 2
    write_examples(shard, [dict(EXAMPLES[0], id=ids[2]), dict(EXAMPLES[0], id=ids[1])])
    with pytest.raises(SyllabusError) as err:
        read_examples(build)
    assert "duplicate example id" in err.value.message and "(first on 00.jsonl line 1)" in err.value.message


def test_a_build_folder_without_examples_is_a_missing_build(tmp_path):
    (tmp_path / "b-9" / "examples").mkdir(parents=True)
    with pytest.raises(SyllabusError) as err:
        export_build(tmp_path / "b-9", "openai", tmp_path / "out")
    assert err.value.code == "E070" and "b-9" in err.value.message
    assert not (tmp_path / "out").exists()
