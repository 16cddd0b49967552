"""`syllabus bench import FILE`: an external multiple-choice benchmark, linked to the graph's concepts.

Registered on the `bench` group by :mod:`syllabus.cli.bench`."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from syllabus.cli.common import disciplines, emit_json, info, transaction, workspace
from syllabus.errors import check_choice


def import_cmd(
    file: Path = typer.Argument(..., help="Benchmark JSONL: {\"id\", \"question\", \"choices\", \"answer_index\"}."),
    discipline: Optional[List[str]] = typer.Option(
        None, "--discipline", "-d",
        help="Discipline whose concepts items may link to (repeat for several; default: all). An item belongs to "
             "the discipline most of its concepts belong to, else to the first named."),
    split: str = typer.Option("auto", "--split", help="dev, test or auto (deterministic 50/50 by item id)."),
    min_similarity: float = typer.Option(0.5, "--min-similarity", min=0.0, max=1.0,
                                         help="Cosine similarity (question vs concept label+definition) to link."),
    top_k: int = typer.Option(3, "--top-k", min=0, help="At most this many concepts linked by similarity (0: off)."),
    prune: bool = typer.Option(False, "--prune", help="Delete items of this benchmark that the file no longer has."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Import multiple-choice items (level EXT) and link each to the concepts it mentions.

    Linking: label matching over the question and choices, plus embedding similarity between the
    question and each concept's label and definition. Importing the same file again updates the
    items in place. A bad line (E080) writes nothing.
    """
    from syllabus.bench.external import LinkSettings, import_benchmark

    check_choice("--split", split, ("auto", "dev", "test"))
    ws = workspace()
    names: list[str] = []
    for name in discipline or [None]:
        names += [n for n in disciplines(ws, name) if n not in names]
    settings = LinkSettings(spacy_model=ws.config.extract.spacy_model, embedding_model=ws.config.extract.embedding_model,
                            min_similarity=min_similarity, top_k=top_k)
    with transaction(ws) as session:
        report = import_benchmark(session, file, names, split, settings, prune)
    data = report.to_dict()
    if as_json:
        emit_json(data)
        return
    typer.echo(f"{report.benchmark}: {report.items} items ({report.new} new, {report.updated} updated, "
               f"{report.unchanged} unchanged; dev {report.splits.get('dev', 0)}, test {report.splits.get('test', 0)})")
    typer.echo(f"linked to at least one concept: {report.linked}/{report.items} ({report.linked_share:.1%}); "
               f"by label {report.linked_by.get('label', 0)}, by similarity {report.linked_by.get('embedding', 0)}; "
               f"{report.concepts} distinct concepts")
    if len(names) > 1:
        for name, d in report.by_discipline.items():
            typer.echo(f"  {name}: {d['linked']} items link to its concepts ({d['share']:.1%}); owns {d['items']}")
    if report.results_cleared:
        info(f"{report.results_cleared} results of reworded items were removed (their question, choices or answer "
             f"changed)")
    if report.stale:
        verb = "removed" if prune else "kept (pass --prune to remove them)"
        info(f"{report.stale} items of {report.benchmark} are no longer in the file: {verb}")
