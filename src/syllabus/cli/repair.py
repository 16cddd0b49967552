"""`syllabus repair`: patch plan for gaps, rendered by the incremental compiler in the same transaction."""
from __future__ import annotations

from typing import List, Optional

import typer

from syllabus.cli.common import emit_json, table, workspace


def repair_cmd(
    gap: Optional[List[str]] = typer.Option(None, "--gap", help="Gap id to repair (repeatable)."),
    open_gaps: bool = typer.Option(False, "--open", help="Repair every open gap."),
    run: Optional[str] = typer.Option(None, "--run", help="With --open: only this run's gaps."),
    budget: int = typer.Option(50, "--budget", min=0, help="Patch examples to allocate by gap score."),
    accept_proposed: bool = typer.Option(False, "--accept-proposed",
                                         help="Confirm relations proposed for missing edges (else review them)."),
    plan: bool = typer.Option(False, "--plan", help="Show the allocation and the compile plan; write nothing."),
    wait: float = typer.Option(0.0, "--wait", help="Seconds to wait for another compile's lock."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Render targeted patch examples for gaps (allocated by score) through the incremental compiler."""
    from syllabus.cli.compile import print_compile
    from syllabus.workflows.repair import repair_and_compile

    if not gap and not open_gaps:
        raise typer.BadParameter("pass --gap ID (repeatable) or --open")
    outcome = repair_and_compile(workspace(), gap_ids=gap, run=run, budget=budget, accept_proposed=accept_proposed,
                                 plan=plan, wait=wait)
    repair_plan = outcome.prepared
    if as_json:
        emit_json({"repair": repair_plan.to_dict(), "compile": outcome.report()})
        return
    table("repair plan" + (" (not applied)" if plan else ""), ["gap", "kind", "unit", "score", "examples", "note"],
          [[a.gap, a.kind, a.unit, f"{a.score:.3f}", a.examples, a.note] for a in repair_plan.allocations])
    for rid in repair_plan.relations_proposed:
        typer.echo(f"proposed relation {rid}: review it, then `syllabus repair --gap ... --accept-proposed`")
    print_compile(outcome, False)
