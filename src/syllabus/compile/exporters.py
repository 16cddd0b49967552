"""Exporters: a build's examples written in the formats trainers read.

``export_build`` reads and checks the examples, splits them train/validation by primary unit
and hands the splits to an exporter from :data:`EXPORTERS`. ``out`` is always a folder:

=========  ==================================================================================
openai     ``train.jsonl`` (+ ``validation.jsonl``): one ``{"messages": [...]}`` per line, the
           OpenAI chat fine-tuning format, nothing else in the line (extra keys are not part
           of that format).
sharegpt   ``<name>_sharegpt_train.json`` (+ ``..._validation.json``): a JSON list of
           ``{"id", "conversations": [{"from": "human"|"gpt", "value"}], "system", "task",
           "discipline", "units"}``, plus one entry per file in ``dataset_info.json``
           (LLaMA-Factory), merged into an existing one.
alpaca     ``<name>_alpaca_train.json`` (+ ``..._validation.json``): a JSON list of
           ``{"id", "instruction", "input", "output", "system", "history", ...}`` (history:
           earlier ``[user, assistant]`` turns), plus its ``dataset_info.json`` entries.
parquet    ``train.parquet`` (+ ``validation.parquet``): columns id, discipline, task, split,
           units (list<string>), messages (list<struct<role, content>>), provenance (JSON).
=========  ==================================================================================

The format name in the LLaMA-Factory file names lets both formats share one data folder.
``system`` is always present ("" when the example has none) and alpaca's ``history`` always
a list, because LLaMA-Factory looks up every column its entry names. Without a validation
split only the train file is written, and a stale validation file (and its
``dataset_info.json`` entry) from an earlier export is removed.

Outputs are byte-for-byte deterministic, and atomic: every file is written to a temporary
name next to its target and renamed into place only once all of them are complete.

Third parties add a format with an :class:`Exporter` function under the entry-point group
``syllabus.exporters`` (its name is the format); replacing a built-in format needs
``[plugins] override`` (else E153).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Callable, Optional

from syllabus.compile import layout
from syllabus.errors import SyllabusError
from syllabus.plugins import with_plugins

SCHEMA_VERSION = 1
SPLITS = ("train", "validation")

Example = dict[str, Any]
#: ``(splits, out, name) -> {file name in out: bytes, or None to remove a stale file}``; a split
#: maps to None when it was not asked for (no validation ratio).
Exporter = Callable[[dict[str, Optional[list[Example]]], Path, str], dict[str, Optional[bytes]]]


# ---------------------------------------------------------------------------------------------
# Reading and splitting

def read_examples(path: Path) -> list[Example]:
    """The examples of a build folder (its shard files, in id order) or of one JSONL file, checked
    (E073 names the file and the bad line; E070 when there is nothing to read)."""
    path = Path(path)
    files = layout.example_files(path) if path.is_dir() else [path]
    if not files:
        raise SyllabusError("E070", build=path.name, where=f" ({path}: no examples files)")
    examples: list[Example] = []
    first_line: dict[str, tuple[Path, int]] = {}
    for file in files:
        examples += _read_file(file, first_line)
    return examples


def _read_file(file: Path, first_line: dict[str, tuple[Path, int]]) -> list[Example]:
    """The checked examples of one JSONL file; *first_line* (id -> file and line seen on) grows."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise SyllabusError("E070", build=file.parent.name, where=f" ({file}: {exc.strerror or exc})") from exc
    examples = []
    for lineno, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            example = _check_example(json.loads(raw.decode("utf-8")))
        except UnicodeDecodeError as exc:
            raise SyllabusError("E073", file=str(file), line=lineno,
                                detail=f"not valid UTF-8 (byte {exc.start})") from exc
        except json.JSONDecodeError as exc:
            raise SyllabusError("E073", file=str(file), line=lineno,
                                detail=f"invalid JSON: {exc.msg} (column {exc.colno})") from exc
        except ValueError as exc:
            raise SyllabusError("E073", file=str(file), line=lineno, detail=str(exc)) from exc
        if example["id"] in first_line:
            where, line = first_line[example["id"]]
            first = f"line {line}" if where == file else f"{where.name} line {line}"
            raise SyllabusError("E073", file=str(file), line=lineno,
                                detail=f"duplicate example id {example['id']} (first on {first})")
        first_line[example["id"]] = (file, lineno)
        examples.append(example)
    return examples


