"""`syllabus train`: fine-tune a causal LM on a build (a thin wrapper over syllabus.train.trainer)."""
from __future__ import annotations

from typing import List, Optional

import typer

from syllabus.cli.common import STATE, emit_json, table, workspace


def train_cmd(
    base: str = typer.Option(..., "--base", help="Base model: a checkpoint folder, a .gguf file, `smollm2` or `tiny`."),
    build: str = typer.Option("latest", "--build", help="Build id to train on (default: latest)."),
    out: str = typer.Option(..., "--out", help="Folder for the trained model (written only when complete)."),
    full: bool = typer.Option(False, "--full", help="Train every weight (default: LoRA adapters, merged at the end)."),
    lora: bool = typer.Option(False, "--lora", help="LoRA adapters (the default)."),
    epochs: float = typer.Option(1.0, "--epochs", min=0.01),
    lr: Optional[float] = typer.Option(None, "--lr", help="Learning rate (default 2e-4 with LoRA, 5e-5 full)."),
    max_length: int = typer.Option(256, "--max-length", min=8, help="Tokens per example (longer ones are cut)."),
    seed: int = typer.Option(0, "--seed"),
    batch_size: int = typer.Option(8, "--batch-size", min=1),
    grad_accum: int = typer.Option(1, "--grad-accum", min=1, help="Batches per optimizer step."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", min=1, help="Stop after N optimizer steps."),
    patch: Optional[List[str]] = typer.Option(None, "--patch", help="Patch examples: a JSONL of compiled examples or a "
                                                                    "build folder (its gap examples); repeatable."),
    replay_ratio: Optional[float] = typer.Option(None, "--replay-ratio", min=0.0,
                                                 help="Build examples replayed per patch example (default: the "
                                                      "whole build)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="A seeded sample of N build examples."),
    save_steps: int = typer.Option(50, "--save-steps", min=1, help="Checkpoint every N steps (a re-run resumes)."),
    lora_r: int = typer.Option(16, "--lora-r", min=1),
    lora_alpha: int = typer.Option(32, "--lora-alpha", min=1),
    lora_layers: Optional[int] = typer.Option(None, "--lora-layers", min=1,
                                              help="Adapters on the top N blocks only (faster on a CPU)."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu or cuda (default: cuda when available)."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="torch CPU threads."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a model trained from other inputs in --out."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Fine-tune a causal LM on a build's examples (loss on assistant tokens only); resumable."""
    from syllabus.train.trainer import TrainOptions, train

    if full and lora:
        raise typer.BadParameter("pass --lora or --full, not both")
    ws = workspace()
    opts = TrainOptions(base=base, out=out, build=build, method="full" if full else "lora", epochs=epochs, lr=lr,
                        max_length=max_length, seed=seed, batch_size=batch_size, grad_accum=grad_accum,
                        max_steps=max_steps, patches=list(patch or []), replay_ratio=replay_ratio, limit=limit,
                        save_steps=save_steps, lora_r=lora_r, lora_alpha=lora_alpha, lora_layers=lora_layers,
                        device=device, threads=threads, overwrite=overwrite)
    with ProgressBar(quiet=STATE.quiet or as_json) as update:
        report = train(ws, opts, progress=update)
    if as_json:
        emit_json(report)
        return
    if report["up_to_date"]:
        typer.echo(f"{report['out']} is up to date (job {report['job_id']}); nothing to train")
        return
    d = report["data"]
    table(f"trained {report['out']}", ["", "value"], [
        ["base", report["base"]], ["build", report["build"]], ["method", report["method"]],
        ["examples (build + patch)", f"{d['examples']} ({d['build_examples']} + {d['patch_examples']})"],
        ["tokens (answer tokens)", f"{d['tokens']} ({d['answer_tokens']})"],
        ["steps", report["steps"]], ["loss first -> last", f"{report['first_loss']} -> {report['last_loss']}"],
        ["resumed from", report["resumed_from"] or "-"], ["device", report["device"]],
        ["seconds", report["seconds"]]])


class ProgressBar:
    """A rich progress bar with the latest loss; silent when quiet or not on a terminal."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar = None
        self.task = None

    def __enter__(self):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        console = Console(stderr=True)
        if self.quiet or not console.is_terminal:
            return lambda _event: None
        self.bar = Progress(TextColumn("training"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("loss {task.fields[loss]}"), TimeRemainingColumn(), console=console)
        self.bar.start()

        def update(event: dict) -> None:
            if self.task is None:
                self.task = self.bar.add_task("train", total=event["total"], loss="-")
            self.bar.update(self.task, completed=event["step"], loss=f"{event['loss']:.4f}")
        return update

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
