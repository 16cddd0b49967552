"""``--select``: which units a compile may re-render (dbt-style selectors, unions separated by spaces).

``discipline:NAME``, ``concept:ID`` (that unit), ``concept:ID+`` (it and everything downstream:
its relations and the chains through them), ``state:modified`` (units changed since the last
build). Unselected units keep their previous examples.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from syllabus.compile.fingerprint import PRIMARY_KINDS, split_key
from syllabus.errors import SyllabusError
from syllabus.store.tables import Chain, Concept, Gap, Relation

C, R, H = Concept.__table__, Relation.__table__, Chain.__table__
# the table that holds each kind of job's discipline: every primary kind (a patch example's unit is a gap)
_TABLE_OF_KIND = {"concept": C, "relation": R, "chain": H, "gap": Gap.__table__}
assert set(_TABLE_OF_KIND) == set(PRIMARY_KINDS)


@dataclass
class Selector:
    text: str
    disciplines: set[str]
    concepts: set[str]
    downstream: set[str]
    modified: bool
    _expanded: set[str] | None = None

    def matches(self, job: str, graph, session: Session) -> bool:
        """Whether the job (a primary unit key) is selected. Every job passed in needs work."""
        if self.modified:
            return True
        if job in self._jobs(session):
            return True
        if self.disciplines:
            return _discipline_of(job, session) in self.disciplines
        return False

    def _jobs(self, session: Session) -> set[str]:
        if self._expanded is None:
            jobs = {f"concept:{c}" for c in self.concepts | self.downstream}
            if self.downstream:
                rels = set(session.scalars(select(R.c.id).where(or_(R.c.subject_id.in_(self.downstream),
                                                                    R.c.object_id.in_(self.downstream)))))
                jobs |= {f"relation:{r}" for r in rels}
                for hid, rel_ids in session.execute(select(H.c.id, H.c.relation_ids)):
                    if rels & set(json.loads(rel_ids)):
                        jobs.add(f"chain:{hid}")
            self._expanded = jobs
        return self._expanded


def _discipline_of(job: str, session: Session) -> str | None:
    kind, ident = split_key(job)
    table = _TABLE_OF_KIND[kind]
    return session.scalar(select(table.c.discipline).where(table.c.id == ident))


def parse_selector(text: str, session: Session, known_disciplines: list[str]) -> Selector:
    """Parse and check a selector; unknown disciplines or concepts are a coded error."""
    sel = Selector(text, set(), set(), set(), False)
    for part in text.split():
        kind, _, value = part.partition(":")
        if kind == "discipline" and value:
            if value not in known_disciplines:
                raise SyllabusError("E062", selector=part, detail=f"unknown discipline (known: {', '.join(known_disciplines)})")
            sel.disciplines.add(value)
        elif kind == "concept" and value:
            cid = value[:-1] if value.endswith("+") else value
            if session.scalar(select(C.c.id).where(C.c.id == cid)) is None:
                raise SyllabusError("E062", selector=part, detail=f"unknown concept {cid}")
            (sel.downstream if value.endswith("+") else sel.concepts).add(cid)
        elif part == "state:modified":
            sel.modified = True
        else:
            raise SyllabusError("E062", selector=part, detail="not a known selector")
    if not text.split():
        raise SyllabusError("E062", selector=text, detail="empty selector")
    return sel
