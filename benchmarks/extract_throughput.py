"""Throughput of `syllabus ingest` + `syllabus extract` against plain spaCy on the same text.

What it measures
----------------
A deterministic slice of the Python documentation sources
(``../shared/data/corpora/python-docs``, 497 ``*.rst.txt`` files): files sorted by relative
path, taken whole until their raw (whitespace-split, markup included) word count reaches
``--words`` (default 200,000). A second, 50,000-word slice (a prefix of the first) is used for
the memory comparison (``--small-words``).

Every configuration runs in its own fresh child process (``python extract_throughput.py
child ...``), so each one starts cold and reports its own peak resident memory (``VmHWM`` of
``/proc/self/status`` read at the end of the child; ``ru_maxrss`` of children is not used, as
on Linux it can carry the parent's peak). Python start-up, imports and loading the spaCy model
(and, on the Syllabus side, the sentence-embedding model used by entity resolution and
wordfreq's frequency list used by termhood) happen before the clock starts, on both sides;
one tiny ``nlp.pipe`` call warms the pipeline up.

* ``spacy``: the baseline. The slice's files are read and chunked with Syllabus's own readers
  (``read_file`` + ``chunk_document`` with the default ``chunk_words``), *untimed*, and then
  ``nlp.pipe(texts, batch_size=64)`` is timed over all chunk texts, consuming every doc, in one
  process, with the model Syllabus uses loaded by plain spaCy (``spacy.load(name,
  exclude=["ner"])``, the first of ``DEFAULT_MODELS`` that is installed). So the ratio below is
  plain spaCy versus everything Syllabus does (reading, chunking, parsing, store writes, parse
  serialisation, term candidates, termhood, resolution, matching, patterns, evidence).
* ``spacy+ner``: the same with the full pipeline (``spacy.load(name)``, NER included); a second
  reference line only, not used for the targets.
* ``its pipeline``: the same timing with the pipeline object Syllabus parses with
  (``load_pipeline(None)``: the same model and components, NER excluded, but the attribute
  ruler finds its matches through a memoised lookup instead of spaCy's Matcher, with identical
  annotations; see ``syllabus.extract.nlp.FastRulerMatch``). A reference line only: the gap
  between it and ``syllabus -j1`` is what Syllabus adds around parsing.
* ``syllabus -jN``: a fresh temporary workspace (``syllabus.toml`` with one discipline
  ``python``, no ontology files, a SQLite store in the workspace) with the slice copied to
  ``corpora/python/``; the clock covers ``ingest`` in one transaction and ``extract(workers=N)``
  in a second one, both commits included, as ``syllabus ingest`` and ``syllabus extract -j N``
  run them (creating the empty store's schema is done before the clock). With N = 2 the parse
  stage runs in two spawned worker processes that import Syllabus and load the spaCy model
  themselves; that start-up is inside the timed window, as it is for the CLI.

Words are the whitespace-split words of the chunk texts (the same count on both sides; for
Syllabus it is the ingest report's ``words``). Per configuration the table gives words,
seconds, words/s, the ratio to the ``spacy`` baseline of the same slice, and peak RSS in MiB.
For ``-j2`` the main process's peak is given, and the sum of the peaks of its child processes
(the workers, sampled from ``/proc`` every 0.2 s while they run) is printed under the table.
Then the targets of the issue, each marked ok or MISS:

* Syllabus with one worker at >= 0.85 of the plain-spaCy words/s;
* Syllabus with two workers faster than with one;
* memory stays bounded: the peak RSS of ``-j1`` for 50 k and for 200 k words (reported; the
  growth from the small to the big slice is shown next to the growth in words).

Timings come from a single run of each configuration unless ``--runs`` asks for more (then the
configurations run round-robin, the fastest run of each is kept, and memory is the largest
peak). The load average before and after is printed,
as other work on the machine skews the figures. Note the CPU count in the header: two
workers can hardly beat one on a machine with fewer than three cores (the main process also
works while the workers parse). The script makes no assertions and exits 0; it prints a skip
message and exits 0 when the data folder is absent.

``--profile`` additionally runs ``syllabus -j1`` on the big slice under cProfile (in its own
child process) and prints the 25 most expensive functions by cumulative time.

How to run
----------
    .venv/bin/python benchmarks/extract_throughput.py
    .venv/bin/python benchmarks/extract_throughput.py --words 100000 --small-words 25000
    .venv/bin/python benchmarks/extract_throughput.py --runs 3   # round-robin, fastest of 3
    .venv/bin/python benchmarks/extract_throughput.py --json
    .venv/bin/python benchmarks/extract_throughput.py --profile
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = REPO.parent / "shared" / "data" / "corpora" / "python-docs"
TARGET_RATIO = 0.85
BATCH_SIZE = 64  # the [extract] batch_size default, used on both sides
WARMUP_TEXT = "Python is a programming language. A function returns a value."

WORKSPACE_TOML = """\
[store]
url = "sqlite:///.syllabus/store.db"

