"""Precision of what `syllabus compile` would render, on real text nobody on the team wrote.

What it measures
----------------
Two workspaces are built from ``../shared/data`` (skipped with a message when it is absent):

* ``docs``: ``python`` (the Python tutorial and FAQ, with the 30-concept Python ontology of
  ``extract_quality.py``, whose labels -- *class*, *object*, *function*, *module* -- are common
  words used in their own sense there) and ``physics`` (the SymPy physics documentation linked
  against the Brick building ontology, a real ontology whose everyday labels -- *Point*,
  *Document*, *Wall* -- mean something else in that text): the sense check needs both;
* ``books``: ``pyref`` (the Python HOWTOs, language reference and glossary) and ``math``
  (T. H. Black's *Derivations of Applied Mathematics*, one 250k-word document).

After ``ontology import``, ``ingest`` and ``extract`` it lists every fact the compiler would
render, in four tiers: extracted **concepts**, their **definitions**, extracted **relations**
(with the pattern that fired, recomputed from the cached parse), and ontology **links** (a
mention of an ontology concept in a sentence, kept or dropped by the sense check). Each fact
has a stable key made of labels, ids and the sha256 of its evidence sentence: the judged set in
``benchmarks/gold/*.jsonl`` holds keys, verdicts (``correct`` / ``incorrect``), a category for the
incorrect ones and a one-line reason, never the corpus text.

Figures: per tier and per predicate, judged facts among the rendered ones, precision, and the
facts not judged yet; compiled single-word concepts judged generic; relations the gate holds
back; the sense check's precision and recall on judged links of ambiguous labels, at the
configured threshold and over a threshold sweep.

``--calibrate`` writes ``src/syllabus/extract/calibration.json``: per relation pattern and per
definition pattern, the smoothed judged precision (a Beta prior centred on the predicate's,
itself centred on the tier's), and the sense threshold with the best F0.5 (precision
counted double) on judged links through single-word labels. Extraction reads it: confidences are calibrated, not guessed.

``--dump FILE`` writes the facts that have no verdict yet, with their evidence sentences, to a
file outside the repository for judging (``--sample-concepts N`` caps new concepts per
discipline, ``--sample-links N`` links per discipline; both deterministic).

How to run
----------
    .venv/bin/python benchmarks/extract_precision.py                 # build, extract, report
    .venv/bin/python benchmarks/extract_precision.py --keep /tmp/ep  # keep (and later reuse) the workspaces
    .venv/bin/python benchmarks/extract_precision.py --reuse /tmp/ep --dump /tmp/to-judge.jsonl
    .venv/bin/python benchmarks/extract_precision.py --reuse /tmp/ep --calibrate --json

It makes no assertions and exits 0 whatever the figures.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from bisect import bisect_right
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
GOLD = REPO / "benchmarks" / "gold"
CALIBRATION = REPO / "src" / "syllabus" / "extract" / "calibration.json"
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from sqlalchemy import select  # noqa: E402

from syllabus.config import load_workspace  # noqa: E402
from syllabus.corpus.ingest import ingest  # noqa: E402
from syllabus.extract import registry  # noqa: E402
from syllabus.extract.calibration import sense_threshold  # noqa: E402
from syllabus.extract.mentions import LabelIndex  # noqa: E402
from syllabus.extract.nlp import from_bytes, load_pipeline, model_id  # noqa: E402
from syllabus.extract.run import extract, matcher_labels, sense_checks  # noqa: E402
from syllabus.extract.senses import sense_profiles, sense_scores  # noqa: E402
from syllabus.ontology.sync import declared_files, import_file  # noqa: E402
from syllabus.store import gate, open_store  # noqa: E402
from syllabus.store.tables import Chunk, ChunkParse, Concept, Document, Evidence, Relation  # noqa: E402

C, R, E, K, P, D = (t.__table__ for t in (Concept, Relation, Evidence, Chunk, ChunkParse, Document))
TIERS = ("concept", "definition", "relation", "link")

WORKSPACES = {
    "docs": [
        ("python", "PY", ["python.obo"], ["python-docs/tutorial", "python-docs/faq"]),
        ("physics", "phys", ["Brick.ttl"], ["sympy-physics"]),
    ],
    "books": [
        ("pyref", "pyref", [], ["python-docs/howto", "python-docs/reference", "python-docs/glossary.rst.txt"]),
        ("math", "math", [], ["derivations.txt"]),
    ],
}
IRIS = {"physics": "https://brickschema.org/schema/Brick#", "python": "http://purl.obolibrary.org/obo/PY_"}


def sha(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Workspaces
# ---------------------------------------------------------------------------------------------

def build_workspace(root: Path, name: str) -> Path:
    """Copy the corpora and ontologies of workspace *name* under *root* and write its syllabus.toml."""
    ws = root / name
    lines = ['[store]\nurl = "sqlite:///.syllabus/store.db"\n']
    for discipline, prefix, ontologies, corpora in WORKSPACES[name]:
        onto_paths, corpus_paths = [], []
        for o in ontologies:
            (ws / "ontologies").mkdir(parents=True, exist_ok=True)
            if o == "python.obo":  # the team's own small Python ontology
                from extract_quality import python_obo

                (ws / "ontologies" / o).write_text(python_obo(), encoding="utf-8")
            else:
                shutil.copy(SHARED_DATA / "ontologies" / o, ws / "ontologies" / o)
            onto_paths.append(f"ontologies/{o}")
        target = ws / "corpora" / discipline
        target.mkdir(parents=True, exist_ok=True)
        for c in corpora:
            src = SHARED_DATA / "corpora" / c
            (shutil.copytree(src, target / src.name) if src.is_dir() else shutil.copy(src, target / src.name))
        corpus_paths.append(f"corpora/{discipline}")
        iri = IRIS.get(discipline, f"https://example.org/{discipline}/")
        lines.append(f'[[disciplines]]\nname = "{discipline}"\nprefix = "{prefix}"\niri = "{iri}"\n'
                     f"ontologies = {json.dumps(onto_paths)}\ncorpora = {json.dumps(corpus_paths)}\n")
    (ws / "syllabus.toml").write_text("\n".join(lines), encoding="utf-8")
    return ws


def run_pipeline(ws_root: Path) -> float:
    """ontology import, ingest and extract on one workspace; seconds taken."""
    t0 = time.perf_counter()
    ws = load_workspace(ws_root)
    st = open_store(ws.store_url)
    try:
        with st.transaction() as s:
            for name in ws.discipline_names():
                for f in (declared_files(ws, name) if ws.discipline(name).ontologies else []):
                    import_file(s, ws, name, f)
                ingest(s, ws, name, None, False)
            extract(s, ws, ws.discipline_names(), 1)
    finally:
        st.close()
    return time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------
# The facts compile would render
# ---------------------------------------------------------------------------------------------

def _first_evidence(session, where) -> tuple[str, str, int] | None:
    row = session.execute(select(E.c.sentence, D.c.path, K.c.ordinal).join(K, K.c.id == E.c.chunk_id)
                          .join(D, D.c.id == K.c.document_id).where(where)
                          .order_by(E.c.score.desc(), D.c.path, K.c.ordinal, E.c.char_start).limit(1)).first()
    return (" ".join(row.sentence.split()), row.path, row.ordinal) if row else None


def relation_patterns(session, nlp, discipline: str, relation_ids: set[str]) -> dict[str, list[str]]:
    """The patterns that produced each extracted relation's evidence, recomputed from the cached parse."""
    index = LabelIndex(nlp, matcher_labels(session, discipline))
    extractor = registry.get("patterns")
    rels = {r.id: r for r in session.execute(select(R).where(R.c.id.in_(relation_ids)))}
    wanted = defaultdict(list)
    for rid, chunk_id, start, end in session.execute(select(E.c.relation_id, E.c.chunk_id, E.c.char_start, E.c.char_end)
                                                     .where(E.c.relation_id.in_(relation_ids))):
        wanted[chunk_id].append((rid, start, end))
    out: dict[str, set[str]] = defaultdict(set)
    for chunk_id in sorted(wanted):
        data = session.scalar(select(P.c.data).where(P.c.chunk_id == chunk_id))
        doc = from_bytes(data, nlp.vocab)
        found = [f for f in extractor(doc, index.find(doc)) if f.kind == "relation"]
        for rid, start, end in wanted[chunk_id]:
            r = rels[rid]
            for f in found:
                if (f.start_char, f.end_char) == (start, end) and f.predicate == r.predicate \
                        and r.subject_id in f.subject and r.object_id in f.object:
                    out[rid].add(f.pattern)
    return {rid: sorted(v) for rid, v in out.items()}


