"""Scale benchmark for `syllabus report`: time, peak memory and site size on a big synthetic store.

The store is the synthetic knowledge base of ``compile_scale_data.py`` (defaults: 250,000
concepts, 200,000 relations, 50,000 chains over 16 disciplines, with evidence sentences), written
with a fixed seed into a fresh workspace; ``--compile`` also compiles it first, so the concept
pages list examples. Then ``syllabus --workspace DIR report --out DIR/site --json`` runs in a
child process and the script prints its wall time (interpreter start-up included), its peak RSS
(``ru_maxrss`` of the child), the number of files and bytes of the site, the largest concept page,
and the pages per second. A second run into another folder checks that the bytes are the same.

    python benchmarks/report_scale.py                      # 250k concepts
    python benchmarks/report_scale.py --concepts 20000 --relations 16000 --chains 4000
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compile_scale_data import add_shape_arguments, generate_from_args  # noqa: E402

SYLLABUS = [sys.executable, "-m", "syllabus.cli.main"]


def run(ws: Path, args: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one child command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run([*SYLLABUS, "--workspace", str(ws), *args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: fresh processes make it a per-run figure
    # only when it grows, so each measured command runs in its own python (see main)
    return wall, max(peak, before) / 1024, proc.stdout


def tree_digest(folder: Path) -> tuple[int, int, int, str]:
    """(files, bytes, largest concept page bytes, sha256 over relative paths and contents)."""
    h = hashlib.sha256()
    files = size = largest = 0
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            h.update(p.relative_to(folder).as_posix().encode() + b"\0" + hashlib.sha256(data).digest())
            files += 1
            size += len(data)
            if p.parts[-3] == "c":
                largest = max(largest, len(data))
    return files, size, largest, h.hexdigest()


def measure_one(ws: Path, out: Path) -> dict:
    """Runs in a fresh python so that ru_maxrss of its one child is that command's peak."""
    wall, peak, stdout = run(ws, ["report", "--out", str(out), "--json"])
    return {"wall": wall, "peak_mb": peak, "summary": json.loads(stdout)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_shape_arguments(ap)
    ap.add_argument("--workdir", help="Folder for the workspace (kept); default a temporary folder (deleted).")
    ap.add_argument("--compile", action="store_true", help="Compile the store first (pages then list examples).")
    ap.add_argument("--skip-second", action="store_true", help="Skip the determinism check (a second report).")
    ap.add_argument("--json", action="store_true", help="Print one JSON object instead of lines.")
    ap.add_argument("--_measure", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._measure:
        print(json.dumps(measure_one(Path(args._measure[0]), Path(args._measure[1]))))
        return 0
    base = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="syllabus-report-scale-"))
    ws = base / "ws"
    say = (lambda _line: None) if args.json else print
    out_json: dict = {}
    try:
        if not (ws / ".syllabus" / "store.db").is_file():
            ws.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            counts = generate_from_args(ws, args)
            say(f"store: {counts} in {time.perf_counter() - t0:.1f} s")
            out_json["store"] = counts
            if args.compile:
                wall, peak, _ = run(ws, ["--quiet", "compile"])
                say(f"compile: {wall:.1f} s, peak RSS {peak:.0f} MB")
        results = []
        for name in ("site", "site2")[: 1 if args.skip_second else 2]:
            out = base / name
            shutil.rmtree(out, ignore_errors=True)
            proc = subprocess.run([sys.executable, __file__, "--_measure", str(ws), str(out)], capture_output=True,
                                  text=True, env={**os.environ})
            if proc.returncode != 0:
                sys.exit(proc.stdout + proc.stderr)
            m = json.loads(proc.stdout.strip().splitlines()[-1])
            files, size, largest, digest = tree_digest(out)
            m.update(files=files, bytes=size, largest_page=largest, digest=digest)
            results.append(m)
            pages = m["summary"]["concept_pages"]
            say(f"report ({name}): {m['wall']:.1f} s wall, peak RSS {m['peak_mb']:.0f} MB, {pages:,} concept pages "
                  f"({pages / m['wall']:.0f}/s), {files:,} files, {size / 1e6:.1f} MB, largest concept page "
                  f"{largest / 1e3:.1f} kB")
        out_json["reports"] = results
        same = None
        if len(results) == 2:
            same = results[0]["digest"] == results[1]["digest"]
            say(f"same store, same bytes: {'yes' if same else 'NO'}")
        out_json["same_bytes"] = same
        if args.json:
            print(json.dumps(out_json, indent=2, sort_keys=True))
        return 1 if same is False else 0
    finally:
        if not args.workdir:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
