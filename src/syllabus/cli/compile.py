"""`syllabus compile`, `explain`, `builds list|diff` and `export`: thin wrappers over syllabus.compile."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from syllabus.cli.common import SyllabusGroup, emit_json, info, table, transaction, workspace

builds_app = typer.Typer(cls=SyllabusGroup, no_args_is_help=True, help="List and compare builds.")


def _root(ws, out: Optional[str]) -> Path:
    from syllabus.compile.pipeline import build_root

    return build_root(ws, out)


def compile_cmd(
    discipline: Optional[str] = typer.Option(None, "--discipline", "-d", help="Only this discipline's units."),
    select: Optional[str] = typer.Option(None, "--select", "-s",
                                         help="discipline:NAME, concept:ID, concept:ID+, state:modified (space-separated union)."),
    out: Optional[str] = typer.Option(None, "--out", help="Build folder root (default: [compile] build_dir)."),
    plan: bool = typer.Option(False, "--plan", help="Print what would change, with reasons; write nothing."),
    wait: float = typer.Option(0.0, "--wait", help="Seconds to wait for another compile's lock."),
    workers: Optional[int] = typer.Option(None, "--workers", "-j", min=0,
                                          help="Processes for a large compile (default: [compile] workers; 0: one per core)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Render the graph into training examples: build/<id>/ with examples/*.jsonl and manifest.json."""
    from syllabus.compile.pipeline import build_root, run_compile

    ws = workspace()
    text = " ".join(x for x in (select, f"discipline:{discipline}" if discipline else None) if x)
    if discipline:
        ws.discipline(discipline)
    from syllabus.cli.common import STATE
    from syllabus.cli.progress import progress_bar
    from syllabus.compile import trace

    with progress_bar("compile", quiet=STATE.quiet or as_json) as update:
        trace.listener = lambda name: update(0, None, name)
        try:
            outcome = run_compile(ws, root=build_root(ws, out), selector=text or None, plan=plan, wait=wait,
                                  workers=workers)
        finally:
            trace.listener = None
    print_compile(outcome, as_json, _held_for_review(ws, [discipline] if discipline else ws.discipline_names()))


def _held_for_review(ws, names: list[str]) -> dict[str, dict[str, int]]:
    from syllabus.extract.review import held_back

    c = ws.config.compile
    with transaction(ws) as session:
        return held_back(session, names, c.min_confidence, c.include_proposed)


def print_compile(outcome, as_json: bool, held: dict[str, dict[str, int]] | None = None) -> None:
    """The compile report, as JSON or as a few lines (with every change and its reason for a plan);
    *held*: per discipline, facts the review gate holds back and facts waiting for review."""
    report = outcome.report(changes=as_json)
    if held is not None:
        report["review"] = held
    if as_json:
        emit_json(report)
        return
    for note in outcome.notes:
        info(note)
    c, staged = outcome.compiled.counts, outcome.staged
    head = "plan" if outcome.plan else ("up to date" if report["up_to_date"] else f"build {staged.build_id}")
    typer.echo(f"{head}: {c['new']} new, {c['changed']} changed, {c['unchanged']} unchanged, {c['removed']} removed"
               f" ({c['rendered']} rendered)")
    if staged:
        typer.echo(f"  {staged.final}: {report['kept']} examples, {report['dropped']} dropped by quality gates")
    if report["pending"]:
        typer.echo(f"  {len(report['pending'])} units outside the selection keep their previous (stale) examples")
    if held and any(h["held_back"] or h["waiting"] for h in held.values()):
        typer.echo(f"  review gate: {sum(h['held_back'] for h in held.values())} facts held back "
                   f"below [compile] min_confidence, {sum(h['waiting'] for h in held.values())} facts waiting "
                   "for review (`syllabus review`)")
    if outcome.plan:
        changes = outcome.compiled.changes
        for ch in changes[:200]:
            typer.echo(f"  {ch.status:8} {ch.unit} {ch.task}: {'; '.join(ch.reasons)}")
        if len(changes) > 200:
            typer.echo(f"  ... {len(changes) - 200} more (use --json for all)")