def definition_patterns(session, nlp, discipline: str, concept_ids: set[str]) -> dict[str, str]:
    """The definition pattern of each extracted concept's chosen definition."""
    index = LabelIndex(nlp, matcher_labels(session, discipline))
    extractor = registry.get("patterns")
    out = {}
    rows = session.execute(select(E.c.concept_id, E.c.chunk_id, E.c.sentence, C.c.definition)
                           .join(C, C.c.id == E.c.concept_id)
                           .where(E.c.extractor == "syllabus.definition", E.c.concept_id.in_(concept_ids)))
    for cid, chunk_id, sentence, definition in rows:
        if cid in out or sha(sentence) != sha(definition or ""):
            continue
        doc = from_bytes(session.scalar(select(P.c.data).where(P.c.chunk_id == chunk_id)), nlp.vocab)
        for f in extractor(doc, index.find(doc)):
            if f.kind == "definition" and cid in f.subject and sha(f.text or "") == sha(sentence):
                out[cid] = f.pattern
                break
    return out


def facts(ws_root: Path, sample_links: int = 1000) -> list[dict]:
    """Every fact compile would render from the workspace, and the links the sense check dropped."""
    ws = load_workspace(ws_root)
    c = ws.config
    nlp = load_pipeline(c.extract.spacy_model)
    mid = model_id(nlp)
    st = open_store(ws.store_url)
    out: list[dict] = []
    try:
        with st.transaction() as s:
            for d in ws.discipline_names():
                labels = dict(s.execute(select(C.c.id, C.c.pref_label).where(C.c.discipline == d)).all())
                concepts = s.execute(select(C.c.id, C.c.pref_label, C.c.definition, C.c.definition_confidence).where(
                    C.c.discipline == d, C.c.origin == "extracted", C.c.status == "active").order_by(C.c.id)).all()
                defined = {x.id for x in concepts if x.definition}
                passing = set(s.scalars(select(C.c.id).where(C.c.discipline == d, gate.concept_passes(
                    c.compile.min_confidence, c.compile.include_proposed))))
                def_patterns = definition_patterns(s, nlp, d, defined)
                for x in concepts:
                    ev = _first_evidence(s, E.c.concept_id == x.id)
                    out.append(dict(tier="concept", discipline=d, key=f"concept|{d}|{x.pref_label}",
                                    rendered=x.id in passing,
                                    label=x.pref_label, evidence=ev, words=len(x.pref_label.split())))
                    if x.definition:
                        confidence = 1.0 if x.definition_confidence is None else x.definition_confidence
                        shown = confidence >= (c.compile.min_confidence if c.compile.include_proposed else 1.0)
                        out.append(dict(tier="definition", discipline=d, rendered=shown, label=x.pref_label,
                                        confidence=confidence,
                                        key=f"definition|{d}|{x.pref_label}|{sha(x.definition)[:16]}",
                                        text=" ".join(x.definition.split()),
                                        pattern=def_patterns.get(x.id, "definition"),
                                        evidence=_first_evidence(s, (E.c.concept_id == x.id)
                                                                 & (E.c.extractor == "syllabus.definition"))))
                rels = s.execute(select(R).where(R.c.discipline == d, R.c.origin == "extracted",
                                                 R.c.status.in_(("proposed", "asserted"))).order_by(R.c.id)).all()
                patterns = relation_patterns(s, nlp, d, {r.id for r in rels})
                for r in rels:
                    rendered = r.status == "asserted" or (c.compile.include_proposed
                                                          and r.confidence >= c.compile.min_confidence)
                    subj, obj = labels.get(r.subject_id), labels.get(r.object_id)
                    out.append(dict(tier="relation", discipline=d, key=f"relation|{d}|{subj}|{r.predicate}|{obj}",
                                    rendered=rendered, predicate=r.predicate, statement=f"{subj} {r.predicate} {obj}",
                                    confidence=r.confidence, patterns=patterns.get(r.id, []),
                                    evidence=_first_evidence(s, E.c.relation_id == r.id)))
                out += links(s, nlp, mid, d, c.extract, sample_links)
    finally:
        st.close()
    return out