[[disciplines]]
name = "python"
prefix = "py"
iri = "https://example.org/python/"
corpora = ["corpora/python"]
"""


# ----------------------------------------------------------------------------- slices

def select_slice(root: Path, target_words: int) -> tuple[list[str], int]:
    """Relative paths of the files, in sorted order, taken whole until *target_words* raw words."""
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                   if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts))
    chosen, words = [], 0
    for rel in files:
        if words >= target_words:
            break
        words += len((root / rel).read_bytes().decode("utf-8", errors="replace").split())
        chosen.append(rel)
    return chosen, words


# ----------------------------------------------------------------------------- child side

def peak_rss_mib(pid: int | str = "self") -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class ChildPeaks:
    """Samples VmHWM of this process's descendants (the worker processes) while they live."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            try:
                children = me.children(recursive=True)
            except psutil.Error:
                children = []
            for child in children:
                value = peak_rss_mib(child.pid)
                if value is not None:
                    self.peaks[child.pid] = max(self.peaks.get(child.pid, 0.0), value)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False


def chunk_texts(root: Path, files: list[str]) -> list[str]:
    """The chunk texts Syllabus would store for *files* (files a reader rejects are skipped)."""
    from syllabus.config import IngestConfig
    from syllabus.corpus.chunking import chunk_document
    from syllabus.corpus.readers import read_file
    from syllabus.errors import SyllabusError

    cfg = IngestConfig()
    texts = []
    for rel in files:
        try:
            result = read_file(root / rel, shown=rel, jsonl_field=cfg.jsonl_field, max_bytes=cfg.max_file_bytes)
        except SyllabusError:
            continue
        texts += [span.text for span in chunk_document(result, cfg.chunk_words)]
    return texts


def child_spacy(spec: dict) -> dict:
    import spacy

    from syllabus.extract.nlp import DEFAULT_MODELS, DISABLED, load_pipeline

    root = Path(spec["root"])
    if spec.get("syllabus_pipeline"):
        nlp = load_pipeline(None)
    else:
        nlp = None
        for name in DEFAULT_MODELS:  # the model Syllabus picks, loaded by plain spaCy
            try:
                nlp = spacy.load(name) if spec["ner"] else spacy.load(name, exclude=list(DISABLED))
                break
            except OSError:
                continue
    texts = chunk_texts(root, spec["files"])  # untimed: the baseline times spaCy alone
    words = sum(len(t.split()) for t in texts)
    for _ in nlp.pipe([WARMUP_TEXT]):
        pass
    t0 = time.perf_counter()
    n_docs = 0
    for doc in nlp.pipe(texts, batch_size=BATCH_SIZE):
        n_docs += 1
    seconds = time.perf_counter() - t0
    return {"words": words, "seconds": seconds, "chunks": len(texts), "docs": n_docs,
            "pipes": list(nlp.pipe_names), "model": f"{nlp.meta['lang']}_{nlp.meta['name']}@{nlp.meta['version']}"}


