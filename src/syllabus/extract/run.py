"""`syllabus extract`: parse, select and resolve terms, match labels and patterns, write evidence.

Stages, each idempotent:
1. parse new or changed chunks (cached per chunk and model; see :mod:`parse`);
2. termhood + entity resolution over the cached term candidates -> extracted concepts;
3. for every chunk whose graph state changed (model, extractor version, the label set it was
   matched against), re-run mentions and patterns from the cached parse and replace its
   evidence; facts of origin ``extracted`` left without evidence are removed;
4. confidences, definitions of extracted concepts and extracted labels are recomputed from the
   evidence, so the result depends only on the inputs, never on the order of runs.
"""
from __future__ import annotations

import hashlib
import json
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from syllabus.config import Workspace
from syllabus.extract import registry
from syllabus.extract.calibration import sense_threshold
from syllabus.extract.llm_extractor import DEFINITION as LLM_DEFINITION
from syllabus.extract.llm_extractor import SOURCE as LLM_SOURCE
from syllabus.extract.llm_extractor import llm_stage
from syllabus.extract.mentions import LabelIndex, Mention
from syllabus.extract.nlp import from_bytes, load_pipeline, model_id
from syllabus.extract.parse import parse_pending, refresh_terms
from syllabus.extract.resolve import Resolution, discipline_stats, resolve
from syllabus.extract.review import apply_decisions, definition_decisions, rejected_concepts, text_sha
from syllabus.extract.senses import VERSION as SENSES_VERSION
from syllabus.extract.senses import SenseProfiles, rejected_senses, sense_profiles
from syllabus.extract.terms import VERSION as TERMS_VERSION
from syllabus.ontology.sync import ensure_discipline
from syllabus.store.batch import delete_ids
from syllabus.store.gc import collect_garbage
from syllabus.store.ids import relation_id
from syllabus.store.tables import (
    Chunk,
    ChunkExtraction,
    ChunkParse,
    Concept,
    Document,
    Evidence,
    Label,
    Relation,
)

K, D, P, X, C, L, R, E = (t.__table__ for t in (Chunk, Document, ChunkParse, ChunkExtraction, Concept, Label,
                                                 Relation, Evidence))
MATCH = "syllabus.match"
TERM_EVIDENCE = "syllabus.term"
EVIDENCE_EXTRACTORS = ("syllabus.mention", "syllabus.relation", "syllabus.definition", "syllabus.synonym",
                       "syllabus.abbreviation")
_BATCH = 64


@dataclass
class ExtractReport:
    discipline: str
    chunks_parsed: int = 0
    chunks_matched: int = 0
    concepts_added: int = 0
    concepts_removed: int = 0
    relations_added: int = 0
    relations_removed: int = 0
    evidence: int = 0
    mentions: int = 0
    llm: dict | None = None  # the LLM extractor's counts and token usage, when it ran
    judge: dict | None = None  # the LLM judge's counts, when it ran

    def to_dict(self) -> dict:
        return asdict(self)


def extract(session: Session, ws: Workspace, disciplines: list[str], workers: int = 1,
            progress: Callable[[str, int, int], None] | None = None, use_embeddings: bool = True,
            judge: bool = False, llm=None) -> list[ExtractReport]:
    """Run every stage for *disciplines* inside the caller's transaction (*judge*: as [extract] judge;
    *llm*: the stage :func:`llm_extractor.prefetch` returned, whose answers are cached already)."""
    cfg = ws.config.extract
    registry.check(cfg.extractors, ws.config.plugins.override)
    llm = llm or llm_stage(ws, cfg.extractors, cfg.judge or judge)  # checks the names; None unless the LLM is used
    nlp = load_pipeline(cfg.spacy_model)
    mid = model_id(nlp)
    reports = []
    for name in disciplines:
        ensure_discipline(session, ws, name)
        report = ExtractReport(name)
        report.chunks_parsed = parse_pending(session, name, cfg.spacy_model, mid, workers, cfg.batch_size,
                                             (lambda n, d=name: progress(d, n, 0)) if progress else None).chunks
        refresh_terms(session, name, mid, nlp)
        reports.append(report)
    all_stats = discipline_stats(session)
    for report in reports:
        d = ws.discipline(report.discipline)
        resolution = resolve(session, nlp, d.name, d.prefix, cfg, all_stats, use_embeddings,
                             rejected_concepts(session, d.name))
        _sync_extracted_concepts(session, d.name, resolution, report)
        _sync_term_evidence(session, d.name, resolution, all_stats.get(d.name))
        _match(session, nlp, mid, d.name, report, progress, cfg)
        if llm and llm.extracts:
            report.llm = llm.run(session, d.name, d.prefix, rejected_concepts(session, d.name)).to_dict()
        scores = None
        if llm and llm.judges:
            report.judge, scores = llm.judge(session, d.name)
        _finish(session, d.name, report, scores)
    if llm:
        llm.close()
    return reports


