"""Scale benchmark for `syllabus compile`: full, plan after an edit, incremental, determinism.

What it measures
----------------
A synthetic knowledge base shaped like the paper's released one (defaults: 250,000 concepts,
200,000 relations, 50,000 chains over 16 disciplines; see ``compile_scale_data.py`` for the
exact shape) is generated with a fixed seed straight into the SQLite store of a fresh workspace.
Then, each through the real command line (``syllabus --workspace DIR compile ...``) in its own
child process:

1. **full compile** -- ``compile`` on the freshly loaded store: wall time, peak RSS, examples
   kept and dropped (from the build's manifest.json), examples/s (kept + dropped over the wall time);
2. **edit** -- one mid-tree concept (with siblings, children and other relations) gets a new
   definition by a plain SQL ``UPDATE``; the journal trigger records it;
3. **plan** -- ``compile --plan --json``: wall time and the number of changes it lists;
4. **incremental compile** -- ``compile --json``: wall time, peak RSS, ``counts.rendered``, and
   a check of *which* examples were re-rendered: the examples of the new build whose ids were
   not in the previous build must be exactly the previous build's examples that depended on
   ``concept:<edited id>`` (same number, every one of them lists that unit among
   ``provenance.dependencies``, and none of the previous build's dependents was kept as is);
   how many of the build's 256 example shards were written anew (and their bytes) and how many
   are hard links to the previous build's files; and, just before it, the disk's write speed
   (256 MiB written and synced in the workspace), which bounds the shards it rewrites;
5. **second clean compile** -- the store as loaded (a copy taken before the first compile) in a
   second workspace folder, compiled from nothing: its kept examples (the shard files read in
   order) must be byte-identical (sha256) to the first full compile's. ``--skip-second-clean``
   leaves this out.

Wall times are taken around the child process (interpreter start-up and imports included, as a
user would see them). Peak RSS is the high-water mark of the largest process of the command:
each measured command runs under a tiny Python wrapper process that starts it and reads
``getrusage(RUSAGE_CHILDREN)`` afterwards, so no other process's peak is mixed in. A large
compile forks worker processes, so the wrapper also samples (every 0.2 s, or 50 times as long as a sample takes) the PSS of the
command's whole process tree from ``/proc``: pages shared by a parent and its forks are split
between them, not counted twice. The memory target is checked against the larger of the two. The full compile runs without ``--json``
(its JSON report would list every one of the ~1.6 million examples as a change), plan and
incremental with ``--json``.

Targets printed next to the figures (issue 4, a 2-core machine, SQLite): full compile <= 60 s
and <= 4 GB peak RSS; plan <= 2 s; incremental compile <= 2 s, re-rendering only the edited
concept's dependents; two clean compiles byte-identical. The script exits 0 whatever the
figures are, and 1 when a command fails outright.

How to run
----------
    .venv/bin/python benchmarks/compile_scale.py                      # full scale, several minutes
    .venv/bin/python benchmarks/compile_scale.py --concepts 5000 --relations 4000 --chains 1000
    .venv/bin/python benchmarks/compile_scale.py --json               # one JSON object on stdout
    .venv/bin/python benchmarks/compile_scale.py --workdir /tmp/cs    # keep the workspaces there
    .venv/bin/python benchmarks/compile_scale.py --profile full       # cProfile that step (slower)

Without ``--workdir`` everything happens in a temporary folder deleted at the end.
``--profile full|plan|incremental`` runs that step under cProfile (its time is then inflated and
marked ``profiled``) and prints the top functions by cumulative time.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import pstats
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compile_scale_data import Shape, add_shape_arguments, generate  # noqa: E402

from syllabus.compile.layout import example_files  # noqa: E402

TARGETS = {"full_s": 60.0, "full_rss_bytes": 4_000_000_000, "plan_s": 2.0, "incremental_s": 2.0}

_WRAPPER = r"""
import json, os, resource, subprocess, sys, threading, time
a = json.loads(sys.argv[1])

def tree(root):
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except OSError:
            pass
    return pids

