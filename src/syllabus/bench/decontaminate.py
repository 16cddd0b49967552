"""Decontamination: benchmark items whose question a training prompt of the latest build contains.

Every item's question is compared with the user prompts of the latest build's examples by
long word n-grams (lower-cased ``\\w+`` tokens; each run of sentence punctuation, and the start
and end of a text, is one boundary token; n = :data:`N` = 13):

* **verbatim** -- the whole question occurs in a prompt: its tokens, boundaries included, when
  it is shorter than n tokens (so "Energy is a kind of which ...?" is not found inside
  "Gravitational potential energy is a kind of which ...?", nor "What is mass?" in "What is mass
  density?"), else every one of its n-grams (for overlapping 13-grams: the question itself,
  give or take punctuation and case);
* **overlap** -- any n-gram of the question outside its *taught* spans occurs in a prompt (the
  GPT-3 rule: one 13-gram in common makes an item dirty). Taught spans are the definitions (and
  masked definitions) of the concepts in the item's trace: an L1 probe quotes a definition that
  training teaches by design, so only the words around it count.

Why 13: it is GPT-3's choice (Brown et al. 2020, appendix C) and longer than any stock phrase of
the templates ("Which of the following ..."), so phrasing never collides by itself while a copied
question or sentence always does; shorter questions are checked whole, so a short question copied
into a prompt is caught too. N-grams are matched as 64-bit polynomial hashes with numpy over the
build read in blocks, so a build of millions of examples streams through in one pass.

A leaking item keeps its row with the finding in ``item.leak``; ``bench list`` hides it unless
asked and scoring and diagnosis leave it out. The check runs on every ``bench build`` and
overwrites ``item.leak`` (NULL when clean, or when there is no build to compare with).
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

N = 13
BLOCK = 20_000  # examples hashed at a time
_BASE = np.uint64(1_000_003)
MARK = "\x00"  # a sentence or clause boundary
_BOUNDARY = re.compile(r"[.?!:;\"\u201c\u201d\n]+")
_WORD = re.compile(r"\w+|\x00")
_RUN = re.compile(r"\x00(?: \x00)+")


def tokens(text: str) -> list[str]:
    """Lower-cased words, with one MARK for each run of sentence punctuation, framed by MARKs."""
    words = _WORD.findall(_BOUNDARY.sub(" \x00 ", text.casefold()))
    if not any(w != MARK for w in words):
        return []
    out = _RUN.sub(MARK, " ".join([MARK, *words, MARK])).split(" ")
    return out


@dataclass(frozen=True)
class Probe:
    """What is checked of one item: its question and the taught texts inside it to leave out."""

    item_id: str
    question: str
    taught: tuple[str, ...] = ()


@dataclass
class LeakReport:
    build: str | None
    checked: int = 0
    leaked: int = 0
    verbatim: int = 0
    overlap: int = 0
    changed: int = 0
    by_discipline_level: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"build": self.build, "n": N, "checked": self.checked, "leaked": self.leaked,
                "verbatim": self.verbatim, "overlap": self.overlap, "changed": self.changed,
                "by_discipline_level": self.by_discipline_level}


class _Vocab:
    """Token -> int id; tokens no probe uses share one id, which matches no probe n-gram."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def add(self, toks: list[str]) -> list[int]:
        return [self.ids.setdefault(t, len(self.ids) + 2) for t in toks]

    def get(self, toks: list[str]) -> np.ndarray:
        return np.array([self.ids.get(t, 1) for t in toks], dtype=np.uint64)


def _hash(ids: list[int]) -> int:
    """The polynomial hash of one window, as :func:`_hashes` computes it."""
    h = 0
    for i in ids:
        h = (h * 1_000_003 + i) & 0xFFFF_FFFF_FFFF_FFFF
    return h


def _hashes(ids: np.ndarray, k: int) -> np.ndarray:
    """Polynomial hashes of every window of *k* ids (uint64 arithmetic wraps, as intended)."""
    if len(ids) < k:
        return np.zeros(0, dtype=np.uint64)
    h = ids[: len(ids) - k + 1].copy()
    for j in range(1, k):
        h = h * _BASE + ids[j: len(ids) - k + 1 + j]
    return h


