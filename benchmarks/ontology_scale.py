"""Scale benchmark for `syllabus ontology import` / `export` on a large synthetic ontology.

What it measures
----------------
A deterministic (seeded) ontology of N classes (default 50,000) with 2*N edges and 2*N synonyms
is generated twice, once as an OBO 1.4 flat file and once as OWL/SKOS Turtle, both describing
exactly the same graph:

* every class has a label (``name:`` / ``rdfs:label``), a definition (``def:`` /
  ``skos:definition``) and a namespace (``namespace:`` / ``oboInOwl:hasOBONamespace``);
* edges are ``is_a`` to an earlier class (so the is_a graph has no cycles; every class but the
  first has one, some have a second), ``part_of`` to an earlier class (OBO
  ``relationship: part_of``, Turtle a someValuesFrom restriction on
  ``http://purl.obolibrary.org/obo/BFO_0000050``) and ``causes`` to any other class (OBO
  ``relationship: causes``, Turtle a restriction on ``https://w3id.org/syllabus/vocab#causes``);
* synonyms have mixed scopes: EXACT, RELATED, NARROW, BROAD, alternative labels and
  abbreviations (OBO ``synonym: "..." SCOPE [TYPE] []``; Turtle ``oboInOwl:has*Synonym``,
  ``skos:altLabel``, ``syl:abbreviation``).

For each of the two files, in its own fresh SQLite workspace, these steps run one after the other,
each in a fresh child process (``python ontology_scale.py _step ...``), so that steps cannot
inflate each other's peak memory. The peak reported is the child's own high-water mark: on Linux
``VmHWM`` from /proc/self/status, because Linux carries the parent's peak RSS over fork/exec into
a child's ``getrusage(RUSAGE_SELF).ru_maxrss`` (that figure is still recorded as
``ru_maxrss_bytes`` in ``--json``); elsewhere ``ru_maxrss``. The parent stays small anyway: the
generation and the store checks run in child processes too.

1. ``create store``       -- open_store() on an empty database (runs the migrations); not a target;
2. ``import``             -- import_file() into the empty store (parse + insert + commit);
3. ``re-import``          -- import_file() of the unchanged file (default path: skipped by sha256);
4. ``re-import --force``  -- import_file(force=True): full re-parse and diff, must change nothing;
5. ``export ttl`` / ``export obo`` -- export.render() + fileio.write_atomic() of the discipline.

The time of a step is measured inside the child around the library calls (opening the store and
the commit included, interpreter start-up and the top-level ``syllabus`` imports excluded; the
readers' lazy imports of rdflib/obonet are included because the CLI pays them too). The parent
also records each child's whole wall time (``process_wall_s`` in ``--json``).

After the import the store is checked against the generated model (counts, and a digest of the
concept, label and relation rows), and the OBO and Turtle stores are compared with each other.

Targets printed next to the figures: import <= 30 s per file, re-import of the unchanged file
<= 10 s (shown for the hash-skip path and, read strictly, for the forced re-import as well), peak
memory <= 2 GB (2,000,000,000 bytes) for every step. The script makes no timing assertions: it
exits 0 whatever the figures are, and 1 only when a step fails outright (an exception in a child).

How to run
----------
    .venv/bin/python benchmarks/ontology_scale.py                   # full scale, a few minutes
    .venv/bin/python benchmarks/ontology_scale.py --classes 2000    # quick run (edges/synonyms scale)
    .venv/bin/python benchmarks/ontology_scale.py --json            # machine-readable results only
    .venv/bin/python benchmarks/ontology_scale.py --keep benchmarks/out/scale   # keep files and stores
    .venv/bin/python benchmarks/ontology_scale.py --formats ttl --profile import   # cProfile a step

``--out DIR`` is a synonym of ``--keep DIR``. Without either, everything happens in a temporary
folder that is deleted at the end. ``--profile STEP[,STEP]`` runs those steps under cProfile
(their times are then inflated and marked as profiled) and prints the top functions by
cumulative time.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DISCIPLINE = "bench"
PREFIX = "BENCH"
NAMESPACE_IRI = "http://purl.obolibrary.org/obo/BENCH_"
ONTOLOGY_IRI = "http://purl.obolibrary.org/obo/BENCH"

IMPORT_TARGET_S = 30.0
REIMPORT_TARGET_S = 10.0
PEAK_TARGET_BYTES = 2_000_000_000

STEPS = ("create", "import", "reimport", "force", "export-ttl", "export-obo")
STEP_TITLES = {
    "create": "create store (migrations)",
    "import": "import (empty store)",
    "reimport": "re-import unchanged (hash skip)",
    "force": "re-import --force (parse+diff)",
    "export-ttl": "export ttl (render+write)",
    "export-obo": "export obo (render+write)",
}
TIME_TARGETS = {"import": IMPORT_TARGET_S, "reimport": REIMPORT_TARGET_S, "force": REIMPORT_TARGET_S}
RESULT_MARK = "@@ontology_scale_result "

# Synonym kinds with their weights, OBO spelling (scope + optional type) and RDF property.
SYNONYM_KINDS = {
    "exact": (40, "EXACT", "oboInOwl:hasExactSynonym"),
    "related": (20, "RELATED", "oboInOwl:hasRelatedSynonym"),
    "narrow": (10, "NARROW", "oboInOwl:hasNarrowSynonym"),
    "broad": (10, "BROAD", "oboInOwl:hasBroadSynonym"),
    "alt": (15, "EXACT ALT", "skos:altLabel"),
    "abbreviation": (5, "EXACT ABBREVIATION", "syl:abbreviation"),
}
NAMESPACES = ("quantity", "process", "structure", "property", "law", "field", "system")
# Extra (non-spanning-tree) edges: predicate -> weight.
EXTRA_EDGE_WEIGHTS = {"is_a": 20, "part_of": 40, "causes": 40}
SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pha", "tro", "gen", "cel", "mor", "dyn",
             "lum", "ther", "bi", "cy", "ox", "qua", "sta", "pol", "ion", "ent", "ar", "ul", "is", "em")
SPECIAL_WORDS = ("naïve", "µ-meson", "Schrödinger's", "Ångström", "Newton's", "α-helix", "cell's")


# --------------------------------------------------------------------------------------------
# The synthetic ontology
# --------------------------------------------------------------------------------------------

@dataclass
class Klass:
    index: int
    label: str
    definition: str
    namespace: str
    synonyms: list[tuple[str, str]] = field(default_factory=list)  # (kind, text)
    edges: list[tuple[str, int]] = field(default_factory=list)     # (predicate, target index)


def class_id(index: int) -> str:
    return f"{PREFIX}:{index + 1:07d}"


def _words(rng: random.Random, count: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            out.append(word)
    return out


def _pick_weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def build_model(n_classes: int, n_edges: int, n_synonyms: int, seed: int) -> list[Klass]:
    """The deterministic ontology: classes with labels, definitions, synonyms and edges."""
    rng = random.Random(seed)
    words = _words(rng, 3000)
    classes: list[Klass] = []
    for i in range(n_classes):
        label = " ".join(rng.sample(words, rng.randint(1, 3)))
        body = [rng.choice(words) for _ in range(rng.randint(10, 25))]
        roll = rng.random()
        if roll < 0.02:
            body[rng.randrange(len(body))] = rng.choice(SPECIAL_WORDS)
        elif roll < 0.03:
            body.insert(rng.randrange(len(body)), f'"so-called {rng.choice(words)}"')
        if len(body) > 12 and rng.random() < 0.3:
            body[6] += ","
        definition = f"{body[0].capitalize()} {' '.join(body[1:])} (class {i + 1})."
        classes.append(Klass(i, label, definition, rng.choice(NAMESPACES)))

    # Synonyms: spread over random classes, unique per class.
    kind_weights = {k: w for k, (w, _, _) in SYNONYM_KINDS.items()}
    made = 0
    while made < n_synonyms:
        klass = classes[rng.randrange(n_classes)]
        kind = _pick_weighted(rng, kind_weights)
        if kind == "abbreviation":
            text = "".join(w[0] for w in rng.sample(words, rng.randint(2, 4))).upper() + str(rng.randint(1, 99))
        else:
            text = " ".join(rng.sample(words, rng.randint(1, 3)))
        if (kind, text) in klass.synonyms or text == klass.label:
            continue
        klass.synonyms.append((kind, text))
        made += 1

    # Edges: a spanning is_a tree to earlier classes, then extra is_a / part_of / causes.
    keys: set[tuple[int, str, int]] = set()

    def add(subject: int, predicate: str, target: int) -> bool:
        key = (subject, predicate, target)
        if subject == target or key in keys:
            return False
        keys.add(key)
        classes[subject].edges.append((predicate, target))
        return True

    for i in range(1, min(n_classes, n_edges + 1)):
        add(i, "is_a", rng.randrange(i))
    while len(keys) < n_edges:
        predicate = _pick_weighted(rng, EXTRA_EDGE_WEIGHTS)
        subject = rng.randrange(1, n_classes)
        target = rng.randrange(subject) if predicate in ("is_a", "part_of") else rng.randrange(n_classes)
        add(subject, predicate, target)
    for klass in classes:
        klass.synonyms.sort()
        klass.edges.sort()
    return classes


def _quoted(text: str) -> str:
    """A double-quoted string as both OBO and Turtle write it (backslash escapes)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write_obo(classes: list[Klass], path: Path) -> None:
    scope = {k: s for k, (_, s, _) in SYNONYM_KINDS.items()}
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("format-version: 1.4\nontology: syllabus/bench\ndefault-namespace: bench\n"
                 'synonymtypedef: ALT "alternative label"\nsynonymtypedef: ABBREVIATION "abbreviation"\n'
                 "remark: Synthetic ontology generated by benchmarks/ontology_scale.py.\n\n")
        for k in classes:
            lines = ["[Term]", f"id: {class_id(k.index)}", f"name: {k.label}", f"namespace: {k.namespace}",
                     f"def: {_quoted(k.definition)} []"]
            lines += [f"synonym: {_quoted(text)} {scope[kind]} []" for kind, text in k.synonyms]
            for predicate, target in k.edges:
                comment = f" ! {classes[target].label}"
                if predicate == "is_a":
                    lines.append(f"is_a: {class_id(target)}{comment}")
                else:
                    lines.append(f"relationship: {predicate} {class_id(target)}{comment}")
            fh.write("\n".join(lines) + "\n\n")
        fh.write("[Typedef]\nid: part_of\nname: part of\nxref: BFO:0000050\nis_transitive: true\n\n"
                 "[Typedef]\nid: causes\nname: causes\n")


