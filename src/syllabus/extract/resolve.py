"""From term candidates to extracted concepts: termhood selection and entity resolution.

Variants are merged: inflections share a lemmatised key already; an acronym merges into the
concept whose label has those initials; a candidate whose embedding is within the configured
cosine similarity of an ontology label becomes an extracted label of that ontology concept, and
of another, stronger candidate merges into it. Two ontology concepts are never merged here
(lint reports likely duplicates instead).
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from syllabus.config import ExtractConfig
from syllabus.extract.parse import TERMS
from syllabus.extract.terms import (
    FRAGMENT_SUFFIXES,
    GENERAL_NOUNS,
    TermOccurrence,
    TermStats,
    looks_like_name,
    looks_like_proper_noun,
    names_code,
    specificity,
    termhood,
)
from syllabus.store.tables import Chunk, ChunkExtraction, Concept, Document, Label

K, D, X, C, L = (t.__table__ for t in (Chunk, Document, ChunkExtraction, Concept, Label))


@dataclass
class Candidate:
    norm: str
    label: str
    score: float
    frequency: int
    sections: int
    merged: list[str] = field(default_factory=list)  # surfaces of merged variants
    norms: list[str] = field(default_factory=list)  # its own key and those of merged variants


@dataclass
class Resolution:
    concepts: dict[str, Candidate]  # new concept id -> candidate
    labels: dict[str, set[tuple[str, str]]]  # existing concept id -> extracted (kind, text) labels
    scores: dict[str, float]  # every candidate norm -> score (for reports)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def discipline_stats(session: Session) -> dict[str, TermStats]:
    """Term statistics for every discipline with parsed chunks (the background for specificity)."""
    stats: dict[str, TermStats] = {}
    rows = session.execute(select(D.c.discipline, D.c.path, K.c.section, K.c.ordinal, K.c.id, X.c.payload)
                           .join(K, K.c.document_id == D.c.id)
                           .join(X, X.c.chunk_id == K.c.id).where(X.c.extractor == TERMS).order_by(K.c.id))
    for discipline, path, section, ordinal, chunk, payload in rows:
        target = stats.setdefault(discipline, TermStats())
        where = (path, section_key(section, ordinal))
        for norm, surface, start, end, sent_start, sent_end in json.loads(payload):
            target.add(TermOccurrence(norm, surface, start, end, sent_start, sent_end), where, chunk)
    return stats


SECTION_CHUNKS = 10  # a long text without headings counts a section per this many chunks


def section_key(section: str | None, ordinal: int) -> str:
    """Where a chunk sits for counting spread: its heading path, else a run of chunks."""
    return section if section else f"#{ordinal // SECTION_CHUNKS}"


def admissible(norm: str, stats: TermStats, total: int, cfg: ExtractConfig) -> bool:
    """Precision gates a candidate passes before termhood decides: a single word must be a domain
    word (not a general noun, and far more frequent here than in English); a phrase only ever
    written in title case is a name (person, venue, title), not a term."""
    if " " not in norm:
        if all(surface.isupper() for surface in stats.surfaces[norm]):
            return True  # an acronym ("ER", "ATP"): merged with its expansion when one is found
        if len(norm) < 3 or norm in GENERAL_NOUNS or norm in FRAGMENT_SUFFIXES \
                or looks_like_proper_noun(stats.surfaces[norm]):
            return False
        return specificity(norm, stats.frequency[norm], total) >= cfg.single_word_specificity
    return not looks_like_name(stats.surfaces[norm]) and not names_code(stats.surfaces[norm])


def label_norms(nlp, texts: list[str]) -> dict[str, str]:
    """Candidate-style keys of labels (lower-case, head lemmatised) to match against terms."""
    out = {}
    with nlp.select_pipes(disable=[p for p in nlp.pipe_names if p == "parser"]):
        for text, doc in zip(texts, nlp.pipe(texts, batch_size=256)):
            words = [t.lower_ for t in doc if not t.is_punct]
            if words:
                words[-1] = doc[-1].lemma_.lower() if not doc[-1].is_punct else words[-1]
            out[text] = " ".join(words)
    return out


def resolve(session: Session, nlp, discipline: str, prefix: str, cfg: ExtractConfig,
            all_stats: dict[str, TermStats], use_embeddings: bool = True,
            rejected: frozenset[str] = frozenset()) -> Resolution:
    """Select and merge the discipline's new concepts; *rejected* holds concept ids a reviewer rejected."""
    stats = all_stats.get(discipline, TermStats())
    background: Counter = Counter()
    for s in all_stats.values():
        background.update(s.frequency)
    scores = termhood(stats, background, sum(background.values()))
    ontology = session.execute(select(L.c.concept_id, L.c.text).join(C, C.c.id == L.c.concept_id).where(
        C.c.discipline == discipline, C.c.origin == "ontology", C.c.status == "active", L.c.origin == "ontology")).all()
    norms = label_norms(nlp, sorted({t for _, t in ontology}))
    known = {norms[t]: cid for cid, t in sorted(ontology, reverse=True)}
    chosen: dict[str, Candidate] = {}
    total = sum(stats.frequency.values())
    for norm in sorted(scores, key=lambda n: (-scores[n], n)):
        freq, spread = stats.frequency[norm], len(stats.sections[norm])
        if scores[norm] < cfg.term_threshold or freq < cfg.min_term_frequency or spread < cfg.min_term_sections:
            continue
        if norm in known or f"{prefix}:x-{slug(norm)}" in rejected or not admissible(norm, stats, total, cfg):
            continue
        surface = sorted(stats.surfaces[norm].items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        label = surface if surface.isupper() else norm  # "amino acid", but "ATP"
        chosen[norm] = Candidate(norm, label, scores[norm], freq, spread, norms=[norm])
    labels: dict[str, set[tuple[str, str]]] = {}
    _merge_acronyms(chosen, labels, ontology)
    if use_embeddings and chosen:
        _merge_similar(session, cfg, chosen, ontology, labels)
    concepts = {f"{prefix}:x-{slug(c.norm)}": c for c in chosen.values()}
    return Resolution(concepts, labels, scores)


def is_abbreviation(short: str, long: str) -> bool:
    """Schwartz & Hearst (2003): the short form's letters occur in order in the long form, the
    first one starting a word ("ATP" / "adenosine triphosphate", "ER" / "endoplasmic reticulum")."""
    s, l_ = short.lower(), long.lower()
    if not s or len(s) >= len(l_) or not s[0].isalnum() or " " not in l_:
        return False
    si, li = len(s) - 1, len(l_) - 1
    while si >= 0:
        c = s[si]
        if not c.isalnum():
            si -= 1
            continue
        while li >= 0 and (l_[li] != c or (si == 0 and li > 0 and l_[li - 1].isalnum())):
            li -= 1
        if li < 0:
            return False
        li -= 1
        si -= 1
    return True


def _merge_acronyms(chosen, labels, ontology) -> None:
    multiword = sorted({(text, cid) for cid, text in ontology if len(text.split()) > 1})
    for c in list(chosen.values()):
        if " " in c.norm or not (2 <= len(c.norm) <= 6) or not c.label.isupper():
            continue  # acronyms are written in capitals ("ER", "ATP"); "cell" is a word
        expansions = sorted((o for o in chosen.values() if " " in o.norm and is_abbreviation(c.norm, o.norm)),
                            key=lambda o: (-o.score, o.norm))
        if expansions:
            expansions[0].merged.append(c.label.upper())
            expansions[0].norms += c.norms
            del chosen[c.norm]
            continue
        targets = [cid for text, cid in multiword if is_abbreviation(c.norm, text)]
        if targets:
            labels.setdefault(targets[0], set()).add(("abbreviation", c.label.upper()))
            del chosen[c.norm]


def _merge_similar(session, cfg, chosen, ontology, labels) -> None:
    import numpy as np

    from syllabus.extract.embeddings import embed

    cands = sorted(chosen.values(), key=lambda c: (-c.score, c.norm))
    onto_texts = sorted({t for _, t in ontology})
    owner = {}
    for cid, t in sorted(ontology):
        owner.setdefault(t, cid)
    vectors = embed(session, cfg.embedding_model, [c.label for c in cands] + onto_texts)
    cand_vecs, onto_vecs = vectors[:len(cands)], vectors[len(cands):]
    absorbed: set[str] = set()
    threshold = cfg.similarity_threshold
    # all candidate pairs at once, to skip the pairs far below the threshold; a pair near or above it
    # is decided by the same single dot product as before, so rounding can never change a decision
    near = (cand_vecs @ cand_vecs.T) >= threshold - 1e-3 if len(cands) else None
    for i, c in enumerate(cands):
        if onto_texts:
            sims = onto_vecs @ cand_vecs[i]
            j = int(sims.argmax())
            if sims[j] >= threshold:
                labels.setdefault(owner[onto_texts[j]], set()).add(("exact", c.label))
                absorbed.add(c.norm)
                continue
        for k in np.flatnonzero(near[i, :i]).tolist():  # a stronger candidate absorbs a near-identical weaker one
            stronger = cands[k]
            if stronger.norm not in absorbed and float(cand_vecs[k] @ cand_vecs[i]) >= threshold:
                stronger.merged.append(c.label)
                stronger.norms += c.norms
                absorbed.add(c.norm)
                break
    for norm in absorbed:
        chosen.pop(norm, None)
