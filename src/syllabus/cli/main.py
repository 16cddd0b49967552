"""`syllabus`: the entry point and its global options."""
from __future__ import annotations

from typing import Optional

import typer

from syllabus import __version__
from syllabus.cli import (
    bench,
    concepts,
    corpus,
    db,
    diagnose,
    discipline,
    experiment,
    extract,
    gaps,
    loop,
    ontology,
    repair,
    report,
    review,
    train,
)
from syllabus.cli import compile as compile_cli
from syllabus.cli.common import (
    STATE,
    SyllabusGroup,
    emit_json,
    info,
    table,
    transaction,
    workspace,
)

app = typer.Typer(cls=SyllabusGroup, no_args_is_help=True, add_completion=False,
                  help="Syllabus: compile ontologies and corpora into training data you can debug.")
app.add_typer(db.app, name="db")
app.add_typer(discipline.app, name="discipline")
app.add_typer(ontology.app, name="ontology")
app.add_typer(concepts.app, name="concepts")
app.add_typer(extract.chains_app, name="chains")
app.command("ingest")(corpus.ingest_cmd)
app.command("extract")(extract.extract_cmd)
app.command("compile")(compile_cli.compile_cmd)
app.command("explain")(compile_cli.explain_cmd)
app.command("export")(compile_cli.export_cmd)
app.command("diagnose")(diagnose.diagnose_cmd)
app.add_typer(compile_cli.builds_app, name="builds")
app.command("repair")(repair.repair_cmd)
app.command("loop")(loop.loop_cmd)
app.command("train")(train.train_cmd)
app.command("report")(report.report_cmd)
app.add_typer(experiment.app, name="experiment")
app.add_typer(gaps.app, name="gaps")
app.add_typer(review.app, name="review")
app.add_typer(bench.app, name="bench")
app.add_typer(bench.bench_run.results_app, name="results")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"syllabus {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    workspace_dir: Optional[str] = typer.Option(None, "--workspace", "-w", envvar="SYLLABUS_WORKSPACE",
                                                help="Workspace folder (default: the current folder)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only results and errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    STATE.workspace = workspace_dir
    STATE.quiet = quiet


@app.command("init")
def init_cmd(
    path: str = typer.Argument(".", help="Folder to scaffold."),
    discipline_name: Optional[str] = typer.Option(None, "--discipline", help="Also declare this discipline."),
    prefix: Optional[str] = typer.Option(None, "--prefix", help="CURIE prefix of that discipline (with --discipline)."),
    iri: Optional[str] = typer.Option(None, "--iri", help="IRI namespace of the prefix (see `discipline add`)."),
) -> None:
    """Scaffold a workspace: syllabus.toml, ontologies/, corpora/ (and one discipline)."""
    from syllabus.config_edit import init_workspace

    if (prefix or iri) and not discipline_name:
        raise typer.BadParameter("needs --discipline NAME", param_hint="--prefix/--iri")
    if discipline_name and not prefix:
        raise typer.BadParameter("pass --prefix P with --discipline", param_hint="--prefix")
    root = init_workspace(path, discipline={"name": discipline_name, "prefix": prefix, "iri": iri}
                          if discipline_name else None)
    info(f"created workspace {root}" + (f" with discipline {discipline_name}" if discipline_name else ""))


@app.command("status")
def status_cmd(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Per discipline: concepts, labels, relations, documents, chunks, evidence."""
    from syllabus.store.engine import display_url
    from syllabus.store.stats import store_status

    ws = workspace()
    with transaction(ws) as session:
        data = store_status(session)
    if as_json:
        emit_json({"workspace": str(ws.root), "store": display_url(ws.store_url), "disciplines": data})
        return
    rows = [[name, d["concepts"]["active"], d["concepts"]["deprecated"], d["labels"], d["relations"]["total"],
             d["documents"], d["chunks"], d["evidence"]] for name, d in data.items()]
    table(f"store {display_url(ws.store_url)}", ["discipline", "concepts", "deprecated", "labels", "relations", "documents", "chunks",
                              "evidence"], rows)
    for name, d in data.items():
        if d["relations"]["by_predicate"]:
            preds = ", ".join(f"{p} {n}" for p, n in d["relations"]["by_predicate"].items())
            origins = ", ".join(f"{o} {n}" for o, n in d["relations"]["by_origin"].items())
            typer.echo(f"{name} relations: {preds}  (origin: {origins})")


def run() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    run()
