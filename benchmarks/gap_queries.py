"""Latency of `syllabus gaps` queries and `gaps report` on the synthetic 250k-concept graph (SQLite).

What it measures
----------------
The compiler benchmark's synthetic knowledge base (``compile_scale_data.generate``: by default
250,000 concepts, 200,000 relations, 50,000 chains over 16 disciplines, an ``is_a`` tree of 5-8
children per node in each discipline) is written into the SQLite store of a fresh workspace. On top of it, with
``random.Random(seed)``:

* ``--gaps`` gap rows (default 20,000) over two runs: 40% concept gaps, 25% weak edges, 15%
  suspicious concepts, 10% reasoning breaks (bench chains), 10% missing-edge pairs; statuses open
  70%, patched 15%, verified 10%, dismissed 5%; 1-5 failing item ids each;
* ``--items`` benchmark items (default 50,000), each tracing 1-3 concepts (``item_unit`` rows);
* a kept training example for 80% of the concepts (``example`` + ``example_dep`` rows; 2% of them
  dropped by a gate), as a compiled build leaves them.

Then each query runs ``--repeat`` times (default 40) in-process through the library functions the
CLI calls (:func:`syllabus.debug.queries.list_gaps`, :func:`graph_report`), each in its own
transaction on one open store, rotating its parameter (discipline, concept) between runs; the
first run of each is a warm-up and not counted. Printed: p50 / p95 / max milliseconds and rows
returned, against the issue's target p95 <= 100 ms. ``--under`` is measured on mid-level concepts
(depth 2: a few hundred descendants) and on discipline roots (the whole discipline).
The script exits 0 whatever the figures are.

How to run
----------
    .venv/bin/python benchmarks/gap_queries.py                         # full graph (~2-3 min to generate)
    .venv/bin/python benchmarks/gap_queries.py --concepts 20000 --relations 16000 --chains 4000
    .venv/bin/python benchmarks/gap_queries.py --workdir /tmp/gq --json   # keeps the workspace
"""
from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from compile_scale_data import add_shape_arguments, generate_from_args  # noqa: E402

TARGET_MS = 100.0


