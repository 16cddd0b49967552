"""Scale benchmark for `syllabus diagnose`: a 20,000-result run on the synthetic 250k-concept graph.

What it measures
----------------
The compiler benchmark's synthetic knowledge base (``compile_scale_data.generate``: by default
250,000 concepts, 200,000 relations, 50,000 chains over 16 disciplines, fixed seed) is written into the
SQLite store of a fresh workspace. On top of it, with ``random.Random(seed)``:

* ``--results`` dev items (default 20,000): 40% L1 concept probes, 35% L2 relation probes, 15% L3
  chain items (bench chains), 10% EXT imported items linking two concepts of a discipline (half
  of them neighbours, half random pairs, which are mostly far apart), each with its ``item_unit``
  trace rows; plus ``--results / 4`` test items, which diagnosis must skip;
* one run with a result for every item. Failures are planted: 2% of the concepts and 2% of the
  relations are "weak" (their items fail with probability 0.85), every other item fails with
  probability 0.12.

Then ``diagnose()`` runs in-process (one transaction, gaps written) and is timed, with the number
of SQL statements it issued; it runs a second time (idempotent re-diagnosis, replacing the open
gaps), and once more through the real command line (``syllabus --workspace DIR diagnose RUN
--json``, wall time of the child process, interpreter start-up included). Target (issue 5, SQLite):
<= 10 s for the 20,000-result run. The script exits 0 whatever the figures are, 1 on failure.

How to run
----------
    .venv/bin/python benchmarks/diagnose_scale.py                       # full graph (~2 min to generate)
    .venv/bin/python benchmarks/diagnose_scale.py --concepts 20000 --relations 16000 --chains 4000
    .venv/bin/python benchmarks/diagnose_scale.py --workdir /tmp/ds --json
"""
from __future__ import annotations

import argparse
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from compile_scale_data import add_shape_arguments, generate_from_args  # noqa: E402

TARGET_S = 10.0


def _items_and_run(db: Path, n_dev: int, seed: int, run_id: str) -> dict:
    """Items with their trace rows, one run with a result per item (planted weak units)."""
    rng = random.Random(seed + 1)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("BEGIN")
    concepts = con.execute("SELECT id, discipline FROM concept ORDER BY id").fetchall()
    relations = con.execute("SELECT id, discipline, subject_id, object_id FROM relation ORDER BY id").fetchall()
    chains = con.execute("SELECT id, discipline, relation_ids FROM chain WHERE split = 'bench' ORDER BY id").fetchall()
    rel = {r[0]: r for r in relations}
    weak = {c for c, _ in concepts if rng.random() < 0.02} | {r[0] for r in relations if rng.random() < 0.02}
    items, units, results = [], [], []
    n_test = n_dev // 4
    plan = [("L1", 0.40), ("L2", 0.35), ("L3", 0.15), ("EXT", 0.10)]
    n = 0
    for split, total in (("dev", n_dev), ("test", n_test)):
        for level, share in plan:
            for _ in range(round(total * share)):
                if level == "L1":
                    cid, disc = rng.choice(concepts)
                    cs, rs, chain = [cid], [], None
                elif level == "L2":
                    rid, disc, s, o = rng.choice(relations)
                    cs, rs, chain = [s, o], [rid], None
                elif level == "L3":
                    chain, disc, rids = rng.choice(chains)
                    rs = json.loads(rids)
                    cs = sorted({c for r in rs for c in rel[r][2:4]})
                else:
                    if rng.random() < 0.5:
                        _, disc, s, o = rng.choice(relations)
                        cs = [s, o]
                    else:
                        disc = rng.choice(concepts)[1]
                        cs = [c for c, d in rng.sample(concepts, 40) if d == disc][:2]
                        cs = cs if len(cs) == 2 else [rng.choice(concepts)[0]]
                    rs, chain = [], None
                iid = f"itm:{n:07d}"
                n += 1
                trace = {"concepts": cs, "relations": rs, "chain": chain}
                items.append((iid, disc, level, "synthetic", "imported" if level == "EXT" else "generated",
                              f"Question {iid}?", json.dumps(["a", "b", "c", "d"]), 0, json.dumps(trace), split))
                keys = {f"concept:{c}" for c in cs} | {f"relation:{r}" for r in rs}
                keys |= {f"chain:{chain}"} if chain else set()
                units += [(iid, k) for k in sorted(keys)]
                p_fail = 0.85 if weak & (set(cs) | set(rs)) else 0.12
                bad = rng.random() < p_fail
                results.append((run_id, iid, rng.randint(1, 3) if bad else 0, 0 if bad else 1))
    con.executemany("INSERT INTO item(id, discipline, level, kind, source, question, choices, answer, trace, split) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", items)
    con.executemany("INSERT INTO item_unit(item_id, unit) VALUES (?, ?)", units)
    con.execute("INSERT INTO run(id, model, backend, params, split, started, seconds) "
                "VALUES (?, 'synthetic', 'none', '{}', NULL, '2026-01-01T00:00:00', 0)", (run_id,))
    con.executemany("INSERT INTO result(run_id, item_id, prediction, correct) VALUES (?, ?, ?, ?)", results)
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.close()
    per_split = {sp: sum(1 for it in items if it[-1] == sp) for sp in ("dev", "test")}
    return {"dev_items": per_split["dev"], "test_items": per_split["test"], "results": len(results),
            "trace_rows": len(units),
            "failed": sum(1 for r in results if not r[3]), "weak_units": len(weak)}


