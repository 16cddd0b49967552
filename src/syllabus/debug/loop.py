"""The debugging loop in one call: compile -> bench build -> bench run (dev) -> diagnose -> repair -> compile.

Each step is the same library function its own command runs, so every row the loop writes is as
traceable as if the steps had been run by hand. Measuring the repair's effect on a trained model
is the job of ``syllabus experiment`` (training), not of this loop.
"""
from __future__ import annotations

from dataclasses import dataclass

from syllabus.config import Workspace


@dataclass
class LoopOptions:
    model: str | None = None
    limit: int | None = None
    budget: int = 50
    batch_size: int = 16
    accept_proposed: bool = False


def run_loop(ws: Workspace, opts: LoopOptions, note=lambda _m: None) -> dict:
    """Run the loop once and return a before/after report."""
    from syllabus.bench.items import Settings, build_items
    from syllabus.bench.runs import RunOptions, run_bench
    from syllabus.compile.pipeline import build_root, run_compile
    from syllabus.debug.diagnose import diagnose
    from syllabus.store import open_store
    from syllabus.workflows.repair import repair_and_compile

    root = build_root(ws)
    note("compile")
    before = run_compile(ws, root=root)
    st = open_store(ws.store_url)
    try:
        note("bench build")
        with st.transaction() as session:
            items = build_items(session, ws, ws.discipline_names(), Settings.from_workspace(ws, 4, ws.config.compile.seed))
        note("bench run (dev)")
        run = run_bench(ws, RunOptions(model=opts.model, split="dev", limit=opts.limit, batch_size=opts.batch_size),
                        note)
        note("diagnose")
        with st.transaction() as session:
            diagnosis = diagnose(session, run["run"])
    finally:
        st.close()
    note("repair + compile")
    after = repair_and_compile(ws, run=run["run"], budget=opts.budget, accept_proposed=opts.accept_proposed)
    build_before = before.staged.build_id if before.staged else _latest(before)
    return {
        "items": items.to_dict()["counts"],
        "run": run["run"],
        "model": run["model"],
        "accuracy": {"overall": {"items": run["items"], "correct": run["correct"], "accuracy": run["accuracy"]},
                     "by_level": run["levels"], "by_discipline": run["disciplines"]},
        "gaps": diagnosis.by_kind,
        "repair": after.prepared.to_dict(),
        "build_before": build_before,
        "build_after": after.staged.build_id if after.staged else build_before,
        "examples": after.compiled.counts,
    }


def _latest(outcome) -> str | None:
    parent = outcome.compiled.parent
    return parent["id"] if parent else None