def write_turtle(classes: list[Klass], path: Path) -> None:
    prop = {k: p for k, (_, _, p) in SYNONYM_KINDS.items()}
    restriction = {"part_of": "obo:BFO_0000050", "causes": "syl:causes"}
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(f"@prefix {PREFIX}: <{NAMESPACE_IRI}> .\n"
                 "@prefix syl: <https://w3id.org/syllabus/vocab#> .\n"
                 "@prefix obo: <http://purl.obolibrary.org/obo/> .\n"
                 "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
                 "@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .\n"
                 "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
                 "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
                 "@prefix oboInOwl: <http://www.geneontology.org/formats/oboInOwl#> .\n\n"
                 f"<{ONTOLOGY_IRI}> a owl:Ontology ;\n"
                 '    rdfs:label "Synthetic ontology generated by benchmarks/ontology_scale.py" .\n\n'
                 'obo:BFO_0000050 a owl:ObjectProperty ;\n    rdfs:label "part of" .\n\n'
                 'syl:causes a owl:ObjectProperty ;\n    rdfs:label "causes" .\n\n')
        for k in classes:
            body = ["a owl:Class", f"rdfs:label {_quoted(k.label)}", f"skos:definition {_quoted(k.definition)}",
                    f"oboInOwl:hasOBONamespace {_quoted(k.namespace)}"]
            body += [f"{prop[kind]} {_quoted(text)}" for kind, text in k.synonyms]
            for predicate, target in k.edges:
                if predicate == "is_a":
                    body.append(f"rdfs:subClassOf {class_id(target)}")
                else:
                    body.append(f"rdfs:subClassOf [ a owl:Restriction ; owl:onProperty {restriction[predicate]} ; "
                                f"owl:someValuesFrom {class_id(target)} ]")
            fh.write(f"{class_id(k.index)} " + " ;\n    ".join(body) + " .\n\n")


