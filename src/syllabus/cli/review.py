"""`syllabus review`: list extracted facts that wait for a domain expert, accept or reject them."""
from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Optional

import typer

from syllabus.cli.common import SyllabusGroup, disciplines, emit_json, info, table, transaction, workspace
from syllabus.errors import check_choice

app = typer.Typer(cls=SyllabusGroup, invoke_without_command=True,
                  help="Review extracted facts: list what waits (default), accept or reject by id.")
KIND_HELP = "concept, definition or relation (repeatable; default: all)."


def _reviewer(by: str | None) -> str:
    return by or os.environ.get("SYLLABUS_REVIEWER") or getpass.getuser()


@app.callback()
def list_cmd(
    ctx: typer.Context,
    discipline: Optional[str] = typer.Option(None, "--discipline", "-d", help="Only this discipline."),
    kind: Optional[list[str]] = typer.Option(None, "--kind", "-k", help=KIND_HELP),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="List at most this many (default: 50 in text)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Facts waiting for review, with their evidence (document and chunk); `gated` ones are held back
    from compile by [compile] min_confidence until accepted."""
    if ctx.invoked_subcommand is not None:
        return
    from syllabus.extract.review import KINDS, proposed_facts, with_evidence

    kinds = tuple(kind or KINDS)
    for k in kinds:
        check_choice("--kind", k, KINDS)
    ws = workspace()
    names = disciplines(ws, discipline)
    c = ws.config.compile
    with transaction(ws) as session:
        facts = proposed_facts(session, names, kinds, c.min_confidence, include_proposed=c.include_proposed)
        shown = with_evidence(session, facts[:limit] if limit else (facts if as_json else facts[:50]))
    if as_json:
        emit_json({"waiting": len(facts), "gated": sum(f.gated for f in facts),
                   "facts": [f.to_dict() for f in shown]})
        return
    table(f"waiting for review: {len(facts)} ({sum(f.gated for f in facts)} held back by the gate)",
          ["id", "kind", "fact", "confidence", "evidence"],
          [[f.id, f.kind + (" (gated)" if f.gated else ""), f.statement[:90],
            "" if f.confidence is None else f"{f.confidence:.2f}",
            (f"{f.evidence[0]['document']}#{f.evidence[0]['chunk']}: {f.evidence[0]['sentence'][:80]}"
             if f.evidence else "")] for f in shown])
    if len(shown) < len(facts):
        info(f"{len(facts) - len(shown)} more (use --limit or --json)")


def _decide(ids: list[str], decision: str, by: str | None, note: str | None, as_json: bool) -> None:
    from syllabus.extract.review import decide

    ws = workspace()
    with transaction(ws) as session:
        done = decide(session, ids, decision, _reviewer(by), note)
    if as_json:
        emit_json({"decisions": done})
        return
    for d in done:
        typer.echo(f"{d['decision']}ed {d['kind']} {d['id']} ({d['reviewer']}, {d['decided_at']})")


@app.command("accept")
def accept_cmd(
    ids: list[str] = typer.Argument(..., help="Fact ids from `syllabus review`."),
    by: Optional[str] = typer.Option(None, "--by", help="Reviewer (default: $SYLLABUS_REVIEWER, else the user)."),
    note: Optional[str] = typer.Option(None, "--note", help="Why, in a line."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Accept facts: an accepted relation is asserted (compiled whatever its confidence), now and after re-extraction."""
    _decide(ids, "accept", by, note, as_json)


@app.command("reject")
def reject_cmd(
    ids: list[str] = typer.Argument(..., help="Fact ids from `syllabus review`."),
    by: Optional[str] = typer.Option(None, "--by", help="Reviewer (default: $SYLLABUS_REVIEWER, else the user)."),
    note: Optional[str] = typer.Option(None, "--note", help="Why, in a line."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Reject facts: they leave the graph and never come back on re-extraction."""
    _decide(ids, "reject", by, note, as_json)


@app.command("apply")
def apply_cmd(
    path: Path = typer.Argument(..., help="An `ontology export --include-proposed` file, edited."),
    discipline: Optional[str] = typer.Option(None, "--discipline", "-d", help="The discipline it was exported from."),
    by: Optional[str] = typer.Option(None, "--by", help="Reviewer (default: $SYLLABUS_REVIEWER, else the user)."),
    plan: bool = typer.Option(False, "--plan", help="Print the decisions the file holds; record nothing."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Record the decisions of an edited export: a deleted proposed fact is rejected, one whose
    PROPOSED mark was removed is accepted, a deleted definition is rejected; marked ones wait."""
    from syllabus.cli.common import pick_discipline
    from syllabus.extract.review import decide
    from syllabus.extract.review_file import file_decisions
    from syllabus.ontology.curie import workspace_curies

    ws = workspace()
    name = pick_discipline(ws, discipline, f"the review of {path}")
    with transaction(ws) as session:
        found = file_decisions(session, name, path, workspace_curies(ws))
        done = []
        if not plan:
            note = f"from {path.name}"
            for decision in ("accept", "reject"):
                if found[decision]:
                    done += decide(session, found[decision], decision, _reviewer(by), note)
    if as_json:
        emit_json({"plan": plan, **found, "decisions": done})
        return
    verb = "would " if plan else ""
    typer.echo(f"{path}: {verb}accept {len(found['accept'])}, {verb}reject {len(found['reject'])}")
    for decision in ("accept", "reject"):
        for fact_id in found[decision]:
            typer.echo(f"  {decision} {fact_id}")
