"""`syllabus concepts`: inspect concepts with their labels, relations and evidence."""
from __future__ import annotations

from typing import Optional

import typer

from syllabus.cli.common import SyllabusGroup, emit_json, table, transaction, workspace

app = typer.Typer(cls=SyllabusGroup, no_args_is_help=True, help="Inspect concepts.")


@app.command("show")
def show_cmd(
    concept_id: str = typer.Argument(..., help="Concept id, e.g. phys:Force."),
    limit: int = typer.Option(20, "--evidence", help="Evidence rows to show."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Labels, definition, relations and evidence (document and line) of one concept."""
    from syllabus.store.queries import concept_detail

    ws = workspace()
    with transaction(ws) as session:
        c = concept_detail(session, concept_id, ws.root, limit)
    if as_json:
        emit_json(c)
        return
    typer.echo(f"{c['id']}  {c['label']}  [{c['discipline']}, {c['origin']}, {c['status']}]")
    if c["definition"]:
        typer.echo(f"  definition: {c['definition']}")
    for lab in c["labels"]:
        if lab["kind"] != "pref":
            typer.echo(f"  label ({lab['kind']}, {lab['origin']}): {lab['text']}")
    for r in c["relations"]:
        typer.echo(f"  {r['subject_label'] or r['subject']} --{r['predicate']}--> {r['object_label'] or r['object']}"
                   f"  [{r['origin']}/{r['status']} {r['confidence']:.2f}, {r['evidence']} evidence]")
    typer.echo(f"  evidence: {c['evidence_total']}")
    for e in c["evidence"]:
        where = f"{e['document']}:{e['line']}" if e["line"] else e["document"]
        typer.echo(f"    {where}  {e['extractor']}  {e['sentence'][:120]}")


@app.command("list")
def list_cmd(
    discipline: Optional[str] = typer.Option(None, "--discipline", "-d"),
    origin: Optional[str] = typer.Option(None, "--origin", help="ontology, extracted, patched or external"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List concepts with their origin, status and evidence count."""
    from syllabus.store.queries import concept_list

    ws = workspace()
    if discipline:
        ws.discipline(discipline)
    with transaction(ws) as session:
        rows = concept_list(session, discipline, origin)
    if as_json:
        emit_json(rows)
        return
    table("concepts", ["id", "label", "discipline", "origin", "status", "evidence"],
          [[r["id"], r["label"] or "", r["discipline"], r["origin"], r["status"], r["evidence"]] for r in rows])