# --------------------------------------------------------------------------------------------
# Store content checks (stdlib sqlite3, outside the measured steps)
# --------------------------------------------------------------------------------------------

def _digest(rows) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update(json.dumps(row, ensure_ascii=False).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def expected_content(classes: list[Klass]) -> dict:
    concepts = [[class_id(k.index), DISCIPLINE, k.label, k.definition, k.namespace, "ontology", "active"]
                for k in classes]
    labels = sorted([class_id(k.index), kind, text] for k in classes
                    for kind, text in [("pref", k.label), *k.synonyms])
    relations = sorted([class_id(k.index), p, class_id(t), "ontology", "asserted"] for k in classes for p, t in k.edges)
    return {"concepts": len(concepts), "labels": len(labels), "relations": len(relations),
            "digest": _digest([["C", *r] for r in concepts] + [["L", *r] for r in labels]
                              + [["R", *r] for r in relations])}


def store_content(db_path: Path) -> dict:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        concepts = [list(r) for r in conn.execute(
            "SELECT id, discipline, pref_label, definition, type, origin, status FROM concept ORDER BY id")]
        labels = [list(r) for r in conn.execute("SELECT concept_id, kind, text FROM label")]
        relations = [list(r) for r in conn.execute(
            "SELECT subject_id, predicate, object_id, origin, status FROM relation")]
    finally:
        conn.close()
    labels.sort()
    relations.sort()
    return {"concepts": len(concepts), "labels": len(labels), "relations": len(relations),
            "digest": _digest([["C", *r] for r in concepts] + [["L", *r] for r in labels]
                              + [["R", *r] for r in relations])}


# --------------------------------------------------------------------------------------------
# Child process: one measured step
# --------------------------------------------------------------------------------------------

def _ru_maxrss_bytes() -> int:
    import resource

    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value if sys.platform == "darwin" else value * 1024


def _peak_rss_bytes() -> int:
    """This process's own peak resident set size.

    On Linux this is ``VmHWM`` from /proc/self/status: the high-water mark of this process's own
    address space. ``ru_maxrss`` is not used there because Linux carries the parent's peak RSS
    over fork/exec into the child's ``ru_maxrss``, so a child of a big parent would look big.
    Elsewhere ``ru_maxrss`` is the best there is (the parent keeps itself small to limit that).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return _ru_maxrss_bytes()


def run_step_in_child(spec: dict) -> dict:
    """Executed in the child process: do one step and return its measurements."""
    from syllabus.config import load_workspace
    from syllabus.fileio import write_atomic
    from syllabus.ontology.export import render
    from syllabus.ontology.sync import import_file
    from syllabus.store import open_store

    step = spec["step"]
    root = Path(spec["root"])
    result: dict = {"step": step, "rss_before_bytes": _peak_rss_bytes()}
    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.perf_counter()
    ws = load_workspace(root)
    st = open_store(ws.store_url)
    try:
        if step == "create":
            pass  # open_store() above migrated the empty database
        elif step in ("import", "reimport", "force"):
            with st.transaction() as session:
                report = import_file(session, ws, DISCIPLINE, Path(spec["file"]), force=(step == "force"))
            result["report"] = report.to_dict()
            result["report_changed"] = report.changed
        elif step.startswith("export-"):
            fmt = step.split("-", 1)[1]
            t_render = time.perf_counter()
            with st.transaction() as session:
                text = render(session, ws, DISCIPLINE, fmt)
            t_write = time.perf_counter()
            out = root / "export" / f"{DISCIPLINE}.{fmt}"
            write_atomic(out, text)
            result["render_s"] = t_write - t_render
            result["write_s"] = time.perf_counter() - t_write
            result["export_bytes"] = out.stat().st_size
            result["export_path"] = str(out)
        else:
            raise ValueError(f"unknown step {step}")
    finally:
        st.close()
    result["time_s"] = time.perf_counter() - t0
    if profiler is not None:
        import io
        import pstats

        profiler.disable()
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(spec.get("profile_top", 15))
        result["profile"] = buf.getvalue()
    result["peak_rss_bytes"] = _peak_rss_bytes()
    result["ru_maxrss_bytes"] = _ru_maxrss_bytes()
    return result


def run_helper_in_child(spec: dict) -> dict:
    """Unmeasured work kept out of the parent (so the parent stays small): generate, check."""
    if spec["step"] == "generate":
        t0 = time.perf_counter()
        classes = build_model(spec["classes"], spec["edges"], spec["synonyms"], spec["seed"])
        files = {}
        for fmt, path in spec["paths"].items():
            (write_obo if fmt == "obo" else write_turtle)(classes, Path(path))
            files[fmt] = {"path": path, "bytes": Path(path).stat().st_size,
                          "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()}
        elapsed = time.perf_counter() - t0
        return {"time_s": elapsed, "files": files, "expected": expected_content(classes),
                "peak_rss_bytes": _peak_rss_bytes()}
    if spec["step"] == "check":
        return store_content(Path(spec["db"]))
    raise ValueError(f"unknown helper step {spec['step']}")


def _child_main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    result = run_helper_in_child(spec) if spec["step"] in ("generate", "check") else run_step_in_child(spec)
    sys.stdout.write(RESULT_MARK + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


def launch_step(spec: dict, timeout: float) -> dict:
    """Run one step in a fresh interpreter; return its result (or an error)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "_step", json.dumps(spec)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"step": spec["step"], "error": f"timed out after {timeout:.0f} s",
                "process_wall_s": time.perf_counter() - t0}
    wall = time.perf_counter() - t0
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK):])
            result["process_wall_s"] = wall
            return result
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
    return {"step": spec["step"], "error": f"exit code {proc.returncode}: " + "\n".join(tail),
            "process_wall_s": wall}


