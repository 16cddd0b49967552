"""Start-up time of the `syllabus` command line.

What it measures
----------------
The wall time of ``syllabus --help`` and ``syllabus --version``, each run as a subprocess of the
installed console script (the ``syllabus`` executable in the same ``bin`` folder as the Python
running this script, e.g. ``.venv/bin/syllabus``): 1 warm-up run (not counted, it warms the OS file
cache and ``__pycache__``) and then 15 measured runs per command. It prints median, min and max
next to the 0.5 s target. For comparison, measured in the same run and the same way, it also
prints the median of a bare ``python -c pass`` (interpreter start-up only) and the ratio of each
command's median to it. Commands are run in turn (round-robin), so that a slow spell on the
machine affects all of them alike.

Each run's exit status must be 0 and its output non-empty, else the run is reported as failed.
The script makes no timing assertions: it exits 0 whatever the figures are, and 1 only when the
console script is missing or a command fails.

How to run
----------
    .venv/bin/python benchmarks/cli_startup.py
    .venv/bin/python benchmarks/cli_startup.py --runs 30 --warmup 2
    .venv/bin/python benchmarks/cli_startup.py --json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 0.5


def console_script() -> Path:
    """The `syllabus` console script next to the running interpreter (not resolving symlinks)."""
    bindir = Path(sys.executable).parent
    name = "syllabus.exe" if os.name == "nt" else "syllabus"
    return bindir / name


def timed_run(cmd: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """(wall seconds, exit code, bytes of stdout) of one run."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    wall = time.perf_counter() - t0
    return wall, proc.returncode, len(proc.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Wall time of `syllabus --help` and `syllabus --version` "
                                                 "(see the module docstring).")
    parser.add_argument("--runs", type=int, default=15, help="measured runs per command (default 15)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up runs per command, not counted (default 1)")
    parser.add_argument("--json", action="store_true", help="print machine-readable results only")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be >= 1 and --warmup >= 0")

    script = console_script()
    if not script.exists():
        print(f"console script not found: {script} (install the project into this environment)", file=sys.stderr)
        return 1
    # A clean, fixed environment: no workspace selected, no bytecode writing differences.
    env = {k: v for k, v in os.environ.items() if k not in ("SYLLABUS_WORKSPACE", "PYTHONPROFILEIMPORTTIME")}
    commands = {
        "syllabus --help": [str(script), "--help"],
        "syllabus --version": [str(script), "--version"],
        "python -c pass": [sys.executable, "-c", "pass"],
    }
    t_start = time.perf_counter()
    failures: dict[str, list[str]] = {name: [] for name in commands}
    for _ in range(args.warmup):
        for name, cmd in commands.items():
            timed_run(cmd, env)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(args.runs):
        for name, cmd in commands.items():
            wall, rc, out_bytes = timed_run(cmd, env)
            samples[name].append(wall)
            if rc != 0 or (name != "python -c pass" and out_bytes == 0):
                failures[name].append(f"run {i + 1}: exit code {rc}, {out_bytes} bytes of output")

    baseline = statistics.median(samples["python -c pass"])
    results = {
        "console_script": str(script),
        "python": sys.executable,
        "environment": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "runs": args.runs,
        "warmup": args.warmup,
        "target_s": TARGET_S,
        "commands": {},
    }
    for name, values in samples.items():
        median = statistics.median(values)
        entry = {"median_s": median, "min_s": min(values), "max_s": max(values),
                 "mean_s": statistics.fmean(values), "samples_s": values,
                 "ratio_to_bare_python": median / baseline if baseline > 0 else None,
                 "failures": failures[name]}
        if name != "python -c pass":
            entry["within_target"] = median <= TARGET_S
        results["commands"][name] = entry
    results["total_wall_s"] = time.perf_counter() - t_start

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"cli_startup: {script}  ({args.warmup} warm-up + {args.runs} runs each, round-robin)")
        print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")
        print()
        header = ("command", "median", "min", "max", "target", "x bare python", "result")
        rows = []
        for name, e in results["commands"].items():
            bare = name == "python -c pass"
            verdict = "FAILED" if e["failures"] else ("-" if bare else ("ok" if e["within_target"] else "OVER"))
            rows.append((name, f"{e['median_s']:.3f} s", f"{e['min_s']:.3f} s", f"{e['max_s']:.3f} s",
                         "-" if bare else f"<= {TARGET_S} s", f"{e['ratio_to_bare_python']:.1f}x", verdict))
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        align = ["<", ">", ">", ">", "<", ">", "<"]
        for row in [header, tuple("-" * w for w in widths), *rows]:
            print("  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths)).rstrip())
        for name, errs in failures.items():
            for err in errs[:3]:
                print(f"{name} FAILED {err}")
        print(f"\ntotal wall time {results['total_wall_s']:.1f} s")
    return 1 if any(failures.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
