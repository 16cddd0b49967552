"""Quality of `syllabus extract`: relation precision/recall against held-out ontology relations.

What it measures
----------------
**Sample workspace** (``syllabus.toml``, ``ontologies/``, ``corpora/`` of this repository: the
disciplines ``physics`` and ``biology``), copied into a temporary folder:

1. For each discipline, ``--holdout`` (default 20%) of the ontology's relations are held out
   with a seeded RNG (``--seed``, default 13), stratified per predicate: of a predicate with *n*
   relations, ``round(n * holdout)`` are held out, at least one when *n* >= 2. ``related_to`` is
   excluded from the hold-out by default (no extraction pattern produces it, so its recall is
   0 by construction; ``--include-related`` holds it out too).
2. The reduced ontology files are written faithfully by importing the full file into a scratch
   store, deleting the held-out relations there and exporting the discipline with
   :func:`syllabus.ontology.export.render` in the original format (Turtle for physics, OBO for
   biology). After importing the reduced files, the script checks that the store holds exactly
   the full file's concepts and the full file's relations minus the held-out ones.
3. ``ingest`` and ``extract`` run on the temporary workspace (one SQLite store).

Figures, per predicate, per discipline and overall (relations whose predicate is ``related_to``
stay in the kept ontology unless ``--include-related``):

* **recall** -- held-out relations (s, p, o) for which an extracted relation (origin
  ``extracted``, any status) with the same triple exists / held-out relations;
* **held-out precision** -- extracted triples that are held-out ones / extracted triples whose
  two ends are ontology concepts and which the kept ontology does not state (the predictions
  that can be judged against the ontology);
* **ontology-consistent precision** -- extracted triples among ontology concepts that the FULL
  ontology states / all extracted triples among ontology concepts. A kept triple never becomes
  an extracted relation (a match attaches as evidence to the ontology relation); the script
  counts such triples (``kept_as_extracted``, expected 0), so (a) and (b) differ only if it is
  not 0;
* **evidence recall** -- kept ontology relations that received ``syllabus.relation`` evidence /
  kept relations: recall of the patterns on relations the ontology already states;
* **prediction precision** -- all triples the patterns predicted among ontology concepts,
  whether they became extracted relations or evidence on kept ones: (kept with evidence +
  held-out hits) / (kept with evidence + extracted among ontology concepts);
* near misses among the wrong predictions: the reversed triple (o, p, s) is in the ontology, or
  the pair is related in the ontology under another predicate;
* **pattern recall on the whole ontology** -- held-out recovered + kept with evidence / all
  relations but ``related_to``: the same pattern output seen from both sides, independent of the
  seed;
* **concept-mention recall** -- active ontology concepts with at least one ``syllabus.mention``
  evidence row / active ontology concepts (the unmentioned ones are listed), and the mentions
  matched through labels of at most two characters (symbols such as ``a`` or ``F``, which can
  match ordinary words);
* the extracted concepts (origin ``extracted``), counted and listed by label.

``--errors N`` adds an error listing per discipline: N missed held-out relations with the corpus
sentences that mention both ends (from the mention evidence; else a plain case-insensitive grep
of the chunk text for any label of each end), and N false positives (extracted triples among
ontology concepts that the full ontology does not state) with their evidence sentence, the
pattern that fired (recomputed from the cached parse) and what the ontology says about the pair
(another predicate, the reverse, entailed through is_a/part_of paths, or nothing). Kept relations
that got no textual evidence are listed the same way as the misses: they are misses of the same
patterns.

**Python documentation** (``../shared/data/corpora/python-docs``, when present): a workspace
with one discipline ``python`` whose ontology is a small hand-written OBO file (30 core Python
concepts, a few ``is_a``/``part_of`` relations), fed a deterministic slice of the docs: files in
sorted path order, whole files, until at least ``--python-words`` (default 150,000) whitespace
words of source are taken. There is no gold standard beyond the ontology, so it prints words,
chunks, mention counts per concept (top 30), the concepts with zero mentions, the numbers of
extracted concepts and relations, the ontology relations that got textual evidence, and the
seconds taken. Without the folder it prints a skip line.

It makes no assertions and exits 0 whatever the figures.

How to run
----------
    .venv/bin/python benchmarks/extract_quality.py
    .venv/bin/python benchmarks/extract_quality.py --seed 7 --holdout 0.3 --errors 10
    .venv/bin/python benchmarks/extract_quality.py --no-python --json
    .venv/bin/python benchmarks/extract_quality.py --keep /tmp/eq   # keep the workspaces
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import textwrap
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
PYTHON_DOCS = SHARED_DATA / "corpora" / "python-docs"
sys.path.insert(0, str(REPO / "src"))

from sqlalchemy import delete, func, select  # noqa: E402

from syllabus.config import load_workspace  # noqa: E402
from syllabus.corpus.ingest import corpus_files, ingest  # noqa: E402
from syllabus.corpus.readers import reader_for  # noqa: E402
from syllabus.extract.run import extract  # noqa: E402
from syllabus.ontology.curie import workspace_curies  # noqa: E402
from syllabus.ontology.export import render  # noqa: E402
from syllabus.ontology.formats import detect_format  # noqa: E402
from syllabus.ontology.reader import read_ontology  # noqa: E402
from syllabus.ontology.sync import declared_files, import_file  # noqa: E402
from syllabus.store import open_store  # noqa: E402
from syllabus.store.tables import Chunk, ChunkParse, Concept, Evidence, Label, Relation  # noqa: E402

C, L, R, E, K, P = (t.__table__ for t in (Concept, Label, Relation, Evidence, Chunk, ChunkParse))

# ---------------------------------------------------------------------------------------------
# The hand-written Python ontology (definitions written for this benchmark)
# ---------------------------------------------------------------------------------------------

PY_CONCEPTS = [
    # id, name, definition, synonyms, is_a, part_of
    ("0000001", "object", "Any value a Python program works with; every piece of data has an identity, a type and a value.",
     [], [], []),
    ("0000002", "data type", "The kind of an object, which fixes the operations the object supports and the values it may take.",
     ["type object", "built-in type"], ["0000001"], []),
    ("0000003", "function", "A named or anonymous block of code that can be called with arguments and hands back a result.",
     ["callable"], ["0000001"], []),
    ("0000004", "method", "A function defined in a class body and called through an instance or the class itself.",
     ["bound method"], ["0000003"], ["0000005"]),
    ("0000005", "class", "A template that creates objects of a new type and groups their shared attributes and methods.",
     ["class definition"], ["0000002"], []),
    ("0000006", "module", "A file of Python code whose definitions can be loaded into other code with an import.",
     ["extension module"], ["0000001"], []),
    ("0000007", "package", "A module that groups further modules under a common dotted name, usually a directory.",
     ["subpackage"], ["0000006"], []),
    ("0000008", "exception", "An object signalling that an error or unusual condition interrupted the normal flow of execution.",
     ["exception object"], ["0000001"], []),
    ("0000009", "list", "A mutable sequence that keeps items in order and can grow or shrink in place.",
     ["list object"], ["0000013"], []),
    ("0000010", "tuple", "An immutable sequence of a fixed number of items, often used to return several values.",
     ["tuple object"], ["0000013"], []),
    ("0000011", "dictionary", "A mutable mapping from hashable keys to values, kept in insertion order.",
     ["dict", "dict object"], ["0000014"], []),
    ("0000012", "set", "An unordered collection of distinct hashable objects supporting union, intersection and difference.",
     ["set object", "frozenset"], ["0000001"], []),
    ("0000013", "sequence", "An iterable whose items are reached by integer position, supporting len() and indexing.",
     ["sequence type"], ["0000017"], []),
    ("0000014", "mapping", "A container that looks up values by arbitrary keys rather than by position.",
     ["mapping object"], ["0000001"], []),
    ("0000015", "string", "An immutable sequence of Unicode characters representing text.",
     ["str", "Unicode string", "text string"], ["0000013"], []),
    ("0000016", "integer", "A whole number of unlimited size.",
     ["int", "long integer"], ["0000001"], []),
    ("0000017", "iterable", "An object that can hand out its members one at a time, for instance in a for loop.",
     [], ["0000001"], []),
    ("0000018", "iterator", "An object that yields the successive items of a stream each time next() is called on it, then stops.",
     ["iterator object"], ["0000017"], []),
    ("0000019", "generator", "A function containing yield whose call returns an iterator that runs the body lazily.",
     ["generator function", "generator expression"], ["0000003"], []),
    ("0000020", "decorator", "A callable applied to a function or class definition with @ syntax, returning a replacement.",
     ["function decorator"], ["0000003"], []),
    ("0000021", "argument", "A value passed to a function or method when it is called.",
     ["actual parameter"], [], []),
    ("0000022", "keyword argument", "An argument given in a call as name=value, matched to a parameter by its name.",
     ["named argument"], ["0000021"], []),
    ("0000023", "positional argument", "An argument matched to a parameter by its position in the call.",
     [], ["0000021"], []),
    ("0000024", "parameter", "A name in a function definition that receives an argument when the function is called.",
     ["formal parameter"], [], ["0000003"]),
    ("0000025", "attribute", "A value attached to an object and reached by a dotted name.",
     ["data attribute"], [], ["0000001"]),
    ("0000026", "interpreter", "The program that reads Python source code and executes it.",
     ["Python interpreter"], [], []),
    ("0000027", "statement", "A syntactic unit of a program that performs an action, such as an assignment or an import.",
     ["simple statement", "compound statement"], [], []),
    ("0000028", "expression", "A piece of syntax that evaluates to a value.",
     [], [], ["0000027"]),
    ("0000029", "floating-point number", "A number with a fractional part, stored in binary at machine double precision.",
     ["float", "floating point number"], ["0000001"], []),
    ("0000030", "reference count", "The number of references to an object, which frees the object when it drops to zero.",
     ["refcount"], [], ["0000001"]),
]


def python_obo() -> str:
    lines = ["format-version: 1.4", "ontology: syllabus/python-benchmark", "default-namespace: python", ""]
    names = {cid: name for cid, name, *_ in PY_CONCEPTS}
    for cid, name, definition, synonyms, is_a, part_of in PY_CONCEPTS:
        lines += ["[Term]", f"id: PY:{cid}", f"name: {name}", f'def: "{definition}" []']
        lines += [f'synonym: "{s}" EXACT []' for s in synonyms]
        lines += [f"is_a: PY:{o} ! {names[o]}" for o in is_a]
        lines += [f"relationship: part_of PY:{o} ! {names[o]}" for o in part_of]
        lines.append("")
    lines += ["[Typedef]", "id: part_of", "name: part of", ""]
    return "\n".join(lines)


PY_TOML = """\
[store]
url = "sqlite:///.syllabus/store.db"

