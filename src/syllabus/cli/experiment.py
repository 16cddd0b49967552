"""`syllabus experiment repair`: targeted repair vs the same amount of random data, trained and scored."""
from __future__ import annotations

from typing import Optional

import typer

from syllabus.cli.common import STATE, SyllabusGroup, emit_json, workspace

app = typer.Typer(cls=SyllabusGroup, no_args_is_help=True, help="Experiments that train and score models.")


@app.command("repair")
def repair_cmd(
    model: Optional[str] = typer.Option(None, "--model", help="Base model: a folder, a .gguf file, `smollm2` or "
                                                              "`tiny` (default: smollm2 when installed, else tiny)."),
    budget: int = typer.Option(100, "--budget", min=1, help="Patch examples for the repair (and the random control)."),
    max_gaps: Optional[int] = typer.Option(None, "--max-gaps", min=1,
                                           help="Repair only the N best-scored gaps (more examples per gap)."),
    seeds: int = typer.Option(3, "--seeds", min=1, help="Training seeds."),
    out: str = typer.Option("benchmarks/results/repair-efficacy", "--out", help="Report folder (work/ inside "
                                                                               "holds the scratch workspaces)."),
    dev_items: Optional[int] = typer.Option(None, "--dev-items", min=1, help="Diagnose on the first N dev items."),
    test_items: Optional[int] = typer.Option(None, "--test-items", min=1, help="Evaluate on the first N test items."),
    train_limit: Optional[int] = typer.Option(None, "--train-limit", min=1,
                                              help="V1's data: a fixed sample of N build examples."),
    full: bool = typer.Option(False, "--full", help="Train every weight (default LoRA)."),
    epochs: float = typer.Option(1.0, "--epochs", min=0.01),
    lr: Optional[float] = typer.Option(None, "--lr"),
    max_length: int = typer.Option(256, "--max-length", min=8),
    batch_size: int = typer.Option(8, "--batch-size", min=1),
    lora_layers: Optional[int] = typer.Option(None, "--lora-layers", min=1, help="LoRA on the top N blocks only."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", min=1),
    threads: Optional[int] = typer.Option(None, "--threads", min=1),
    device: Optional[str] = typer.Option(None, "--device"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """V0/V1/V2/V2-random on the test split; writes report.md, report.json and report.png."""
    from syllabus.train.experiment import ExperimentOptions, run_experiment

    ws = workspace()
    opts = ExperimentOptions(model=model, budget=budget, max_gaps=max_gaps, seeds=seeds, out=out, dev_items=dev_items,
                             test_items=test_items, train_limit=train_limit, method="full" if full else "lora",
                             epochs=epochs, lr=lr, max_length=max_length, batch_size=batch_size,
                             lora_layers=lora_layers, max_steps=max_steps, threads=threads, device=device)
    quiet = STATE.quiet or as_json
    report = run_experiment(ws, opts, note=None if quiet else lambda m: typer.echo(f"-- {m}", err=True))
    if as_json:
        emit_json(report)
        return
    typer.echo(f"report: {report['out']}/report.md (+ report.json, report.png)")
    for line in report["verdict"]:
        typer.echo(f"- {line}")
