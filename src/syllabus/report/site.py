"""`syllabus report`: render the collected data into a static site, written atomically.

The site is plain files (HTML, one CSS file, one small script, a JSON-in-JS search index), so it
opens from the disk (``file://``) or from any static host, with nothing fetched from the network.
Pages are Jinja2 templates with autoescape on: every label, definition and corpus sentence is
escaped. The same store gives the same bytes: nothing depends on the clock, the output folder or
the order rows come back in. The whole site is written into ``.<DIR>.tmp-<pid>/`` next to DIR
and then renamed into place; a site already there is replaced only if it is a Syllabus report.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from syllabus.errors import SyllabusError
from syllabus.report import collect, graph
from syllabus.report.collect import Limits

MARKER = "report.json"  # written last into the site; says what made it
GENERATOR = "syllabus report"
INDEX_PAGE = 1000  # concepts per page of a discipline's concept list
SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def slug(concept_id: str) -> str:
    """A file name for a concept id: safe characters kept, every other byte as ``~XX``."""
    return "".join(ch if ch in SAFE else "".join(f"~{b:02X}" for b in ch.encode()) for ch in concept_id)


def concept_path(concept_id: str) -> str:
    """The page of a concept, relative to the site root: ``c/<2 hex>/<slug>.html``."""
    return f"c/{hashlib.sha1(concept_id.encode()).hexdigest()[:2]}/{slug(concept_id)}.html"


class _Environment(Environment):
    """Dict keys win over dict methods (``row.items`` is the key, not ``dict.items``)."""

    def getattr(self, obj, attribute):
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


def _environment() -> Environment:
    env = _Environment(loader=PackageLoader("syllabus.report", "templates"), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["pct"] = lambda v: f"{100 * v:.1f}%"
    env.filters["num"] = lambda v: f"{v:,}" if isinstance(v, int) else v
    env.filters["score"] = lambda v: "-" if v is None else f"{v:.3f}"
    return env


class _Writer:
    """Renders templates into files under the staging folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = _environment()
        self.files = 0
        self.bytes = 0
        self._dirs: set[Path] = set()

    def page(self, rel: str, template: str, **context) -> None:
        depth = rel.count("/")
        root = "../" * depth
        text = self.env.get_template(template).render(root=root, **context)
        self.write(rel, text.encode("utf-8"))

    def write(self, rel: str, data: bytes) -> None:
        path = self.folder / rel
        if path.parent not in self._dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(path.parent)
        with open(path, "wb") as fh:
            fh.write(data)
        self.files += 1
        self.bytes += len(data)


def build_report(session, ws, out: Path, *, disciplines: list[str], build_root: Path, build: str | None = None,
                 run: str | None = None, limits: Limits = Limits(),
                 progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Write the report site of *disciplines* to *out*; returns a summary (pages, bytes, counts)."""
    from syllabus.compile.output import build_folder

    out = Path(out).resolve()
    _check_target(out)
    all_runs = collect.runs(session)
    if run is not None and run not in {r["id"] for r in all_runs}:
        raise SyllabusError("E081", run=run)
    chosen_run = run or (all_runs[-1]["id"] if all_runs else None)
    page_runs = [run] if run else [r["id"] for r in all_runs[-limits.runs:]]
    folder = None
    try:
        folder = build_folder(build_root, build)
    except SyllabusError:
        if build is not None:
            raise
    reader = collect.ExampleReader(folder)
    _remove_leftovers(out)
    staging = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        w = _Writer(staging)
        summary = _write_site(session, ws, w, disciplines, folder, all_runs, chosen_run, page_runs, reader, build_root,
                              limits, progress)
        summary.update(files=w.files + 1, bytes=w.bytes)
        w.write(MARKER, (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode())
        summary["bytes"] = w.bytes
        _publish(staging, out)
    except OSError as exc:
        raise SyllabusError("E170", path=str(out), detail=exc.strerror or str(exc)) from exc
    finally:
        reader.close()
        shutil.rmtree(staging, ignore_errors=True)
    return {**summary, "out": str(out)}


def _check_target(out: Path) -> None:
    """E171 when *out* is a file, or a non-empty folder that is not a Syllabus report."""
    if out.is_file() or out.is_symlink() and not out.is_dir():
        raise SyllabusError("E171", path=str(out), detail="it is a file")
    if out.is_dir() and any(out.iterdir()):
        try:
            ok = json.loads((out / MARKER).read_text(encoding="utf-8")).get("generator") == GENERATOR
        except (OSError, ValueError, AttributeError):
            ok = False
        if not ok:
            raise SyllabusError("E171", path=str(out), detail=f"the folder holds files and no {MARKER} of a report")


def _remove_leftovers(out: Path) -> None:
    """Staging and old folders next to *out* left by a report that was killed (its process is gone)."""
    if not out.parent.is_dir():
        return
    for p in sorted(out.parent.glob(f".{out.name}.*-*")):
        kind, _, pid = p.name[len(out.name) + 2:].rpartition("-")
        if kind not in ("tmp", "old") or not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # still running: another report of the same folder
        except ProcessLookupError:
            shutil.rmtree(p, ignore_errors=True)
        except PermissionError:
            continue


def _publish(staging: Path, out: Path) -> None:
    """Swap the staged site into place: the old site is renamed away first and removed last."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        os.replace(out, old)
    os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)


