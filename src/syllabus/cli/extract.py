"""`syllabus extract` and `syllabus chains`: the concept graph from the corpus."""
from __future__ import annotations

from typing import Optional

import typer

from syllabus.cli.common import (
    STATE,
    SyllabusGroup,
    disciplines,
    emit_json,
    table,
    transaction,
    workspace,
)


def extract_cmd(
    discipline: Optional[str] = typer.Option(None, "--discipline", "-d", help="Only this discipline."),
    workers: int = typer.Option(1, "--workers", "-j", min=1, help="Processes for spaCy parsing."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Parse new or changed chunks; find mentions, new concepts, relations, definitions, synonyms."""
    from syllabus.extract.run import extract

    ws = workspace()
    names = disciplines(ws, discipline)
    with transaction(ws) as session, _progress() as progress:
        reports = extract(session, ws, names, workers, progress)
    if as_json:
        emit_json([r.to_dict() for r in reports])
        return
    table("extract", ["discipline", "parsed", "matched", "+concepts", "-concepts", "+relations", "-relations",
                      "evidence", "mentions"],
          [[r.discipline, r.chunks_parsed, r.chunks_matched, r.concepts_added, r.concepts_removed,
            r.relations_added, r.relations_removed, r.evidence, r.mentions] for r in reports])


class _progress:
    """A rich progress line per discipline on a terminal; silent otherwise or with --quiet."""

    def __enter__(self):
        import sys

        if STATE.quiet or not sys.stderr.isatty():
            return None
        from rich.progress import Progress

        self._bar = Progress(transient=True)
        self._bar.start()
        self._tasks: dict[str, int] = {}
        return self._advance

    def _advance(self, discipline: str, parsed: int, matched: int) -> None:
        key = f"{discipline}: {'parse' if parsed else 'match'}"
        if key not in self._tasks:
            self._tasks[key] = self._bar.add_task(key, total=None)
        self._bar.advance(self._tasks[key], parsed or matched)

    def __exit__(self, *exc):
        if hasattr(self, "_bar"):
            self._bar.stop()
        return False


chains_app = typer.Typer(cls=SyllabusGroup, invoke_without_command=True,
                         help="Mine L3 reasoning chains (no subcommand), or list them.")


@chains_app.callback()
def chains_cmd(
    ctx: typer.Context,
    discipline: Optional[str] = typer.Option(None, "--discipline", "-d", help="Only this discipline."),
    max_hops: Optional[int] = typer.Option(None, "--max-hops", min=2, help="Longest chain (default from syllabus.toml)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from syllabus.extract.chains import sync_chains

    ws = workspace()
    cfg = ws.config.chains if max_hops is None else ws.config.chains.model_copy(update={"max_hops": max_hops})
    names = disciplines(ws, discipline)
    with transaction(ws) as session:
        reports = [sync_chains(session, name, cfg) for name in names]
    if as_json:
        emit_json([r.to_dict() for r in reports])
        return
    rows = [[r.discipline, rule, c["train"], c["bench"]] for r in reports for rule, c in r.by_rule.items()]
    table("chains", ["discipline", "rule", "train", "bench"], rows)
    for r in reports:
        typer.echo(f"{r.discipline}: +{r.added} -{r.removed} ={r.unchanged}")


@chains_app.command("list")
def chains_list_cmd(
    discipline: Optional[str] = typer.Option(None, "--discipline", "-d"),
    split: Optional[str] = typer.Option(None, "--split", help="train or bench"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List chains with their steps and conclusion."""
    from syllabus.store.queries import chain_list

    ws = workspace()
    with transaction(ws) as session:
        chains = chain_list(session, discipline, split)
    if as_json:
        emit_json(chains)
        return
    for c in chains:
        typer.echo(f"{c['id']} [{c['discipline']} {c['rule']} {c['split']}] {c['text']}")
