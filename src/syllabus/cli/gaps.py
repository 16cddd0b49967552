"""`syllabus gaps`: query diagnosed gaps; `syllabus gaps report`: canned graph reports.

Exit codes: `gaps` is a query and exits 0 whatever it lists; `gaps report` exits 1 when any
report has a finding (as `ontology lint` does with errors), 0 when the graph is clean.
"""
from __future__ import annotations

import csv
import io
from typing import Optional

import typer

from syllabus.cli.common import SyllabusGroup, disciplines, emit_json, info, table, transaction, workspace
from syllabus.errors import check_choice
from syllabus.vocabulary import GAP_KINDS as KINDS
from syllabus.vocabulary import GAP_STATUSES as STATUSES

app = typer.Typer(cls=SyllabusGroup, invoke_without_command=True,
                  help="Diagnosed gaps (concept gaps, weak or missing edges, reasoning breaks) and graph reports.")

TEXT_LIMIT = 50


def _csv(columns: list[str], rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    typer.echo(buf.getvalue(), nl=False)


@app.callback()
def gaps_cmd(
    ctx: typer.Context,
    discipline: Optional[str] = typer.Option(None, "--discipline", "-d", help="Only this discipline."),
    kind: Optional[str] = typer.Option(None, "--kind", help=", ".join(KINDS)),
    status: Optional[str] = typer.Option(None, "--status", help=", ".join(STATUSES)),
    min_score: Optional[float] = typer.Option(None, "--min-score", help="Only gaps scoring at least this."),
    under: Optional[str] = typer.Option(None, "--under", metavar="CONCEPT_ID",
                                        help="Gaps of this concept, its is_a/part_of descendants, and the relations, "
                                             "chains and pairs touching them."),
    run: Optional[str] = typer.Option(None, "--run", help="Only gaps found by this run."),
    sort: str = typer.Option("score", "--sort", help="score (highest first) or kind."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1,
                                        help=f"At most N gaps (default: all; {TEXT_LIMIT} in the table)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    as_csv: bool = typer.Option(False, "--csv", help="CSV on stdout."),
) -> None:
    """List gaps with their unit, score, failing items, status, run and repair build."""
    if ctx.invoked_subcommand is not None:
        return
    from syllabus.debug.queries import COLUMNS, list_gaps

    check_choice("--kind", kind, KINDS)
    check_choice("--status", status, STATUSES)
    check_choice("--sort", sort, ("score", "kind"))
    if as_json and as_csv:
        raise typer.BadParameter("choose one of --json and --csv", param_hint="--csv")
    ws = workspace()
    if discipline:
        ws.discipline(discipline)
    shown = limit if (limit or as_json or as_csv) else TEXT_LIMIT + 1
    with transaction(ws) as session:
        rows = list_gaps(session, discipline=discipline, kind=kind, status=status, min_score=min_score, under=under,
                         run=run, sort=sort, limit=shown)
    if as_json:
        emit_json(rows)
        return
    if as_csv:
        _csv(list(COLUMNS), rows)
        return
    more = len(rows) > TEXT_LIMIT and not limit
    rows = rows[:TEXT_LIMIT] if more else rows
    table("gaps", ["id", "kind", "unit", "label", "discipline", "score", "failing", "status", "run", "build"],
          [[r["id"], r["kind"], r["unit"], r["label"] or "", r["discipline"], f"{r['score']:.3f}", r["failing"],
            r["status"], r["run"], r["build"] or ""] for r in rows])
    info(f"{len(rows)} gaps" + (" (more match: pass --limit N, --json or --csv for all)" if more else ""))


@app.command("report")
def report_cmd(
    discipline: Optional[str] = typer.Option(None, "--discipline", "-d", help="Only this discipline."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1,
                                        help=f"Rows listed per report (counts are always complete; "
                                             f"default: all, {TEXT_LIMIT} in text)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    as_csv: bool = typer.Option(False, "--csv", help="CSV on stdout: report, discipline, id, label, ..."),
) -> None:
    """Concepts without definition, evidence, training example or benchmark item; relations without
    evidence; facts the review gate holds back. Exit code 1 when any of the reports has findings
    (facts waiting for review are not findings)."""
    from syllabus.debug.queries import graph_report
    from syllabus.extract.review import held_back

    if as_json and as_csv:
        raise typer.BadParameter("choose one of --json and --csv", param_hint="--csv")
    ws = workspace()
    names = disciplines(ws, discipline)
    rows_limit = limit if (limit or as_json or as_csv) else TEXT_LIMIT
    c = ws.config.compile
    with transaction(ws) as session:
        data = graph_report(session, names, rows_limit)
        held = held_back(session, names, c.min_confidence, c.include_proposed)
    findings = sum(r["count"] for d in data.values() for r in d.values())
    if as_json:
        emit_json({"findings": findings, "disciplines": data, "review": held})
    elif as_csv:
        flat = [{"report": name, "discipline": d, **row} for d, reports in data.items()
                for name, r in reports.items() for row in r["rows"]]
        _csv(["report", "discipline", "id", "label", "origin", "subject", "predicate", "object", "status"], flat)
    else:
        table("graph reports", ["discipline", *(name for name in next(iter(data.values()), {}))],
              [[d, *(r["count"] for r in reports.values())] for d, reports in data.items()])
        for d, reports in data.items():
            for name, r in reports.items():
                if not r["count"]:
                    continue
                typer.echo(f"{d} {name} ({r['count']}):")
                for row in r["rows"]:
                    if "subject" in row:
                        typer.echo(f"  {row['id']}  {row['subject']} {row['predicate']} {row['object']}"
                                   f"  [{row['origin']}/{row['status']}]")
                    else:
                        typer.echo(f"  {row['id']}  {row['label'] or ''}  [{row['origin']}]")
                if len(r["rows"]) < r["count"]:
                    typer.echo(f"  ... {r['count'] - len(r['rows'])} more")
        for d, h in held.items():
            if h["held_back"] or h["waiting"]:
                typer.echo(f"{d} review gate: {h['held_back']} facts held back from compile, "
                           f"{h['waiting']} facts waiting for review (`syllabus review -d {d}`)")
    if findings:
        raise typer.Exit(1)
