"""Repair efficacy on the sample workspace: targeted repair vs the same amount of random patch data.

Runs `syllabus experiment repair` (the library function) with a named configuration and prints the
verdict; the report (Markdown, JSON, PNG) goes to benchmarks/results/<name>/. Run the README's main
job first (it compiles the sample workspace and builds its benchmark items).

    .venv/bin/python benchmarks/repair_efficacy.py            # smollm2-cpu: SmolLM2-135M, 3 seeds, ~1 h on 2 cores
    .venv/bin/python benchmarks/repair_efficacy.py --config smollm2-cpu-focused   # up to 8 patch examples per gap
    .venv/bin/python benchmarks/repair_efficacy.py --config smollm2-gpu   # larger, for a GPU machine
    .venv/bin/python benchmarks/repair_efficacy.py --config tiny          # a minute: the tiny test model
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

CONFIGS = {
    # fits about an hour on a 2-core CPU: LoRA on the top 8 of 30 blocks, 450 build examples x 2 epochs
    "smollm2-cpu": dict(model="smollm2", seeds=3, budget=100, dev_items=200, test_items=200, train_limit=450,
                        epochs=2.0, lr=4e-4, max_length=128, batch_size=8, lora_layers=8),
    # the same training, with the budget concentrated: 200 patch examples on the 25 best-scored gaps
    # (up to 8 per gap instead of ~1; the renderers made 156-160), scored on 300 test items of the three-discipline sample workspace
    "smollm2-cpu-focused": dict(model="smollm2", seeds=3, budget=200, max_gaps=25, dev_items=200, test_items=300,
                                train_limit=450, epochs=2.0, lr=4e-4, max_length=128, batch_size=8, lora_layers=8),
    # the whole build, all dev and test items, LoRA on every block
    "smollm2-gpu": dict(model="smollm2", seeds=5, budget=300, dev_items=None, test_items=None, train_limit=None,
                        epochs=3.0, lr=2e-4, max_length=256, batch_size=16, lora_layers=None),
    "tiny": dict(model="tiny", seeds=2, budget=20, dev_items=80, test_items=80, train_limit=200, epochs=1.0,
                 lr=3e-3, max_length=128, batch_size=16, method="full"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", choices=sorted(CONFIGS), default="smollm2-cpu")
    parser.add_argument("--workspace", default=str(REPO))
    parser.add_argument("--out", default=None, help="report folder (default benchmarks/results/repair-<config>)")
    args = parser.parse_args()

    from syllabus.config import load_workspace
    from syllabus.train.experiment import ExperimentOptions, run_experiment

    ws = load_workspace(args.workspace)
    out = args.out or str(REPO / "benchmarks" / "results" / f"repair-{args.config}")
    opts = ExperimentOptions(out=out, **CONFIGS[args.config])
    started = time.perf_counter()
    report = run_experiment(ws, opts, note=lambda m: print(f"[{time.perf_counter() - started:7.1f} s] {m}",
                                                               flush=True))
    print(json.dumps({"config": args.config, "out": report["out"], "seconds": round(time.perf_counter() - started, 1)}))
    for line in report["verdict"]:
        print("-", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
