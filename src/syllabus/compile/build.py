"""Incremental compile: what changed, which examples that touches, rendering, quality gates, the new build.

The flow of :func:`compile_graph`:

1. *Refresh fingerprints* of the units the change journal names (every unit on the first
   compile, or when the seed or visibility settings change) and keep per-field reasons.
2. *Find jobs*: a job is one primary unit (concept, relation, chain) rendered by its renderers.
   Jobs to redo: primary units that were touched, units of examples that depend on a changed
   unit, of stale examples, or of a template or renderer version that changed.
3. *Plan each job*: renderers read the graph through a recording reader, so each example knows
   its dependencies; its id hashes renderer@version, template, seed and those fingerprints.
   An id seen before is reused byte for byte; a new id is rendered.
4. *Quality gate*: exact and near duplicates (see :mod:`dedup`), decided again only around
   what changed.
The result is a :class:`Compiled` that :mod:`syllabus.compile.output` writes and publishes.
"""
from __future__ import annotations

import ctypes
import json
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np
from sqlalchemy import bindparam, delete, func, or_, select
from sqlalchemy.orm import Session

from syllabus.compile import dedup, trace
from syllabus.compile.fingerprint import (
    PRIMARY_KINDS,
    canonical,
    compact_encoder,
    deps_text,
    digest,
    fingerprint,
    parse_deps,
    split_key,
    unit_fields,
)
from syllabus.compile.graph import Graph, Usability
from syllabus.compile.index_file import read_index
from syllabus.compile.registry import renderers
from syllabus.compile.renderers import Choice, Reader, Renderer
from syllabus.compile.selector import Selector
from syllabus.compile.templates import Templates
from syllabus.compile.workers import (
    PARALLEL_MIN_UNITS,
    NoStore,
    Spool,
    StoreNeeded,
    blocks_of,
    map_as_loaded,
    map_blocks,
    worker_count,
)
from syllabus.config import Workspace
from syllabus.errors import SyllabusError
from syllabus.store.tables import Build, Example, ExampleDep, GraphChange, Unit

SCHEMA_VERSION = 1
ABSENT = "absent"
_PLACEHOLDER = ("todo", "tbd", "lorem ipsum", "n/a", "none", "null", "placeholder", "xxx", "...")
_PRIMARY_PREFIXES = tuple(kind + ":" for kind in PRIMARY_KINDS)  # the keys of units that are jobs
XU, XE, XD, XB, XJ = (t.__table__ for t in (Unit, Example, ExampleDep, Build, GraphChange))


class Candidate(NamedTuple):
    """An example rendered by this compile, as its store row has it (its line is in a spool file).

    A tuple, so that the million and a half of a large compile travel from the worker processes
    and are kept at a fraction of an object's cost."""

    id: str
    unit: str
    discipline: str
    renderer: str
    task: str
    template: str
    template_sha: str
    deps: str  # the dependency map as JSON (unit key -> fingerprint, keys sorted), as the store keeps it


class Change(NamedTuple):
    status: str  # new | changed | removed
    unit: str
    task: str
    id: str | None
    old_id: str | None
    given: list[str] | None  # None for a new example: its one reason is spelled out on demand

    @property
    def reasons(self) -> list[str]:
        return self.given if self.given is not None else [f"{self.unit} has a new {self.task} example"]

    def to_dict(self) -> dict:
        return {"status": self.status, "unit": self.unit, "task": self.task, "id": self.id, "old_id": self.old_id,
                "reasons": self.reasons}


@dataclass
class Rendered:
    """The examples a compile rendered, as columns in id order. A compile from nothing streams the
    store rows out as blocks arrive (see ``output.StreamingRecord``) and keeps only these columns."""

    ids: np.ndarray  # S35, sorted (ids are ASCII: byte order is str order)
    exact: np.ndarray  # uint64, the duplicate check's text hashes
    sig: np.ndarray  # uint32 [n, NUM_PERM], MinHash signatures
    src: np.ndarray  # int64, the spool file of each line: an index into ``spools``
    off: np.ndarray  # int64, where the line starts in that file
    length: np.ndarray  # int64, its bytes
    disc: np.ndarray  # int32, an index into ``disc_names``
    task: np.ndarray  # int32, an index into ``task_names``
    gap: np.ndarray  # bool: a patch example (of a gap unit), exempt from the duplicate check
    spools: list[str]
    disc_names: list[str]
    task_names: list[str]
    rows: list[Candidate]  # the candidates in id order; empty when their rows were streamed


