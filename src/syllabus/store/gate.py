"""The review gate: which extracted facts compile renders and which wait for a reviewer.

One definition for every reader (compile's graph, bench items, diagnosis, `review`, `gaps report`,
`compile --plan`). Ontology facts always pass. An extracted relation passes when a reviewer
accepted it (status ``asserted``) or its calibrated confidence reaches ``[compile] min_confidence``;
an extracted definition the same way (1.0 once accepted); an extracted concept when it is a
two-word term, carries a definition that passes, or was accepted -- judged on real text, one-word
and long extracted terms are where generic words and fragments are. With ``include_proposed =
false`` only accepted facts pass.
"""
from __future__ import annotations

from sqlalchemy import and_, exists, func, or_

from syllabus.store.tables import Concept, Relation, ReviewDecision

C, R, V = Concept.__table__, Relation.__table__, ReviewDecision.__table__


def threshold(min_confidence: float, include_proposed: bool) -> float:
    """The confidence an extracted definition needs: the gate, or 1.0 (accepted) without proposed facts."""
    return min_confidence if include_proposed else 1.0


def relation_passes(min_confidence: float, include_proposed: bool):
    """Accepted relations are ``asserted``; proposed ones pass only with proposed facts and a high enough confidence."""
    if not include_proposed:
        return R.c.status == "asserted"
    return or_(R.c.status == "asserted", and_(R.c.status == "proposed", R.c.confidence >= min_confidence))


def definition_held(min_confidence: float, include_proposed: bool):
    """An extracted concept's definition that waits (rows from before confidences were kept count as accepted)."""
    return and_(C.c.origin == "extracted", C.c.definition.is_not(None),
                func.coalesce(C.c.definition_confidence, 1.0) < threshold(min_confidence, include_proposed))


def concept_passes(min_confidence: float, include_proposed: bool):
    two_words = and_(C.c.pref_label.like("% %"), C.c.pref_label.not_like("% % %"))
    defined = and_(C.c.definition.is_not(None), ~definition_held(min_confidence, include_proposed))
    accepted = exists().where(V.c.kind == "concept", V.c.target == C.c.id, V.c.decision == "accept")
    return or_(C.c.origin != "extracted", and_(two_words, include_proposed), defined, accepted)