@dataclass
class _Plan:
    whole: dict[int, tuple[int, int]] = field(default_factory=dict)  # probe -> (k, hash) for short questions
    grams: dict[int, np.ndarray] = field(default_factory=dict)  # probe -> hashes of its 13-grams
    free: dict[int, np.ndarray] = field(default_factory=dict)  # probe -> 13-grams outside taught spans
    wanted: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))  # k -> hashes looked for


def _plan(probes: list[Probe], vocab: _Vocab) -> _Plan:
    plan = _Plan()
    for i, p in enumerate(probes):
        toks = tokens(p.question)
        if not toks:
            continue
        ids = vocab.add(toks)
        if len(toks) < N:
            h = _hash(ids)
            plan.whole[i] = (len(toks), h)
            plan.wanted[len(toks)].add(h)
            continue
        grams = _hashes(np.array(ids, dtype=np.uint64), N)
        masked = np.zeros(len(toks), dtype=bool)
        for text in p.taught:
            _mark(toks, tokens(text)[1:-1], masked)  # without its framing boundaries
        clean = np.convolve(masked.astype(np.int64), np.ones(N, dtype=np.int64), mode="valid") == 0
        plan.grams[i], plan.free[i] = grams, grams[clean]
        plan.wanted[N].update(grams.tolist())
    return plan


def _mark(toks: list[str], span: list[str], masked: np.ndarray) -> None:
    if not span or len(span) > len(toks):
        return
    first = span[0]
    for s in range(len(toks) - len(span) + 1):
        if toks[s] == first and toks[s:s + len(span)] == span:
            masked[s:s + len(span)] = True


def find_leaks(probes: list[Probe], prompts: Iterable[tuple[str, str, str]]) -> dict[str, str]:
    """item id -> leak finding, for the probes whose question a prompt ``(example id, task, text)`` leaks."""
    vocab = _Vocab()
    plan = _plan(probes, vocab)
    found = _scan(prompts, plan.wanted, vocab)
    leaks: dict[str, str] = {}
    for i, p in enumerate(probes):
        if i in plan.whole:
            where = found.get(plan.whole[i])
            if where:
                leaks[p.item_id] = f"verbatim: the question is in the training prompt of {where}"
            continue
        if i not in plan.grams:
            continue
        hits = [found.get((N, int(h))) for h in plan.grams[i]]
        if all(hits):
            leaks[p.item_id] = f"verbatim: the question is in the training prompt of {hits[0]}"
            continue
        for h in plan.free[i]:
            where = found.get((N, int(h)))
            if where:
                gram = _gram_text(p.question, plan.grams[i].tolist().index(int(h)))
                leaks[p.item_id] = f"overlap: {N}-gram \"{gram}\" is in the training prompt of {where}"
                break
    return leaks


def _gram_text(question: str, start: int) -> str:
    return " ".join(t for t in tokens(question)[start:start + N] if t != MARK)


def _scan(prompts: Iterable[tuple[str, str, str]], wanted: dict[int, set[int]], vocab: _Vocab) -> dict:
    """(k, hash) -> "example id (task)" of the first prompt with that n-gram, for the wanted ones."""
    found: dict[tuple[int, int], str] = {}
    if not wanted:
        return found
    wanted_arr = {k: np.fromiter(v, dtype=np.uint64, count=len(v)) for k, v in wanted.items()}
    block: list[tuple[str, str, str]] = []
    for prompt in prompts:
        block.append(prompt)
        if len(block) >= BLOCK:
            _scan_block(block, wanted_arr, vocab, found)
            block = []
    if block:
        _scan_block(block, wanted_arr, vocab, found)
    return found


def _scan_block(block, wanted: dict[int, np.ndarray], vocab: _Vocab, found: dict) -> None:
    parts, owner = [], []
    for n, (_, _, text) in enumerate(block):
        ids = vocab.get(tokens(text))
        parts += [ids, np.zeros(1, dtype=np.uint64)]  # 0 separates prompts: no window spans two
        owner += [np.full(len(ids) + 1, n, dtype=np.int64)]
    ids = np.concatenate(parts)
    owner_arr = np.concatenate(owner)
    breaks = np.r_[0, np.cumsum(ids == 0)]
    for k, targets in wanted.items():
        h = _hashes(ids, k)
        if not len(h):
            continue
        ok = (breaks[k:] - breaks[:-k]) == 0
        hit = np.nonzero(ok & np.isin(h, targets))[0]
        for pos in hit.tolist():
            key = (k, int(h[pos]))
            if key not in found:
                example, task, _ = block[int(owner_arr[pos])]
                found[key] = f"example {example} ({task})"