def child_syllabus(spec: dict) -> dict:
    from syllabus.config import load_workspace
    from syllabus.corpus.ingest import ingest
    from syllabus.corpus.readers import read_file
    from syllabus.extract.embeddings import load_model
    from syllabus.extract.nlp import load_pipeline, model_id
    from syllabus.extract.run import extract
    from syllabus.store import open_store

    root = Path(spec["root"])
    workers = spec["workers"]
    tmp = Path(tempfile.mkdtemp(prefix="syllabus-bench-"))
    try:
        corpus = tmp / "corpora" / "python"
        for rel in spec["files"]:
            (corpus / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / rel, corpus / rel)
        (tmp / "syllabus.toml").write_text(WORKSPACE_TOML, encoding="utf-8")
        ws = load_workspace(tmp)
        # once-only start-up, outside the clock: the models, and the lazily imported reader
        nlp = load_pipeline(ws.config.extract.spacy_model)
        for _ in nlp.pipe([WARMUP_TEXT]):
            pass
        load_model(ws.config.extract.embedding_model).encode(["warm up"], show_progress_bar=False)
        read_file(corpus / spec["files"][0])
        from wordfreq import zipf_frequency  # termhood's general-English frequency list

        zipf_frequency("warm", "en")
        store = open_store(ws.store_url)  # creates the schema of the empty store
        profiler = None
        if spec.get("profile"):
            import cProfile

            profiler = cProfile.Profile()
        try:
            with ChildPeaks() as children:
                if profiler:
                    profiler.enable()
                t0 = time.perf_counter()
                with store.transaction() as session:
                    ingested = ingest(session, ws, "python")
                t1 = time.perf_counter()
                with store.transaction() as session:
                    extracted = extract(session, ws, ["python"], workers)[0]
                t2 = time.perf_counter()
                if profiler:
                    profiler.disable()
        finally:
            store.close()
        out = {"words": ingested.words, "seconds": t2 - t0, "ingest_s": t1 - t0, "extract_s": t2 - t1,
               "chunks": ingested.chunks, "documents": ingested.documents_added,
               "skipped": len(ingested.skipped), "model": model_id(nlp),
               "extract": extracted.to_dict(), "workers": workers,
               "children_peak_mib": round(sum(children.peaks.values()), 1) if children.peaks else None,
               "children": len(children.peaks)}
        if profiler:
            import io
            import pstats

            buf = io.StringIO()
            pstats.Stats(profiler, stream=buf).strip_dirs().sort_stats("cumulative").print_stats(25)
            out["profile"] = buf.getvalue()
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def child_main(spec_path: str, out_path: str) -> int:
    sys.path.insert(0, str(REPO / "src"))
    spec = json.loads(Path(spec_path).read_text())
    result = child_spacy(spec) if spec["kind"] == "spacy" else child_syllabus(spec)
    result["peak_rss_mib"] = peak_rss_mib()
    Path(out_path).write_text(json.dumps(result))
    return 0


# ----------------------------------------------------------------------------- parent side

def run_child(spec: dict, workdir: Path) -> dict:
    spec_path, out_path = workdir / "spec.json", workdir / "out.json"
    spec_path.write_text(json.dumps(spec))
    out_path.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONWARNINGS="ignore", TOKENIZERS_PARALLELISM="false")
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "child", str(spec_path), str(out_path)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0 or not out_path.exists():
        return {"error": f"child exited {proc.returncode}: {proc.stderr.strip()[-2000:]}"}
    return json.loads(out_path.read_text())