def links(session, nlp, mid: str, discipline: str, cfg, sample: int) -> list[dict]:
    """Mentions of ontology concepts: every one kept by the sense check, and those it dropped,
    with the concept's sense score when its label is ambiguous (at most *sample* per discipline)."""
    rows = session.execute(select(C.c.id, C.c.pref_label, C.c.definition).where(
        C.c.discipline == discipline, C.c.origin == "ontology", C.c.status == "active")).all()
    onto = {r.id: r.pref_label for r in rows}
    definitions = {r.id: r.definition for r in rows}
    if not onto:
        return []
    index = LabelIndex(nlp, matcher_labels(session, discipline))
    profiles = sense_profiles(session, discipline)
    scores = sense_scores(session, cfg.embedding_model, profiles,
                          sense_checks(session, nlp, mid, index, discipline, profiles))
    seen: dict[str, dict] = {}
    rows = session.execute(select(P.c.data, K.c.text, D.c.path, K.c.ordinal).join(K, K.c.id == P.c.chunk_id)
                           .join(D, D.c.id == K.c.document_id)
                           .where(D.c.discipline == discipline, P.c.model == mid).order_by(D.c.path, K.c.ordinal))
    for data, text, path, ordinal in rows:
        doc = from_bytes(data, nlp.vocab)
        sents = [(sent.start, sent.start_char, sent.end_char) for sent in doc.sents]
        starts = [x[0] for x in sents]
        for m in index.find(doc):
            surface = text[m.start_char:m.end_char]
            _, a, b = sents[bisect_right(starts, m.start) - 1]
            sentence = " ".join(text[a:b].split())
            for cid in m.concept_ids:
                if cid not in onto:
                    continue
                checked = profiles.needs_check((cid,), surface)
                score = scores.get(cid) if checked else None
                kept = not checked or score is None or score >= sense_threshold(cfg.sense_threshold) - 1e-9
                key = f"link|{discipline}|{cid}|{sha(sentence)[:16]}"
                seen.setdefault(key, dict(tier="link", discipline=discipline, key=key, rendered=kept,
                                          concept=cid, label=onto[cid], definition=definitions[cid],
                                          surface=surface, ambiguous=checked,
                                          sense_score=score, evidence=(sentence, path, ordinal)))
    ranked = sorted(seen.values(), key=lambda f: hashlib.sha256(f["key"].encode()).hexdigest())
    per_concept: Counter = Counter()
    picked = []
    for f in ranked:  # a deterministic sample: at most two sentences per concept
        if per_concept[f["concept"]] < 2 and len(picked) < sample:
            per_concept[f["concept"]] += 1
            picked.append(f)
    return sorted(picked, key=lambda f: f["key"])