def _diagnose_in_process(root: Path, run_id: str) -> dict:
    from sqlalchemy import event

    from syllabus.config import load_workspace
    from syllabus.debug.diagnose import diagnose
    from syllabus.store import open_store

    st = open_store(load_workspace(root).store_url)
    statements = [0]
    event.listen(st.engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
    t = time.perf_counter()
    with st.transaction() as s:
        report = diagnose(s, run_id)
    seconds = time.perf_counter() - t
    st.close()
    return {"seconds": round(seconds, 3), "sql_statements": statements[0], "items": report.items,
            "accuracy": report.accuracy, "gaps": report.by_kind, "written": report.written}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_shape_arguments(ap)
    ap.add_argument("--results", type=int, default=20_000, help="dev results in the run (plus a quarter as test)")
    ap.add_argument("--workdir", help="keep the workspace here (must not hold a store yet)")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = ap.parse_args()
    say = (lambda m: print(m, file=sys.stderr)) if args.json else print
    tmp = None
    if args.workdir:
        root = Path(args.workdir)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="diagnose-scale-")
        root = Path(tmp.name) / "ws"
    try:
        t = time.perf_counter()
        graph = generate_from_args(root, args)
        say(f"graph: {graph} ({time.perf_counter() - t:.1f} s)")
        run_id = "scale-run"
        t = time.perf_counter()
        bench = _items_and_run(root / ".syllabus" / "store.db", args.results, args.seed, run_id)
        say(f"items and run: {bench} ({time.perf_counter() - t:.1f} s)")
        first = _diagnose_in_process(root, run_id)
        say(f"diagnose (in-process, first): {first['seconds']:.2f} s, {first['sql_statements']} SQL statements, "
            f"{first['items']} dev items, gaps {first['gaps']}")
        again = _diagnose_in_process(root, run_id)
        say(f"diagnose (in-process, again): {again['seconds']:.2f} s, {again['written']} gaps rewritten")
        exe = Path(sys.executable).with_name("syllabus")
        cmd = [str(exe), "--workspace", str(root), "diagnose", run_id, "--json"]
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        cli_s = time.perf_counter() - t
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        same = json.loads(proc.stdout)["by_kind"] == first["gaps"]
        say(f"syllabus diagnose --json (child process): {cli_s:.2f} s; same gaps: {same}")
        ok = max(first["seconds"], again["seconds"]) <= TARGET_S
        say(f"target <= {TARGET_S:.0f} s for a {bench['dev_items']}-dev-result run: "
            f"{'met' if ok else 'MISSED'}")
        if args.json:
            print(json.dumps({"graph": graph, "bench": bench, "first": first, "again": again,
                              "cli_s": round(cli_s, 3), "same_gaps": same, "target_s": TARGET_S, "met": ok},
                             indent=2))
        return 0 if same else 1
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