def best_of(results: list[dict]) -> dict:
    ok = [r for r in results if "error" not in r]
    if not ok:
        return results[0]
    best = min(ok, key=lambda r: r["seconds"])
    best = dict(best, peak_rss_mib=max(r["peak_rss_mib"] or 0 for r in ok), runs=len(ok),
                all_seconds=[round(r["seconds"], 3) for r in ok])
    return best


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["child"]:
        return child_main(argv[1], argv[2])
    parser = argparse.ArgumentParser(description="Syllabus ingest+extract vs plain spaCy (see the module docstring).")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help=f"corpus folder (default {DEFAULT_ROOT})")
    parser.add_argument("--words", type=int, default=200_000, help="raw words of the big slice (default 200000)")
    parser.add_argument("--small-words", type=int, default=50_000,
                        help="raw words of the small slice, for the memory comparison (default 50000)")
    parser.add_argument("--runs", type=int, default=1, help="runs per configuration, fastest kept (default 1)")
    parser.add_argument("--profile", action="store_true",
                        help="also profile syllabus -j1 on the big slice (cProfile, top 25 cumulative)")
    parser.add_argument("--json", action="store_true", help="print machine-readable results only")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.words < 1 or args.small_words < 1:
        parser.error("--runs, --words and --small-words must be >= 1")
    if not args.root.is_dir():
        print(f"extract_throughput: skipped, no corpus folder at {args.root} "
              "(the shared data set is not present on this machine)")
        return 0

    wall0 = time.perf_counter()
    load_before = os.getloadavg()
    big_files, big_raw = select_slice(args.root, args.words)
    small_files, small_raw = select_slice(args.root, args.small_words)
    slices = {"big": (big_files, big_raw), "small": (small_files, small_raw)}
    configs = [  # (key, label, slice, spec)
        ("spacy_big", "spacy (no NER)", "big", {"kind": "spacy", "ner": False}),
        ("spacy_ner_big", "spacy + NER (ref.)", "big", {"kind": "spacy", "ner": True}),
        ("spacy_syl_big", "its pipeline (ref.)", "big", {"kind": "spacy", "ner": False, "syllabus_pipeline": True}),
        ("syllabus_j1_big", "syllabus -j1", "big", {"kind": "syllabus", "workers": 1}),
        ("syllabus_j2_big", "syllabus -j2", "big", {"kind": "syllabus", "workers": 2}),
        ("spacy_small", "spacy (no NER)", "small", {"kind": "spacy", "ner": False}),
        ("syllabus_j1_small", "syllabus -j1", "small", {"kind": "syllabus", "workers": 1}),
    ]
    with tempfile.TemporaryDirectory(prefix="syllabus-bench-ctl-") as tmp:
        runs: dict[str, list[dict]] = {key: [] for key, *_ in configs}
        for i in range(args.runs):  # round-robin, so that a slow spell affects every configuration alike
            for key, label, which, spec in configs:
                files, _ = slices[which]
                if not args.json:
                    print(f"  run {i + 1}/{args.runs}: {label} on {which} slice ({len(files)} files) ...",
                          file=sys.stderr, flush=True)
                runs[key].append(run_child(dict(spec, root=str(args.root), files=files), Path(tmp)))
        results = {key: best_of(found) for key, found in runs.items()}
        profile = None
        if args.profile:
            if not args.json:
                print("  profiling syllabus -j1 on big slice ...", file=sys.stderr, flush=True)
            profile = run_child({"kind": "syllabus", "workers": 1, "profile": True, "root": str(args.root),
                                 "files": big_files}, Path(tmp))
    wall = time.perf_counter() - wall0
    load_after = os.getloadavg()

    rows = []
    for key, label, which, _ in configs:
        r = results[key]
        base = results["spacy_big" if which == "big" else "spacy_small"]
        if "error" in r:
            rows.append({"key": key, "config": label, "slice": which, "error": r["error"]})
            continue
        wps = r["words"] / r["seconds"]
        ratio = wps / (base["words"] / base["seconds"]) if "error" not in base else None
        rows.append({"key": key, "config": label, "slice": which, "files": len(slices[which][0]),
                     "raw_words": slices[which][1], "words": r["words"], "seconds": round(r["seconds"], 3),
                     "words_per_s": round(wps, 1), "ratio": None if ratio is None else round(ratio, 3),
                     "peak_rss_mib": None if r["peak_rss_mib"] is None else round(r["peak_rss_mib"], 1),
                     **{k: r[k] for k in ("ingest_s", "extract_s", "chunks", "children", "children_peak_mib", "extract",
                                          "model", "all_seconds") if k in r}})
    by_key = {row["key"]: row for row in rows}

    def get(key, field):
        row = by_key.get(key, {})
        return row.get(field)

    r1, r2 = get("syllabus_j1_big", "ratio"), get("syllabus_j2_big", "words_per_s")
    w1 = get("syllabus_j1_big", "words_per_s")
    m_small, m_big = get("syllabus_j1_small", "peak_rss_mib"), get("syllabus_j1_big", "peak_rss_mib")
    targets = {
        "j1_ratio": {"value": r1, "target": TARGET_RATIO, "ok": r1 is not None and r1 >= TARGET_RATIO},
        "j2_faster_than_j1": {"j1": w1, "j2": r2, "ok": None not in (w1, r2) and r2 > w1},
        "memory": {"small_peak_mib": m_small, "big_peak_mib": m_big,
                   "small_words": get("syllabus_j1_small", "words"), "big_words": get("syllabus_j1_big", "words")},
    }
    meta = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "root": str(args.root), "batch_size": BATCH_SIZE, "runs": args.runs, "wall_s": round(wall, 1),
            "model": get("spacy_big", "model"), "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in load_after]}
    if args.json:
        out = {"meta": meta, "rows": rows, "targets": targets}
        if profile is not None:
            out["profile"] = profile.get("profile") or profile.get("error")
        print(json.dumps(out, indent=2))
        return 0

    print(f"extract_throughput: {args.root} | model {meta['model']} (batch_size {BATCH_SIZE}) | "
          f"Python {meta['python']} | {meta['cpus']} CPUs | runs {args.runs}")
    print(f"  big slice: {len(big_files)} files, {big_raw:,} raw words; "
          f"small slice: {len(small_files)} files, {small_raw:,} raw words")
    header = f"  {'configuration':<20} {'slice':<6} {'words':>8} {'seconds':>9} {'words/s':>9} {'ratio':>6} {'peak RSS':>10}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    for row in rows:
        if "error" in row:
            print(f"  {row['config']:<20} {row['slice']:<6} ERROR {row['error']}")
            continue
        ratio = f"{row['ratio']:.3f}" if row["ratio"] is not None else "-"
        print(f"  {row['config']:<20} {row['slice']:<6} {row['words']:>8,} {row['seconds']:>9.2f} "
              f"{row['words_per_s']:>9,.0f} {ratio:>6} {row['peak_rss_mib']:>7.0f} MiB")
    print("  ratio: words/s over plain spaCy (same pipeline, NER excluded) on the same slice; "
          "syllabus time = ingest + extract, both commits included")
    if args.runs > 1:
        for row in rows:
            if "all_seconds" in row:
                print(f"  {row['config']} {row['slice']}: seconds of each run "
                      + ", ".join(f"{x:.2f}" for x in row["all_seconds"]))
    for row in rows:
        if "ingest_s" in row:
            x = row["extract"]
            extra = (f"; its {row.get('children')} child processes not in peak RSS, their peaks sum to "
                     f"{row['children_peak_mib']:.0f} MiB" if row.get("children_peak_mib") else "")
            print(f"  {row['config']} {row['slice']}: ingest {row['ingest_s']:.2f} s, extract {row['extract_s']:.2f} s; "
                  f"{row['chunks']} chunks, +{x['concepts_added']} concepts, +{x['relations_added']} relations, "
                  f"{x['evidence']} evidence, {x['mentions']} mentions{extra}")
    if by_key.get("syllabus_j2_big", {}).get("seconds") is not None:
        print("  -j2 includes starting 2 spawned workers that import Syllabus and load the spaCy model")
    print()
    mark = lambda ok: "ok" if ok else "MISS"  # noqa: E731
    t = targets
    print(f"  target: syllabus -j1 >= {TARGET_RATIO} of plain spaCy: "
          f"{'n/a' if r1 is None else f'{r1:.3f}'} -> {mark(t['j1_ratio']['ok'])}")
    print(f"  target: syllabus -j2 faster than -j1: "
          f"{'n/a' if r2 is None else f'{r2:,.0f}'} vs {'n/a' if w1 is None else f'{w1:,.0f}'} words/s "
          f"-> {mark(t['j2_faster_than_j1']['ok'])}")
    if None not in (m_small, m_big):
        ws_, wb = t["memory"]["small_words"], t["memory"]["big_words"]
        print(f"  memory: syllabus -j1 peak RSS {m_small:.0f} MiB at {ws_:,} words, {m_big:.0f} MiB at {wb:,} words "
              f"(words x{wb / ws_:.2f}, peak RSS x{m_big / m_small:.2f}, +{m_big - m_small:.0f} MiB)")
    print(f"  wall time {wall:.0f} s; load average (1/5/15 min) before {load_before[0]:.2f}/{load_before[1]:.2f}/"
          f"{load_before[2]:.2f}, after {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} "
          "(other work on the machine skews the figures)")
    if profile is not None:
        print()
        print("  cProfile of syllabus -j1 on the big slice (top 25 by cumulative time; profiler overhead included):")
        print(profile.get("profile") or profile.get("error"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
