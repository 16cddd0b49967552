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
    judge: bool = typer.Option(False, "--judge", help="Also let the [llm] model score proposed relations "
                                                      "(their confidence), as [extract] judge = true does."),
    plan: bool = typer.Option(False, "--plan", help="Print the LLM extractor's calls and token estimate; "
                                                    "ask nothing, write nothing."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Parse new or changed chunks; find mentions, new concepts, relations, definitions, synonyms."""
    from syllabus.extract.run import extract

    ws = workspace()
    names = disciplines(ws, discipline)
    from syllabus.extract import registry

    registry.check(ws.config.extract.extractors, ws.config.plugins.override)  # E188/E153 before anything is asked
    if plan:
        return _llm_plan(ws, names, as_json, judge)
    from syllabus.extract.llm_extractor import prefetch

    stage = prefetch(ws, names, judge)  # LLM answers first, outside the store's write transaction
    with transaction(ws) as session, _progress() as progress:
        reports = extract(session, ws, names, workers, progress, judge=judge, llm=stage)
    if as_json:
        emit_json([r.to_dict() for r in reports])
        return
    table("extract", ["discipline", "parsed", "matched", "+concepts", "-concepts", "+relations", "-relations",
                      "evidence", "mentions"],
          [[r.discipline, r.chunks_parsed, r.chunks_matched, r.concepts_added, r.concepts_removed,
            r.relations_added, r.relations_removed, r.evidence, r.mentions] for r in reports])
    for r in reports:
        if r.llm:
            u = r.llm["usage"]
            typer.echo(f"{r.discipline}: llm asked about {r.llm['chunks_asked']} chunks ({r.llm['chunks_failed']} "
                       f"failed, {r.llm['dropped_quotes']} quotes not in the text); +{r.llm['concepts_added']} "
                       f"concepts, +{r.llm['relations_added']} relations; calls {u['paid_calls']} paid, "
                       f"{u['cached']} cached; tokens {u['prompt_tokens']}+{u['completion_tokens']} paid")
        if r.judge:
            typer.echo(f"{r.discipline}: llm judged {r.judge['judged']} proposed relations ({r.judge['failed']} "
                       f"failed to answer)")


def _llm_plan(ws, names: list[str], as_json: bool, judge: bool) -> None:
    """What the LLM extractor would ask, from the cache and a token estimate (nothing is sent or written)."""
    from syllabus.extract.llm_extractor import llm_stage

    stage = llm_stage(ws, ws.config.extract.extractors, ws.config.extract.judge or judge)
    if stage is None:
        rows: list[dict] = [{"discipline": n, "chunks": 0, "requests": 0, "cached": 0, "to_pay": 0,
                             "prompt_tokens": 0, "completion_tokens": 0, "notes": ["llm is not in [extract] extractors"]}
                            for n in names]
    else:
        try:
            with transaction(ws) as session:
                rows = [stage.plan(session, n) for n in names]
        finally:
            stage.close()
    if as_json:
        emit_json(rows)
        return
    table("extract --plan (llm)", ["discipline", "chunks", "requests", "cached", "to pay", "prompt tokens ~",
                                   "completion tokens <="],
          [[r["discipline"], r["chunks"], r["requests"], r["cached"], r["to_pay"], r["prompt_tokens"],
            r["completion_tokens"]] for r in rows])
    for r in rows:
        if "judge" in r:
            j = r["judge"]
            typer.echo(f"{r['discipline']}: judge {j['requests']} relations, {j['cached']} cached, {j['to_pay']} to "
                       f"pay (~{j['prompt_tokens']} prompt tokens, <= {j['completion_tokens']} completion tokens)")


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
