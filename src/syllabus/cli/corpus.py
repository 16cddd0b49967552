"""`syllabus ingest`: corpus files into documents and chunks."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from syllabus.cli.common import (
    disciplines,
    emit_json,
    pick_discipline,
    table,
    transaction,
    warn,
    workspace,
)


def ingest_cmd(
    paths: Optional[List[Path]] = typer.Argument(None, help="Files or folders; default: the corpus folders declared."),
    discipline: Optional[str] = typer.Option(None, "--discipline", "-d", help="Only this discipline."),
    prune: bool = typer.Option(False, "--prune", help="Remove documents whose files were deleted."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Read corpus files (txt, md, rst, html, pdf, jsonl) into documents and chunks."""
    from syllabus.corpus.ingest import ingest

    ws = workspace()
    names = [pick_discipline(ws, discipline, "the ingest of these paths")] if paths else disciplines(ws, discipline)
    from syllabus.cli.common import STATE
    from syllabus.cli.progress import progress_bar

    reports = []
    with transaction(ws) as session, progress_bar("ingest", quiet=STATE.quiet or as_json) as update:
        for n, name in enumerate(names):
            update(n, len(names), name)
            reports.append(ingest(session, ws, name, list(paths) if paths else None, prune))
    if as_json:
        emit_json([r.to_dict() for r in reports])
        return
    for r in reports:
        for s in r.skipped:
            warn(f"skipped {s.file}: {s.code} {s.message}")
    table("ingest", ["discipline", "documents", "+docs", "~docs", "-docs", "chunks", "words", "skipped",
                     "facts removed"],
          [[r.discipline, r.documents_added + r.documents_changed + r.documents_unchanged, r.documents_added,
            r.documents_changed, r.documents_removed, r.chunks, r.words, len(r.skipped),
            r.facts_removed["relations"] + r.facts_removed["concepts"]] for r in reports])