def _sync_extracted_concepts(session: Session, discipline: str, res: Resolution, report: ExtractReport) -> None:
    existing = {r.id: r for r in session.execute(select(C).where(C.c.discipline == discipline, C.c.origin == "extracted",
                                                                 func.coalesce(C.c.source, "") != LLM_SOURCE))}
    taken = set(session.scalars(select(C.c.id).where(C.c.id.in_(list(res.concepts)), C.c.origin != "extracted")))
    wanted = {cid: c for cid, c in res.concepts.items() if cid not in taken}
    gone = sorted(set(existing) - set(wanted))
    delete_ids(session, C, gone)
    report.concepts_removed += len(gone)
    new = [dict(id=cid, discipline=discipline, pref_label=c.label, definition=None, type=None, origin="extracted",
                status="active", source=None) for cid, c in sorted(wanted.items()) if cid not in existing]
    if new:
        session.execute(insert(C), new)
    report.concepts_added += len(new)
    for cid, c in wanted.items():
        if cid in existing and existing[cid].pref_label != c.label:
            session.execute(update(C).where(C.c.id == cid).values(pref_label=c.label))
    desired = {(cid, "pref", c.label) for cid, c in wanted.items()}
    desired |= {(cid, "abbreviation" if m.isupper() else "exact", m) for cid, c in wanted.items() for m in c.merged
                if m != c.label}
    desired |= {(cid, kind, text) for cid, labels in res.labels.items() for kind, text in labels}
    _sync_labels(session, discipline, "resolved", desired)


def _sync_term_evidence(session: Session, discipline: str, res: Resolution, stats) -> None:
    """Every occurrence of an extracted concept's term is evidence for it (kept in step, not rewritten)."""
    desired = {}
    for cid, cand in res.concepts.items():
        for norm in cand.norms:
            for chunk, occ in (stats.places.get(norm, []) if stats else []):
                desired[(cid, chunk, occ.start_char, occ.end_char)] = (occ.sent_start, occ.sent_end)
    existing = {(r.concept_id, r.chunk_id, r.char_start, r.char_end): r.id for r in session.execute(
        select(E.c.id, E.c.concept_id, E.c.chunk_id, E.c.char_start, E.c.char_end).join(C, C.c.id == E.c.concept_id)
        .where(C.c.discipline == discipline, E.c.extractor == TERM_EVIDENCE))}
    stale = sorted(existing[k] for k in set(existing) - set(desired))
    delete_ids(session, E, stale)
    add = sorted(set(desired) - set(existing))
    texts = dict(session.execute(select(K.c.id, K.c.text).where(K.c.id.in_({k[1] for k in add}))).all()) \
        if add else {}
    rows = [_ev(chunk, TERM_EVIDENCE, TERMS_VERSION, start, end,
                texts[chunk][desired[(cid, chunk, start, end)][0]:desired[(cid, chunk, start, end)][1]].strip(),
                1.0, concept_id=cid) for cid, chunk, start, end in add]
    for i in range(0, len(rows), 5000):
        session.execute(insert(E), rows[i:i + 5000])