def pss(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0

peak = {"pss": 0, "procs": 0}
t = time.perf_counter()
with open(a["stdout"], "wb") as out, open(a["stderr"], "wb") as err:
    child = subprocess.Popen(a["cmd"], stdout=out, stderr=err)
    done = threading.Event()
    def sample():
        # reading smaps_rollup walks a process's page tables (tens of ms for a few GB): wait at
        # least 50 times as long as a sample took, so the sampler takes at most 2% of one core
        while not done.is_set():
            t0 = time.perf_counter()
            pids = tree(child.pid)
            peak["pss"] = max(peak["pss"], sum(pss(p) for p in pids))
            peak["procs"] = max(peak["procs"], len(pids))
            done.wait(max(0.2, 50 * (time.perf_counter() - t0)))
    sampler = threading.Thread(target=sample, daemon=True)
    if os.path.exists("/proc/self/smaps_rollup"):
        sampler.start()
    rc = child.wait()
    done.set()
wall = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
kb = 1 if sys.platform == "darwin" else 1024
print(json.dumps({"rc": rc, "wall_s": wall, "peak_rss_bytes": ru.ru_maxrss * kb, "user_s": ru.ru_utime,
                  "sys_s": ru.ru_stime, "peak_tree_pss_bytes": peak["pss"] or None, "processes": peak["procs"]}))
"""


def syllabus_cmd(ws: Path, args: list[str], profile_out: Path | None = None) -> list[str]:
    if profile_out is not None:
        return [sys.executable, "-m", "cProfile", "-o", str(profile_out), "-m", "syllabus.cli.main",
                "--workspace", str(ws), *args]
    exe = Path(sys.executable).parent / "syllabus"
    head = [str(exe)] if exe.exists() else [sys.executable, "-m", "syllabus.cli.main"]
    return [*head, "--workspace", str(ws), *args]


def disk_write_speed(folder: Path, size: int = 256 << 20) -> float:
    """MB/s of writing and syncing *size* bytes in *folder* (the file is deleted afterwards)."""
    probe = folder / ".disk-probe"
    block = os.urandom(1 << 20)
    start = time.perf_counter()
    try:
        with open(probe, "wb") as fh:
            for _ in range(size >> 20):
                fh.write(block)
            fh.flush()
            os.fsync(fh.fileno())
        return size / 1e6 / (time.perf_counter() - start)
    finally:
        probe.unlink(missing_ok=True)


def measure(cmd: list[str], logdir: Path, name: str) -> dict:
    """Run *cmd* in a fresh child (via the wrapper); wall time, peak RSS, exit status, stdout."""
    out, err = logdir / f"{name}.out", logdir / f"{name}.err"
    res = subprocess.run([sys.executable, "-c", _WRAPPER, json.dumps({"cmd": cmd, "stdout": str(out),
                                                                     "stderr": str(err)})],
                         capture_output=True, text=True, check=True)
    m = json.loads(res.stdout)
    m["stdout_path"], m["stderr_path"] = str(out), str(err)
    if m["rc"] != 0:
        tail = err.read_text(errors="replace")[-3000:]
        m["error"] = tail
    return m


def sha256_examples(build: Path) -> str:
    """sha256 of a build's kept examples: its shard files read in order (the whole build in id order)."""
    h = hashlib.sha256()
    for path in example_files(build):
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                h.update(block)
    return h.hexdigest()


def shards_shared(old: Path, new: Path) -> tuple[int, int, int]:
    """(shard files of *new* hard-linked to *old*'s, shard files written anew, bytes written anew)."""
    linked = written = size = 0
    for path in example_files(new):
        twin = old / path.relative_to(new)
        if twin.is_file() and os.stat(twin).st_ino == os.stat(path).st_ino:
            linked += 1
        else:
            written, size = written + 1, size + path.stat().st_size
    return linked, written, size


def example_ids(build: Path) -> dict[str, bytes]:
    """id -> line, for the kept and the dropped examples of a build (lines start with {"id":"...")."""
    out = {}
    for path in [*example_files(build), build / "dropped.jsonl"]:
        if not path.is_file():
            continue
        with open(path, "rb") as fh:
            for line in fh:
                eid = line[7:line.index(b'"', 7)] if line.startswith(b'{"id":"') else json.loads(line)["id"].encode()
                out[eid.decode()] = line
    return out


def dependents(lines: dict[str, bytes], unit: str) -> set[str]:
    needle = json.dumps(unit).encode()
    found = set()
    for eid, line in lines.items():
        if needle in line and unit in json.loads(line)["provenance"]["dependencies"]:
            found.add(eid)
    return found


def edit_concept(db: Path, cid: str) -> dict:
    con = sqlite3.connect(db, isolation_level=None)
    try:
        before = con.execute("SELECT max(seq) FROM graph_change").fetchone()[0] or 0
        old = con.execute("SELECT definition FROM concept WHERE id = ?", (cid,)).fetchone()[0]
        new = old.rstrip(".") + ", as revised in the benchmark edit."
        con.execute("UPDATE concept SET definition = ? WHERE id = ?", (new, cid))
        journal = [r[0] for r in con.execute("SELECT unit FROM graph_change WHERE seq > ?", (before,))]
        facts = {
            "concept": cid,
            "children": con.execute("SELECT count(*) FROM relation WHERE object_id = ? AND predicate = 'is_a'",
                                    (cid,)).fetchone()[0],
            "relations": con.execute("SELECT count(*) FROM relation WHERE subject_id = ? OR object_id = ?",
                                     (cid, cid)).fetchone()[0],
            "journal": journal,
        }
    finally:
        con.close()
    return facts


def clear_compile_state(db: Path) -> None:
    con = sqlite3.connect(db, isolation_level=None)
    try:
        con.execute("BEGIN")
        for table in ("example_dep", "example", "build", "unit", "graph_change"):
            con.execute(f"DELETE FROM {table}")
        con.execute("COMMIT")
    finally:
        con.close()


def copy_store(src_ws: Path, dst_ws: Path) -> None:
    dst_ws.mkdir(parents=True)
    shutil.copy2(src_ws / "syllabus.toml", dst_ws / "syllabus.toml")
    shutil.copytree(src_ws / "corpora", dst_ws / "corpora")
    (dst_ws / ".syllabus").mkdir()
    for name in ("store.db", "store.db-wal"):
        if (src_ws / ".syllabus" / name).exists():
            shutil.copy2(src_ws / ".syllabus" / name, dst_ws / ".syllabus" / name)


def source_version() -> dict:
    """The commit of the checkout that runs the compiler, and whether src/ has uncommitted changes."""
    repo = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "migrations"], cwd=repo,
                               capture_output=True, text=True).stdout.split("\n")
        return {"commit": head, "uncommitted": [line[3:] for line in dirty if line.strip()]}
    except OSError:
        return {}


def gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB"


def ok(flag: bool) -> str:
    return "OK" if flag else "MISSED"


def top_functions(profile: Path, n: int = 40) -> str:
    """Top functions by cumulative time (below the command-line frames) and by own time."""
    import io

    buf = io.StringIO()
    stats = pstats.Stats(str(profile), stream=buf)
    stats.sort_stats("cumulative").print_stats(r"syllabus/(compile|store)|sqlalchemy/engine/base|jinja2/environment", n)
    stats.sort_stats("tottime").print_stats(25)
    return buf.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_shape_arguments(ap)
    ap.add_argument("--workdir", help="Folder for the workspaces (kept); default a temporary folder (deleted).")
    ap.add_argument("--skip-second-clean", action="store_true", help="Leave out the determinism compile.")
    ap.add_argument("--profile", default="",
                    help="Comma-separated steps to run under cProfile: full, plan, incremental.")
    ap.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")
    args = ap.parse_args()
    profiled = {s.strip() for s in args.profile.split(",") if s.strip()}

    def say(msg: str) -> None:
        if not args.json:
            print(msg, flush=True)
        else:
            print(msg, file=sys.stderr, flush=True)

    tmp = None
    if args.workdir:
        base = Path(args.workdir).resolve()
        base.mkdir(parents=True, exist_ok=True)
        if any(base.iterdir()):
            raise SystemExit(f"--workdir {base} is not empty")
    else:
        tmp = tempfile.mkdtemp(prefix="compile-scale-")
        base = Path(tmp)
    ws, ws2, logs = base / "ws", base / "ws-clean", base / "logs"
    logs.mkdir()
    result: dict = {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                                "cpus": os.cpu_count()},
                    "shape": {"concepts": args.concepts, "relations": args.relations, "chains": args.chains,
                              "disciplines": args.disciplines, "seed": args.seed},
                    "targets": TARGETS, "workdir": str(base), "source": source_version()}
    failed = False
    try:
        src = result["source"]
        say(f"syllabus at {src.get('commit', '?')[:12]}" + (f" (uncommitted: {', '.join(src['uncommitted'])})"
                                                            if src.get("uncommitted") else ""))
        say(f"generating {args.concepts:,} concepts, {args.relations:,} relations, {args.chains:,} chains "
            f"over {args.disciplines} disciplines in {ws}")
        gen = generate(ws, Shape(args.concepts, args.relations, args.chains, args.disciplines, args.seed),
                       progress=None)
        db = ws / ".syllabus" / "store.db"
        result["load"] = {"counts": gen.counts, "seconds": gen.seconds, "store_bytes": db.stat().st_size}
        c = gen.counts
        say(f"load: {gen.seconds['total']:.1f} s (generate {gen.seconds['generate']:.1f} s, insert "
            f"{gen.seconds['insert']:.1f} s): {c['concepts']:,} concepts, {c['labels']:,} labels, "
            f"{c['relations']:,} relations ({c['is_a']:,} is_a), {c['evidence']:,} evidence, "
            f"{c['chunks']:,} chunks, {c['chains']:,} chains ({c['train_chains']:,} train), "
            f"{c['journal_rows']:,} journal rows; store {gb(db.stat().st_size)}")
        if not args.skip_second_clean:
            copy_store(ws, ws2)  # the inputs as loaded, for the second clean compile

        # 1. full compile
        name = "full"
        prof = logs / f"{name}.prof" if name in profiled else None
        m = measure(syllabus_cmd(ws, ["compile"], prof), logs, name)
        if m["rc"] != 0:
            result["full"] = m
            say(f"full compile FAILED (exit {m['rc']}):\n{m.get('error', '')}")
            return 1
        first = (ws / "build" / "latest").resolve()
        manifest = json.loads((first / "manifest.json").read_text())
        kept, dropped = manifest["counts"]["examples"], manifest["counts"]["dropped"]
        memory = max(m["peak_rss_bytes"], m.get("peak_tree_pss_bytes") or 0)
        full = {"wall_s": round(m["wall_s"], 2), "peak_rss_bytes": m["peak_rss_bytes"],
                "peak_tree_pss_bytes": m.get("peak_tree_pss_bytes"), "processes": m.get("processes"),
                "memory_bytes": memory, "user_s": round(m["user_s"], 2),
                "sys_s": round(m["sys_s"], 2), "examples": kept, "dropped": dropped,
                "examples_per_s": round((kept + dropped) / m["wall_s"], 1), "build": first.name,
                "by_task": manifest["counts"]["by_task"], "examples_bytes": sum(p.stat().st_size for p in example_files(first)),
                "profiled": bool(prof)}
        full["ok"] = {"time": full["wall_s"] <= TARGETS["full_s"],
                      "rss": memory <= TARGETS["full_rss_bytes"]}
        result["full"] = full
        tree = (f", all {full['processes']} processes together {gb(full['peak_tree_pss_bytes'])} (peak PSS)"
                if full["peak_tree_pss_bytes"] else "")
        say(f"full compile: {full['wall_s']:.1f} s ({full['user_s']:.0f} s user CPU), peak RSS "
            f"{gb(full['peak_rss_bytes'])} (largest process){tree}, {kept:,} examples "
            f"+ {dropped:,} dropped ({full['examples_per_s']:,.0f} ex/s)" + ("  [profiled]" if prof else ""))
        say(f"  target <= 60 s: {ok(full['ok']['time'])}; <= 4 GB: {ok(full['ok']['rss'])}")
        say(f"  by task: {', '.join(f'{k} {v:,}' for k, v in sorted(full['by_task'].items()))}")
        if prof:
            say(top_functions(prof))

        # 2. edit one concept
        cid = gen.edit_candidates[0]
        edit = edit_concept(db, cid)
        old_lines = example_ids(first)
        old_deps = dependents(old_lines, f"concept:{cid}")
        edit["previous_dependents"] = len(old_deps)
        result["edit"] = edit
        say(f"edit: definition of {cid} ({edit['children']} children, {edit['relations']} relations; "
            f"{len(old_deps)} examples of the previous build depend on concept:{cid}); journal: {edit['journal']}")

        # 3. plan
        name = "plan"
        prof = logs / f"{name}.prof" if name in profiled else None
        m = measure(syllabus_cmd(ws, ["compile", "--plan", "--json"], prof), logs, name)
        if m["rc"] != 0:
            result["plan"] = m
            say(f"plan FAILED (exit {m['rc']}):\n{m.get('error', '')}")
            return 1
        report = json.loads(Path(m["stdout_path"]).read_text())
        plan = {"wall_s": round(m["wall_s"], 3), "peak_rss_bytes": m["peak_rss_bytes"],
                "changes": len(report["changes"]), "counts": report["counts"], "profiled": bool(prof)}
        plan["ok"] = plan["wall_s"] <= TARGETS["plan_s"]
        result["plan"] = plan
        n = report["counts"]
        say(f"plan after the edit: {plan['wall_s']:.2f} s, {plan['changes']} changes "
            f"({n['changed']} changed, {n['new']} new, {n['removed']} removed)"
            + ("  [profiled]" if prof else ""))
        say(f"  target <= 2 s: {ok(plan['ok'])}")
        if prof:
            say(top_functions(prof))

        # 4. incremental compile (it rewrites the shards its changes fall in: the disk's speed just before is printed)
        name = "incremental"
        prof = logs / f"{name}.prof" if name in profiled else None
        disk = disk_write_speed(ws)
        m = measure(syllabus_cmd(ws, ["compile", "--json"], prof), logs, name)
        if m["rc"] != 0:
            result["incremental"] = m
            say(f"incremental compile FAILED (exit {m['rc']}):\n{m.get('error', '')}")
            return 1
        report = json.loads(Path(m["stdout_path"]).read_text())
        second = (ws / "build" / "latest").resolve()
        new_lines = example_ids(second)
        rerendered = set(new_lines) - set(old_lines)
        unit = f"concept:{cid}"
        with_dep = {e for e in rerendered if unit in json.loads(new_lines[e])["provenance"]["dependencies"]}
        kept_stale = old_deps & set(new_lines)  # a previous dependent carried over unchanged
        inc = {"wall_s": round(m["wall_s"], 3), "peak_rss_bytes": m["peak_rss_bytes"], "counts": report["counts"],
               "rendered": report["counts"]["rendered"], "new_ids": len(rerendered),
               "new_ids_depending_on_edit": len(with_dep), "previous_dependents": len(old_deps),
               "previous_dependents_kept": len(kept_stale), "build": second.name, "profiled": bool(prof),
               "disk_write_mb_s": disk}
        inc["shards_linked"], inc["shards_written"], inc["shard_bytes_written"] = shards_shared(first, second)
        inc["only_dependents"] = (len(with_dep) == len(rerendered) == inc["rendered"] == len(old_deps)
                                  and not kept_stale)
        inc["ok"] = inc["wall_s"] <= TARGETS["incremental_s"]
        result["incremental"] = inc
        say(f"incremental compile: {inc['wall_s']:.2f} s, peak RSS {gb(inc['peak_rss_bytes'])}, "
            f"{inc['rendered']} examples re-rendered; the disk wrote {disk:,.0f} MB/s just before "
            f"(256 MiB, synced); {inc['shards_written']} example shards written "
            f"({inc['shard_bytes_written'] / 1e6:,.0f} MB), {inc['shards_linked']} hard-linked to the previous build's"
            + ("  [profiled]" if prof else ""))
        say(f"  target <= 2 s: {ok(inc['ok'])}; re-rendered only the edited concept's dependents: "
            f"{ok(inc['only_dependents'])} ({len(rerendered)} new ids, {len(with_dep)} of them depend on {unit}; "
            f"{len(old_deps)} previous dependents, {len(kept_stale)} of them kept unchanged)")
        if prof:
            say(top_functions(prof))

        # 5. second clean compile of the same inputs
        if not args.skip_second_clean:
            clear_compile_state(ws2 / ".syllabus" / "store.db")  # nothing to clear: copied before compiling
            m = measure(syllabus_cmd(ws2, ["compile"]), logs, "clean2")
            if m["rc"] != 0:
                result["determinism"] = m
                say(f"second clean compile FAILED (exit {m['rc']}):\n{m.get('error', '')}")
                return 1
            other = (ws2 / "build" / "latest").resolve()
            a, b = sha256_examples(first), sha256_examples(other)
            det = {"wall_s": round(m["wall_s"], 2), "peak_rss_bytes": m["peak_rss_bytes"], "sha256_first": a,
                   "sha256_second": b, "identical": a == b}
            result["determinism"] = det
            verdict, op = ("IDENTICAL", "==") if a == b else ("DIFFERENT", "!=")
            say(f"second clean compile: {det['wall_s']:.1f} s, peak RSS {gb(det['peak_rss_bytes'])}; kept examples "
                f"{verdict} (sha256 {a[:16]}... {op} {b[:16]}...)")
        failed = False
    except Exception:
        failed = True
        raise
    finally:
        if args.json:
            print(json.dumps(result, indent=2, sort_keys=True))
        if tmp and not failed:
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp:
            print(f"(kept {tmp} for inspection)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