def user_prompts(folder: Path) -> Iterator[tuple[str, str, str]]:
    """(example id, task, user messages) of each kept example of a build folder."""
    from syllabus.compile.layout import iter_lines

    for line in iter_lines(folder):
        if not line.strip():
            continue
        ex = json.loads(line)
        text = "\n".join(m.get("content", "") for m in ex.get("messages", []) if m.get("role") == "user")
        yield ex.get("id", "?"), ex.get("task", "?"), text


def latest_examples(ws) -> tuple[str | None, Path | None]:
    """(build id, build folder) of the workspace's latest build, or (None, None) when there is none."""
    from syllabus.compile.layout import example_files
    from syllabus.compile.output import MANIFEST

    latest = (ws.path(ws.config.compile.build_dir) / "latest").resolve()
    if not (latest / MANIFEST).is_file() or not example_files(latest):
        return None, None
    return latest.name, latest


def decontaminate(session, ws, disciplines: list[str]) -> LeakReport:
    """Check every item of *disciplines* (generated and imported) against the latest build; set item.leak."""
    from sqlalchemy import bindparam, select, update

    from syllabus.store.tables import Item

    it = Item.__table__
    build, path = latest_examples(ws)
    rows = session.execute(select(it.c.id, it.c.discipline, it.c.level, it.c.question, it.c.trace, it.c.leak)
                           .where(it.c.discipline.in_(disciplines)).order_by(it.c.id)).all()
    report = LeakReport(build, checked=len(rows))
    leaks: dict[str, str] = {}
    if path is not None and rows:
        taught = _taught_texts(session, {c for r in rows for c in json.loads(r.trace).get("concepts", [])})
        probes = [Probe(r.id, r.question, tuple(t for c in json.loads(r.trace).get("concepts", [])
                                                 for t in taught.get(c, ()))) for r in rows]
        leaks = find_leaks(probes, user_prompts(path))
    changes = [{"k": r.id, "v": leaks.get(r.id)} for r in rows if r.leak != leaks.get(r.id)]
    if changes:
        session.execute(update(it).where(it.c.id == bindparam("k")).values(leak=bindparam("v")), changes)
    report.changed = len(changes)
    report.leaked = len(leaks)
    report.verbatim = sum(v.startswith("verbatim") for v in leaks.values())
    report.overlap = report.leaked - report.verbatim
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        if r.id in leaks:
            counts[r.discipline][r.level] += 1
    report.by_discipline_level = {d: dict(sorted(v.items())) for d, v in sorted(counts.items())}
    return report


def _taught_texts(session, concept_ids: set[str]) -> dict[str, tuple[str, ...]]:
    """Per concept: its definition and its masked definition (what L1 probes quote by design)."""
    from types import SimpleNamespace

    from sqlalchemy import select

    from syllabus.compile.graph import ALT_KINDS
    from syllabus.compile.templates import definiens
    from syllabus.store.batch import BATCH
    from syllabus.store.tables import Concept, Label

    c, lab = Concept.__table__, Label.__table__
    ids = sorted(concept_ids)
    rows, alts = [], defaultdict(list)
    for i in range(0, len(ids), BATCH):
        part = ids[i:i + BATCH]
        rows += session.execute(select(c.c.id, c.c.pref_label, c.c.definition)
                                .where(c.c.id.in_(part), c.c.definition.is_not(None))).all()
        for cid, text in session.execute(select(lab.c.concept_id, lab.c.text)
                                         .where(lab.c.concept_id.in_(part), lab.c.kind.in_(ALT_KINDS))):
            alts[cid].append(text)
    out = {}
    for r in rows:
        if not (r.definition or "").strip():
            continue
        view = SimpleNamespace(definition=r.definition, label=r.pref_label or r.id, alt_labels=tuple(alts[r.id]))
        out[r.id] = (r.definition, definiens(view))
    return out