def add_rows(db: Path, n_gaps: int, n_items: int, seed: int) -> dict:
    """Gaps, items with their trace rows, and kept examples with their dependency rows."""
    rng = random.Random(seed + 7)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("BEGIN")
    concepts = con.execute("SELECT id, discipline FROM concept WHERE origin != 'external' ORDER BY id").fetchall()
    relations = con.execute("SELECT id, discipline, subject_id, object_id FROM relation ORDER BY id").fetchall()
    chains = con.execute("SELECT id, discipline FROM chain WHERE split = 'bench' ORDER BY id").fetchall()
    for run in ("r1", "r2"):
        con.execute("INSERT INTO run(id, model, backend, params, split, started, seconds) "
                    "VALUES (?, 'synthetic', 'file', '{}', 'dev', '2026-01-01T00:00:00', 0)", (run,))
    kinds = [("concept_gap", 0.40), ("weak_edge", 0.25), ("suspicious", 0.15), ("reasoning_break", 0.10),
             ("missing_edge", 0.10)]
    statuses = ["open"] * 14 + ["patched"] * 3 + ["verified"] * 2 + ["dismissed"]
    gaps, taken = [], set()
    for kind, share in kinds:
        for _ in range(round(n_gaps * share)):
            if kind in ("concept_gap", "suspicious"):
                cid, disc = rng.choice(concepts)
                unit = f"concept:{cid}"
            elif kind == "weak_edge":
                rid, disc, _, _ = rng.choice(relations)
                unit = f"relation:{rid}"
            elif kind == "reasoning_break":
                hid, disc = rng.choice(chains)
                unit = f"chain:{hid}"
            else:
                (a, disc), (b, _) = rng.choice(concepts), rng.choice(concepts)
                unit = f"pair:{a}|{b}"
            run = rng.choice(("r1", "r2"))
            if (run, unit) in taken:
                continue
            taken.add((run, unit))
            status = rng.choice(statuses)
            gaps.append((f"gap-{len(gaps):06d}", run, kind, unit, disc, round(rng.random(), 4),
                         json.dumps([f"it-{rng.randrange(n_items):07d}" for _ in range(rng.randint(1, 5))]),
                         None, status, "b1" if status in ("patched", "verified") else None))
    con.executemany("INSERT INTO gap(id, run_id, kind, unit, discipline, score, items, detail, status, build) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", gaps)
    items, units = [], []
    for n in range(n_items):
        picked = rng.sample(concepts, rng.randint(1, 3))
        iid = f"it-{n:07d}"
        items.append((iid, picked[0][1], "L1", "synthetic", "generated", "Q?", "[]", 0, "{}",
                      "dev" if n % 2 else "test"))
        units += [(iid, f"concept:{c}") for c in sorted({c for c, _ in picked})]
    con.executemany("INSERT INTO item(id, discipline, level, kind, source, question, choices, answer, trace, split) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", items)
    con.executemany("INSERT INTO item_unit(item_id, unit) VALUES (?, ?)", units)
    examples, deps = [], []
    for cid, disc in concepts:
        if rng.random() < 0.8:
            seq = len(examples) + 1
            examples.append((seq, f"ex{seq:08d}", f"concept:{cid}", disc, "concept.definition@1", "definition",
                             "definition.j2", "0" * 16, "{}", "duplicate" if rng.random() < 0.02 else None, 0, "b1"))
            deps.append((f"concept:{cid}", seq))
    con.executemany("INSERT INTO example(seq, id, unit, discipline, renderer, task, template, template_sha, deps, "
                    "dropped, stale, build) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", examples)
    con.executemany("INSERT INTO example_dep(unit, example) VALUES (?, ?)", deps)
    con.execute("COMMIT")
    con.close()
    from sqlalchemy import text

    from syllabus.debug.unit_keys import fill_gap_concepts
    from syllabus.store import open_store

    store = open_store(f"sqlite:///{db}")
    try:
        with store.transaction() as session:
            for run in ("r1", "r2"):  # what diagnose does after writing a run's gaps
                fill_gap_concepts(session, run)
            session.execute(text("ANALYZE"))
    finally:
        store.close()
    return {"gaps": len(gaps), "items": len(items), "item_units": len(units), "examples": len(examples)}


def pick_concepts(db: Path, disciplines: list[str]) -> tuple[list[str], list[str]]:
    """Per discipline: its root (most descendants) and a depth-2 concept of the is_a tree."""
    con = sqlite3.connect(db)
    roots, mids = [], []
    for d in disciplines:
        root = con.execute(
            "SELECT c.id FROM concept c WHERE c.discipline = ? AND c.origin != 'external' AND NOT EXISTS "
            "(SELECT 1 FROM relation r WHERE r.subject_id = c.id AND r.predicate = 'is_a') AND EXISTS "
            "(SELECT 1 FROM relation r WHERE r.object_id = c.id AND r.predicate = 'is_a') ORDER BY c.id LIMIT 1",
            (d,)).fetchone()[0]
        mid = con.execute(
            "SELECT r2.subject_id FROM relation r1 JOIN relation r2 ON r2.object_id = r1.subject_id "
            "WHERE r1.object_id = ? AND r1.predicate = 'is_a' AND r2.predicate = 'is_a' "
            "ORDER BY r2.subject_id LIMIT 1", (root,)).fetchone()[0]
        roots.append(root)
        mids.append(mid)
    con.close()
    return roots, mids


