"""Repair through the incremental compiler: the one sequence `syllabus repair`, `syllabus loop` and
`syllabus experiment` share.

In the compile's own transaction: choose the gaps, record each one's patch plan (which journals
its ``gap:ID`` unit), compile, then stamp the gaps with the build that holds their patch examples.
The repair plan is the outcome's ``prepared``; with *plan* nothing is written.
"""
from __future__ import annotations

from syllabus.compile.pipeline import CompileOutcome, build_root, run_compile
from syllabus.config import Workspace
from syllabus.debug.repair import mark_built, plan_repair, select_gaps


def repair_and_compile(ws: Workspace, *, gap_ids: list[str] | None = None, run: str | None = None, budget: int,
                       accept_proposed: bool = False, max_gaps: int | None = None, plan: bool = False,
                       wait: float = 0.0) -> CompileOutcome:
    """Repair the gaps named by *gap_ids* (E086 for an unknown one), else every open gap (of *run*),
    at most the *max_gaps* best-scored, with *budget* patch examples allocated by score; compile."""
    chosen: list[str] = []

    def prepare(session):
        rows = select_gaps(session, gap_ids, run)[:max_gaps]
        chosen.extend(r.id for r in rows)
        return plan_repair(session, rows, budget, accept_proposed=accept_proposed, seed=ws.config.compile.seed)

    def after(session, staged):
        mark_built(session, chosen, staged.build_id if staged else None)

    return run_compile(ws, root=build_root(ws), plan=plan, wait=wait, prepare=prepare, after=after)