class _Collector:
    """Render blocks gathered in arrival order into :class:`Rendered` columns."""

    def __init__(self, keep_rows: bool) -> None:
        self.keep_rows = keep_rows
        self.rows: list[Candidate] = []
        self.parts: dict[str, list] = defaultdict(list)
        self.codes: dict[str, dict[str, int]] = {"src": {}, "disc": {}, "task": {}}

    def _code(self, column: str, name: str) -> int:
        return self.codes[column].setdefault(name, len(self.codes[column]))

    def add(self, block: "_RenderBlock") -> None:
        new, parts = block.new, self.parts
        parts["ids"].append(np.array(new.id, dtype="S35"))
        parts["exact"].append(block.exact)
        parts["sig"].append(block.sig)
        parts["src"].append(np.full(len(new.id), self._code("src", block.src), dtype=np.int64))
        parts["off"].append(block.off)
        parts["length"].append(block.length)
        parts["disc"].append(self._codes("disc", new.discipline))
        parts["task"].append(self._codes("task", new.task))
        parts["gap"].append(np.fromiter((u.startswith("gap:") for u in new.unit), dtype=bool, count=len(new.unit)))
        if self.keep_rows:
            self.rows += map(Candidate, *new)

    def _codes(self, column: str, names: list[str]) -> np.ndarray:
        """The codes of *names* (a block's few distinct names, coded once each)."""
        if not names:
            return np.zeros(0, np.int32)
        distinct, at = np.unique(np.array(names, dtype=str), return_inverse=True)
        return np.array([self._code(column, n) for n in distinct.tolist()], dtype=np.int32)[at]

    def finish(self) -> Rendered:
        empty = {"ids": np.zeros(0, "S35"), "exact": np.zeros(0, np.uint64),
                 "sig": np.zeros((0, dedup.NUM_PERM), np.uint32), "disc": np.zeros(0, np.int32),
                 "task": np.zeros(0, np.int32), "gap": np.zeros(0, bool)}
        cols = {k: np.concatenate(self.parts[k]) if self.parts[k] else empty.get(k, np.zeros(0, np.int64))
                for k in ("ids", "exact", "sig", "src", "off", "length", "disc", "task", "gap")}
        order = np.argsort(cols["ids"], kind="stable")
        cols = {k: v[order] for k, v in cols.items()}
        names = {k: sorted(v, key=v.get) for k, v in self.codes.items()}
        spools = sorted(names["src"])  # spool files in name order: their codes as indexes into that list
        remap = np.array([spools.index(n) for n in names["src"]], dtype=np.int64)
        cols["src"] = remap[cols["src"]] if len(remap) else cols["src"]
        rows = [self.rows[i] for i in order.tolist()] if self.keep_rows else []
        return Rendered(**cols, spools=spools, disc_names=names["disc"], task_names=names["task"], rows=rows)


@dataclass
class Compiled:
    """Everything a compile decided; nothing is written until :func:`output.stage` and :func:`output.record`."""

    parent: dict | None  # the parent build's row and folder
    build_id: str  # named from the inputs before rendering (see build_name), so rows can carry it at once
    settings: dict
    changes: list[Change]
    counts: dict
    new: list[Candidate]  # rendered this time, sorted by id (empty when streamed: the rows are in the store)
    removed_ids: list[str]
    unit_updates: dict[str, tuple[str, str, str] | None]  # key -> (discipline, fp, field hashes JSON) | None
    stale_units: set[str]  # changed units whose dependents were left stale (unselected jobs)
    pending_jobs: set[str]
    redone_jobs: set[str]
    journal_max: int
    fingerprint_sums: dict[str, int]
    dedup_arrays: dict = field(default_factory=dict)
    selector: str | None = None
    full: bool = False  # every unit was fingerprinted afresh
    streamed: bool = False  # the example rows are in the store already (see output.StreamingRecord)
    spool_dir: Path | None = None  # the new examples' lines, one file per process (see workers.Spool)
    spools: list[str] = field(default_factory=list)  # file names in spool_dir; src codes 2, 3, ...

    @property
    def up_to_date(self) -> bool:
        return not self.changes and not self.dedup_arrays.get("flips")


def settings_of(ws: Workspace, templates: Templates, registry: dict[str, Renderer]) -> dict:
    cfg = ws.config.compile
    tasks = templates.tasks()
    return {
        "schema_version": SCHEMA_VERSION,
        "seed": cfg.seed,
        "include_proposed": cfg.include_proposed,
        "min_confidence": cfg.min_confidence,
        "near_duplicate_threshold": cfg.near_duplicate_threshold,
        "renderers": {r.name: r.version for r in sorted(registry.values(), key=lambda r: r.name)},
        "templates": {t: [[v.name, v.sha] for v in templates.variants(t)] for t in tasks},
        "system_template": templates.sha("system.j2"),
    }


def _graph_settings(settings: dict) -> dict:
    return {k: settings[k] for k in ("schema_version", "seed", "include_proposed", "min_confidence",
                                     "near_duplicate_threshold", "system_template")}


def next_seq(parent: dict | None) -> int:
    """The sequence number of the build after *parent* (the latest build's row, or None)."""
    return (parent["seq"] + 1) if parent else 1


def build_name(parent: dict | None, settings: dict, fingerprint_sums: dict[str, str], selector: str | None) -> str:
    """``<seq>-<hash>``: the next sequence number and a hash of what the build is made from (settings,
    parent, selector, input fingerprints), so the same inputs always give the same name."""
    head = {"parent": parent["id"] if parent else None, "selector": selector, "settings": settings,
            "input_fingerprints": fingerprint_sums}
    return f"{next_seq(parent):04d}-{digest(canonical(head), 4)}"


