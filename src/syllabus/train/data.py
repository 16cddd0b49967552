"""Training data: a build's examples (plus patch examples, replayed in a ratio) tokenised for a causal LM.

Each example's ``messages`` are rendered with the tokenizer's chat template; a model without one
(the tiny test model) gets :data:`FALLBACK_TEMPLATE`, which is saved with the trained model so that
training and later use agree. Labels are ``-100`` everywhere except on the assistant turns (their
content and the end-of-turn marker the template puts after it), so the loss is on assistant tokens
only. Sequences longer than ``max_length`` are cut at the end; an example left with no assistant
token is skipped and counted.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from syllabus.compile.exporters import read_examples
from syllabus.errors import SyllabusError

IGNORE = -100
FALLBACK_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}"
    "{% if m['role'] == 'assistant' %}{{ eos_token }}{% endif %}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def is_patch(example: dict[str, Any]) -> bool:
    """Patch examples are rendered for gap units (``gap:ID``) by the patch renderers."""
    return any(u.startswith("gap:") for u in example.get("units", []))


def read_patch(path: Path) -> list[dict[str, Any]]:
    """Patch examples from a JSONL file of compiled examples, or from a build folder (its gap examples)."""
    path = Path(path)
    if path.is_dir():
        return [ex for ex in read_examples(path) if is_patch(ex)]
    if not path.is_file():
        raise SyllabusError("E093", source=str(path), detail="no such file or build folder")
    return read_examples(path)


def _rank(seed: int, key: str) -> str:
    return hashlib.sha256(f"{seed}|{key}".encode()).hexdigest()


def assemble(build_examples: list[dict], patches: list[dict], *, replay_ratio: float | None = None,
             limit: int | None = None, seed: int = 0) -> tuple[list[dict], dict[str, Any]]:
    """Build examples (optionally a seeded sample of *limit*) plus patches; *replay_ratio* keeps
    ``ratio x len(patches)`` build examples (patch-focused continual training). Order: by example id."""
    base = [ex for ex in build_examples if ex.get("split", "train") == "train"]
    chosen = sorted(base, key=lambda ex: _rank(seed, ex["id"]))
    if limit is not None:
        chosen = chosen[:limit]
    if replay_ratio is not None:
        if not patches:
            raise SyllabusError("E093", source="--replay-ratio", detail="a replay ratio needs patch examples (--patch)")
        chosen = chosen[:int(round(replay_ratio * len(patches)))]
    seen = {ex["id"] for ex in chosen}
    extra = [ex for ex in patches if ex["id"] not in seen]
    examples = sorted(chosen + extra, key=lambda ex: ex["id"])
    return examples, {"build_examples": len(chosen), "patch_examples": len(extra),
                      "replay_ratio": replay_ratio, "limit": limit}


def ensure_chat_template(tokenizer) -> bool:
    """Give *tokenizer* the fallback template when it has none; True when the model's own is used."""
    if getattr(tokenizer, "chat_template", None):
        return True
    tokenizer.chat_template = FALLBACK_TEMPLATE
    return False


def _render(tokenizer, messages: list[dict], generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)


def assistant_spans(tokenizer, messages: list[dict]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character spans of its assistant turns."""
    text = _render(tokenizer, messages)
    spans = []
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        before = _render(tokenizer, messages[:i], generation_prompt=True)
        through = _render(tokenizer, messages[:i + 1])
        if not (text.startswith(through) and through.startswith(before)):
            raise SyllabusError("E093", source="chat template",
                                detail="rendering a conversation is not prefix-stable; loss masking needs it")
        spans.append((len(before), len(through)))
    return text, spans


def encode(tokenizer, examples: list[dict], max_length: int) -> tuple[list[dict[str, list[int]]], dict[str, int]]:
    """Token ids and assistant-only labels per example; counts of what was cut or skipped."""
    rows: list[dict[str, list[int]]] = []
    counts = {"examples": 0, "truncated": 0, "skipped_no_answer": 0, "tokens": 0, "answer_tokens": 0}
    for ex in examples:
        text, spans = assistant_spans(tokenizer, ex["messages"])
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids, offsets = enc["input_ids"], enc["offset_mapping"]
        labels = [tid if any(a <= s < b for a, b in spans) and e > s else IGNORE
                  for tid, (s, e) in zip(ids, offsets)]
        if len(ids) > max_length:
            ids, labels = ids[:max_length], labels[:max_length]
            counts["truncated"] += 1
        answer = sum(1 for x in labels if x != IGNORE)
        if answer == 0:
            counts["skipped_no_answer"] += 1
            continue
        rows.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels})
        counts["examples"] += 1
        counts["tokens"] += len(ids)
        counts["answer_tokens"] += answer
    return rows, counts


def examples_digest(examples: list[dict]) -> str:
    return hashlib.sha256(json.dumps([ex["id"] for ex in examples]).encode()).hexdigest()[:16]
