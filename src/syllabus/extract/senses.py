"""Sense checks for ontology labels that are ordinary words.

An ontology written for one field uses everyday words in its own sense: Brick's *Point* is a
sensor reading, not a geometric point; the Gene Ontology's *memory* is a behaviour, not a
computer's store. A mention through such a label (a single word, a symbol or an abbreviation)
links only when the passage is about that concept's field:
the cosine similarity of the chunk, or of the sentence, to the concept's *profile* (its label,
definition and the labels of its neighbours), averaged over its best passages in the discipline's
corpus, must reach ``[extract] sense_threshold``; otherwise none of those mentions link.
Multi-word labels ("angular velocity") and concepts extracted from the corpus itself are not
checked: their sense is the corpus's own.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from syllabus.store.tables import Concept, Label, Relation

C, L, R = (t.__table__ for t in (Concept, Label, Relation))
VERSION = "2"  # bump when the check changes: chunks are matched again
MAX_NEIGHBOURS = 8


def is_ambiguous(text: str) -> bool:
    """A label that could mean something else: a single word (a building's *damper* is not a
    spring's, a *point* of a control system is not a geometric one) or a short token. Phrases of
    several words ("angular velocity") name one thing."""
    return len(text.split()) == 1


@dataclass(frozen=True)
class SenseProfiles:
    """The ontology concepts of a discipline that need a sense check, each with its profile text."""

    profiles: dict[str, str]  # concept id -> profile text
    words: frozenset[str] = frozenset()  # their ambiguous labels, lower-case (a cheap pre-filter for chunks)

    def needs_check(self, concept_ids: tuple[str, ...], matched_text: str) -> bool:
        return any(cid in self.profiles for cid in concept_ids) and is_ambiguous(matched_text)


def sense_profiles(session: Session, discipline: str) -> SenseProfiles:
    """Profiles of the discipline's active ontology concepts that carry an ambiguous label."""
    labels: dict[str, list[str]] = defaultdict(list)
    for cid, text in session.execute(select(L.c.concept_id, L.c.text).join(C, C.c.id == L.c.concept_id).where(
            C.c.discipline == discipline, C.c.origin == "ontology", C.c.status == "active").order_by(L.c.id)):
        labels[cid].append(text)
    candidates = sorted(cid for cid, texts in labels.items() if any(is_ambiguous(t) for t in texts))
    if not candidates:
        return SenseProfiles({})
    words = frozenset(t.lower() for cid in candidates for t in labels[cid] if is_ambiguous(t))
    wanted = set(candidates)
    concept = {r.id: r for r in session.execute(select(C.c.id, C.c.pref_label, C.c.definition)
                                                .where(C.c.discipline == discipline))}
    neighbours: dict[str, list[str]] = defaultdict(list)
    for s, o in session.execute(select(R.c.subject_id, R.c.object_id).where(
            R.c.discipline == discipline, R.c.origin == "ontology").order_by(R.c.id)):
        if s in wanted and o in concept and concept[o].pref_label:
            neighbours[s].append(concept[o].pref_label)
        if o in wanted and s in concept and concept[s].pref_label:
            neighbours[o].append(concept[s].pref_label)
    profiles = {}
    for cid in candidates:
        row = concept.get(cid)
        if row is None:
            continue
        parts = [row.pref_label or labels[cid][0]]
        if row.definition:
            parts.append(row.definition)
        related = sorted(set(neighbours[cid]) - {row.pref_label})[:MAX_NEIGHBOURS]
        if related:
            parts.append("Related: " + ", ".join(related) + ".")
        profiles[cid] = ". ".join(parts)
    return SenseProfiles(profiles, words)


TOP_MENTIONS = 3  # a concept's sense fit: the mean of its best few passages


def sense_scores(session: Session, model_name: str, profiles: SenseProfiles,
                 checks: list[tuple[str, str, str]]) -> dict[str, float]:
    """Per concept, how well the corpus passages fit its profile.

    Each (concept id, chunk text, sentence) passage scores the better cosine similarity of its
    chunk or sentence to the concept's profile; a concept's score is the mean of its best
    :data:`TOP_MENTIONS` passages. One passage can be off topic in a corpus that uses the sense;
    the best few show whether the corpus ever does."""
    if not checks:
        return {}
    from syllabus.extract.embeddings import embed

    texts = sorted({profiles.profiles[c] for c, _, _ in checks} | {t for _, t, _ in checks}
                   | {s for _, _, s in checks})
    vectors = dict(zip(texts, embed(session, model_name, texts)))
    scores: dict[str, list[float]] = defaultdict(list)
    for cid, chunk, sentence in sorted(set(checks)):
        p = vectors[profiles.profiles[cid]]
        scores[cid].append(max(float(p @ vectors[chunk]), float(p @ vectors[sentence])))
    return {cid: sum(sorted(v)[-TOP_MENTIONS:]) / len(sorted(v)[-TOP_MENTIONS:]) for cid, v in sorted(scores.items())}


def rejected_senses(session: Session, model_name: str, profiles: SenseProfiles,
                    checks: list[tuple[str, str, str]], threshold: float) -> frozenset[str]:
    """Concepts whose mentions through ambiguous labels are not about the concept: their
    :func:`sense_scores` stay below *threshold*."""
    return frozenset(cid for cid, score in sense_scores(session, model_name, profiles, checks).items()
                     if score < threshold - 1e-9)