def _sync_labels(session: Session, discipline: str, origin: str, desired: set[tuple[str, str, str]]) -> None:
    """Make the discipline's labels of *origin* exactly *desired* (skipping ones stated elsewhere)."""
    rows = session.execute(select(L.c.id, L.c.concept_id, L.c.kind, L.c.text, L.c.origin)
                           .join(C, C.c.id == L.c.concept_id).where(C.c.discipline == discipline)).all()
    mine = {(r.concept_id, r.kind, r.text): r.id for r in rows if r.origin == origin}
    others = {(r.concept_id, r.kind, r.text) for r in rows if r.origin != origin}
    stale = [mine[k] for k in sorted(set(mine) - desired)]
    delete_ids(session, L, stale)
    add = sorted(desired - set(mine) - others)
    if add:
        session.execute(insert(L), [dict(concept_id=c, kind=k, text=t, origin=origin) for c, k, t in add])


def matcher_labels(session: Session, discipline: str) -> list[tuple[str, str]]:
    """Labels the matcher looks for: ontology and resolved labels of active concepts."""
    return sorted((r.concept_id, r.text) for r in session.execute(
        select(L.c.concept_id, L.c.text).join(C, C.c.id == L.c.concept_id).where(
            C.c.discipline == discipline, C.c.status == "active", C.c.origin.in_(("ontology", "extracted")),
            L.c.origin.in_(("ontology", "resolved")))))


def _match(session: Session, nlp, mid: str, discipline: str, report: ExtractReport, progress, cfg) -> None:
    labels = matcher_labels(session, discipline)
    extractor = registry.get("patterns")
    index = LabelIndex(nlp, labels)
    profiles = sense_profiles(session, discipline)
    rejected = _rejected_senses(session, nlp, mid, index, discipline, profiles, cfg)
    state = hashlib.sha256(json.dumps([mid, extractor.version, labels, SENSES_VERSION,
                                       sorted(rejected)]).encode()).hexdigest()
    done = select(X.c.chunk_id).where(X.c.extractor == MATCH, X.c.state == state)
    ids = list(session.scalars(select(K.c.id).join(D, D.c.id == K.c.document_id).join(P, P.c.chunk_id == K.c.id)
                               .where(D.c.discipline == discipline, P.c.model == mid, K.c.id.not_in(done))
                               .order_by(K.c.id)))
    if not ids:
        return
    onto_rel = {(r.subject_id, r.predicate, r.object_id): r.id for r in session.execute(
        select(R.c.id, R.c.subject_id, R.c.predicate, R.c.object_id).where(R.c.origin == "ontology"))}
    extracted_rel = set(session.scalars(select(R.c.id).where(R.c.origin == "extracted")))
    for i in range(0, len(ids), _BATCH):
        batch = ids[i:i + _BATCH]
        session.execute(delete(E).where(E.c.chunk_id.in_(batch), E.c.extractor.in_(EVIDENCE_EXTRACTORS)))
        session.execute(delete(X).where(X.c.chunk_id.in_(batch), X.c.extractor == MATCH))
        evidence, new_relations = [], []
        parsed = []
        for chunk_id, data, text in session.execute(select(P.c.chunk_id, P.c.data, K.c.text)
                                                    .join(K, K.c.id == P.c.chunk_id)
                                                    .where(P.c.chunk_id.in_(batch)).order_by(P.c.chunk_id)):
            doc = from_bytes(data, nlp.vocab)  # its text is the chunk's text, which spaCy keeps verbatim
            sentences = _sentences(doc)
            parsed.append((chunk_id, text, doc, sentences, index.find(doc)))
        for chunk_id, text, doc, sentences, mentions in parsed:
            mentions = _without_rejected_senses(mentions, text, profiles, rejected)
            report.mentions += len(mentions)
            if mentions:
                starts = [s[0] for s in sentences]
                version = extractor.version
                for m in mentions:
                    _, s_start, s_end = sentences[bisect_right(starts, m.start) - 1]
                    sentence = text[s_start:s_end]
                    score = m.score / len(m.concept_ids)
                    for cid in m.concept_ids:
                        evidence.append(_ev(chunk_id, "syllabus.mention", version, m.start_char, m.end_char,
                                            sentence, score, concept_id=cid))
            for f in extractor(doc, mentions):
                sentence = text[f.sentence[0]:f.sentence[1]].strip()
                if f.kind != "relation":
                    for cid in f.subject:
                        evidence.append(_ev(chunk_id, f"syllabus.{f.kind}", extractor.version,
                                            *_label_span(text, f), f.text if f.kind == "definition" else sentence,
                                            f.confidence, concept_id=cid))
                    continue
                for s in f.subject:
                    for o in f.object:
                        key = (s, f.predicate, o)
                        rid = onto_rel.get(key)
                        if rid is None:
                            rid = relation_id(s, f.predicate, o, "extracted")
                            if rid not in extracted_rel:
                                extracted_rel.add(rid)
                                new_relations.append(dict(id=rid, discipline=discipline, subject_id=s,
                                                          predicate=f.predicate, object_id=o, origin="extracted",
                                                          status="proposed", confidence=f.confidence, source=None))
                        evidence.append(_ev(chunk_id, "syllabus.relation", extractor.version, f.start_char,
                                            f.end_char, sentence, f.confidence, relation_id=rid))
        if new_relations:
            session.execute(insert(R), new_relations)
            report.relations_added += len(new_relations)
        if evidence:
            session.execute(insert(E), evidence)
            report.evidence += len(evidence)
        session.execute(insert(X), [dict(chunk_id=c, extractor=MATCH, state=state, payload=None) for c in batch])
        report.chunks_matched += len(batch)
        if progress:
            progress(discipline, 0, len(batch))