[[disciplines]]
name = "python"
prefix = "PY"
iri = "http://purl.obolibrary.org/obo/PY_"
ontologies = ["ontologies/python.obo"]
corpora = ["corpora/python"]
"""

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def fmt_ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def triples(rows) -> set[tuple[str, str, str]]:
    return {(r.subject_id, r.predicate, r.object_id) for r in rows}


def choose_holdout(relations: set[tuple[str, str, str]], share: float, rng: random.Random,
                   include_related: bool) -> set[tuple[str, str, str]]:
    by_pred: dict[str, list] = defaultdict(list)
    for t in sorted(relations):
        if t[1] == "related_to" and not include_related:
            continue
        by_pred[t[1]].append(t)
    out = set()
    for pred in sorted(by_pred):
        items = by_pred[pred]
        k = round(len(items) * share)
        if k == 0 and len(items) >= 2 and share > 0:
            k = 1
        out.update(rng.sample(items, k))
    return out


def labels_of(session, concept_ids) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    ids = sorted(set(concept_ids))
    for i in range(0, len(ids), 500):
        for cid, text in session.execute(select(L.c.concept_id, L.c.text).where(L.c.concept_id.in_(ids[i:i + 500]))):
            out[cid].append(text)
    return out


def pref_labels(session, discipline: str) -> dict[str, str]:
    return {r.id: r.pref_label or r.id for r in session.execute(
        select(C.c.id, C.c.pref_label).where(C.c.discipline == discipline))}


_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


def grep_sentences(texts: list[str], a_labels: list[str], b_labels: list[str], limit: int = 2) -> list[str]:
    """Sentences of the chunk texts containing a label of each end (case-insensitive, plural-tolerant)."""
    def rx(labels):
        alts = sorted({re.escape(" ".join(x.split()).lower()) for x in labels if x.strip()}, key=len, reverse=True)
        return re.compile(r"\b(?:" + "|".join(alts) + r")(?:s|es)?\b", re.I) if alts else None
    ra, rb = rx(a_labels), rx(b_labels)
    if ra is None or rb is None:
        return []
    out = []
    for text in texts:
        for sent in _SENT_SPLIT.split(text):
            s = " ".join(sent.split())
            if ra.search(s) and rb.search(s) and s not in out:
                out.append(s)
                if len(out) >= limit:
                    return out
    return out


def timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------
# Sample workspace
# ---------------------------------------------------------------------------------------------


def prepare_sample(root: Path, share: float, seed: int, include_related: bool) -> tuple:
    ws_root = root / "sample"
    for sub in ("ontologies", "corpora"):
        shutil.copytree(REPO / sub, ws_root / sub)
    shutil.copy(REPO / "syllabus.toml", ws_root / "syllabus.toml")
    ws = load_workspace(ws_root)
    curies = workspace_curies(ws)
    rng = random.Random(seed)
    full, heldout, parsed_concepts = {}, {}, {}
    scratch = open_store(f"sqlite:///{(root / 'scratch.db').as_posix()}")
    try:
        with scratch.transaction() as s:
            for name in ws.discipline_names():
                files = declared_files(ws, name)
                for path in files:
                    parsed = read_ontology(path, curies, ws.relative(path))
                    full.setdefault(name, set()).update(r.key for r in parsed.relations)
                    parsed_concepts.setdefault(name, {}).update({c.id: c.content() for c in parsed.concepts})
                    import_file(s, ws, name, path)
                heldout[name] = choose_holdout(full[name], share, rng, include_related)
                for subj, pred, obj in sorted(heldout[name]):
                    s.execute(delete(R).where(R.c.subject_id == subj, R.c.predicate == pred,
                                              R.c.object_id == obj, R.c.origin == "ontology"))
                if len(files) != 1:
                    raise SystemExit(f"{name}: expected one ontology file, found {len(files)}")
                path = files[0]
                fmt = detect_format(path)
                path.write_text(render(s, ws, name, "obo" if fmt == "obo" else "ttl"), encoding="utf-8")
    finally:
        scratch.close()
    return ws, full, heldout, parsed_concepts


def verify_import(session, ws, name, full, heldout, parsed_concepts, curies) -> dict:
    stored = triples(session.execute(select(R.c.subject_id, R.c.predicate, R.c.object_id).where(
        R.c.discipline == name, R.c.origin == "ontology")))
    reread = {}
    for path in declared_files(ws, name):
        reread.update({c.id: c.content() for c in read_ontology(path, workspace_curies(ws), ws.relative(path)).concepts})
    return {
        "heldout_present_after_import": len(stored & heldout),
        "relations_equal_full_minus_heldout": stored == full - heldout,
        "concepts_identical_to_original": reread == parsed_concepts,
    }


def discipline_figures(session, name: str, full: set, heldout: set) -> dict:
    kept = full - heldout
    onto_ids = set(session.scalars(select(C.c.id).where(C.c.discipline == name, C.c.origin == "ontology")))
    extracted = {(r.subject_id, r.predicate, r.object_id): r for r in session.execute(
        select(R.c.id, R.c.subject_id, R.c.predicate, R.c.object_id, R.c.status, R.c.confidence)
        .where(R.c.discipline == name, R.c.origin == "extracted"))}
    onto_rel_ids = {(r.subject_id, r.predicate, r.object_id): r.id for r in session.execute(
        select(R.c.id, R.c.subject_id, R.c.predicate, R.c.object_id)
        .where(R.c.discipline == name, R.c.origin == "ontology"))}
    with_evidence = set(session.scalars(select(E.c.relation_id).where(
        E.c.relation_id.in_(list(onto_rel_ids.values())), E.c.extractor == "syllabus.relation").distinct()))
    kept_ev = {t for t, rid in onto_rel_ids.items() if rid in with_evidence}
    ext = set(extracted)
    among = {t for t in ext if t[0] in onto_ids and t[2] in onto_ids}
    pairs_full = defaultdict(set)
    for s, p, o in full:
        pairs_full[(s, o)].add(p)

    predicates = sorted({t[1] for t in full} | {t[1] for t in ext})
    rows = {}
    for pred in predicates + ["(all)"]:
        sel = (lambda t: True) if pred == "(all)" else (lambda t, p=pred: t[1] == p)
        k = {t for t in kept if sel(t)}
        h = {t for t in heldout if sel(t)}
        x = {t for t in ext if sel(t)}
        a = {t for t in among if sel(t)}
        judge = a - kept
        hits = a & heldout
        in_full = a & full
        kev = {t for t in kept_ev if sel(t)}
        wrong = a - full
        reversed_ = {t for t in wrong if (t[2], t[1], t[0]) in full}
        other_pred = {t for t in wrong if t not in reversed_ and
                      ((pairs_full.get((t[0], t[2]), set()) | pairs_full.get((t[2], t[0]), set())) - {t[1]})}
        rows[pred] = {
            "kept": len(k), "heldout": len(h), "recovered": len(h & ext), "recall": ratio(len(h & ext), len(h)),
            "extracted": len(x), "extracted_among_ontology": len(a), "judgeable": len(judge), "hits": len(hits),
            "heldout_precision": ratio(len(hits), len(judge)),
            "in_full_ontology": len(in_full), "ontology_consistent_precision": ratio(len(in_full), len(a)),
            "kept_as_extracted": len(a & kept),
            "kept_with_evidence": len(kev), "evidence_recall": ratio(len(kev), len(k)),
            "prediction_precision": ratio(len(kev) + len(hits), len(kev) + len(a)),
            "wrong_reversed": len(reversed_), "wrong_other_predicate": len(other_pred),
            "wrong_entailed": sum(1 for t in wrong if t[1] in ("is_a", "part_of") and entailed(full, *t)),
        }
    extracted_statuses = Counter(r.status for r in extracted.values())

    active = set(session.scalars(select(C.c.id).where(C.c.discipline == name, C.c.origin == "ontology",
                                                      C.c.status == "active")))
    mentioned = set(session.scalars(select(E.c.concept_id).where(
        E.c.concept_id.in_(list(active)), E.c.extractor == "syllabus.mention").distinct()))
    labels = pref_labels(session, name)
    short = short_label_mentions(session, name)
    ext_concepts = session.execute(
        select(C.c.id, C.c.pref_label, func.count(E.c.id)).outerjoin(E, E.c.concept_id == C.c.id)
        .where(C.c.discipline == name, C.c.origin == "extracted").group_by(C.c.id, C.c.pref_label)).all()
    return {
        "rows": rows,
        "extracted_statuses": dict(extracted_statuses),
        "extracted_with_extracted_concept_end": len(ext - among),
        "mention_recall": {"active_concepts": len(active), "mentioned": len(mentioned),
                           "recall": ratio(len(mentioned), len(active)),
                           "unmentioned": sorted(labels[c] for c in active - mentioned),
                           "short_label_mentions": short},
        "extracted_concepts": {"count": len(ext_concepts),
                               "labels": sorted((r.pref_label or r.id) for r in ext_concepts),
                               "evidence": {(r.pref_label or r.id): r[2] for r in ext_concepts}},
        "pattern_recall_full": pattern_recall(rows),
        "_sets": {"heldout": heldout, "full": full, "ext": ext, "among": among, "extracted": extracted,
                  "kept_no_evidence": {t for t in kept if t[1] != "related_to"} - kept_ev},
    }


def short_label_mentions(session, name: str) -> list[dict]:
    """Mentions matched through labels of at most two characters (symbols such as `a`, `F`, `I`)."""
    per_concept: Counter = Counter()
    per_surface: Counter = Counter()
    for cid, text, start, end in session.execute(
            select(E.c.concept_id, K.c.text, E.c.char_start, E.c.char_end).join(K, K.c.id == E.c.chunk_id)
            .join(C, C.c.id == E.c.concept_id)
            .where(C.c.discipline == name, E.c.extractor == "syllabus.mention")):
        per_concept[cid] += 1
        surface = text[start:end]
        if len(surface.strip()) <= 2:
            per_surface[(cid, surface)] += 1
    labels = pref_labels(session, name)
    return [{"concept": labels[c], "surface": t, "mentions": n, "of": per_concept[c]}
            for (c, t), n in sorted(per_surface.items(), key=lambda kv: (-kv[1], kv[0]))]


def entailed(full: set, s: str, p: str, o: str) -> bool:
    """(s, p, o) follows from the ontology: is_a by is_a transitivity; part_of by a path of is_a and
    part_of edges with at least one part_of (X is_a Y part_of Z, X part_of Y is_a Z, ...)."""
    up: dict[str, list] = defaultdict(list)
    for a, q, b in full:
        if q in ("is_a", "part_of"):
            up[a].append((q, b))
    need_part = p == "part_of"
    seen, stack = set(), [(s, False)]
    while stack:
        node, used_part = stack.pop()
        for q, b in up.get(node, ()):
            if q == "part_of" and not need_part:
                continue
            state = (b, used_part or q == "part_of")
            if state in seen:
                continue
            seen.add(state)
            if b == o and (state[1] or not need_part):
                return True
            stack.append(state)
    return False


def ontology_note(t: tuple[str, str, str], full: set, labels: dict) -> str:
    """What the full ontology says about a wrongly predicted pair."""
    s, p, o = t
    stated = sorted(f"{labels[a]} {q} {labels[b]}" for a, q, b in full if {a, b} == {s, o})
    if stated:
        return "ontology states: " + "; ".join(stated)
    if p in ("is_a", "part_of"):
        if entailed(full, s, p, o):
            return f"entailed by the ontology ({p} through is_a{'/part_of' if p == 'part_of' else ''} paths)"
        if entailed(full, o, p, s):
            return "the ontology entails the reverse"
    return "pair unrelated in the ontology"


def pattern_recall(rows: dict) -> dict:
    """Seed-independent recall of the patterns on the whole ontology: a triple counts when the patterns
    predicted it, whether it was held out (recovered as an extracted relation) or kept (evidence)."""
    a, rel = rows["(all)"], rows.get("related_to", {"kept": 0, "heldout": 0, "recovered": 0, "kept_with_evidence": 0})
    den = a["kept"] + a["heldout"] - rel["kept"] - rel["heldout"]
    num = a["recovered"] + a["kept_with_evidence"] - rel["recovered"] - rel["kept_with_evidence"]
    return {"predicted": num, "relations": den, "recall": ratio(num, den)}


def error_listing(session, ws, name: str, figs: dict, n: int, rng: random.Random) -> dict:
    """Missed held-out relations with sentences, false positives with evidence and pattern."""
    from syllabus.extract import registry
    from syllabus.extract.mentions import LabelIndex
    from syllabus.extract.nlp import from_bytes, load_pipeline
    from syllabus.extract.run import matcher_labels

    sets = figs["_sets"]
    labels = pref_labels(session, name)
    missed = sorted(sets["heldout"] - sets["ext"])
    fps = sorted(sets["among"] - sets["full"])
    no_ev = sorted(sets["kept_no_evidence"])
    missed_pick = sorted(rng.sample(missed, min(n, len(missed))))
    no_ev_pick = sorted(rng.sample(no_ev, min(n, len(no_ev))))
    fp_pick = sorted(rng.sample(fps, min(n, len(fps))))
    both_picks = missed_pick + no_ev_pick
    all_labels = labels_of(session, {t[0] for t in both_picks} | {t[2] for t in both_picks})
    # sentences per concept from mention evidence (chunk, sentence)
    mention_sents: dict[str, set] = defaultdict(set)
    ids = sorted({t[0] for t in both_picks} | {t[2] for t in both_picks})
    if ids:
        for cid, chunk, sent in session.execute(select(E.c.concept_id, E.c.chunk_id, E.c.sentence).where(
                E.c.concept_id.in_(ids), E.c.extractor == "syllabus.mention")):
            mention_sents[cid].add((chunk, " ".join(sent.split())))
    texts = None
    out_missed = []
    for s, p, o in both_picks:
        both = sorted(x[1] for x in mention_sents[s] & mention_sents[o])
        how = "co-mentioned"
        if not both:
            if texts is None:
                from syllabus.store.tables import Document
                D = Document.__table__
                texts = list(session.scalars(select(K.c.text).join(D, D.c.id == K.c.document_id)
                                             .where(D.c.discipline == name).order_by(D.c.path, K.c.ordinal)))
            both = grep_sentences(texts, all_labels[s], all_labels[o])
            how = "grep only" if both else "none"
        out_missed.append({"triple": [labels[s], p, labels[o]], "found_by": how, "sentences": both[:2],
                           "n_sentences": len(both), "kept": (s, p, o) not in sets["heldout"]})

    nlp = load_pipeline(ws.config.extract.spacy_model)
    index = LabelIndex(nlp, matcher_labels(session, name))
    extractor = registry.get("patterns")
    parsed_cache = {}
    out_fp = []
    for t in fp_pick:
        rel = sets["extracted"][t]
        ev = session.execute(select(E.c.chunk_id, E.c.sentence, E.c.char_start, E.c.char_end, E.c.score)
                             .where(E.c.relation_id == rel.id).order_by(E.c.score.desc(), E.c.chunk_id,
                                                                        E.c.char_start)).all()
        patterns = set()
        for chunk_id, _sent, start, end, _score in ev:
            if chunk_id not in parsed_cache:
                data = session.scalar(select(P.c.data).where(P.c.chunk_id == chunk_id))
                doc = from_bytes(data, nlp.vocab)
                parsed_cache[chunk_id] = [f for f in extractor(doc, index.find(doc)) if f.kind == "relation"]
            for f in parsed_cache[chunk_id]:
                if f.predicate == t[1] and t[0] in f.subject and t[2] in f.object and \
                        (f.start_char, f.end_char) == (start, end):
                    patterns.add(f.pattern)
        out_fp.append({"triple": [labels[t[0]], t[1], labels[t[2]]], "confidence": rel.confidence,
                       "ontology": ontology_note(t, sets["full"], labels),
                       "evidence": len(ev), "patterns": sorted(patterns),
                       "sentence": " ".join(ev[0].sentence.split()) if ev else ""})
    return {"missed_total": len(missed), "kept_no_evidence_total": len(no_ev), "false_positive_total": len(fps),
            "missed": [m for m in out_missed if not m["kept"]],
            "kept_no_evidence": [m for m in out_missed if m["kept"]],
            "false_positives": out_fp}


def run_sample(root: Path, args) -> dict:
    t0 = time.perf_counter()
    ws, full, heldout, parsed_concepts = prepare_sample(root, args.holdout, args.seed, args.include_related)
    prep_s = time.perf_counter() - t0
    store = open_store(ws.store_url)
    result = {"seed": args.seed, "holdout": args.holdout, "include_related": args.include_related,
              "disciplines": {}, "seconds": {"prepare": round(prep_s, 2)}}
    try:
        with store.transaction() as s:
            checks = {}
            for name in ws.discipline_names():
                for path in declared_files(ws, name):
                    import_file(s, ws, name, path)
                checks[name] = verify_import(s, ws, name, full[name], heldout[name], parsed_concepts[name],
                                             workspace_curies(ws))
            reports, ingest_s = timed(lambda: [ingest(s, ws, name) for name in ws.discipline_names()])
            _, extract_s = timed(lambda: extract(s, ws, ws.discipline_names(), args.workers))
            result["seconds"].update(ingest=round(ingest_s, 2), extract=round(extract_s, 2))
            rng = random.Random(args.seed)
            for name, rep in zip(ws.discipline_names(), reports):
                figs = discipline_figures(s, name, full[name], heldout[name])
                figs["import_check"] = checks[name]
                figs["corpus"] = {"documents": rep.documents_added, "words": rep.words, "chunks": rep.chunks,
                                  "skipped": len(rep.skipped)}
                if args.errors:
                    figs["errors"] = error_listing(s, ws, name, figs, args.errors, rng)
                result["disciplines"][name] = figs
    finally:
        store.close()
    # overall rows: sum the counts over disciplines and recompute ratios
    overall = {}
    for name, figs in result["disciplines"].items():
        for pred, row in figs["rows"].items():
            acc = overall.setdefault(pred, Counter())
            acc.update({k: v for k, v in row.items() if isinstance(v, int)})
    result["overall"] = {pred: finish_row(acc) for pred, acc in overall.items()}
    result["overall_pattern_recall_full"] = pattern_recall(result["overall"])
    result["seconds"]["total"] = round(time.perf_counter() - t0, 2)
    return result


def finish_row(acc: Counter) -> dict:
    row = dict(acc)
    row["recall"] = ratio(acc["recovered"], acc["heldout"])
    row["heldout_precision"] = ratio(acc["hits"], acc["judgeable"])
    row["ontology_consistent_precision"] = ratio(acc["in_full_ontology"], acc["extracted_among_ontology"])
    row["evidence_recall"] = ratio(acc["kept_with_evidence"], acc["kept"])
    row["prediction_precision"] = ratio(acc["kept_with_evidence"] + acc["hits"],
                                        acc["kept_with_evidence"] + acc["extracted_among_ontology"])
    return row


# ---------------------------------------------------------------------------------------------
# Python docs
# ---------------------------------------------------------------------------------------------


def run_python(root: Path, args) -> dict:
    ws_root = root / "python"
    (ws_root / "ontologies").mkdir(parents=True)
    (ws_root / "ontologies" / "python.obo").write_text(python_obo(), encoding="utf-8")
    (ws_root / "syllabus.toml").write_text(PY_TOML, encoding="utf-8")
    target = ws_root / "corpora" / "python"
    taken, words = 0, 0
    for path in corpus_files([PYTHON_DOCS]):
        if words >= args.python_words:
            break
        if reader_for(path) is None:
            continue
        words += len(path.read_text(encoding="utf-8", errors="replace").split())
        dest = target / path.relative_to(PYTHON_DOCS)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest)
        taken += 1
    ws = load_workspace(ws_root)
    store = open_store(ws.store_url)
    out = {"files": taken, "source_words": words}
    try:
        with store.transaction() as s:
            for path in declared_files(ws, "python"):
                import_file(s, ws, "python", path)
            rep, ingest_s = timed(lambda: ingest(s, ws, "python"))
            _, extract_s = timed(lambda: extract(s, ws, ["python"], args.workers))
            labels = pref_labels(s, "python")
            onto = sorted(s.scalars(select(C.c.id).where(C.c.discipline == "python", C.c.origin == "ontology")))
            counts = Counter(dict(s.execute(select(E.c.concept_id, func.count()).where(
                E.c.concept_id.in_(onto), E.c.extractor == "syllabus.mention").group_by(E.c.concept_id)).all()))
            n_ext_c = s.scalar(select(func.count()).select_from(C).where(C.c.discipline == "python",
                                                                          C.c.origin == "extracted"))
            top_ext = s.execute(select(C.c.pref_label, func.count(E.c.id).label("n")).join(E, E.c.concept_id == C.c.id)
                                .where(C.c.discipline == "python", C.c.origin == "extracted")
                                .group_by(C.c.id, C.c.pref_label).order_by(func.count(E.c.id).desc(), C.c.pref_label)
                                .limit(20)).all()
            ext_rel = s.execute(select(R.c.subject_id, R.c.predicate, R.c.object_id).where(
                R.c.discipline == "python", R.c.origin == "extracted")).all()
            onto_set = set(onto)
            among = [t for t in ext_rel if t[0] in onto_set and t[2] in onto_set]
            onto_rels = s.execute(select(R.c.id, R.c.subject_id, R.c.predicate, R.c.object_id).where(
                R.c.discipline == "python", R.c.origin == "ontology")).all()
            ev_rel = set(s.scalars(select(E.c.relation_id).where(
                E.c.relation_id.in_([r.id for r in onto_rels]), E.c.extractor == "syllabus.relation").distinct()))
            out.update({
                "words": rep.words, "chunks": rep.chunks, "documents": rep.documents_added,
                "skipped_files": dict(Counter(x.code for x in rep.skipped)),
                "mentions": {labels[c]: counts.get(c, 0) for c in sorted(onto, key=lambda c: (-counts.get(c, 0),
                                                                                              labels[c]))},
                "zero_mentions": sorted(labels[c] for c in onto if not counts.get(c)),
                "extracted_concepts": n_ext_c,
                "top_extracted_concepts": [[r.pref_label, r.n] for r in top_ext],
                "extracted_relations": len(ext_rel),
                "extracted_relations_by_predicate": dict(Counter(t[1] for t in ext_rel)),
                "extracted_relations_among_ontology": len(among),
                "extracted_among_ontology_examples": sorted(f"{labels[a]} {p} {labels[b]}" for a, p, b in among)[:15],
                "ontology_relations": len(onto_rels),
                "ontology_relations_with_evidence": sorted(f"{labels[r.subject_id]} {r.predicate} {labels[r.object_id]}"
                                                           for r in onto_rels if r.id in ev_rel),
                "seconds": {"ingest": round(ingest_s, 2), "extract": round(extract_s, 2)},
            })
    finally:
        store.close()
    return out


# ---------------------------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------------------------

COLS = [("predicate", 14), ("kept", 5), ("held", 5), ("found", 6), ("recall", 7), ("extr", 5), ("onto", 5),
        ("judged", 7), ("hits", 5), ("P_held", 7), ("P_cons", 7), ("kept_ev", 8), ("ev_rec", 7), ("P_pred", 7)]


def print_table(rows: dict) -> None:
    print("  " + " ".join(f"{n:>{w}}" if i else f"{n:<{w}}" for i, (n, w) in enumerate(COLS)))
    for pred, r in rows.items():
        cells = [pred, r["kept"], r["heldout"], r["recovered"], fmt_ratio(r["recall"]), r["extracted"],
                 r["extracted_among_ontology"], r["judgeable"], r["hits"], fmt_ratio(r["heldout_precision"]),
                 fmt_ratio(r["ontology_consistent_precision"]), r["kept_with_evidence"], fmt_ratio(r["evidence_recall"]),
                 fmt_ratio(r["prediction_precision"])]
        print("  " + " ".join(f"{str(c):>{w}}" if i else f"{str(c):<{w}}" for i, (c, (_, w)) in enumerate(zip(cells, COLS))))


def wrap(items, indent="    ") -> str:
    return textwrap.fill(", ".join(items), width=110, initial_indent=indent, subsequent_indent=indent)


def print_sample(res: dict) -> None:
    print(f"== Sample workspace: hold-out {res['holdout']:.0%} per predicate, seed {res['seed']}, "
          f"related_to {'held out too' if res['include_related'] else 'never held out'}")
    print("   columns: kept/held = ontology relations kept/held out; found = held-out recovered; extr = extracted "
          "relations;\n   onto = extracted with both ends ontology concepts; judged = onto minus kept triples; "
          "hits = judged that are held out;\n   P_held = hits/judged; P_cons = onto triples in the full ontology/onto; "
          "kept_ev = kept relations with textual evidence;\n   ev_rec = kept_ev/kept; "
          "P_pred = (kept_ev+hits)/(kept_ev+onto)")
    for name, f in res["disciplines"].items():
        c, chk = f["corpus"], f["import_check"]
        print(f"\n-- {name}: {c['documents']} documents, {c['words']} words, {c['chunks']} chunks")
        print(f"   reduced ontology import: held-out relations present after import = "
              f"{chk['heldout_present_after_import']}, relations == full - held-out: "
              f"{chk['relations_equal_full_minus_heldout']}, concepts identical to the original file: "
              f"{chk['concepts_identical_to_original']}")
        print_table(f["rows"])
        a = f["rows"]["(all)"]
        print(f"   extracted relations by status: {f['extracted_statuses']}; with an extracted-concept end: "
              f"{f['extracted_with_extracted_concept_end']}; kept triples re-extracted as 'extracted': "
              f"{a['kept_as_extracted']}")
        print(f"   wrong predictions among ontology concepts: {a['extracted_among_ontology'] - a['in_full_ontology']}"
              f" (reversed direction of an ontology triple: {a['wrong_reversed']}, pair related under another "
              f"predicate: {a['wrong_other_predicate']}, entailed through is_a/part_of paths: {a['wrong_entailed']})")
        pr = f["pattern_recall_full"]
        print(f"   pattern recall on the whole ontology (held-out found + kept with evidence, related_to left "
              f"out): {pr['predicted']}/{pr['relations']} = {fmt_ratio(pr['recall'])}")
        m = f["mention_recall"]
        print(f"   concept-mention recall: {m['mentioned']}/{m['active_concepts']} = {fmt_ratio(m['recall'])}; "
              f"never mentioned: {', '.join(m['unmentioned']) or '(none)'}")
        if m["short_label_mentions"]:
            print("   mentions through labels of <= 2 characters: " + ", ".join(
                f"'{x['surface']}' -> {x['concept']} {x['mentions']}/{x['of']}" for x in m["short_label_mentions"]))
        e = f["extracted_concepts"]
        print(f"   extracted concepts: {e['count']}")
        print(wrap(e["labels"]))
        if "errors" in f:
            print_errors(f["errors"])
    print("\n-- overall (both disciplines)")
    print_table(res["overall"])
    pr = res["overall_pattern_recall_full"]
    print(f"   pattern recall on the whole ontologies (related_to left out): {pr['predicted']}/{pr['relations']} = "
          f"{fmt_ratio(pr['recall'])}")
    s = res["seconds"]
    print(f"   seconds: prepare {s['prepare']}, ingest {s['ingest']}, extract {s['extract']}, total {s['total']}")


def print_errors(err: dict) -> None:
    for key, title, total in (("missed", "missed held-out relations", err["missed_total"]),
                              ("kept_no_evidence", "kept relations (not related_to) without textual evidence",
                               err["kept_no_evidence_total"])):
        print(f"   {title}: {total} (showing {len(err[key])})")
        for m in err[key]:
            s, p, o = m["triple"]
            print(f"     - {s} --{p}--> {o}  [{m['found_by']}, {m['n_sentences']} sentence(s)]")
            for sent in m["sentences"]:
                print(textwrap.fill(sent, width=110, initial_indent="         \"", subsequent_indent="          ")
                      + '"')
    print(f"   false positives among ontology concepts: {err['false_positive_total']} (showing "
          f"{len(err['false_positives'])})")
    for fp in err["false_positives"]:
        s, p, o = fp["triple"]
        print(f"     - {s} --{p}--> {o}  conf {fp['confidence']:.2f}, {fp['evidence']} evidence, "
              f"pattern {', '.join(fp['patterns']) or '?'}; {fp['ontology']}")
        print(textwrap.fill(fp["sentence"], width=110, initial_indent="         \"", subsequent_indent="          ")
              + '"')


def print_python(res: dict) -> None:
    print(f"\n== Python documentation ({PYTHON_DOCS}), first {res['files']} files in sorted order, "
          f"{res['source_words']} source words")
    print(f"   ingested: {res['documents']} documents, {res['words']} text words, {res['chunks']} chunks, "
          f"skipped {res['skipped_files'] or 0}")
    print("   mention counts per ontology concept (top 30):")
    items = list(res["mentions"].items())[:30]
    for i in range(0, len(items), 3):
        print("    " + "".join(f"{label[:26]:<27}{n:>6}   " for label, n in items[i:i + 3]))
    print(f"   concepts with zero mentions: {', '.join(res['zero_mentions']) or '(none)'}")
    print(f"   extracted concepts: {res['extracted_concepts']}; top 20 by evidence:")
    print(wrap([f"{label} ({n})" for label, n in res["top_extracted_concepts"]]))
    print(f"   extracted relations: {res['extracted_relations']} {res['extracted_relations_by_predicate']}; "
          f"among ontology concepts: {res['extracted_relations_among_ontology']}")
    if res["extracted_among_ontology_examples"]:
        print(wrap(res["extracted_among_ontology_examples"]))
    print(f"   ontology relations with textual evidence: {len(res['ontology_relations_with_evidence'])}/"
          f"{res['ontology_relations']}" + (": " + ", ".join(res["ontology_relations_with_evidence"])
                                              if res["ontology_relations_with_evidence"] else ""))
    s = res["seconds"]
    print(f"   seconds: ingest {s['ingest']}, extract {s['extract']}")


def strip_private(obj):
    if isinstance(obj, dict):
        return {k: strip_private(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [strip_private(v) for v in obj]
    return obj


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--holdout", type=float, default=0.2, help="share of each predicate's relations held out")
    ap.add_argument("--include-related", action="store_true", help="hold out related_to relations too")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--errors", type=int, default=0, metavar="N", help="list N misses and N false positives")
    ap.add_argument("--python-words", type=int, default=150_000)
    ap.add_argument("--no-python", action="store_true", help="skip the Python documentation part")
    ap.add_argument("--keep", type=Path, help="build the workspaces in this (new) folder and keep them")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
        root = args.keep.resolve()
    else:
        root = Path(tempfile.mkdtemp(prefix="syllabus-extract-quality-"))
    try:
        out = {"sample": run_sample(root, args)}
        if args.no_python:
            out["python"] = {"skipped": "--no-python"}
        elif not PYTHON_DOCS.is_dir():
            out["python"] = {"skipped": f"{PYTHON_DOCS} not found"}
        else:
            out["python"] = run_python(root, args)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    out["wall_seconds"] = round(time.perf_counter() - t0, 2)
    if args.json:
        print(json.dumps(strip_private(out), indent=2, sort_keys=False, default=sorted))
        return 0
    print_sample(out["sample"])
    if "skipped" in out["python"]:
        print(f"\n== Python documentation: skipped ({out['python']['skipped']})")
    else:
        print_python(out["python"])
    print(f"\nwall seconds: {out['wall_seconds']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