def explain_cmd(
    example_id: str = typer.Argument(..., help="Example id (field `id` of a build's examples)."),
    build: Optional[str] = typer.Option(None, "--build", help="Look in this build (default: newest first)."),
    out: Optional[str] = typer.Option(None, "--out", help="Build folder root."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Where an example came from: renderer, template, units, fingerprints, evidence with document and line."""
    from syllabus.compile.provenance import explain

    ws = workspace()
    with transaction(ws) as session:
        data = explain(session, _root(ws, out), ws.root, example_id, build)
    if as_json:
        emit_json(data)
        return
    typer.echo(f"{data['id']}  {data['task']}  [{data['discipline']}]  build {data['build']}")
    typer.echo(f"  renderer {data['renderer']}, template {data['template']} ({data['template_sha256']}), seed {data['seed']}")
    if data["dropped"]:
        typer.echo(f"  dropped: {data['dropped']}")
    for u in data["units"]:
        typer.echo(f"  unit {u['unit']}  {u['fingerprint']}" + ("  (changed since)" if u["stale"] else ""))
    for e in data["evidence"]:
        where = f"{e['document']}:{e['line']}" if e["line"] else e["document"]
        typer.echo(f"  evidence {e['id']} {where}: {e['sentence'] or '(no longer in the store)'}")
    for m in data["messages"]:
        typer.echo(f"  {m['role']}: {m['content']}")


@builds_app.command("list")
def builds_list_cmd(
    out: Optional[str] = typer.Option(None, "--out", help="Build folder root."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Builds in order, with their parent and change counts."""
    from syllabus.compile.provenance import list_builds

    ws = workspace()
    with transaction(ws) as session:
        rows = list_builds(session, _root(ws, out))
    if as_json:
        emit_json(rows)
        return
    table("builds", ["id", "parent", "created", "examples", "new", "changed", "unchanged", "removed", "selector"],
          [[r["id"], r["parent"] or "-", r["created"], r["examples"] if r["present"] else "(folder gone)",
            r["changes"]["new"], r["changes"]["changed"], r["changes"]["unchanged"], r["changes"]["removed"],
            r["selector"] or ""] for r in rows])


@builds_app.command("diff")
def builds_diff_cmd(
    a: str = typer.Argument(..., help="Older build id."),
    b: str = typer.Argument("latest", help="Newer build id (default: latest)."),
    out: Optional[str] = typer.Option(None, "--out", help="Build folder root."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Examples added, removed and changed between two builds, per discipline and task type."""
    from syllabus.compile.provenance import diff_builds

    ws = workspace()
    data = diff_builds(_root(ws, out), a, b)
    if as_json:
        emit_json(data)
        return
    typer.echo(f"{data['a']} -> {data['b']}: {data['added']} added, {data['removed']} removed, "
               f"{data['changed']} changed, {data['unchanged']} unchanged")
    rows = sorted({k for v in data["by_discipline_task"].values() for k in v})
    table("by discipline/task", ["discipline/task", "added", "removed", "changed"],
          [[k, *(data["by_discipline_task"][s].get(k, 0) for s in ("added", "removed", "changed"))] for k in rows])


def export_cmd(
    fmt: str = typer.Option(..., "--format", "-f", help="openai, sharegpt, alpaca or parquet."),
    out_path: str = typer.Option(..., "--out", help="Output folder."),
    build: Optional[str] = typer.Option(None, "--build", help="Build id (default: latest)."),
    validation: float = typer.Option(0.0, "--validation", min=0.0, max=0.99,
                                     help="Share of units held out as a validation split."),
    seed: int = typer.Option(0, "--seed", help="Seed of the train/validation split."),
    builds_root: Optional[str] = typer.Option(None, "--builds", help="Build folder root."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Export a build as OpenAI chat JSONL, ShareGPT (+ LLaMA-Factory entry), Alpaca or Parquet."""
    from syllabus.compile.exporters import export_build
    from syllabus.compile.output import build_folder

    ws = workspace()
    folder = build_folder(_root(ws, builds_root), build)
    report = export_build(folder, fmt, Path(out_path), validation=validation, seed=seed,
                          override=ws.config.plugins.override)
    report["build"] = folder.name
    if as_json:
        emit_json(report)
        return
    typer.echo(f"exported build {folder.name} as {fmt}: {report['counts']['train']} train"
               + (f", {report['counts']['validation']} validation" if validation else "") + " examples")
    for p in report["out"]:
        typer.echo(f"  {p}")