def _check_example(obj: Any) -> Example:
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object")
    if not isinstance(obj.get("id"), str) or not obj["id"]:
        raise ValueError("missing `id` (a non-empty string)")
    units = obj.get("units")
    if not isinstance(units, list) or not units or not all(isinstance(u, str) and u for u in units):
        raise ValueError("missing `units` (a non-empty list of unit ids, the primary one first)")
    for key in ("discipline", "task", "split"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            raise ValueError(f"`{key}` must be a string")
    if obj.get("provenance") is not None and not isinstance(obj["provenance"], dict):
        raise ValueError("`provenance` must be an object")
    return {**obj, "messages": _check_messages(obj.get("messages"))}


def _check_messages(messages: Any) -> list[dict[str, str]]:
    """Role/content pairs: an optional system message, then user and assistant in turn."""
    if not isinstance(messages, list) or not messages:
        raise ValueError("missing `messages` (a non-empty list)")
    clean = []
    for i, msg in enumerate(messages, 1):
        if not (isinstance(msg, dict) and isinstance(msg.get("role"), str) and isinstance(msg.get("content"), str)):
            raise ValueError(f"message {i}: expected an object with string `role` and `content`")
        clean.append({"role": msg["role"], "content": msg["content"]})
    start = 1 if clean[0]["role"] == "system" else 0
    if not any(m["role"] == "assistant" for m in clean):
        raise ValueError("no assistant message")
    for i, msg in enumerate(clean[start:]):
        expected = ("user", "assistant")[i % 2]
        if msg["role"] != expected:
            raise ValueError(f"message {start + i + 1} has role `{msg['role']}`, expected `{expected}` "
                             "(an optional system message, then user and assistant in turn)")
    if clean[-1]["role"] != "assistant":
        raise ValueError("the last message must be the assistant's")
    return clean


def split_of(unit: str, *, validation: float, seed: int = 0) -> str:
    """``"validation"`` or ``"train"`` for a primary unit: a hash of seed and unit id under the ratio.

    A unit's side depends only on (seed, unit, ratio), so it keeps its side as builds grow.
    """
    digest = hashlib.sha256(f"{seed}\x00{unit}".encode()).digest()
    return "validation" if int.from_bytes(digest[:8], "big") < validation * 2 ** 64 else "train"


# ---------------------------------------------------------------------------------------------
# Formats

def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _system_and_turns(example: Example) -> tuple[str, list[tuple[str, str]]]:
    msgs = example["messages"]
    system = msgs[0]["content"] if msgs[0]["role"] == "system" else ""
    body = msgs[1:] if msgs[0]["role"] == "system" else msgs
    return system, [(body[i]["content"], body[i + 1]["content"]) for i in range(0, len(body), 2)]


def _meta(example: Example) -> dict[str, Any]:
    return {"task": example.get("task"), "discipline": example.get("discipline"), "units": example["units"]}


def export_openai(splits: dict[str, Optional[list[Example]]], out: Path, name: str) -> dict[str, Optional[bytes]]:
    """``<split>.jsonl``: one ``{"messages": [...]}`` per line."""
    def encode(rows: list[Example]) -> bytes:
        return "".join(json.dumps({"messages": ex["messages"]}, ensure_ascii=False) + "\n" for ex in rows).encode()
    return {f"{split}.jsonl": None if rows is None else encode(rows) for split, rows in splits.items()}


def _sharegpt_record(example: Example) -> dict[str, Any]:
    system, turns = _system_and_turns(example)
    conversations = [{"from": who, "value": text}
                     for user, assistant in turns for who, text in (("human", user), ("gpt", assistant))]
    return {"id": example["id"], "conversations": conversations, "system": system, **_meta(example)}


def _alpaca_record(example: Example) -> dict[str, Any]:
    system, turns = _system_and_turns(example)
    (instruction, output), history = turns[-1], [list(turn) for turn in turns[:-1]]
    return {"id": example["id"], "instruction": instruction, "input": "", "output": output,
            "system": system, "history": history, **_meta(example)}


_SHAREGPT_ENTRY = {"formatting": "sharegpt", "columns": {"messages": "conversations", "system": "system"},
                   "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"}}
_ALPACA_ENTRY = {"formatting": "alpaca", "columns": {"prompt": "instruction", "query": "input", "response": "output",
                                                     "system": "system", "history": "history"}}


def _llamafactory(fmt: str, record: Callable[[Example], dict[str, Any]], entry: dict[str, Any]) -> Exporter:
    """An exporter writing ``<name>_<fmt>_<split>.json`` files and their ``dataset_info.json`` entries."""
    def export(splits: dict[str, Optional[list[Example]]], out: Path, name: str) -> dict[str, Optional[bytes]]:
        info = _read_dataset_info(out / "dataset_info.json")
        files: dict[str, Optional[bytes]] = {}
        for split, rows in splits.items():
            key = f"{name}_{fmt}_{split}"
            files[f"{key}.json"] = None if rows is None else _json_bytes([record(ex) for ex in rows])
            if rows is not None:
                info[key] = {"file_name": f"{key}.json", **entry}
            elif isinstance(info.get(key), dict) and info[key].get("file_name") == f"{key}.json":
                del info[key]
        files["dataset_info.json"] = _json_bytes(info)
        return files
    export.__doc__ = f"{fmt} JSON lists for LLaMA-Factory, with their dataset_info.json entries."
    return export


