"""Scale benchmark for `syllabus bench build`: benchmark items from the synthetic 250k-concept graph.

What it measures
----------------
The compiler benchmark's synthetic knowledge base (``compile_scale_data.generate``: by default
250,000 concepts, 200,000 relations, 50,000 chains over 16 disciplines, fixed seed) is written into
the SQLite store of a fresh workspace. Then :func:`syllabus.bench.items.build_items` -- what
``syllabus bench build`` runs -- builds the L1, L2 and L3 items of every discipline in one
transaction, as the command does, and is timed (wall, CPU, peak resident memory): drafting
(distractor pools from the graph), dev/test assignment, the item and ``item_unit`` rows, and the
decontamination pass. It runs a second time on the unchanged graph (the rebuild must find every
item unchanged). Disciplines this large get no embedding near-miss distractors
(``Settings.near_miss_limit``), as in production.

Decontamination compares the items with the latest build's prompts; without ``--compile`` the
synthetic workspace has no build and that pass only clears leak flags. ``--compile`` runs the
compiler first (``run_compile``; minutes and several GB at full size) so it scans a real build.

How to run
----------
    .venv/bin/python benchmarks/bench_build_scale.py                      # full graph (~2 min to generate)
    .venv/bin/python benchmarks/bench_build_scale.py --concepts 20000 --relations 16000 --chains 4000
    .venv/bin/python benchmarks/bench_build_scale.py --workdir /tmp/bb --json   # keeps the workspace
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from compile_scale_data import add_shape_arguments, generate_from_args  # noqa: E402


def timed_build(ws, store, disciplines: list[str]) -> dict:
    """One `bench build` of *disciplines* in one transaction: its report and timings."""
    from syllabus.bench.items import Settings, build_items

    t0, c0 = time.perf_counter(), time.process_time()
    with store.transaction() as session:
        report = build_items(session, ws, disciplines, Settings.from_workspace(ws))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    levels: dict[str, int] = {}
    for per_level in report.counts.values():
        for level, c in per_level.items():
            levels[level] = levels.get(level, 0) + c["items"]
    items = sum(levels.values())
    return {"seconds": round(wall, 2), "cpu_seconds": round(cpu, 2), "items": items, "levels": levels,
            "items_per_s": round(items / wall) if wall else None, "new": report.new, "unchanged": report.unchanged,
            "removed": report.removed, "skipped": report.skipped,
            "decontamination_build": report.decontamination.get("build"),
            "leaked": report.decontamination.get("leaked")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_shape_arguments(ap)
    ap.add_argument("--compile", action="store_true", help="Compile a build first, so decontamination scans it.")
    ap.add_argument("--workdir", type=Path, help="Keep the workspace here (default: a temporary folder).")
    ap.add_argument("--reuse", action="store_true", help="Reuse the graph already in --workdir (items are rebuilt).")
    ap.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    args = ap.parse_args()

    from sqlalchemy import delete

    from syllabus.config import load_workspace
    from syllabus.store import open_store
    from syllabus.store.tables import Item

    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-build-")
        args.workdir = Path(tmp.name)
    root = args.workdir / "ws"
    facts: dict = {}
    if not (args.reuse and (root / ".syllabus" / "store.db").exists()):
        t0 = time.perf_counter()
        facts["graph"] = generate_from_args(root, args)
        facts["generate_s"] = round(time.perf_counter() - t0, 1)
    ws = load_workspace(root)
    names = [d.name for d in ws.config.disciplines]
    store = open_store(ws.store_url)
    try:
        with store.transaction() as session:  # --reuse: start from no items, like the first build
            session.execute(delete(Item.__table__))
        if args.compile:
            from syllabus.compile.pipeline import build_root, run_compile

            t0 = time.perf_counter()
            run_compile(ws, root=build_root(ws))
            facts["compile_s"] = round(time.perf_counter() - t0, 1)
        first = timed_build(ws, store, names)
        again = timed_build(ws, store, names)
    finally:
        store.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"facts": facts, "first": first, "rebuild": again, "peak_rss_mb": round(peak_mb)}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"workspace {root}: {json.dumps(facts)}")
        for name, r in (("first build", first), ("rebuild (unchanged graph)", again)):
            print(f"{name:28} {r['seconds']:8.1f} s wall {r['cpu_seconds']:8.1f} s CPU {r['items']:8d} items "
                  f"({', '.join(f'{k} {v}' for k, v in sorted(r['levels'].items()))}) "
                  f"{r['items_per_s'] or 0:7d} items/s  new {r['new']} unchanged {r['unchanged']}")
        print(f"decontamination against build: {first['decontamination_build']}; peak RSS {peak_mb:.0f} MB")
        print(f"skipped: {json.dumps(first['skipped'])}")
    return 0 if again["new"] == 0 and again["removed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