def _without_rejected_senses(mentions: list[Mention], text: str, profiles: SenseProfiles,
                             rejected: frozenset[str]) -> list[Mention]:
    """Drop the concepts whose sense the corpus does not support from mentions through an ambiguous label."""
    if not rejected:
        return mentions
    out = []
    for m in mentions:
        if profiles.needs_check(m.concept_ids, text[m.start_char:m.end_char]):
            ids = tuple(c for c in m.concept_ids if c not in rejected)
            if not ids:
                continue
            m = replace(m, concept_ids=ids)
        out.append(m)
    return out


def _rejected_senses(session: Session, nlp, mid: str, index: LabelIndex, discipline: str, profiles: SenseProfiles,
                     cfg) -> frozenset[str]:
    """Ontology concepts whose common-word labels the corpus uses in another sense (see :mod:`senses`)."""
    if not profiles.profiles:
        return frozenset()
    checks = sense_checks(session, nlp, mid, index, discipline, profiles)
    return rejected_senses(session, cfg.embedding_model, profiles, checks, sense_threshold(cfg.sense_threshold))


def sense_checks(session: Session, nlp, mid: str, index: LabelIndex, discipline: str,
                 profiles: SenseProfiles) -> list[tuple[str, str, str]]:
    """(concept id, chunk text, sentence) of every mention through an ambiguous ontology label."""
    checks: list[tuple[str, str, str]] = []
    rows = session.execute(select(P.c.data, K.c.text).join(K, K.c.id == P.c.chunk_id).join(D, D.c.id == K.c.document_id)
                           .where(D.c.discipline == discipline, P.c.model == mid).order_by(K.c.id))
    for data, text in rows:
        lowered = text.lower()
        if not any(word in lowered for word in profiles.words):
            continue
        doc = from_bytes(data, nlp.vocab)
        sentences = _sentences(doc)
        starts = [s[0] for s in sentences]
        for m in index.find(doc):
            if profiles.needs_check(m.concept_ids, text[m.start_char:m.end_char]):
                _, s_start, s_end = sentences[bisect_right(starts, m.start) - 1]
                checks += [(cid, text, text[s_start:s_end]) for cid in m.concept_ids if cid in profiles.profiles]
    return checks


