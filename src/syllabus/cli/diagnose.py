"""`syllabus diagnose RUN`: a thin wrapper over syllabus.debug.diagnose."""
from __future__ import annotations

import typer

from syllabus.cli.common import emit_json, info, table, transaction, workspace
from syllabus.errors import SyllabusError

TOP = 10


def _dev_only(value: str) -> str:
    if value != "dev":
        raise SyllabusError("E152", split=value)
    return value


def diagnose_cmd(
    run: str = typer.Argument(..., help="Run id (from `syllabus bench run` or `syllabus results import`)."),
    split: str = typer.Option("dev", "--split", callback=_dev_only, help="Items to diagnose (dev only)."),
    max_path: int = typer.Option(3, "--max-path", min=1,
                                 help="Missing edge: linked concepts farther apart than this many relations."),
    min_suspicion: float = typer.Option(0.1, "--min-suspicion", min=0.0, max=1.0,
                                        help="Smallest Ochiai score kept for units without probes of their own."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output (every gap)."),
) -> None:
    """Attribute a run's failed dev items to concept gaps, weak and missing edges, reasoning breaks; write gaps."""
    from syllabus.debug.diagnose import KINDS, diagnose

    ws = workspace()
    with transaction(ws) as session:
        report = diagnose(session, run, split, max_path=max_path, min_suspicion=min_suspicion)
    if as_json:
        emit_json(report.to_dict())
        return
    acc = "-" if report.accuracy is None else f"{report.accuracy:.1%}"
    typer.echo(f"run {report.run} on {report.split}: {report.correct}/{report.items} correct ({acc})"
               + (f"; {report.leaked_skipped} leaking items skipped" if report.leaked_skipped else ""))
    rows = [[k, v["items"], v["correct"], "-" if v["accuracy"] is None else f"{v['accuracy']:.1%}"]
            for k, v in report.by_level.items()]
    table("accuracy by level", ["level", "items", "correct", "accuracy"], rows)
    rows = [[k, v["items"], v["correct"], "-" if v["accuracy"] is None else f"{v['accuracy']:.1%}"]
            for k, v in report.by_discipline.items()]
    table("accuracy by discipline", ["discipline", "items", "correct", "accuracy"], rows)
    for kind in KINDS:
        gaps = [g for g in report.gaps if g.kind == kind]
        if not gaps:
            continue
        title = f"{kind}: {len(gaps)}" + (f" (top {TOP} by score)" if len(gaps) > TOP else "")
        table(title, ["unit", "label", "score", "failed", "status"],
              [[g.unit, g.label, f"{g.score:.3f}", len(g.items), g.status] for g in gaps[:TOP]])
    info(f"{report.written} gaps written, {len(report.kept)} kept as handled"
         + (f", {len(report.verified)} earlier patched gaps verified" if report.verified else ""))