def _static(w: _Writer) -> None:
    base = resources.files("syllabus.report") / "static"
    for name in ("style.css", "site.js"):
        w.write(f"static/{name}", (base / name).read_bytes())


def _write_site(session, ws, w: _Writer, disciplines, folder, all_runs, chosen_run, page_runs, reader, build_root,
                limits: Limits, progress) -> dict:
    _static(w)
    selected = set(disciplines)
    counts = {}
    overviews = []
    for d in disciplines:
        ov = collect.overview(session, ws, d, chosen_run, limits)
        overviews.append(ov)
        counts[d] = ov["coverage"]["concepts"]
    total = sum(session.scalar(_count_concepts(d)) or 0 for d in disciplines)
    experiment = collect.latest_experiment(ws)
    if experiment and experiment["chart"]:
        w.write("experiment.png", Path(experiment["chart"]).read_bytes())
        experiment["chart"] = "experiment.png"
    gap_data = collect.gaps(session, disciplines, None, limits)
    build_rows = collect.builds(session, build_root, limits)
    nav = {"experiment": experiment is not None}
    common = dict(nav=nav, disciplines=disciplines, concept_href=concept_path)
    w.page("index.html", "index.html.j2", title="Syllabus report", overviews=overviews, runs=all_runs,
           chosen_run=chosen_run, build=folder.name if folder else None, experiment=experiment,
           gaps_total=gap_data["total"], **common)
    for ov in overviews:
        d = ov["name"]
        pages = 0
        for n, rows in enumerate(collect.concept_index(session, d, INDEX_PAGE), start=1):
            w.page(f"d/{d}/concepts-{n}.html", "concept_list.html.j2", title=f"{d}: concepts ({n})", name=d,
                   rows=rows, page=n, **common)
            pages = n
        w.page(f"d/{d}/index.html", "discipline.html.j2", title=f"{d}: overview", ov=ov, list_pages=pages,
               chosen_run=chosen_run, **common)
        w.page(f"d/{d}/review.html", "review.html.j2", title=f"{d}: facts held for review", ov=ov, **common)
    w.page("gaps.html", "gaps.html.j2", title="Gaps", gaps=gap_data, limits=limits, **common)
    w.page("builds.html", "builds.html.j2", title="Builds", builds=build_rows, **common)
    if experiment:
        w.page("experiment.html", "experiment.html.j2", title="Repair experiment", experiment=experiment, **common)
    w.page("search.html", "search.html.j2", title="Search", **common)
    _search_index(session, w, disciplines)
    done = 0
    for d in disciplines:
        for batch, names in collect.concept_batches(session, ws, d, reader=reader, run_ids=page_runs, limits=limits):
            for p in batch:
                _concept_page(w, p, names, selected, page_runs, limits, common)
            done += len(batch)
            if progress:
                progress(d, done, total)
    return {"generator": GENERATOR, "disciplines": counts, "build": folder.name if folder else None,
            "run": chosen_run, "concept_pages": done, "gaps": gap_data["total"], "builds": len(build_rows),
            "experiment": experiment["name"] if experiment else None}


def _count_concepts(d: str):
    from sqlalchemy import func, select

    return select(func.count()).select_from(collect.C).where(collect.C.c.discipline == d)


def _concept_page(w: _Writer, p: collect.ConceptPage, names: dict, selected: set, runs: list[str], limits: Limits,
                  common: dict) -> None:
    def href(cid: str) -> str | None:
        entry = names.get(cid)
        return concept_path(cid) if entry and entry[1] in selected else None

    def label(cid: str) -> str:
        entry = names.get(cid)
        return (entry[0] if entry and entry[0] else cid)

    nodes, edges, hidden = graph.layout(p.id, p.label or p.id, p.out, p.into, href, label, limits.graph_nodes)
    w.page(concept_path(p.id), "concept.html.j2", title=f"{p.label or p.id} ({p.id})", c=vars(p), href=href,
           label=label, nodes=nodes, edges=edges, hidden=hidden, runs=runs, view_box=graph.view_box(nodes),
           **common)


def _search_index(session, w: _Writer, disciplines: list[str]) -> None:
    """``search-index.js``: ``SYLLABUS_INDEX = [[label, id, page], ...]`` (a script, so file:// works)."""
    path = w.folder / "search-index.js"
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("window.SYLLABUS_INDEX = [\n")
        first = True
        for entries in collect.search_entries(session, disciplines):
            for text, cid in entries:
                line = json.dumps([text, cid, concept_path(cid)], ensure_ascii=True)
                # inside a <script> file "</" cannot end anything, but keep the index inert anyway
                fh.write(("" if first else ",\n") + line.replace("</", "<\\/"))
                first = False
        fh.write("\n];\n")
    w.files += 1
    w.bytes += path.stat().st_size
