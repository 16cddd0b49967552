"""`syllabus discipline add`: declare a discipline in syllabus.toml without editing it by hand."""
from __future__ import annotations

from typing import List, Optional

import typer

from syllabus.cli.common import SyllabusGroup, emit_json, info, workspace

app = typer.Typer(cls=SyllabusGroup, no_args_is_help=True, help="Declare disciplines in syllabus.toml.")


@app.command("add")
def add_cmd(
    name: str = typer.Argument(..., help="Lower-case name, such as `go`."),
    prefix: str = typer.Option(..., "--prefix", help="CURIE prefix of its concept ids, such as `GO`."),
    iri: Optional[str] = typer.Option(None, "--iri", help="IRI namespace of the prefix (default: the OBO PURL "
                                                          "http://purl.obolibrary.org/obo/PREFIX_ for .obo files, "
                                                          "else https://w3id.org/syllabus/NAME/)."),
    ontology: Optional[List[str]] = typer.Option(None, "--ontology", help="Ontology file (repeatable)."),
    corpus: Optional[List[str]] = typer.Option(None, "--corpus", help="Corpus folder or file (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Append a [[disciplines]] table to syllabus.toml, keeping its comments and order."""
    from syllabus.config_edit import add_discipline

    entry = add_discipline(workspace(), name=name, prefix=prefix, iri=iri, ontologies=ontology or [],
                           corpora=corpus or [])
    if as_json:
        emit_json(entry)
        return
    info(f"declared discipline {entry['name']} (prefix {entry['prefix']}, {entry['iri']}) in {entry['file']}")
    if entry["ontologies"]:
        info(f"next: syllabus ontology import --discipline {entry['name']}")


@app.command("extend")
def extend_cmd(
    name: str = typer.Argument(..., help="A declared discipline."),
    ontology: Optional[List[str]] = typer.Option(None, "--ontology", help="Ontology file to add (repeatable)."),
    corpus: Optional[List[str]] = typer.Option(None, "--corpus", help="Corpus folder or file to add (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Add ontology files or corpus folders to a declared discipline, keeping the file's comments."""
    from syllabus.config_edit import extend_discipline

    if not ontology and not corpus:
        raise typer.BadParameter("pass --ontology FILE or --corpus DIR", param_hint="--ontology/--corpus")
    entry = extend_discipline(workspace(), name=name, ontologies=ontology or [], corpora=corpus or [])
    if as_json:
        emit_json(entry)
        return
    info(f"discipline {name}: ontologies {entry['ontologies']}, corpora {entry['corpora']}")