def _sentences(doc) -> list[tuple[int, int, int]]:
    """(first token, start char, end char) of each sentence, in order (what ``token.sent`` finds)."""
    return [(sent.start, sent.start_char, sent.end_char) for sent in doc.sents]


def _label_span(text: str, f) -> tuple[int, int]:
    """Synonym and abbreviation evidence spans cover the label text itself."""
    if f.kind in ("synonym", "abbreviation") and f.text:
        start = text.find(f.text, f.start_char)
        if start >= 0:
            return start, start + len(f.text)
    return f.start_char, f.end_char


def _ev(chunk_id, extractor, version, start, end, sentence, score, concept_id=None, relation_id=None) -> dict:
    return dict(chunk_id=chunk_id, extractor=extractor, extractor_version=version, char_start=start, char_end=end,
                sentence=sentence, score=round(float(score), 6), concept_id=concept_id, relation_id=relation_id)


def _finish(session: Session, discipline: str, report: ExtractReport, scores: dict[str, float] | None = None) -> None:
    report.relations_removed += collect_garbage(session, discipline, concepts=False)["relations"]
    # confidence of an extracted relation = its strongest evidence, or the LLM judge's score (*scores*)
    for rid, best in session.execute(select(E.c.relation_id, func.max(E.c.score)).join(R, R.c.id == E.c.relation_id)
                                     .where(R.c.origin == "extracted", R.c.discipline == discipline)
                                     .group_by(E.c.relation_id)):
        best = scores.get(rid, best) if scores else best
        session.execute(update(R).where(R.c.id == rid, R.c.confidence != best).values(confidence=best))
    # definitions of extracted concepts: the first definitional sentence in corpus order
    # the definition of an extracted concept: its most confident definitional sentence, the first in
    # corpus order among equals; its confidence is what the compile gate reads
    best: dict[str, tuple[str, float]] = {}
    refused = definition_decisions(session, discipline, "reject")
    accepted = definition_decisions(session, discipline, "accept")
    for cid, sentence, score in session.execute(
            select(E.c.concept_id, E.c.sentence, E.c.score).join(C, C.c.id == E.c.concept_id)
            .join(K, K.c.id == E.c.chunk_id).join(D, D.c.id == K.c.document_id)
            .where(C.c.discipline == discipline, C.c.origin == "extracted",
                   E.c.extractor.in_(("syllabus.definition", LLM_DEFINITION)))
            .order_by(D.c.path, K.c.ordinal, E.c.char_start)):
        key = (cid, text_sha(sentence))
        score = 1.0 if key in accepted else round(float(score), 4)
        if key not in refused and (cid not in best or score > best[cid][1] + 1e-9):
            best[cid] = (sentence, score)
    for cid, definition, confidence in session.execute(select(C.c.id, C.c.definition, C.c.definition_confidence)
                                                       .where(C.c.discipline == discipline,
                                                              C.c.origin == "extracted")):
        want = best.get(cid, (None, None))
        if (definition, confidence) != want:
            session.execute(update(C).where(C.c.id == cid).values(definition=want[0], definition_confidence=want[1]))
    # labels stated in text ("X, also called Z", "kinetic energy (KE)")
    desired = set()
    for cid, extractor, start, end, text in session.execute(
            select(E.c.concept_id, E.c.extractor, E.c.char_start, E.c.char_end, K.c.text)
            .join(K, K.c.id == E.c.chunk_id).join(C, C.c.id == E.c.concept_id)
            .where(C.c.discipline == discipline, E.c.extractor.in_(("syllabus.synonym", "syllabus.abbreviation")))):
        label = " ".join(text[start:end].split())
        if label:
            desired.add((cid, "abbreviation" if extractor == "syllabus.abbreviation" else "exact", label))
    _sync_labels(session, discipline, "extracted", desired)
    apply_decisions(session, discipline)
