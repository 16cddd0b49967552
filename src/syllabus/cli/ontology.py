"""`syllabus ontology`: import, export, lint and diff ontology files."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from syllabus.cli.common import (
    SyllabusGroup,
    emit_json,
    info,
    pick_discipline,
    table,
    transaction,
    workspace,
)

app = typer.Typer(cls=SyllabusGroup, no_args_is_help=True, help="Ontologies as code: import, export, lint, diff.")

JSON = typer.Option(False, "--json", help="Machine-readable output.")


@app.command("import")
def import_cmd(
    path: Optional[Path] = typer.Argument(None, help="Ontology file; default: every file syllabus.toml declares."),
    discipline: Optional[str] = typer.Option(None, "--discipline", "-d", help="Discipline to import into."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help="ttl, rdfxml, jsonld, nt or obo (default: by extension)."),
    force: bool = typer.Option(False, "--force", help="Re-read files even when unchanged since the last import."),
    as_json: bool = JSON,
) -> None:
    """Sync ontology files into the store (add, change, remove), in one transaction."""
    from syllabus.ontology.sync import declared_files, import_file

    ws = workspace()
    if path is not None:
        jobs = [(_discipline_for(ws, path, discipline), path)]
    else:
        names = [discipline] if discipline else ws.discipline_names()
        jobs = [(name, f) for name in names for f in declared_files(ws, name)]
    from syllabus.cli.common import STATE
    from syllabus.cli.progress import progress_bar

    reports = []
    with transaction(ws) as session, progress_bar("ontology import", quiet=STATE.quiet or as_json) as update:
        for n, (name, f) in enumerate(jobs):
            update(n, len(jobs), Path(f).name)
            reports.append(import_file(session, ws, name, f, fmt, force))
    if as_json:
        emit_json([r.to_dict() for r in reports])
        return
    table("ontology import", ["file", "discipline", "+concepts", "~concepts", "-concepts", "deprecated",
                              "+relations", "-relations"],
          [[r.file + (" (unchanged)" if r.unchanged_file else ""), r.discipline, r.concepts_added, r.concepts_changed,
            r.concepts_removed, r.concepts_deprecated, r.relations_added, r.relations_removed] for r in reports])


def _discipline_for(ws, path: Path, name: Optional[str]) -> str:
    if name:
        if name not in ws.discipline_names():
            from syllabus.cli.common import STATE
            from syllabus.config import add_discipline_command
            from syllabus.config_edit import guess_prefix
            from syllabus.errors import SyllabusError

            given = path if path.is_absolute() or (Path.cwd() / path).exists() else ws.path(path)
            command = add_discipline_command(name, guess_prefix(name, given), str(path), STATE.workspace)
            again = command.split(" discipline add ")[0] + f" ontology import --discipline {name}"
            raise SyllabusError("E004", name=name, known=", ".join(ws.discipline_names()) or "(none declared)",
                                command=f"{command}` then `{again}")
        return name
    target = ws.path(path).resolve()
    owners = [d.name for d in ws.config.disciplines if any(ws.path(p).resolve() == target for p in d.ontologies)]
    return owners[0] if len(owners) == 1 else pick_discipline(ws, None, f"the import of {path}")


@app.command("export")
def export_cmd(
    discipline: Optional[str] = typer.Option(None, "--discipline", "-d", help="Discipline to export."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help="ttl or obo (default: by --out extension, else ttl)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output file (written atomically); default stdout."),
    include_proposed: bool = typer.Option(False, "--include-proposed",
                                          help="Also write extracted concepts, labels and relations, marked PROPOSED."),
) -> None:
    """Write a discipline's ontology facts as SKOS/OWL Turtle or OBO."""
    from syllabus.fileio import write_atomic
    from syllabus.ontology.export import render

    ws = workspace()
    name = pick_discipline(ws, discipline, "the export")
    fmt = (fmt or (out.suffix.lstrip(".") if out is not None and out.suffix else "ttl")).lower()
    fmt = {"turtle": "ttl"}.get(fmt, fmt)
    with transaction(ws) as session:
        text = render(session, ws, name, fmt, include_proposed)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_atomic(out, text)
        info(f"wrote {out}")