# ---------------------------------------------------------------------------------------------
# Judgements, figures, calibration
# ---------------------------------------------------------------------------------------------

def load_gold(folder: Path = GOLD) -> dict[str, dict]:
    """Verdicts by fact key from every benchmarks/gold/*.jsonl file (later files win)."""
    out: dict[str, dict] = {}
    for path in sorted(folder.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                if row.get("verdict") not in ("correct", "incorrect"):
                    raise SystemExit(f"{path}:{n}: verdict must be correct or incorrect, not {row.get('verdict')!r}")
                out[row["key"]] = row
    return out


def _precision(rows: list[dict], gold: dict) -> dict:
    judged = [gold[f["key"]] for f in rows if f["key"] in gold]
    ok = sum(g["verdict"] == "correct" for g in judged)
    return {"facts": len(rows), "judged": len(judged), "correct": ok,
            "precision": round(ok / len(judged), 3) if judged else None}


def figures(all_facts: list[dict], gold: dict, threshold: float) -> dict:
    rendered = [f for f in all_facts if f["rendered"]]
    out = {"tiers": {t: _precision([f for f in rendered if f["tier"] == t], gold) for t in TIERS}}
    out["predicates"] = {p: _precision([f for f in rendered if f["tier"] == "relation" and f["predicate"] == p], gold)
                         for p in sorted({f["predicate"] for f in rendered if f["tier"] == "relation"})}
    out["disciplines"] = {d: {t: _precision([f for f in rendered if f["discipline"] == d and f["tier"] == t], gold)
                              for t in TIERS} for d in sorted({f["discipline"] for f in all_facts})}
    held = [f for f in all_facts if f["tier"] in ("concept", "relation", "definition") and not f["rendered"]]
    out["held_back"] = {t: {"facts": sum(f["tier"] == t for f in held),
                            "judged": sum(f["tier"] == t and f["key"] in gold for f in held),
                            "judged_correct": sum(f["tier"] == t and gold.get(f["key"], {}).get("verdict") == "correct"
                                                  for f in held)} for t in ("concept", "relation", "definition")}
    generic = [f["label"] for f in rendered if f["tier"] == "concept" and f["words"] == 1
               and gold.get(f["key"], {}).get("category") == "generic"]
    out["generic_single_words_compiled"] = sorted(generic)
    out["sense"] = sense_sweep([f for f in all_facts if f["tier"] == "link"], gold, threshold)
    out["gate"] = gate_sweep(all_facts, gold)
    return out


def gate_sweep(all_facts: list[dict], gold: dict) -> list[dict]:
    """What [compile] min_confidence would compile of the extracted relations and definitions, and how precisely."""
    rows = []
    for level in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9):
        row = {"min_confidence": level}
        for tier in ("relation", "definition"):
            kept = [f for f in all_facts if f["tier"] == tier and f["confidence"] >= level - 1e-9]
            row[tier] = _precision(kept, gold)
        rows.append(row)
    return rows


