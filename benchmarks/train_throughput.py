"""Training throughput of `syllabus train` on this machine: tokens/s for full fine-tuning, LoRA on every
block and LoRA on the top 8 blocks (the experiment's CPU setting), with the real trainer.

Each configuration trains ``--steps`` optimizer steps (batch ``--batch``, max length ``--length``) on
a fixed sample of the workspace's latest build; the first step (warm-up, allocation) is not counted.
Printed: seconds per step and training tokens per second (padding excluded), and each one's ratio to
full fine-tuning measured in the same run. Run the README's main job first (a compiled build).

    .venv/bin/python benchmarks/train_throughput.py                 # SmolLM2-135M
    .venv/bin/python benchmarks/train_throughput.py --model tiny
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

CONFIGS = {"full": dict(method="full"), "lora (every block)": dict(method="lora"),
           "lora (top 8 blocks)": dict(method="lora", lora_layers=8)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--workspace", default=str(REPO))
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--length", type=int, default=128)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from syllabus.config import load_workspace
    from syllabus.train.trainer import TrainOptions, train

    ws = load_workspace(args.workspace)
    figures = {}
    with tempfile.TemporaryDirectory(prefix="train-throughput-") as tmp:
        for name, extra in CONFIGS.items():
            stamps: list[float] = []
            opts = TrainOptions(base=args.model, out=str(Path(tmp) / name.replace(" ", "_")), max_steps=args.steps,
                                batch_size=args.batch, max_length=args.length, limit=args.batch * args.steps,
                                save_steps=10_000, **extra)
            report = train(ws, opts, progress=lambda event: stamps.append(time.perf_counter()))
            per_step = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
            tokens_per_step = report["data"]["tokens"] / args.steps  # every example is seen once
            figures[name] = {"seconds_per_step": round(per_step, 3), "tokens_per_s": round(tokens_per_step / per_step, 1),
                             "trainable_parameters": report["trainable_parameters"]}
    full = figures["full"]["tokens_per_s"]
    for f in figures.values():
        f["ratio_to_full"] = round(f["tokens_per_s"] / full, 2)
    if args.json:
        print(json.dumps({"model": args.model, "batch": args.batch, "length": args.length, "figures": figures}, indent=2))
    else:
        print(f"{args.model}: batch {args.batch}, max length {args.length}, {args.steps} steps (first not counted)")
        for name, f in figures.items():
            print(f"  {name:22} {f['seconds_per_step']:6.2f} s/step  {f['tokens_per_s']:7.1f} tokens/s  "
                  f"x{f['ratio_to_full']:.2f} of full  ({f['trainable_parameters']:,} trainable)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