# --------------------------------------------------------------------------------------------
# Parent: generate, run the steps, report
# --------------------------------------------------------------------------------------------

def make_workspace(root: Path, source: Path) -> Path:
    """A fresh workspace at *root* whose one discipline declares a copy of *source*."""
    if root.exists():
        shutil.rmtree(root)
    (root / "ontologies").mkdir(parents=True)
    target = root / "ontologies" / source.name
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    (root / "syllabus.toml").write_text(
        '[store]\nurl = "sqlite:///.syllabus/store.db"\n\n'
        f'[[disciplines]]\nname = "{DISCIPLINE}"\nprefix = "{PREFIX}"\niri = "{NAMESPACE_IRI}"\n'
        f'ontologies = ["ontologies/{source.name}"]\n', encoding="utf-8")
    return target


def _log(quiet: bool, message: str) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def _mb(n: float | None) -> str:
    return "-" if n is None else f"{n / 1e6:,.0f} MB"


def _verdict(step_result: dict) -> str:
    if "error" in step_result:
        return "FAILED"
    over = []
    target = TIME_TARGETS.get(step_result["step"])
    if target is not None and step_result["time_s"] > target:
        over.append("time")
    if step_result["peak_rss_bytes"] > PEAK_TARGET_BYTES:
        over.append("memory")
    flag = "OVER (" + ", ".join(over) + ")" if over else "ok"
    return flag + (" [profiled]" if step_result.get("profiled") else "")


