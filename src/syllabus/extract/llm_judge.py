"""The LLM judge (``[extract] judge = true`` or ``extract --judge``): a 0..1 score for each proposed relation.

Each proposed extracted relation of a discipline is shown to the ``[llm]`` model with the sentences
of its evidence; the model's ``score`` (the probability that the passages state the fact) becomes
the relation's confidence (in place of its strongest evidence score), so ``[compile] min_confidence``
gates on it. It runs in every ``extract`` while enabled, once the evidence is final; answers come from the LLM cache, so re-judging an unchanged relation is
free and gives the same score. An answer that stays invalid (E183) leaves that relation's
confidence as extraction set it. Relations an expert decided (asserted, rejected) are not judged.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from syllabus.llm.client import LLMClient, Request, prompt_version
from syllabus.store.tables import Concept, Evidence, Relation

C, E, R = Concept.__table__, Evidence.__table__, Relation.__table__
TEMPLATE = "judge.relation"
MAX_PASSAGES = 3


class Judgement(BaseModel):
    model_config = ConfigDict(extra="ignore")
    score: float = Field(ge=0, le=1, description="probability that the passages state the fact")
    reason: str = Field("", max_length=500)


SYSTEM = ("You check one proposed fact of a knowledge graph against the passages it was extracted from. "
          "Answer with one JSON object {\"score\": number from 0 to 1, \"reason\": short text}: score is the "
          "probability that the passages state the fact as written (subject, relation and object in that "
          "order), not merely mention the terms.")
USER = "Fact: {subject} --{predicate}--> {object}\nPassages:\n{passages}"
VERSION = prompt_version(TEMPLATE, SYSTEM, USER)


def messages(subject: str, predicate: str, obj: str, passages: list[str]) -> tuple[dict[str, str], ...]:
    body = USER.format(subject=subject, predicate=predicate, object=obj,
                       passages="\n".join(f"- {p}" for p in passages))
    return ({"role": "system", "content": SYSTEM}, {"role": "user", "content": body})


@dataclass
class JudgeReport:
    judged: int = 0
    failed: int = 0
    failed_units: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def judge_requests(session: Session, discipline: str) -> list[tuple[str, Request]]:
    """(relation id, request) for every proposed extracted relation of *discipline*, in id order."""
    S, O = aliased(C), aliased(C)
    rows = session.execute(select(R.c.id, R.c.predicate, S.c.pref_label, S.c.id, O.c.pref_label, O.c.id)
                           .join(S, S.c.id == R.c.subject_id).join(O, O.c.id == R.c.object_id)
                           .where(R.c.discipline == discipline, R.c.origin == "extracted",
                                  R.c.status == "proposed").order_by(R.c.id)).all()
    out = []
    for rid, predicate, s_label, s_id, o_label, o_id in rows:
        passages = sorted({" ".join(t.split()) for t in session.scalars(select(E.c.sentence)
                                                                        .where(E.c.relation_id == rid))})
        msgs = messages(s_label or s_id, predicate, o_label or o_id, passages[:MAX_PASSAGES])
        out.append((rid, Request(f"relation {rid} ({s_id} {predicate} {o_id})", TEMPLATE, VERSION, msgs,
                                 answer=Judgement, max_tokens=200)))
    return out


def judge(session: Session, discipline: str, client: LLMClient) -> tuple[JudgeReport, dict[str, float]]:
    """Scores of the discipline's proposed relations (relation id -> 0..1); extraction stores them as confidence."""
    report = JudgeReport()
    scores: dict[str, float] = {}
    pairs = judge_requests(session, discipline)
    answers = client.ask_all([r for _, r in pairs])
    for (rid, request), answer in zip(pairs, answers):
        if not answer.ok:
            report.failed += 1
            report.failed_units.append(request.unit)
            continue
        report.judged += 1
        scores[rid] = round(float(answer.data.score), 6)  # type: ignore[union-attr]
    return report, scores