def sense_sweep(link_facts: list[dict], gold: dict, threshold: float) -> dict:
    """Precision and recall of judged links through ambiguous labels, by sense threshold."""
    judged = [(f["sense_score"], gold[f["key"]]["verdict"] == "correct") for f in link_facts
              if f["ambiguous"] and f["sense_score"] is not None and f["key"] in gold]
    rows = []
    for t in [round(0.2 + 0.05 * i, 2) for i in range(12)] + [threshold]:
        kept = [ok for score, ok in judged if score >= t - 1e-9]
        total_ok = sum(ok for _, ok in judged)
        rows.append({"threshold": t, "kept": len(kept), "precision": round(sum(kept) / len(kept), 3) if kept else None,
                     "recall": round(sum(kept) / total_ok, 3) if total_ok else None})
    return {"judged_ambiguous_links": len(judged), "sweep": rows}


def calibrate(all_facts: list[dict], gold: dict, prior: float = 4.0) -> dict:
    """Smoothed judged precision per pattern (Beta prior: predicate's precision, itself on the tier's)."""
    def rate(ok: int, n: int, centre: float) -> float:
        return (ok + prior * centre) / (n + prior)

    def lower(ok: int, n: int, centre: float) -> float:
        """The posterior mean less one posterior standard deviation: a pattern passes a gate on the
        strength of many judged facts, not on a lucky few."""
        a, b = ok + prior * centre, n - ok + prior * (1 - centre)
        m = a / (a + b)
        return max(0.0, m - (m * (1 - m) / (a + b + 1)) ** 0.5)

    out: dict = {"relations": {}, "definitions": {}}
    rel = [(f, gold[f["key"]]["verdict"] == "correct") for f in all_facts if f["tier"] == "relation" and f["key"] in gold]
    tier = rate(sum(ok for _, ok in rel), len(rel), 0.5)
    by_pred: dict[str, list[bool]] = defaultdict(list)
    by_pattern: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for f, ok in rel:
        by_pred[f["predicate"]].append(ok)
        for p in f["patterns"] or ["?"]:
            by_pattern[(f["predicate"], p)].append(ok)
    pred_rate = {p: rate(sum(v), len(v), tier) for p, v in by_pred.items()}
    out["relations"]["*"] = round(lower(sum(ok for _, ok in rel), len(rel), 0.5), 3)
    for p, v in sorted(by_pred.items()):
        out["relations"][f"{p}|*"] = round(lower(sum(v), len(v), tier), 3)
    for (pred, pattern), v in sorted(by_pattern.items()):
        out["relations"][f"{pred}|{pattern}"] = {"confidence": round(lower(sum(v), len(v), pred_rate[pred]), 3),
                                                 "judged": len(v), "correct": sum(v)}
    defs = [(f, gold[f["key"]]["verdict"] == "correct") for f in all_facts if f["tier"] == "definition" and f["key"] in gold]
    dtier = rate(sum(ok for _, ok in defs), len(defs), 0.5)
    out["definitions"]["*"] = round(lower(sum(ok for _, ok in defs), len(defs), 0.5), 3)
    by_def: dict[str, list[bool]] = defaultdict(list)
    for f, ok in defs:
        by_def[f["pattern"]].append(ok)
    for p, v in sorted(by_def.items()):
        out["definitions"][p] = {"confidence": round(lower(sum(v), len(v), dtier), 3), "judged": len(v),
                                 "correct": sum(v)}
    sweep = sense_sweep([f for f in all_facts if f["tier"] == "link"], gold, 0.5)["sweep"]
    scored = [r for r in sweep if r["precision"] and r["recall"]]
    if scored:  # precision counts double (F0.5): a wrong-sense link teaches a falsehood, a missed one only less
        out["sense_threshold"] = max(scored, key=lambda r: (f_beta(r["precision"], r["recall"]), -r["threshold"]))["threshold"]
    return out


