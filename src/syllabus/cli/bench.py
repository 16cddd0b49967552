"""`syllabus bench ...`: benchmark items from the graph (build, list); other bench verbs add to `app`."""
from __future__ import annotations

from typing import Optional

import typer

from syllabus.cli import bench_import, bench_run
from syllabus.cli.common import SyllabusGroup, disciplines, emit_json, info, table, transaction, workspace
from syllabus.errors import check_choice
from syllabus.vocabulary import ITEM_LEVELS as LEVELS
from syllabus.vocabulary import ITEM_SPLITS as SPLITS

app = typer.Typer(cls=SyllabusGroup, no_args_is_help=True,
                  help="Benchmarks: build items from the graph, list them, import, run models on them.")


@app.command("build")
def build_cmd(
    discipline: Optional[str] = typer.Option(None, "--discipline", "-d", help="Only this discipline."),
    options: int = typer.Option(4, "--options", min=2, max=8, help="Choices per item."),
    seed: int = typer.Option(0, "--seed", help="Seed of distractor tie-breaks and of position/split order."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Build L1 concept, L2 edge and L3 chain items (bench chains only) and check them for leaks.

    Items are split dev/test per discipline, level and kind; an item whose question a training
    prompt of the latest build contains is flagged (item.leak) and left out of lists and scoring.
    """
    from syllabus.bench.items import Settings, build_items

    ws = workspace()
    names = disciplines(ws, discipline)
    from syllabus.cli.common import STATE
    from syllabus.cli.progress import progress_bar

    with transaction(ws) as session, progress_bar("bench build", quiet=STATE.quiet or as_json) as update:
        update(0, None, ", ".join(names))
        report = build_items(session, ws, names, Settings.from_workspace(ws, options, seed))
    data = report.to_dict()
    if as_json:
        emit_json(data)
        return
    rows = [[d, level, c["items"], c["dev"], c["test"], c["leaked"]]
            for d, levels in data["counts"].items() for level, c in levels.items()]
    table("benchmark items", ["discipline", "level", "items", "dev", "test", "leaked"], rows)
    typer.echo(f"items: {report.new} new, {report.removed} removed ({report.removed_with_results} with results),"
               f" {report.unchanged} unchanged in {report.seconds:.1f}s")
    dc = data["decontamination"]
    if dc["build"] is None:
        typer.echo("decontamination: no build to compare with (run `syllabus compile`); leak flags cleared")
    else:
        typer.echo(f"decontamination against build {dc['build']}: {dc['leaked']} leaking items "
                   f"({dc['verbatim']} verbatim, {dc['overlap']} {dc['n']}-gram overlap) of {dc['checked']} checked")
    for reason, n in data["skipped"].items():
        info(f"  skipped {n}: {reason}")


@app.command("list")
def list_cmd(
    level: Optional[str] = typer.Option(None, "--level", help="L1, L2, L3 or EXT."),
    split: Optional[str] = typer.Option(None, "--split", help="dev or test."),
    discipline: Optional[str] = typer.Option(None, "--discipline", "-d", help="Only this discipline."),
    leaked: bool = typer.Option(False, "--leaked", help="Show only the items decontamination flagged."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Items with their answer and trace (items flagged as leaking only with --leaked)."""
    from syllabus.bench.items import list_items

    check_choice("--level", level, LEVELS)
    check_choice("--split", split, SPLITS)
    ws = workspace()
    if discipline:
        ws.discipline(discipline)
    with transaction(ws) as session:
        items = list_items(session, level=level, split=split, discipline=discipline, leaked=leaked)
    if as_json:
        emit_json(items)
        return
    for it in items:
        t = it["trace"]
        units = [*t.get("concepts", []), *t.get("relations", [])] + ([t["chain"]] if t.get("chain") else [])
        typer.echo(f"{it['id']} [{it['discipline']} {it['level']} {it['kind']} {it['split']}] {it['question']}")
        for i, choice in enumerate(it["choices"]):
            typer.echo(f"  {'*' if i == it['answer'] else ' '} {chr(65 + i)}. {choice}")
        typer.echo(f"  trace: {', '.join(units)}")
        if it["leak"]:
            typer.echo(f"  leak: {it['leak']}")
    info(f"{len(items)} items")


# the verbs of other modules, registered here so that those modules need not import this one
app.command("import")(bench_import.import_cmd)
app.command("run")(bench_run.run_cmd)
app.command("runs")(bench_run.runs_cmd)
