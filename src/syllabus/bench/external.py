"""External multiple-choice benchmarks: read a JSONL file, link each item to the concepts it mentions.

A line is ``{"id", "question", "choices", "answer_index"}`` (extra keys are ignored; an
``answer`` letter "A".."Z" may stand for ``answer_index``, read through ``labels`` when the
line has them). The whole file is checked before anything is written: the first bad line is an
E080 naming the file, the line and what was expected.

Items get level ``EXT``, source ``imported``, ``benchmark`` = the file name, the file's id as
``external_id`` and a stable id ``it-`` + hash(file name, external id), so importing the same
file again updates items in place. Linking, stored as the item's trace and its ``item_unit``
rows:

* **label matching** over the question and every choice with the project's
  :class:`~syllabus.extract.mentions.LabelIndex` (case-insensitive, lemma-aware, longest match);
* **embedding similarity** between the question and each concept's "label: definition"
  (MiniLM, vectors cached in the store): the ``top_k`` concepts at or above ``min_similarity``.

``trace["linked_by"]`` says, per concept, where its label was found and its similarity.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from syllabus.errors import SyllabusError, check_choice
from syllabus.store.batch import BATCH, delete_ids
from syllabus.store.tables import Concept, Item, ItemUnit, Label, Result

C, L, I, IU, RS = (t.__table__ for t in (Concept, Label, Item, ItemUnit, Result))

EXPECTED = ('{"id": "...", "question": "...", "choices": ["...", "..."], "answer_index": 0} '
            '(or "answer": "A".."Z" instead of answer_index; other keys are ignored)')
LEVEL, KIND, SOURCE = "EXT", "multiple_choice", "imported"
MAX_ID = 256  # item.external_id


@dataclass(frozen=True)
class ExternalItem:
    line: int
    external_id: str
    question: str
    choices: tuple[str, ...]
    answer: int


@dataclass
class ImportReport:
    file: str
    benchmark: str
    items: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0  # items of this benchmark no longer in the file (removed with prune)
    pruned: int = 0
    results_cleared: int = 0  # results of items whose question, choices or answer changed
    splits: dict[str, int] = field(default_factory=dict)
    linked: int = 0
    linked_by: dict[str, int] = field(default_factory=dict)  # items linked by label / by embedding
    concepts: int = 0  # distinct concepts linked
    # per discipline: items it owns (most of their concepts are its own), items linked to one of its concepts, and
    # that count's share of all items
    by_discipline: dict[str, dict] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def linked_share(self) -> float:
        return self.linked / self.items if self.items else 0.0

    def to_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items()}
        out["linked_share"] = round(self.linked_share, 4)
        return out


def item_id(benchmark: str, external_id: str) -> str:
    """Stable item id of an imported item: the same file name and id give the same item."""
    return "it-" + hashlib.sha256(f"{benchmark}\x1f{external_id}".encode()).hexdigest()[:24]


def auto_split(iid: str) -> str:
    """Deterministic 50/50 dev/test split by hash of the item id."""
    return "dev" if int(hashlib.sha256(f"split\x1f{iid}".encode()).hexdigest()[:8], 16) % 2 == 0 else "test"


# --- reading -------------------------------------------------------------------------------------

def read_benchmark(path: str | Path) -> list[ExternalItem]:
    """Every item of a benchmark JSONL file, checked; E020 (no file), E080 (bad line), E085 (no items)."""
    path = Path(path)
    if not path.is_file():
        raise SyllabusError("E020", file=str(path))
    items: list[ExternalItem] = []
    seen: dict[str, int] = {}
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                _bad(path, number, f"not valid UTF-8 text (byte {exc.start})")
            if number == 1:
                text = text.lstrip("\ufeff")
            if not text.strip():
                continue
            item = parse_line(path, number, text)
            if item.external_id in seen:
                _bad(path, number, f"duplicate id `{item.external_id}` (first on line {seen[item.external_id]})")
            seen[item.external_id] = number
            items.append(item)
    if not items:
        raise SyllabusError("E085", where=f" in {path}")
    return items


def parse_line(path: Path, number: int, text: str) -> ExternalItem:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        _bad(path, number, f"not valid JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(obj, dict):
        _bad(path, number, f"a JSON {type(obj).__name__} where an object was expected")
    ext = obj.get("id")
    if ext is None:
        _bad(path, number, "missing key `id`")
    if isinstance(ext, bool) or not isinstance(ext, (str, int)) or not str(ext).strip():
        _bad(path, number, f"`id` must be a non-empty string, got {json.dumps(ext)}")
    ext = str(ext).strip()
    if len(ext) > MAX_ID:
        _bad(path, number, f"`id` is longer than {MAX_ID} characters")
    question = obj.get("question")
    if not isinstance(question, str) or not question.strip():
        _bad(path, number, "missing key `question`" if question is None else "`question` must be a non-empty string")
    choices = obj.get("choices")
    if choices is None:
        _bad(path, number, "missing key `choices`")
    if not isinstance(choices, list) or len(choices) < 2:
        _bad(path, number, "`choices` must be a list of at least two strings")
    for k, choice in enumerate(choices):
        if not isinstance(choice, str) or not choice.strip():
            _bad(path, number, f"choice {k} must be a non-empty string, got {json.dumps(choice)[:60]}")
    answer = _answer(path, number, obj, choices)
    return ExternalItem(number, ext, question.strip(), tuple(c.strip() for c in choices), answer)


def _answer(path: Path, number: int, obj: dict, choices: list) -> int:
    n = len(choices)
    index = obj.get("answer_index")
    letter = obj.get("answer")
    if index is not None:
        if isinstance(index, bool) or not isinstance(index, int):
            _bad(path, number, f"`answer_index` must be an integer, got {json.dumps(index)[:40]}")
        if not 0 <= index < n:
            _bad(path, number, f"answer_index {index} is out of range for {n} choices (0..{n - 1})")
    if letter is None:
        if index is None:
            _bad(path, number, "missing key `answer_index` (or an `answer` letter)")
        return index
    labels = obj.get("labels")
    if isinstance(letter, str) and isinstance(labels, list) and len(labels) == n and letter in labels:
        from_letter = labels.index(letter)
    elif isinstance(letter, str) and len(letter) == 1 and "A" <= letter.upper() <= "Z" \
            and ord(letter.upper()) - 65 < n:
        from_letter = ord(letter.upper()) - 65
    else:
        _bad(path, number, f"answer {json.dumps(letter)[:40]} names no choice: expected a letter "
                           f"A..{chr(64 + min(n, 26))}")
    if index is not None and index != from_letter:
        _bad(path, number, f"answer_index {index} and answer {json.dumps(letter)} disagree")
    return from_letter


def _bad(path: Path, number: int, detail: str):
    raise SyllabusError("E080", file=str(path), line=number, detail=detail, expected=EXPECTED)


# --- linking -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LinkSettings:
    spacy_model: str | None = None
    embedding_model: str = "all-MiniLM-L6-v2"
    min_similarity: float = 0.5
    top_k: int = 3  # 0: label matching only


def concept_labels(session: Session, disciplines: list[str]) -> list[tuple[str, str, str]]:
    """(concept id, discipline, label text) of every active concept of *disciplines*."""
    return sorted(session.execute(
        select(L.c.concept_id, C.c.discipline, L.c.text).join(C, C.c.id == L.c.concept_id)
        .where(C.c.discipline.in_(disciplines), C.c.status == "active", C.c.origin != "external")).all())


def link_by_label(nlp, labels: list[tuple[str, str, str]], items: list[ExternalItem]) -> list[dict[str, list[str]]]:
    """Per item: concept id -> where its label occurs ("question", "choice:K")."""
    from syllabus.extract.mentions import LabelIndex

    out: list[dict[str, list[str]]] = [{} for _ in items]
    if not labels:
        return out
    index = LabelIndex(nlp, [(cid, text) for cid, _, text in labels])
    texts, owners = [], []
    for n, item in enumerate(items):
        for where, text in (("question", item.question), *((f"choice:{k}", c) for k, c in enumerate(item.choices))):
            texts.append(text)
            owners.append((n, where))
    for (n, where), doc in zip(owners, nlp.pipe(texts, batch_size=256)):
        for mention in index.find(doc):
            for cid in mention.concept_ids:
                places = out[n].setdefault(cid, [])
                if where not in places:
                    places.append(where)
    return out


def concept_texts(session: Session, disciplines: list[str]) -> list[tuple[str, str]]:
    """(concept id, "label: definition") of every active, labelled concept of *disciplines*."""
    rows = session.execute(select(C.c.id, C.c.pref_label, C.c.definition).where(
        C.c.discipline.in_(disciplines), C.c.status == "active", C.c.origin != "external",
        C.c.pref_label.is_not(None)).order_by(C.c.id))
    return [(cid, f"{label}: {definition}" if definition else label) for cid, label, definition in rows]


def link_by_embedding(session: Session, settings: LinkSettings, concepts: list[tuple[str, str]],
                      items: list[ExternalItem]) -> list[dict[str, float]]:
    """Per item: concept id -> cosine similarity of question and concept text (top-k above the threshold)."""
    import numpy as np

    from syllabus.extract.embeddings import embed

    out: list[dict[str, float]] = [{} for _ in items]
    if not concepts or settings.top_k <= 0:
        return out
    cvec = embed(session, settings.embedding_model, [text for _, text in concepts])
    qvec = embed(session, settings.embedding_model, [item.question for item in items])
    k = min(settings.top_k, len(concepts))
    for start in range(0, len(items), 256):
        sims = qvec[start:start + 256] @ cvec.T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        for row, cols in enumerate(top):
            for col in cols:
                score = float(sims[row, col])
                if score >= settings.min_similarity:
                    out[start + row][concepts[col][0]] = round(score, 4)
    return out


# --- import --------------------------------------------------------------------------------------

def import_benchmark(session: Session, path: str | Path, disciplines: list[str], split: str = "auto",
                     settings: LinkSettings | None = None, prune: bool = False) -> ImportReport:
    """Read, link and upsert the items of *path* (see the module docstring). *disciplines*: names
    whose concepts items may link to, in order of preference for an item's own discipline."""
    settings = settings or LinkSettings()
    if not disciplines:
        raise SyllabusError("E006", what="bench import", known="(none declared)")
    check_choice("--split", split, ("auto", "dev", "test"))
    path = Path(path)
    t0 = time.perf_counter()
    items = read_benchmark(path)
    report = ImportReport(file=str(path), benchmark=path.name, items=len(items))
    report.seconds["read"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    labels = concept_labels(session, disciplines)
    discipline_of = {cid: d for cid, d, _ in labels}
    nlp = None
    if labels:
        from syllabus.extract.nlp import load_pipeline

        nlp = load_pipeline(settings.spacy_model)
    by_label = link_by_label(nlp, labels, items) if nlp is not None else [{} for _ in items]
    report.seconds["label"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    texts = concept_texts(session, disciplines)
    by_embedding = link_by_embedding(session, settings, texts, items)
    if any(by_embedding):
        discipline_of.update((cid, d) for cid, d in session.execute(select(C.c.id, C.c.discipline).where(
            C.c.id.in_(sorted({c for d in by_embedding for c in d if c not in discipline_of})))))
    report.seconds["embedding"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    rows, units = [], {}
    rank = {d: n for n, d in enumerate(disciplines)}
    report.by_discipline = {d: {"items": 0, "linked": 0} for d in disciplines}
    linked_concepts: set[str] = set()
    for item, lab, emb in zip(items, by_label, by_embedding):
        concepts = sorted(set(lab) | set(emb))
        linked_by = {cid: {**({"label": lab[cid]} if cid in lab else {}),
                           **({"similarity": emb[cid]} if cid in emb else {})} for cid in concepts}
        counts = Counter(discipline_of[c] for c in concepts)
        own = min(counts, key=lambda d: (-counts[d], rank.get(d, len(rank)), d)) if counts else disciplines[0]
        iid = item_id(report.benchmark, item.external_id)
        trace = {"concepts": concepts, "relations": [], "chain": None, "linked_by": linked_by}
        rows.append(dict(id=iid, discipline=own, level=LEVEL, kind=KIND, source=SOURCE, benchmark=report.benchmark,
                         external_id=item.external_id, question=item.question,
                         choices=json.dumps(list(item.choices), ensure_ascii=False), answer=item.answer,
                         trace=json.dumps(trace, sort_keys=True, ensure_ascii=False),
                         split=auto_split(iid) if split == "auto" else split, leak=None))
        units[iid] = {f"concept:{c}" for c in concepts}
        linked_concepts.update(concepts)
        report.by_discipline[own]["items"] += 1
        report.linked += bool(concepts)
        for d in {discipline_of[c] for c in concepts}:
            report.by_discipline[d]["linked"] += 1
        for method, found in (("label", lab), ("embedding", emb)):
            report.linked_by[method] = report.linked_by.get(method, 0) + bool(found)
    for stats in report.by_discipline.values():
        stats["share"] = round(stats["linked"] / len(items), 4)
    report.concepts = len(linked_concepts)
    report.splits = dict(sorted(Counter(r["split"] for r in rows).items()))
    _write(session, report, rows, units, prune)
    report.seconds["write"] = time.perf_counter() - t0
    report.seconds = {k: round(v, 3) for k, v in report.seconds.items()}
    return report


_COLUMNS = ("discipline", "level", "kind", "source", "benchmark", "external_id", "question", "choices", "answer",
            "trace", "split", "leak")


def _write(session: Session, report: ImportReport, rows: list[dict], units: dict[str, set[str]], prune: bool) -> None:
    """Upsert *rows* (items of one benchmark) and their trace index; only changed rows are touched."""
    existing = {r.id: r for r in session.execute(
        select(I.c.id, *(I.c[c] for c in _COLUMNS)).where(I.c.benchmark == report.benchmark,
                                                         I.c.source == SOURCE))}
    ids = [r["id"] for r in rows]
    have_units: dict[str, set[str]] = {}
    for i in range(0, len(ids), BATCH):
        for iid, unit in session.execute(select(IU.c.item_id, IU.c.unit).where(IU.c.item_id.in_(ids[i:i + BATCH]))):
            have_units.setdefault(iid, set()).add(unit)
    new = [r for r in rows if r["id"] not in existing]
    changed = [r for r in rows if r["id"] in existing
               and any(getattr(existing[r["id"]], c) != r[c] for c in _COLUMNS)]
    if new:
        session.execute(insert(I), new)
    # a changed question, choice or answer makes the item's earlier results meaningless: they go
    reworded = [r["id"] for r in changed if any(getattr(existing[r["id"]], c) != r[c]
                                                for c in ("question", "choices", "answer"))]
    for i in range(0, len(reworded), BATCH):
        report.results_cleared += session.execute(delete(RS).where(RS.c.item_id.in_(reworded[i:i + BATCH]))).rowcount
    if changed:
        session.execute(update(I).where(I.c.id == bindparam("_id")).values({c: bindparam(c) for c in _COLUMNS}),
                        [{"_id": r["id"], **{c: r[c] for c in _COLUMNS}} for r in changed])
    drop, add = [], []
    for iid, want in units.items():
        have = have_units.get(iid, set())
        drop += [(iid, u) for u in sorted(have - want)]
        add += [dict(item_id=iid, unit=u) for u in sorted(want - have)]
    for iid, unit in drop:
        session.execute(delete(IU).where(IU.c.item_id == iid, IU.c.unit == unit))
    if add:
        session.execute(insert(IU), add)
    report.new, report.updated = len(new), len(changed)
    report.unchanged = len(rows) - len(new) - len(changed)
    stale = sorted(set(existing) - set(ids))
    report.stale = len(stale)
    if prune and stale:
        delete_ids(session, IU, stale, column="item_id")
        report.pruned = delete_ids(session, I, stale)