def subtree_size(db: Path, concept: str) -> int:
    con = sqlite3.connect(db)
    n = con.execute("WITH RECURSIVE sub(id) AS (SELECT ? UNION SELECT r.subject_id FROM relation r JOIN sub "
                    "ON r.object_id = sub.id WHERE r.predicate IN ('is_a', 'part_of')) SELECT count(*) FROM sub",
                    (concept,)).fetchone()[0]
    con.close()
    return n


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def measure(store, fn, params: list[dict], repeat: int) -> dict:
    """Wall and CPU milliseconds of *fn* over *repeat* calls (after one warm-up), each in its own transaction."""
    wall, cpu, rows = [], [], 0
    for n in range(repeat + 1):
        kw = params[n % len(params)]
        t0, c0 = time.perf_counter(), time.process_time()
        with store.transaction() as session:
            out = fn(session, **kw)
        t1, c1 = time.perf_counter(), time.process_time()
        if n:  # the first call warms the caches
            wall.append((t1 - t0) * 1000)
            cpu.append((c1 - c0) * 1000)
            rows = max(rows, len(out) if isinstance(out, list) else sum(
                len(r["rows"]) for d in out.values() for r in d.values()))
    p95 = _pct(wall, 0.95)
    return {"p50_ms": round(statistics.median(wall), 2), "p95_ms": round(p95, 2), "max_ms": round(max(wall), 2),
            "cpu_p50_ms": round(statistics.median(cpu), 2), "cpu_p95_ms": round(_pct(cpu, 0.95), 2),
            "rows": rows, "ok": p95 <= TARGET_MS}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_shape_arguments(ap)
    ap.add_argument("--gaps", type=int, default=20_000)
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=40)
    ap.add_argument("--workdir", type=Path, help="Keep the workspace here (default: a temporary folder).")
    ap.add_argument("--reuse", action="store_true", help="Reuse the workspace already in --workdir.")
    ap.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    args = ap.parse_args()

    from syllabus.config import load_workspace
    from syllabus.debug.queries import graph_report, list_gaps
    from syllabus.store import open_store

    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="gap-queries-")
        args.workdir = Path(tmp.name)
    root = args.workdir / "ws"
    db = root / ".syllabus" / "store.db"
    facts: dict = {}
    if not (args.reuse and db.exists()):
        t0 = time.perf_counter()
        facts["graph"] = generate_from_args(root, args)
        facts["rows"] = add_rows(db, args.gaps, args.items, args.seed)
        facts["setup_s"] = round(time.perf_counter() - t0, 1)
    ws = load_workspace(root)
    names = ws.discipline_names()
    roots, mids = pick_concepts(db, names)
    facts["mid_subtree"] = statistics.median(subtree_size(db, c) for c in mids)
    facts["root_subtree"] = statistics.median(subtree_size(db, c) for c in roots)

    table = {"limit": 51}  # what the text table asks for (50 rows and one to tell there are more)
    filters = {
        "(no filter)": [{}],
        "--discipline D": [{"discipline": d} for d in names],
        "--kind K": [{"kind": k} for k in ("concept_gap", "weak_edge", "missing_edge")],
        "--status S": [{"status": st} for st in ("open", "patched", "dismissed")],
        "--min-score 0.9": [{"min_score": 0.9}],
        "--run r1 --sort kind": [{"run": "r1", "sort": "kind"}],
        "--under MID (depth 2)": [{"under": c} for c in mids],
        "--under MID --status open": [{"under": c, "status": "open"} for c in mids],
        "--under ROOT (whole discipline)": [{"under": c} for c in roots],
    }
    cases = {}
    for name, params in filters.items():
        cases[f"gaps {name}"] = (list_gaps, [{**p, **table} for p in params])
        cases[f"gaps {name} --json (all rows)"] = (list_gaps, params)
    cases["gaps report --discipline D"] = (graph_report, [{"disciplines": [d], "limit": 50} for d in names])
    cases["gaps report --discipline D --json (all rows)"] = (graph_report, [{"disciplines": [d]} for d in names])
    store = open_store(ws.store_url)
    figures = {}
    try:
        for name, (fn, params) in cases.items():
            figures[name] = measure(store, fn, params, args.repeat)
    finally:
        store.close()
    if args.json:
        print(json.dumps({"facts": facts, "target_p95_ms": TARGET_MS, "queries": figures}, indent=2))
    else:
        print(f"workspace {root}: {json.dumps(facts)}")
        print(f"{'query':56} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'cpu p50':>7} {'cpu p95':>7} {'rows':>6}"
              f"  p95<={TARGET_MS:.0f}ms")
        for name, f in figures.items():
            print(f"{name:56} {f['p50_ms']:7.1f} {f['p95_ms']:7.1f} {f['max_ms']:7.1f} {f['cpu_p50_ms']:7.1f} "
                  f"{f['cpu_p95_ms']:7.1f} {f['rows']:6d}  {'yes' if f['ok'] else 'NO'}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