def f_beta(precision: float, recall: float, beta: float = 0.5) -> float:
    return (1 + beta ** 2) * precision * recall / (beta ** 2 * precision + recall)


def _lookup(table: dict, section: str, keys: list[str], default: float) -> float:
    for key in keys:
        if key in table.get(section, {}):
            entry = table[section][key]
            return float(entry["confidence"] if isinstance(entry, dict) else entry)
    return default


def cross_validate(all_facts: list[dict], gold: dict, gate: float, folds: int = 2) -> dict:
    """Out-of-sample precision at *gate*: calibrate on the other folds of the judged set (split by
    key hash), then gate each fold's relations and definitions by the confidences that gives."""
    def fold(key: str) -> int:
        return int(hashlib.sha256(key.encode()).hexdigest(), 16) % folds

    out = {t: {"compiled": 0, "judged": 0, "correct": 0} for t in ("relation", "definition")}
    for k in range(folds):
        train = {key: g for key, g in gold.items() if fold(key) != k}
        table = calibrate(all_facts, train)
        for f in all_facts:
            if f["tier"] not in out or fold(f["key"]) != k or f["key"] not in gold:
                continue
            if f["tier"] == "relation":
                keys = [[f"{f['predicate']}|{p}", f"{f['predicate']}|*", "*"] for p in f["patterns"] or ["?"]]
                confidence = max(_lookup(table, "relations", ks, 0.5) for ks in keys)
            else:
                confidence = _lookup(table, "definitions", [f["pattern"], "*"], 0.5)
            if confidence >= gate - 1e-9:
                row = out[f["tier"]]
                row["compiled"] += 1
                row["judged"] += 1
                row["correct"] += gold[f["key"]]["verdict"] == "correct"
    for row in out.values():
        row["precision"] = round(row["correct"] / row["judged"], 3) if row["judged"] else None
    return out