@app.command("lint")
def lint_cmd(
    paths: Optional[List[Path]] = typer.Argument(None, help="Files to lint together; default: the discipline's files."),
    discipline: Optional[str] = typer.Option(None, "--discipline", "-d", help="Lint only this discipline."),
    similar: bool = typer.Option(False, "--similar", help="Also flag likely duplicates by sentence-embedding "
                                 "similarity (loads the embedding model; vectors are cached in the store)."),
    as_json: bool = JSON,
) -> None:
    """Check ontology files: errors (cycles, undefined refs, duplicates) exit 1; warnings do not."""
    from syllabus.ontology.curie import workspace_curies
    from syllabus.ontology.lint import lint
    from syllabus.ontology.reader import read_ontology
    from syllabus.ontology.sync import declared_files

    ws = workspace()
    curies = workspace_curies(ws)
    groups: list[tuple[str, Optional[str], list[Path]]] = []
    if paths:
        name = discipline
        groups.append((name or "files", ws.discipline(name).prefix if name else None, [ws.path(p) for p in paths]))
    else:
        for name in [discipline] if discipline else ws.discipline_names():
            groups.append((name, ws.discipline(name).prefix, declared_files(ws, name)))
    results = {}
    for name, prefix, files in groups:
        parsed = [read_ontology(f, curies, ws.relative(f)) for f in files]
        findings = lint(parsed, prefix)
        if similar:
            findings += _similar(ws, parsed)
        results[name] = [f.to_dict() for f in findings]
    errors = sum(1 for fs in results.values() for f in fs if f["severity"] == "error")
    warnings = sum(1 for fs in results.values() for f in fs if f["severity"] == "warning")
    if as_json:
        emit_json({"errors": errors, "warnings": warnings, "findings": results})
    else:
        for name, findings in results.items():
            for f in findings:
                typer.echo(f"{f['where']}: {f['severity']} {f['code']} {f['rule']}: {f['message']}")
        typer.echo(f"{errors} error(s), {warnings} warning(s)")
    if errors:
        raise typer.Exit(1)


def _similar(ws, parsed):
    from syllabus.extract.embeddings import embed
    from syllabus.ontology.lint import likely_duplicates

    with transaction(ws) as session:
        return likely_duplicates(parsed, lambda texts: embed(session, ws.config.extract.embedding_model, texts),
                                 ws.config.extract.similarity_threshold)


@app.command("diff")
def diff_cmd(
    old: Path = typer.Argument(..., help="The ontology file before."),
    new: Path = typer.Argument(..., help="The ontology file after."),
    as_json: bool = JSON,
) -> None:
    """List added, removed and changed concepts and relations between two files."""
    from syllabus.errors import SyllabusError
    from syllabus.ontology.curie import Curies, workspace_curies
    from syllabus.ontology.diff import diff
    from syllabus.ontology.reader import read_ontology

    try:
        ws = workspace()
        curies, resolve = workspace_curies(ws), ws.path
    except SyllabusError:  # diff works on bare files too
        curies, resolve = Curies(), Path
    result = diff(read_ontology(resolve(old), curies, str(old)), read_ontology(resolve(new), curies, str(new)))
    if as_json:
        emit_json(result)
        return
    c, r = result["concepts"], result["relations"]
    for item in c["added"]:
        typer.echo(f"+ concept {item['id']} {item['label'] or ''}")
    for item in c["removed"]:
        typer.echo(f"- concept {item['id']} {item['label'] or ''}")
    for item in c["changed"]:
        typer.echo(f"~ concept {item['id']}: " + ", ".join(sorted(item["changes"])))
    for s, p, o in r["added"]:
        typer.echo(f"+ relation {s} {p} {o}")
    for s, p, o in r["removed"]:
        typer.echo(f"- relation {s} {p} {o}")
    typer.echo(f"concepts +{len(c['added'])} -{len(c['removed'])} ~{len(c['changed'])}; "
               f"relations +{len(r['added'])} -{len(r['removed'])}")
