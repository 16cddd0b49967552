"""`syllabus report`: a static HTML site of the graph, coverage, gaps and builds."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from syllabus.cli.common import STATE, disciplines, emit_json, info, transaction, workspace


def report_cmd(
    out: str = typer.Option(..., "--out", help="Folder of the site (replaced atomically; an earlier report is fine)."),
    discipline: Optional[str] = typer.Option(None, "--discipline", "-d", help="Only this discipline (default: all)."),
    build: Optional[str] = typer.Option(None, "--build", help="Build whose examples the pages show (default: latest)."),
    run: Optional[str] = typer.Option(None, "--run", help="Run whose results the coverage and pages show "
                                                          "(default: the newest for coverage, the 5 newest on pages)."),
    builds_root: Optional[str] = typer.Option(None, "--builds", help="Build folder root."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable summary."),
) -> None:
    """Write the report site: overview per discipline, a page per concept, gaps, builds, search."""
    from syllabus.cli.progress import progress_bar
    from syllabus.compile.pipeline import build_root
    from syllabus.report.site import build_report

    ws = workspace()
    names = disciplines(ws, discipline)
    with transaction(ws) as session, progress_bar("report", quiet=STATE.quiet or as_json) as update:
        summary = build_report(session, ws, Path(out), disciplines=names, build_root=build_root(ws, builds_root),
                               build=build, run=run, progress=lambda d, n, total: update(n, total, d))
    if as_json:
        emit_json(summary)
        return
    info(f"report: {summary['out']}/index.html ({summary['concept_pages']} concept pages, "
         f"{summary['files']} files, {summary['bytes'] / 1e6:.1f} MB)")