def _read_dataset_info(path: Path) -> dict[str, Any]:
    """An existing ``dataset_info.json`` (its entries keep their order), or an empty one."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except (OSError, ValueError) as exc:
        raise SyllabusError("E074", file=str(path), detail=f"cannot merge into the existing file ({exc}); "
                                                           "fix or remove it") from exc
    if not isinstance(info, dict):
        raise SyllabusError("E074", file=str(path), detail="the existing file is not a JSON object; fix or remove it")
    return info


def export_parquet(splits: dict[str, Optional[list[Example]]], out: Path, name: str) -> dict[str, Optional[bytes]]:
    """``<split>.parquet`` with a fixed schema, its version in the schema metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    schema = pa.schema([("id", pa.string()), ("discipline", pa.string()), ("task", pa.string()),
                        ("split", pa.string()), ("units", pa.list_(pa.string())), ("messages", pa.list_(message)),
                        ("provenance", pa.string())],
                       metadata={"syllabus.schema_version": str(SCHEMA_VERSION)})

    def encode(rows: list[Example]) -> bytes:
        table = pa.Table.from_pylist([
            {"id": ex["id"], "discipline": ex.get("discipline"), "task": ex.get("task"), "split": ex.get("split"),
             "units": ex["units"], "messages": ex["messages"],
             "provenance": json.dumps(ex.get("provenance") or {}, ensure_ascii=False, sort_keys=True)}
            for ex in rows], schema=schema)
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        return sink.getvalue()
    return {f"{split}.parquet": None if rows is None else encode(rows) for split, rows in splits.items()}


EXPORTERS: dict[str, Exporter] = {
    "openai": export_openai,
    "sharegpt": _llamafactory("sharegpt", _sharegpt_record, _SHAREGPT_ENTRY),
    "alpaca": _llamafactory("alpaca", _alpaca_record, _ALPACA_ENTRY),
    "parquet": export_parquet,
}


ENTRY_POINT_GROUP = "syllabus.exporters"


def exporters(override: Iterable[str] = ()) -> dict[str, Exporter]:
    """The built-in exporters plus those registered under the ``syllabus.exporters`` entry-point
    group (the entry point's name is the format; replacing a built-in needs *override*, else E153)."""
    return with_plugins("exporter", ENTRY_POINT_GROUP, EXPORTERS, override)


def exporter_names(override: Iterable[str] = ()) -> list[str]:
    """The registered format names, sorted."""
    return sorted(exporters(override))


# ---------------------------------------------------------------------------------------------
# Export

def export_build(examples_path: Path, fmt: str, out: Path, *, validation: float = 0.0, seed: int = 0,
                 dataset_name: str = "syllabus", override: Iterable[str] = ()) -> dict[str, Any]:
    """Export the examples of a build folder (or of one JSONL file) in format *fmt* into the folder
    *out*; return a report.

    With ``validation`` > 0 the examples are split by primary unit (``units[0]``, see
    :func:`split_of`), so one unit's examples never land on both sides. The report is
    ``{"format", "schema_version", "out": [paths], "counts": {split: examples}, "units": {split: units}}``.
    """
    registry = exporters(override)
    if fmt not in registry:
        raise SyllabusError("E072", format=fmt, known=", ".join(sorted(registry)))
    if not 0.0 <= validation < 1.0:
        raise SyllabusError("E151", option="--validation", value=validation, expected="in [0, 1), such as 0.1")
    examples = read_examples(Path(examples_path))
    splits: dict[str, Optional[list[Example]]] = {"train": [], "validation": [] if validation > 0 else None}
    for example in examples:
        side = split_of(example["units"][0], validation=validation, seed=seed) if validation > 0 else "train"
        splits[side].append(example)  # type: ignore[union-attr]
    out = Path(out)
    written = _commit(out, registry[fmt](splits, out, dataset_name))
    return {"format": fmt, "schema_version": SCHEMA_VERSION, "out": [str(p) for p in written],
            "counts": {s: len(splits[s] or []) for s in SPLITS},
            "units": {s: len({ex["units"][0] for ex in splits[s] or []}) for s in SPLITS}}


def _commit(out: Path, files: dict[str, Optional[bytes]]) -> list[Path]:
    """Write all files to temporary names in *out*, then rename them into place; remove ``None`` ones.

    Nothing is renamed until every file is complete, so a failure (E074) leaves *out* as it was.
    """
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SyllabusError("E074", file=str(out), detail=exc.strerror or str(exc)) from exc
    staged: list[tuple[str, Path]] = []
    target = out
    try:
        for name, data in files.items():
            target = out / name
            if data is None:
                continue
            if target.is_dir():
                raise IsADirectoryError(21, "a folder is in the way", str(target))
            tmp = str(out / f".{name}.{secrets.token_hex(6)}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, unlike mkstemp
            staged.append((tmp, target))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for tmp, target in staged:
            os.replace(tmp, target)
        for name, data in files.items():
            target = out / name
            if data is None and target.is_file():
                target.unlink()
    except OSError as exc:
        if created:
            _remove_empty(out, staged)
        raise SyllabusError("E074", file=str(target), detail=exc.strerror or str(exc)) from exc
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return [target for _, target in staged]


def _remove_empty(out: Path, staged: list[tuple[str, Path]]) -> None:
    """Remove the folder a failed export created (once its temporary files are gone)."""
    for tmp, _ in staged:
        if os.path.exists(tmp):
            os.unlink(tmp)
    try:
        out.rmdir()
    except OSError:
        pass