def print_table(results: dict) -> None:
    cfg = results["config"]
    print(f"ontology_scale: {cfg['classes']:,} classes, {cfg['edges']:,} edges, {cfg['synonyms']:,} synonyms "
          f"(seed {cfg['seed']})")
    env = results["environment"]
    print(f"python {env['python']}, SQLite {env['sqlite']}, {env['cpus']} CPUs, {env['platform']}")
    gen = results["generate"]
    print(f"generated in {gen['time_s']:.1f} s: " + ", ".join(
        f"{Path(f['path']).name} {f['bytes'] / 1e6:.1f} MB" for f in gen["files"].values()))
    print()
    header = ("file", "step", "time", "target", "peak RSS", "target", "result")
    rows = []
    for fmt, data in results["files"].items():
        for step in STEPS:
            r = data["steps"].get(step)
            if r is None:
                continue
            target = TIME_TARGETS.get(step)
            if "error" in r:
                rows.append((fmt, STEP_TITLES[step], "-", "-", "-", "-", "FAILED"))
                continue
            rows.append((fmt, STEP_TITLES[step], f"{r['time_s']:.2f} s",
                         f"<= {target:.0f} s" if target else "-", _mb(r["peak_rss_bytes"]),
                         f"<= {PEAK_TARGET_BYTES / 1e9:.0f} GB", _verdict(r)))
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    align = ["<", "<", ">", "<", ">", "<", "<"]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(f"{str(c):{a}{w}}" for c, a, w in zip(row, align, widths)).rstrip())
    print()
    for fmt, data in results["files"].items():
        for step in STEPS:
            r = data["steps"].get(step)
            if r and "error" in r:
                print(f"{fmt} {step} FAILED: {r['error']}")
        imp = data["steps"].get("import", {})
        rep = imp.get("report")
        if rep:
            print(f"{fmt} import: +{rep['concepts_added']:,} concepts, +{rep['relations_added']:,} relations, "
                  f"+{rep['externals_added']:,} external stubs")
        re_ = data["steps"].get("reimport", {})
        if "report" in re_:
            print(f"{fmt} re-import: skipped as unchanged = {re_['report']['unchanged_file']}")
        fr = data["steps"].get("force", {})
        if "report" in fr:
            changes = {k: v for k, v in fr["report"].items()
                       if isinstance(v, int) and not isinstance(v, bool) and v}
            print(f"{fmt} re-import --force: changed nothing = {not fr['report_changed']}"
                  + (f" (changes: {changes})" if changes else ""))
        for step in ("export-ttl", "export-obo"):
            r = data["steps"].get(step)
            if r and "error" not in r:
                print(f"{fmt} {step}: render {r['render_s']:.2f} s + write {r['write_s']:.2f} s, "
                      f"{r['export_bytes'] / 1e6:.1f} MB")
        chk = data.get("check")
        if chk:
            exp = results["expected"]
            print(f"{fmt} store: {chk['concepts']:,} concepts, {chk['labels']:,} labels, {chk['relations']:,} relations "
                  f"(expected {exp['concepts']:,} / {exp['labels']:,} / {exp['relations']:,}); "
                  f"content matches generated model = {chk['digest'] == exp['digest']}")
    if "stores_identical" in results:
        print(f"obo and ttl stores identical: {results['stores_identical']}")
    if "exports_identical" in results:
        print("exports from the obo and ttl stores byte-identical: " + ", ".join(
            f"{fmt} {same}" for fmt, same in results["exports_identical"].items()))
    for fmt, data in results["files"].items():
        for step in STEPS:
            r = data["steps"].get(step)
            if r and r.get("profile"):
                print(f"\n--- cProfile {fmt} {step} (top by cumulative time) ---\n{r['profile'].rstrip()}")
    print(f"\npeak RSS = the step's own child process (Linux VmHWM); the parent itself peaked at "
          f"{_mb(results['parent_peak_rss_bytes'])}")
    print(f"total wall time {results['total_wall_s']:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Scale benchmark for syllabus ontology import/export "
                                                 "(see the module docstring).")
    parser.add_argument("--classes", type=int, default=50_000,
                        help="number of classes (default 50,000); edges and synonyms are 2x this")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the generator (default 1)")
    parser.add_argument("--json", action="store_true", help="print machine-readable results only")
    parser.add_argument("--keep", "--out", dest="keep", metavar="DIR",
                        help="generate into DIR and keep files, stores and exports (default: a temp folder, deleted)")
    parser.add_argument("--formats", default="obo,ttl", help="which files to benchmark: obo,ttl (default both)")
    parser.add_argument("--profile", default="", metavar="STEP[,STEP]",
                        help=f"run these steps under cProfile (times inflated): {', '.join(STEPS)}")
    parser.add_argument("--profile-top", type=int, default=15, help="functions shown per profile (default 15)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed per step (default 1800)")
    args = parser.parse_args(argv)
    if args.classes < 10:
        parser.error("--classes must be at least 10")
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if not formats or any(f not in ("obo", "ttl") for f in formats):
        parser.error("--formats takes obo, ttl or obo,ttl")
    profiled = {s.strip() for s in args.profile.split(",") if s.strip()}
    if profiled - set(STEPS):
        parser.error(f"--profile takes steps among {', '.join(STEPS)}")

    t_start = time.perf_counter()
    quiet = args.json
    n, n_edges, n_syn = args.classes, 2 * args.classes, 2 * args.classes
    if args.keep:
        base = Path(args.keep).resolve()
        base.mkdir(parents=True, exist_ok=True)
        cleanup = None
    else:
        cleanup = tempfile.TemporaryDirectory(prefix="syllabus-ontology-scale-")
        base = Path(cleanup.name)

    failed = False
    try:
        results: dict = {
            "config": {"classes": n, "edges": n_edges, "synonyms": n_syn, "seed": args.seed, "formats": formats,
                       "profiled_steps": sorted(profiled), "dir": str(base) if args.keep else None},
            "targets": {"import_s": IMPORT_TARGET_S, "reimport_unchanged_s": REIMPORT_TARGET_S,
                        "peak_rss_bytes": PEAK_TARGET_BYTES},
            "environment": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                            "cpus": os.cpu_count(), "platform": platform.platform()},
        }
        _log(quiet, f"generating {n:,} classes, {n_edges:,} edges, {n_syn:,} synonyms into {base} ...")
        files_dir = base / "files"
        files_dir.mkdir(parents=True, exist_ok=True)
        paths = {"obo": files_dir / f"{DISCIPLINE}.obo", "ttl": files_dir / f"{DISCIPLINE}.ttl"}
        gen = launch_step({"step": "generate", "classes": n, "edges": n_edges, "synonyms": n_syn, "seed": args.seed,
                           "paths": {f: str(paths[f]) for f in formats}}, args.timeout)
        if "error" in gen:
            raise SystemExit(f"generating the ontology failed: {gen['error']}")
        results["expected"] = gen.pop("expected")
        results["generate"] = gen

        results["files"] = {}
        for fmt in formats:
            root = base / f"ws-{fmt}"
            file = make_workspace(root, paths[fmt])
            data: dict = {"workspace": str(root), "steps": {}}
            results["files"][fmt] = data
            for step in STEPS:
                spec = {"step": step, "root": str(root), "file": str(file),
                        "profile": step in profiled, "profile_top": args.profile_top}
                _log(quiet, f"[{fmt}] {STEP_TITLES[step]} ...")
                r = launch_step(spec, args.timeout)
                r["profiled"] = step in profiled
                data["steps"][step] = r
                if "error" in r:
                    failed = True
                    _log(quiet, f"[{fmt}] {step} FAILED: {r['error']}")
                    if step in ("create", "import"):
                        break
                    continue
                _log(quiet, f"[{fmt}] {step}: {r['time_s']:.2f} s, peak {_mb(r['peak_rss_bytes'])}")
                if step == "import":
                    chk = launch_step({"step": "check", "db": str(root / ".syllabus" / "store.db")}, args.timeout)
                    if "error" in chk:
                        failed = True
                        _log(quiet, f"[{fmt}] store check FAILED: {chk['error']}")
                    else:
                        chk.pop("process_wall_s", None)
                        data["check"] = chk
        checks = [d["check"]["digest"] for d in results["files"].values() if "check" in d]
        if len(checks) == 2:
            results["stores_identical"] = checks[0] == checks[1]
        for step in ("export-ttl", "export-obo"):
            outs = [d["steps"].get(step, {}).get("export_path") for d in results["files"].values()]
            if len(outs) == 2 and all(outs):
                same = Path(outs[0]).read_bytes() == Path(outs[1]).read_bytes()
                results.setdefault("exports_identical", {})[step.split("-")[1]] = same
        results["total_wall_s"] = time.perf_counter() - t_start
        results["parent_peak_rss_bytes"] = _peak_rss_bytes()
        if args.json:
            print(json.dumps(results, indent=2))
        else:
            print_table(results)
            if args.keep:
                print(f"files kept in {base}")
    finally:
        if cleanup is not None:
            cleanup.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_step":
        sys.exit(_child_main(sys.argv[2:]))
    sys.exit(main())