def latest_build(session: Session) -> dict | None:
    row = session.execute(select(XB).order_by(XB.c.seq.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def compile_graph(session: Session, ws: Workspace, *, selector: Selector | None = None,
                  parent_manifest: dict | None = None, parent_index: dict | None = None,
                  spool_dir: Path | None = None, workers: int | None = None, sink=None) -> Compiled:
    """Decide the next build: changes with reasons, new renders, dedup decisions.

    Nothing is written but the new examples' lines, into *spool_dir* (a fresh temporary folder
    when None; the caller deletes it). *workers* processes (default: ``[compile] workers``) share
    a large compile's per-unit work. With a *sink* (``output.StreamingRecord``), a compile that
    renders everything afresh writes the example rows through it as they are rendered.
    """
    cfg = ws.config.compile
    templates = Templates(ws.path(cfg.templates))
    registry = renderers(ws.config.plugins.override)
    settings = settings_of(ws, templates, registry)
    usability = Usability(cfg.include_proposed, cfg.min_confidence)
    graph = Graph(session, usability)
    parent = latest_build(session)
    full = (parent is None or parent_manifest is None or parent_index is None
            or _graph_settings(parent_manifest["settings"]) != _graph_settings(settings))
    names = ws.discipline_names()
    workers = worker_count(cfg.workers if workers is None else workers)
    spool = Spool(spool_dir or Path(tempfile.mkdtemp(prefix="syllabus-spool-")))

    # 1. refresh fingerprints
    journal_max = session.scalar(select(func.max(XJ.c.seq))) or 0
    fp_of = _FingerprintLookup(session, {})
    run = _Run(graph, templates, registry, cfg.seed, settings, fp_of, spool)
    keys: set[str] = set()
    if full:  # every unit: each discipline's units are fingerprinted (forked) while the next one loads
        old_units = _load_units(session, set(), everything=True)
        parts = _as_loaded(_fields_block, _loaded(graph, names, old_units, keys), run, workers)
    else:
        for unit in session.scalars(select(XJ.c.unit).where(XJ.c.seq <= journal_max).distinct()):
            keys.add(unit)
            if unit.startswith("concept:"):
                keys |= {"label:" + unit[8:], "out:" + unit[8:], "in:" + unit[8:]}
        trace.phase(f"{len(keys):,} units to fingerprint")
        old_units = _load_units(session, keys, everything=False)
        parts = _in_blocks(_fields_block, sorted(keys), run, workers)
    current: dict[str, tuple[str, str, str] | None] = {}
    sums: dict[str, int] = defaultdict(int)  # taken modulo 2**128 at the end
    for part in parts:
        current.update(part.values)
        if full:  # the sums are made afresh from every unit
            for d, term in part.sums.items():
                sums[d] += term
    trace.phase("fingerprints")
    fps = fp_of.fresh
    reasons = _Reasons()
    if not full and parent_manifest:
        sums.update({d: int(v, 16) for d, v in parent_manifest.get("input_fingerprints", {}).items()})
    unit_updates = _compare(current, old_units, full, fps, reasons, sums)
    sums = {d: v % (1 << 128) for d, v in sums.items()}
    fingerprint_sums = {d: format(v, "032x") for d, v in sorted(sums.items())}
    build_id = build_name(parent, settings, fingerprint_sums, selector.text if selector else None)
    changed_keys = reasons.keys()
    del current, old_units  # a large graph's fingerprint work is done: let the render phase have the memory

    # 2. jobs
    jobs: set[str] = {k for k in keys if k.startswith(_PRIMARY_PREFIXES)}
    if full:
        jobs |= set(session.scalars(select(XE.c.unit).distinct()))
    else:
        jobs |= _units_of_examples_depending_on(session, changed_keys)
        jobs |= set(session.scalars(select(XE.c.unit).where(XE.c.stale == 1).distinct()))
        jobs |= _jobs_of_changed_templates(session, settings, parent_manifest)
        jobs |= _jobs_of_changed_renderers(session, graph, names, settings, parent_manifest, registry)
    selected = jobs if selector is None else {j for j in jobs if selector.matches(j, graph, session)}
    pending = jobs - selected
    del keys, jobs, graph  # from here on the graph is run.graph (see _in_blocks: it may be swapped)
    trace.phase(f"jobs: {len(selected):,} selected")

    # 3. plan and render
    # without the parent's files no line can be reused: every example is rendered again
    run.old_rows = _examples_of(session, selected) if parent_index is not None else {}
    run.reasons = reasons
    existing = _count_examples(session)
    old_ids = sorted(session.scalars(select(XE.c.id))) if parent_index is None else []
    streamed = sink is not None and parent_index is None  # every previous example goes
    if streamed:  # a full compile: the unit table is written afresh too, a share with each block
        sink.begin(build_id, ((k, *unit_updates[k]) for k in sorted(unit_updates) if unit_updates[k] is not None))
    collected = _Collector(keep_rows=not streamed)
    changes: list[Change] = []
    removed: list[str] = []
    for block in _in_blocks(_render_block, sorted(selected), run, workers, last=True):
        if streamed:
            sink.add(block.new)
        collected.add(block)
        changes += map(Change, *block.changes)
        removed += block.removed
    spool.close()
    if streamed:
        sink.close()  # the store's side goes on in a thread while the duplicate check runs
    del run, fp_of, fps  # the graph is no longer read: free it before the duplicate check and the files
    rendered = collected.finish()
    trace.phase(f"rendered {len(rendered.ids):,} examples")
    changes.sort(key=lambda c: c.unit)  # job order whichever process planned a job (the sort is stable)
    if parent_index is None:
        removed = sorted(set(removed) | set(old_ids))
    by_status = Counter(c.status for c in changes)
    counts = {"new": by_status["new"], "changed": by_status["changed"], "removed": by_status["removed"],
              "rendered": len(rendered.ids), "unchanged": existing - len(removed)}
    result = Compiled(parent=parent, build_id=build_id, settings=settings, changes=changes, counts=counts,
                      new=rendered.rows,
                      removed_ids=removed, unit_updates=unit_updates, stale_units=changed_keys, pending_jobs=pending,
                      redone_jobs=selected, journal_max=journal_max, fingerprint_sums=fingerprint_sums,
                      selector=selector.text if selector else None, full=full, streamed=streamed,
                      spool_dir=spool.folder, spools=rendered.spools)
    result.dedup_arrays = _dedup(parent_index, rendered, removed, cfg.near_duplicate_threshold)
    trace.phase("duplicate check")
    return result


@dataclass
class _Run:
    """What the per-unit work of one compile reads (inherited as is by forked workers)."""

    graph: Graph
    templates: Templates
    registry: dict[str, Renderer]
    seed: int
    settings: dict
    fp_of: "_FingerprintLookup"
    spool: Spool
    old_rows: dict = field(default_factory=dict)
    reasons: "_Reasons" = field(default_factory=lambda: _Reasons())

    def __post_init__(self) -> None:
        self.parts = _LineParts(self.templates, self.seed)
        self.by_kind: dict[str, list[Renderer]] = defaultdict(list)
        for r in sorted(self.registry.values(), key=lambda r: r.name):
            self.by_kind[r.kind].append(r)


_RUN: _Run | None = None  # the compile in progress, for block functions in forked workers


def _in_blocks(fn, items: list, run: _Run, workers: int, last: bool = False):
    """Results of *fn* over blocks of *items*, in order, forked across *workers* for large inputs.

    A block function reports the items a worker could not do without the store (``deferred``);
    they are done here, in the parent, which has one, and yielded as a block of their own right
    after. *last*: no later step reads the loaded graph, so once the workers are forked the parent
    swaps it for an empty one that loads on demand (for the deferred units): the loaded graph's
    memory is then the workers' alone, and is not held three times over as each worker's reads
    copy its pages.
    """
    global _RUN
    _RUN = run

    def release() -> None:
        run.graph = Graph(run.graph.session, run.graph.usability)

    try:
        parallel = workers if len(items) >= PARALLEL_MIN_UNITS else 1
        for result in map_blocks(fn, blocks_of(items), parallel, _detach, release if last else None):
            yield result
            if result.deferred:
                yield fn(result.deferred)
    finally:
        _RUN = None


def _loaded(graph: Graph, names: list[str], old_units: dict, keys: set[str]) -> Iterator[list[str]]:
    """Each discipline's unit keys as soon as it is loaded, then those the store knew that the graph
    no longer has; *keys* gathers them all."""
    for d in names:
        graph.preload(d)
        part = graph.unit_keys(d)
        keys.update(part)
        yield part
    gone = sorted(old_units.keys() - keys)
    keys.update(gone)
    trace.phase(f"graph loaded, {len(keys):,} units to fingerprint")
    yield gone


def _as_loaded(fn, stages: Iterator[list], run: _Run, workers: int):
    """Results of *fn* over each list of items *stages* yields as it loads the graph (see
    ``workers.map_as_loaded``); the items a fork handed back are done here once every list is in
    (so with the whole graph loaded, as a compile in one process would do them)."""
    global _RUN
    _RUN = run
    deferred: list = []
    try:
        for result in map_as_loaded(lambda items: [fn(items)], stages, workers, _detach, PARALLEL_MIN_UNITS // 4):
            deferred += result.deferred
            yield result
        if deferred:
            yield fn(deferred)
    finally:
        _RUN = None


def _detach() -> None:
    """In a forked worker: the compile's graph and fingerprints have no store to read."""
    _RUN.graph.session = NoStore()
    _RUN.fp_of.session = NoStore()


@dataclass
class _FieldsBlock:
    values: list  # (key, (discipline, fp, field hashes JSON) | None)
    sums: dict[str, int]  # per discipline, the sum of its present units' checksum terms (see _term)
    deferred: list[str]


def _fields_block(keys: list[str]) -> _FieldsBlock:
    graph, out, deferred, sums = _RUN.graph, [], [], defaultdict(int)
    for key in keys:
        try:
            now = unit_fields(graph, key)
        except StoreNeeded:
            deferred.append(key)
            continue
        if now is None:
            out.append((key, None))
            continue
        fp, hashes = fingerprint(now[1])
        out.append((key, (now[0], fp, hashes)))
        sums[now[0]] += _term(key, fp)
    return _FieldsBlock(out, dict(sums), deferred)


@dataclass
class _RenderBlock:
    """A block's results, each kind of row as columns (lists of a field's values): a million named
    tuples cost several microseconds each to pickle and unpickle, lists of strings a tenth of that."""

    new: Candidate  # each field a list: the candidates as columns
    src: str  # the spool file their lines went to
    off: np.ndarray
    length: np.ndarray
    exact: np.ndarray
    sig: np.ndarray
    changes: Change  # each field a list: the changes as columns
    removed: list[str]
    deferred: list[str]


def _columns(kind, rows: list) -> NamedTuple:
    """*rows* of a named tuple *kind* as one *kind* of lists (its columns)."""
    return kind._make(map(list, zip(*rows))) if rows else kind._make([] for _ in kind._fields)


def _render_block(jobs: list[str]) -> _RenderBlock:
    """Plan and render a block of jobs; lines go to the spool, texts become dedup signatures."""
    run = _RUN
    new, lines, texts, changes, removed, deferred = [], [], [], [], [], []
    for job in jobs:
        try:
            planned = _plan_job(run, job)
        except StoreNeeded:
            deferred.append(job)
            continue
        for cand, line, text in planned[0]:
            new.append(cand)
            lines.append(line)
            texts.append(text)
        changes += planned[1]
        removed += planned[2]
    # the lines go to the spool in id order: the lines of one shard then lie together in each block's
    # stretch of the file, and staging reads a shard a stretch at a time (see output._gathered)
    placed = sorted(range(len(new)), key=[c.id for c in new].__getitem__)
    name, offset = run.spool.write(b"".join([lines[i] for i in placed])) if lines else ("", 0)
    length = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
    off = np.empty(len(lines), dtype=np.int64)
    in_file = length[placed]
    off[placed] = offset + np.cumsum(in_file) - in_file
    exact, sig = dedup.signatures(texts)
    return _RenderBlock(_columns(Candidate, new), name, off, length, exact, sig, _columns(Change, changes), removed,
                        deferred)


def _plan_job(run: _Run, job: str) -> tuple[list, list[Change], list[str]]:
    """One job's examples: (rendered (candidate, line, text), changes, removed ids)."""
    kind, ident = split_key(job)
    templates, seed, fp_of = run.templates, run.seed, run.fp_of
    choice = Choice(seed, job)
    planned = {}
    for renderer in run.by_kind.get(kind, ()):
        for _, task_fn in renderer.tasks:
            reader = Reader(run.graph)
            made = task_fn(reader, ident, choice)
            if not made:  # no example: what the task read is no one's dependency
                continue
            keys = sorted(reader.keys)
            fps = fp_of.many(keys)
            deps = dict(zip(keys, fps))
            deps_key = deps_text(keys, fps)
            for task in made if isinstance(made, list) else [made]:
                phrasing = task.phrasing or task.name
                variants = templates.variants(phrasing)
                if not variants:
                    raise SyllabusError("E060", template=phrasing.replace(".", "/") + "/*.j2", where="",
                                        detail="the task has no phrasing")
                pick = task.variant if task.variant is not None else \
                    choice.index(len(variants), "template:" + task.name)
                tpl = variants[pick % len(variants)]
                eid = "ex-" + digest("|".join((renderer.ref, tpl.sha, run.settings["system_template"], str(seed),
                                               task.name, job, deps_key)))
                planned[(renderer.name, task.name)] = (eid, renderer, tpl, deps, task)
    old = run.old_rows.get(job, {})
    old_by_slot = {(r["renderer"].split("@")[0], r["task"]): r for r in old.values()}
    rendered, changes, removed = [], [], []
    discipline = None
    for slot, (eid, renderer, tpl, deps, task) in sorted(planned.items()):
        previous = old_by_slot.get(slot)
        if previous is not None and previous["id"] == eid:  # reused byte for byte
            continue
        discipline = discipline or graph_discipline(run.graph, job)
        rendered.append(_render(run.parts, renderer, tpl, deps, task, job, discipline, eid))
        why = _why(deps, previous, run.reasons, tpl, renderer) if previous else None
        changes.append(Change("changed" if previous else "new", job, task.name, eid,
                              previous["id"] if previous else None, why))
    for slot, row in sorted(old_by_slot.items()):
        if slot not in planned or planned[slot][0] != row["id"]:
            removed.append(row["id"])
        if slot not in planned:
            changes.append(Change("removed", job, row["task"], None, row["id"],
                                  run.reasons.get(job, [f"{job} no longer yields a {row['task']} example"])))
    return rendered, changes, removed


def graph_discipline(graph: Graph, job: str) -> str:
    kind, ident = split_key(job)
    return getattr(graph, kind)(ident).discipline  # Graph.concept, .relation, .chain or .gap


_encode_line = compact_encoder()
_quote = json.encoder.encode_basestring  # the function the line encoder quotes strings with


class _LineParts:
    """The parts of an example's JSON line that many examples share, encoded once.

    A line is ``_encode_line`` of the record that :func:`_render` describes; only the id, units,
    user and assistant texts, evidence and dependencies differ from one example to the next, so
    the rest is cached per (discipline, task) and per (renderer, template) and the line is joined
    from the pieces: the same bytes as encoding the whole record, at a fraction of the cost.
    """

    def __init__(self, templates: Templates, seed: int) -> None:
        self.templates, self.seed = templates, seed
        self._head: dict[tuple[str, str], tuple[str, str]] = {}
        self._tail: dict[tuple[str, str, str], str] = {}

    def head(self, discipline: str, task: str) -> tuple[str, str]:
        """(what follows the id up to the units, what follows the units up to the user text)."""
        key = (discipline, task)
        if key not in self._head:
            system = _quote(self.templates.system(discipline))
            self._head[key] = (f',"discipline":{_quote(discipline)},"task":{_quote(task)},"split":"train","units":',
                               f',"messages":[{{"role":"system","content":{system}}},{{"role":"user","content":')
        return self._head[key]

    def tail(self, renderer: str, template: str, sha: str) -> str:
        """What follows the assistant text up to the evidence."""
        key = (renderer, template, sha)
        if key not in self._tail:
            self._tail[key] = (f'}}],"provenance":{{"renderer":{_quote(renderer)},"template":{_quote(template)},'
                               f'"template_sha256":{_quote(sha)},"seed":{_encode_line(self.seed)},"evidence":')
        return self._tail[key]


def _render(parts: _LineParts, renderer: Renderer, tpl, deps: dict, task, job: str,
            discipline: str, eid: str) -> tuple[Candidate, bytes, str]:
    """(candidate, its JSON line, its user + assistant text for the duplicate check).

    The line encodes ``{"id", "discipline", "task", "split": "train", "units", "messages": [system,
    user, assistant], "provenance": {"renderer", "template", "template_sha256", "seed", "evidence",
    "dependencies"}}`` (see :class:`_LineParts`).
    """
    context = {"discipline": discipline, **task.context}
    blocks = parts.templates.render(tpl.name, context)
    user, assistant = blocks["user"], blocks["assistant"]
    _check_content(user, "user", job, renderer.ref, tpl.name)
    _check_content(assistant, "assistant", job, renderer.ref, tpl.name)
    head, messages = parts.head(discipline, task.name)
    deps_json = _encode_line(deps)
    line = "".join((
        '{"id":', _quote(eid), head, _encode_line([job, *[u for u in task.units if u != job]]), messages,
        _quote(user), '},{"role":"assistant","content":', _quote(assistant),
        parts.tail(renderer.ref, tpl.name, tpl.sha), _encode_line([e.to_dict() for e in task.evidence]),
        ',"dependencies":', deps_json, "}}\n")).encode()
    cand = Candidate(eid, job, discipline, renderer.ref, task.name, tpl.name, tpl.sha, deps_json)
    return cand, line, user + "\n" + assistant


def _check_content(text: str, role: str, unit: str, renderer: str, template: str) -> None:
    stripped = text.strip()
    lowered = stripped.casefold().rstrip(".")
    if not stripped or lowered in _PLACEHOLDER or "{{" in stripped or "{%" in stripped:
        raise SyllabusError("E061", unit=unit, renderer=renderer, field=f"{role} message",
                            detail=f"template {template} gave {stripped[:40]!r}")


def _why(deps: dict, previous: dict, reasons: dict, tpl, renderer: Renderer) -> list[str]:
    out = []
    old_deps = parse_deps(previous["deps"])
    if previous["template"] != tpl.name or previous["template_sha"] != tpl.sha:
        out.append(f"template {tpl.name} changed")
    if previous["renderer"] != renderer.ref:
        out.append(f"renderer {previous['renderer']} -> {renderer.ref}")
    for key in sorted(set(deps) | set(old_deps)):
        if deps.get(key) != old_deps.get(key):
            out += reasons.get(key, [f"{key} changed since the example was rendered" if key in old_deps and key in deps
                                     else f"now reads {key}" if key in deps else f"no longer reads {key}"])
    return out or ["settings changed"]


class _FingerprintLookup:
    """Current fingerprints: refreshed ones first, else the unit table (loaded on demand)."""

    def __init__(self, session: Session, fresh: dict[str, str]) -> None:
        self.session = session
        self.fresh = fresh

    def many(self, keys: list[str]) -> list[str]:
        """The fingerprints of *keys*; a full compile knows them all already: no call per key."""
        try:
            return list(map(self.fresh.__getitem__, keys))
        except KeyError:
            return list(map(self, keys))

    def __call__(self, key: str) -> str:
        fp = self.fresh.get(key)
        if fp is None:
            fp = self.session.scalar(select(XU.c.fp).where(XU.c.key == key)) or ABSENT
            self.fresh[key] = fp
        return fp


def _compare(current: dict, old_units: dict, full: bool, fps: dict[str, str], reasons: "_Reasons",
             sums: dict[str, int]) -> dict[str, tuple[str, str, str] | None]:
    """The unit rows to write, given each unit's fields now (*current*) and as last stored (*old_units*).

    Fills *fps* (every unit's fingerprint) and *reasons* (what changed, field by field); an
    incremental compile's per-discipline *sums* lose what went and gain what came. A full compile
    writes every present unit and compares only the units the store knew (none on a first compile).
    """
    fps.update((key, ABSENT if now is None else now[1]) for key, now in current.items())
    updates: dict[str, tuple[str, str, str] | None] = {}
    if full:
        updates = {key: now for key, now in current.items() if now is not None}
        reasons.new.update(updates if not old_units else (key for key in updates if key not in old_units))
        compared = ((key, current[key]) for key in old_units)  # the store's units: all in current
    else:
        compared = current.items()
    for key, now in compared:
        old = old_units.get(key)
        if old is None and now is None or old is not None and now is not None and old[1] == now[1]:
            continue
        if now is None:
            updates[key] = None
            reasons.given[key] = [f"{key} was removed"]
        else:
            updates[key] = now
            if old is None:
                reasons.new.add(key)
            else:
                new_h, old_h = json.loads(now[2]), json.loads(old[2])
                changed = sorted(f for f in set(new_h) | set(old_h) if new_h.get(f) != old_h.get(f))
                reasons.given[key] = [f"{key} changed: {', '.join(changed)}"]
        if not full:
            if old is not None:
                sums[old[0]] -= _term(key, old[1])
            if now is not None:
                sums[now[0]] += _term(key, now[1])
    return updates


def _term(key: str, fp: str) -> int:
    """A unit's share of its discipline's input fingerprint (a sum of these, modulo 2**128)."""
    return int(digest(f"{key}={fp}"), 16)


class _Reasons:
    """Why each changed unit changed; a new unit's reason is spelled out only when asked for
    (a first compile has a million new units and needs none of their reasons)."""

    __slots__ = ("given", "new")

    def __init__(self) -> None:
        self.given: dict[str, list[str]] = {}
        self.new: set[str] = set()

    def get(self, key: str, default: list[str] | None = None) -> list[str] | None:
        if key in self.new:
            return [f"{key} is new"]
        return self.given.get(key, default)

    def keys(self) -> set[str]:
        return self.new | self.given.keys()


def _load_units(session: Session, keys: set[str], *, everything: bool) -> dict[str, tuple[str, str, str]]:
    out = {}
    if everything:
        rows = session.execute(select(XU.c.key, XU.c.discipline, XU.c.fp, XU.c.fields))
    else:
        rows = []
        ordered = sorted(keys)
        for i in range(0, len(ordered), 500):
            rows += session.execute(select(XU.c.key, XU.c.discipline, XU.c.fp, XU.c.fields)
                                    .where(XU.c.key.in_(ordered[i:i + 500]))).all()
    for key, discipline, fp, fields_ in rows:
        out[key] = (discipline, fp, fields_)
    return out


def _units_of_examples_depending_on(session: Session, keys: set[str]) -> set[str]:
    out: set[str] = set()
    ordered = sorted(keys)
    for i in range(0, len(ordered), 500):
        out |= set(session.scalars(select(XE.c.unit).join(XD, XD.c.example == XE.c.seq)
                                   .where(XD.c.unit.in_(ordered[i:i + 500])).distinct()))
    return out


def _jobs_of_changed_templates(session: Session, settings: dict, parent_manifest: dict | None) -> set[str]:
    current = {name: sha for variants in settings["templates"].values() for name, sha in variants}
    old = (parent_manifest or {}).get("settings", {}).get("templates")
    if old is None:  # no record of what the examples were rendered with: ask the store
        used = session.execute(select(XE.c.template, XE.c.template_sha).distinct()).all()
    else:
        used = [(name, sha) for variants in old.values() for name, sha in variants]
    jobs: set[str] = set()
    for name, sha in used:
        if current.get(name) != sha:
            jobs |= set(session.scalars(select(XE.c.unit).where(XE.c.template == name).distinct()))
    # a task whose set of phrasings changed may pick another phrasing for any unit
    for task, variants in settings["templates"].items():
        if old and old.get(task) is not None and [v[0] for v in old[task]] != [v[0] for v in variants]:
            jobs |= set(session.scalars(select(XE.c.unit).where(or_(XE.c.task == task, XE.c.task.like(task + ".%")))
                                        .distinct()))
    return jobs


def _jobs_of_changed_renderers(session: Session, graph: Graph, names: list[str], settings: dict,
                               parent_manifest: dict | None, registry: dict[str, Renderer]) -> set[str]:
    old = (parent_manifest or {}).get("settings", {}).get("renderers", {})
    jobs: set[str] = set()
    for name, version in settings["renderers"].items():
        if old.get(name) != version:
            kind = registry[name].kind
            jobs |= set(session.scalars(select(XE.c.unit).where(XE.c.renderer.like(f"{name}@%")).distinct()))
            for d in names:  # a new renderer renders every unit of its kind
                jobs |= {k for k in graph.unit_keys(d) if k.startswith(kind + ":")}
    return jobs


def _examples_of(session: Session, jobs: set[str]) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = defaultdict(dict)
    ordered = sorted(jobs)
    cols = (XE.c.seq, XE.c.id, XE.c.unit, XE.c.renderer, XE.c.task, XE.c.template, XE.c.template_sha, XE.c.deps)
    for i in range(0, len(ordered), 500):
        for row in session.execute(select(*cols).where(XE.c.unit.in_(ordered[i:i + 500]))).mappings():
            out[row["unit"]][row["id"]] = dict(row)
    return out


def _count_examples(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(XE)) or 0


def _dedup(parent_index: dict | None, new: Rendered, removed: list[str], threshold: float) -> dict:
    """Merge the parent's candidates with this compile's (*new*, in id order) and decide drops around
    what changed. The parent index's arrays are used up: they may be spliced in place (see _splice)."""
    if parent_index is None:
        parent_index = {"ids": np.zeros(0, dtype="S35"), "exact": np.zeros(0, dtype=np.uint64),
                        "sig": np.zeros((0, dedup.NUM_PERM), dtype=np.uint32), "dropped": np.zeros(0, dtype=bool),
                        "src": np.zeros(0, np.int64), "off": np.zeros(0, np.int64), "len": np.zeros(0, np.int64),
                        "disc": np.zeros(0, np.int32), "task": np.zeros(0, np.int32), "disc_names": [],
                        "task_names": [], "reason": {}}
    a = {k: parent_index[k] for k in ("ids", "exact", "sig", "dropped", "src", "off", "len", "disc", "task")}
    # one code table for disciplines and tasks across parent and new examples
    tables = {}
    for col in ("disc", "task"):
        old_names, new_names = list(parent_index[f"{col}_names"]), getattr(new, f"{col}_names")
        names = sorted(set(old_names) | set(new_names))
        code = {n: i for i, n in enumerate(names)}
        remap = np.array([code[n] for n in old_names], dtype=np.int32)
        a[col] = remap[a[col]] if len(old_names) else a[col].astype(np.int32)
        remap = np.array([code[n] for n in new_names], dtype=np.int32)
        tables[col] = (names, remap[getattr(new, col)] if len(new_names) else getattr(new, col))
    reason = dict(parent_index["reason"])  # example id (bytes) -> why it is dropped; kept examples have none
    gone = _positions(a["ids"], np.array(sorted(removed), dtype="S35"))
    probe_exact, probe_sig = a["exact"][gone], a["sig"][gone]
    for eid in a["ids"][gone].tolist():
        reason.pop(eid, None)
    # patch examples (gap units) are deliberate variations on one fact: exempt from the gate, in both
    # roles, by signatures that collide with nothing (so a repair never drops a regular example either)
    new_ids, new_exact, new_sig = new.ids, new.exact, new.sig
    for k in np.flatnonzero(new.gap).tolist():
        new_exact[k], new_sig[k] = dedup.unique_signature(new_ids[k].decode())
    at = np.searchsorted(a["ids"], new_ids)  # where each new id goes among the kept ones (no new id is kept)
    pos = at - np.searchsorted(gone, at)
    # src: 0, 1 for the parent's files, 2, ... for the spool files
    inserts = {"ids": new_ids, "exact": new_exact, "sig": new_sig, "dropped": np.zeros(len(new_ids), dtype=bool),
               "src": new.src + 2, "off": new.off, "len": new.length, "disc": tables["disc"][1],
               "task": tables["task"][1]}
    for k, v in inserts.items():
        a[k] = _splice(a[k], gone, pos, v)
    new_index = pos + np.arange(len(pos))
    bands = dedup.band_keys(a["sig"])
    touched = dedup.touching(a["exact"], bands, probe_exact, probe_sig)
    check = (np.union1d(new_index, touched) if len(touched) else new_index).astype(np.int64)  # sorted, unique
    decisions = dedup.decide(a["exact"], a["sig"], check, threshold, bands)
    # every checked example is kept unless decided otherwise; only examples dropped before or now can
    # change their reason, so only those are looked at one by one (a full compile checks 1.5 million)
    ids = a["ids"]
    a["dropped"][check] = False
    checked = np.zeros(len(ids), dtype=bool)
    checked[check] = True
    before_at = _positions(ids, np.array(sorted(reason), dtype="S35")) if reason else np.zeros(0, np.int64)
    before = {i: reason.pop(ids[i]) for i in before_at[checked[before_at]].tolist()}
    for i, (j, why) in decisions.items():
        a["dropped"][i] = True
        reason[ids[i]] = f"{why} of {ids[j].decode()}"
    changed = np.zeros(len(ids), dtype=bool)
    changed[new_index] = True
    flipped = np.array([i for i in sorted(before.keys() | decisions.keys())
                        if not changed[i] and reason.get(ids[i], "") != before.get(i, "")], dtype=np.int64)
    changed[flipped] = True
    a.update(reason=reason, changed_status=np.nonzero(changed)[0], disc_names=tables["disc"][0],
             task_names=tables["task"][0], flips=len(flipped))
    return a


def _splice(rows: np.ndarray, gone: np.ndarray, pos: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``np.insert(np.delete(rows, gone, axis=0), pos, values, axis=0)`` in one copy, or none.

    An incremental compile removes and adds a few examples among 1.5 million: the result is moved
    run by run between those few places instead of copied twice over in full. When no more rows come
    than go (an edit renders a unit's examples again under new ids), the runs move within *rows*
    itself, which is changed (the result is a view of it): no new array, whose hundreds of megabytes
    of fresh pages cost more than the moves.
    """
    if len(gone) + len(pos) > 10_000:
        return np.insert(np.delete(rows, gone, axis=0), pos, values, axis=0)
    keep = len(rows) - len(gone)
    # each insertion point as an index of *rows*: the kept row it goes before (len(rows): at the end)
    shifted = gone - np.arange(len(gone))
    before = np.where(pos < keep, pos + np.searchsorted(shifted, pos, side="right"), len(rows))
    events = sorted([(int(b), 0, k) for k, b in enumerate(before.tolist())] + [(int(g), 1, 0) for g in gone.tolist()])
    runs, places = [], []  # (first row, end, where it goes) of each run of kept rows; (where, value index)
    src = dst = 0
    for at, kind, k in events:
        runs.append((src, at, dst))
        dst += at - src
        if kind == 0:
            places.append((dst, k))
            dst += 1
            src = at
        else:
            src = at + 1
    runs.append((src, len(rows), dst))
    if len(pos) <= len(gone) and rows.flags.c_contiguous and rows.flags.writeable:
        out = rows
        size = rows.itemsize * int(np.prod(rows.shape[1:], dtype=np.int64))  # bytes per row
        base = rows.ctypes.data
        # runs moving left go first, from the left; then those moving right, from the right: no run
        # lands on rows not yet moved (memmove copes with a run overlapping itself)
        for first, end, to in [r for r in runs if r[2] < r[0]] + [r for r in reversed(runs) if r[2] > r[0]]:
            ctypes.memmove(base + to * size, base + first * size, (end - first) * size)
    else:
        out = np.empty((keep + len(pos), *rows.shape[1:]), dtype=rows.dtype)
        for first, end, to in runs:
            out[to:to + end - first] = rows[first:end]
    for to, k in places:
        out[to] = values[k]
    return out[:keep + len(pos)]


def _positions(sorted_ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Indices in *sorted_ids* of the *wanted* ids that it holds (a binary search each)."""
    at = np.searchsorted(sorted_ids, wanted)
    found = at < len(sorted_ids)
    found[found] = sorted_ids[at[found]] == wanted[found]
    return at[found].astype(np.int64)


def load_index(folder: Path) -> dict | None:
    """A build's candidate index (see :mod:`index_file`), with sources pointing at that build's files."""
    arrays = read_index(folder)
    if arrays is None:
        return None
    arrays["src"] = arrays["dropped"].astype(np.int64)  # 0: kept (see output._line_sources), 1: dropped.jsonl
    # only dropped examples have a reason, stored for them alone (indexes written before that: for all)
    at = arrays.pop("reason_at", None)
    at = np.arange(len(arrays["ids"])) if at is None else at
    arrays["reason"] = {eid: r for eid, r in zip(arrays["ids"][at].tolist(), arrays["reason"].tolist()) if r}
    arrays["disc_names"] = [str(n) for n in arrays["disc_names"]]
    arrays["task_names"] = [str(n) for n in arrays["task_names"]]
    return arrays


def delete_all_examples(session: Session) -> None:
    session.execute(delete(XD))
    session.execute(delete(XE))


def delete_examples(session: Session, ids: list[str]) -> None:
    """Delete examples and their dependency rows (by their (unit, example) keys, read from ``deps``)."""
    conn = session.connection()
    by_key = delete(XD).where(XD.c.unit == bindparam("u"), XD.c.example == bindparam("e"))
    for i in range(0, len(ids), 500):
        rows = session.execute(select(XE.c.seq, XE.c.deps).where(XE.c.id.in_(ids[i:i + 500]))).all()
        keys = [{"u": unit, "e": seq} for seq, deps in rows for unit in parse_deps(deps)]
        if keys:
            conn.execute(by_key, keys)
        session.execute(delete(XE).where(XE.c.seq.in_([seq for seq, _ in rows])))