def dump(all_facts: list[dict], gold: dict, path: Path, sample_concepts: int) -> int:
    """Write the facts without a verdict, with their evidence, for judging (a deterministic sample of concepts)."""
    if path.resolve().is_relative_to(REPO):
        raise SystemExit(f"{path}: the dump holds corpus text; write it outside the repository")
    pending = [f for f in all_facts if f["key"] not in gold]
    per: Counter = Counter()
    rows = []
    for f in sorted(pending, key=lambda f: hashlib.sha256(f["key"].encode()).hexdigest()):
        if f["tier"] == "concept":
            per[f["discipline"]] += 1
            if per[f["discipline"]] > sample_concepts:
                continue
        rows.append(f)
    rows.sort(key=lambda f: (f["tier"], f["discipline"], f["key"]))
    path.write_text("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in rows), encoding="utf-8")
    return len(rows)


def print_table(res: dict) -> None:
    def line(name, p):
        prec = "-" if p["precision"] is None else f"{p['precision']:.3f}"
        print(f"  {name:<28} rendered {p['facts']:>5}  judged {p['judged']:>4}  correct {p['correct']:>4}  precision {prec}")

    print("precision of what compile renders (judged facts among the rendered ones):")
    for t, p in res["tiers"].items():
        line(t, p)
    print(" relations by predicate:")
    for name, p in res["predicates"].items():
        line(name, p)
    print(" by discipline:")
    for d, tiers in res["disciplines"].items():
        for t, p in tiers.items():
            if p["facts"]:
                line(f"{d} {t}", p)
    for t, h in res["held_back"].items():
        print(f" gate: {h['facts']} extracted {t}s held back for review ({h['judged_correct']} of the "
              f"{h['judged']} judged ones correct)")
    print(f" single-word concepts judged generic among the compiled: {len(res['generic_single_words_compiled'])}"
          + (f" ({', '.join(res['generic_single_words_compiled'][:20])})" if res["generic_single_words_compiled"] else ""))
    print(" gate sweep ([compile] min_confidence -> compiled extracted facts, judged precision):")
    for row in res["gate"]:
        r, d = row["relation"], row["definition"]
        print(f"   {row['min_confidence']:.2f}: relations {r['facts']:>4} (precision {r['precision']}, judged {r['judged']})"
              f"   definitions {d['facts']:>4} (precision {d['precision']}, judged {d['judged']})")
    cv = res.get("cross_validated")
    if cv:
        print(" out of sample (2-fold: calibrated on one half of the judged set, gated and scored on the other):")
        for t, row in cv.items():
            print(f"   {t}s compiled {row['compiled']:>4}  precision {row['precision']}")
    s = res["sense"]
    print(f" sense check on {s['judged_ambiguous_links']} judged links through ambiguous labels:")
    for r in s["sweep"]:
        print(f"   threshold {r['threshold']:.2f}: kept {r['kept']:>4}  precision {r['precision']}  recall {r['recall']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keep", type=Path, help="Build the workspaces here (those not built yet) and keep them.")
    ap.add_argument("--reuse", type=Path, help="Use workspaces built before with --keep (no extraction).")
    ap.add_argument("--dump", type=Path, help="Write the facts without a verdict, with evidence, to this file.")
    ap.add_argument("--sample-concepts", type=int, default=60, help="New concepts per discipline in --dump.")
    ap.add_argument("--sample-links", type=int, default=150, help="Links per discipline listed (deterministic).")
    ap.add_argument("--calibrate", action="store_true", help=f"Write {CALIBRATION.relative_to(REPO)}.")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not SHARED_DATA.is_dir():
        print(f"skip: real data not present at {SHARED_DATA}")
        return
    root = args.reuse or args.keep or Path(tempfile.mkdtemp(prefix="extract-precision-"))
    seconds = {}
    if not args.reuse:
        for name in WORKSPACES:
            if args.keep and (root / name / ".syllabus").is_dir():
                continue
            ws = build_workspace(root, name)
            seconds[name] = round(run_pipeline(ws), 1)
            print(f"{name}: import, ingest, extract in {seconds[name]} s", file=sys.stderr)
    all_facts = []
    for name in WORKSPACES:
        all_facts += [dict(f, workspace=name) for f in facts(root / name, args.sample_links)]
    gold = load_gold()
    threshold = sense_threshold(load_workspace(root / "docs").config.extract.sense_threshold)
    res = figures(all_facts, gold, threshold)
    res["cross_validated"] = cross_validate(all_facts, gold, load_workspace(root / "docs").config.compile.min_confidence)
    res["seconds"] = seconds
    res["gold_facts"] = len(gold)
    if args.dump:
        res["dumped"] = dump(all_facts, gold, args.dump, args.sample_concepts)
        print(f"{res['dumped']} facts without a verdict written to {args.dump}", file=sys.stderr)
    if args.calibrate:
        table = calibrate(all_facts, gold)
        CALIBRATION.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        res["calibration"] = table
        print(f"calibration written to {CALIBRATION}", file=sys.stderr)
    if args.json:
        print(json.dumps(res, indent=1, sort_keys=True))
    else:
        print(f"gold set: {len(gold)} judged facts ({GOLD.relative_to(REPO)})")
        print_table(res)
    if not (args.keep or args.reuse):
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
