"""`syllabus loop`: one pass of compile -> bench -> run -> diagnose -> repair -> compile."""
from __future__ import annotations

from typing import Optional

import typer

from syllabus.cli.common import emit_json, info, table, workspace


def loop_cmd(
    model: Optional[str] = typer.Option(None, "--model", help="Checkpoint folder, `smollm2` or `tiny` (default: "
                                                              "smollm2 when installed, else tiny)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Score at most N dev items."),
    budget: int = typer.Option(50, "--budget", min=0, help="Patch examples for the repair."),
    batch_size: int = typer.Option(16, "--batch-size", min=1),
    accept_proposed: bool = typer.Option(False, "--accept-proposed", help="Confirm relations proposed for missing edges."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Run the whole debugging loop once and print a before/after table."""
    from syllabus.debug.loop import LoopOptions, run_loop

    ws = workspace()
    report = run_loop(ws, LoopOptions(model, limit, budget, batch_size, accept_proposed), note=lambda m: info(f"-- {m}"))
    if as_json:
        emit_json(report)
        return
    acc = report["accuracy"]
    rows = [["dev accuracy (all)", _pct(acc["overall"]), ""]]
    rows += [[f"dev accuracy {level}", _pct(a), ""] for level, a in acc["by_level"].items()]
    rows += [[f"gaps: {kind}", n, ""] for kind, n in sorted(report["gaps"].items())]
    ex = report["examples"]
    rows += [["build", report["build_before"], report["build_after"]],
             ["patch examples allocated", "", report["repair"]["examples"]],
             ["examples new / changed / removed", "", f"{ex['new']} / {ex['changed']} / {ex['removed']}"]]
    table(f"loop: run {report['run']} ({report['model']})", ["", "before", "after repair"], rows)


def _pct(a: dict) -> str:
    return f"{a['accuracy'] * 100:.1f}% of {a['items']}" if a.get("accuracy") is not None else "-"
