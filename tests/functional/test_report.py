"""`syllabus report` on the compiled sample workspace with a scored run and its diagnosed gaps.

A label and an evidence sentence carry a planted ``<script>``; every page must show it as text.
The browser tests open the site in a real headless Chromium (Debian's ``chromium``) through a
local http.server on 127.0.0.1: no console error, every link resolves, the evidence sentence and
the graph view are visible, pan and zoom move the graph, search finds a label; screenshots are
saved under the test's folder (and copied to $SYLLABUS_TEST_ARTIFACTS when it is set).
"""
from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from sqlalchemy import func, insert, select, update

from syllabus.config import load_workspace
from syllabus.report.site import concept_path, slug
from syllabus.store import open_store
from syllabus.store.tables import Concept, Evidence, Gap, Item, Relation, Result, Run

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from browser import Browser, find_chromium  # noqa: E402

PLANT = '<script>alert("x")</script>'


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def report_ws(compiled, tmp_path_factory, cli_module):
    """The compiled sample with a planted label and sentence, a run scoring its dev items, and gaps."""
    root = tmp_path_factory.mktemp("report") / "ws"
    shutil.copytree(compiled, root, symlinks=True)
    ws = load_workspace(root)
    st = open_store(ws.store_url)
    try:
        with st.transaction() as s:
            target = s.scalar(select(Relation.subject_id).join(Evidence, Evidence.relation_id == Relation.id)
                              .where(Relation.discipline == "physics").order_by(Relation.subject_id).limit(1))
            s.execute(update(Concept).where(Concept.id == target).values(pref_label=f"planted {PLANT} label"))
            ev = s.scalar(select(Evidence.id).join(Relation, Relation.id == Evidence.relation_id)
                          .where(Relation.subject_id == target).order_by(Evidence.id).limit(1))
            s.execute(update(Evidence).where(Evidence.id == ev).values(sentence=f"A planted {PLANT} sentence."))
            s.execute(insert(Run).values(id="r1", model="planted", backend="import", params="{}", split="dev",
                                         started="2026-01-01T00:00:00Z", seconds=0.0))
            items = s.execute(select(Item.id, Item.answer).where(Item.split == "dev").order_by(Item.id)).all()
            for n, (iid, answer) in enumerate(items):
                wrong = n % 3 == 0
                s.execute(insert(Result).values(run_id="r1", item_id=iid, prediction=(answer + 1) % 4 if wrong else answer,
                                                correct=0 if wrong else 1, scores=None))
    finally:
        st.close()
    res = cli_module(root, "diagnose", "r1")
    assert res.exit_code == 0, res.output
    return root, target


@pytest.fixture(scope="module")
def cli_module():
    from typer.testing import CliRunner

    from syllabus.cli.main import app

    runner = CliRunner()
    return lambda ws, *args: runner.invoke(app, ["--workspace", str(ws), *map(str, args)], catch_exceptions=False)


@pytest.fixture(scope="module")
def site(report_ws, cli_module):
    root, target = report_ws
    out = root / "build" / "report"
    res = cli_module(root, "report", "--out", out, "--json")
    assert res.exit_code == 0, res.output
    return out, target, json.loads(res.output)


def _store(root: Path):
    return open_store(load_workspace(root).store_url)


def test_site_pages_and_summary(site, report_ws):
    out, target, summary = site
    root, _ = report_ws
    for page in ("index.html", "gaps.html", "builds.html", "search.html", "search-index.js", "static/style.css",
                 "static/site.js", "d/physics/index.html", "d/physics/review.html", "d/physics/concepts-1.html",
                 "report.json"):
        assert (out / page).is_file(), page
    st = _store(root)
    try:
        with st.transaction() as s:
            n_concepts = s.scalar(select(func.count()).select_from(Concept))
            n_gaps = s.scalar(select(func.count()).select_from(Gap))
            gap_ids = s.scalars(select(Gap.id).order_by(Gap.score.desc()).limit(5)).all()
            from syllabus.extract.review import held_back
            c = load_workspace(root).config.compile
            held = held_back(s, ["physics"], c.min_confidence, c.include_proposed)["physics"]
    finally:
        st.close()
    assert summary["concept_pages"] == n_concepts and summary["gaps"] == n_gaps > 0
    assert len(list((out / "c").rglob("*.html"))) == n_concepts
    gaps_html = (out / "gaps.html").read_text()
    assert all(g in gaps_html for g in gap_ids)
    overview = (out / "d/physics/index.html").read_text()
    assert "passing items" in overview and "run r1" in overview
    assert f"{held['held_back']} extracted facts</a> are held back by the review gate" in overview
    assert f"{held['waiting']} facts wait for a decision" in overview
    review = (out / "d/physics/review.html").read_text()
    assert review.count("<tr><td><code>") == min(held["waiting"], 200)
    builds = (out / "builds.html").read_text()
    assert summary["build"] in builds


def test_concept_page_shows_relations_evidence_examples_items(site):
    out, target, _ = site
    page = (out / concept_path(target)).read_text()
    assert "Relations out" in page and "Relations in" in page and '<svg id="graph"' in page
    assert "A planted &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; sentence." in page
    assert "corpora/physics/" in page and "line " in page and "chunk " in page
    assert "Examples compiled from it" in page and "ex-" in page
    assert "Benchmark items" in page and ("pass" in page or "fail" in page)


def test_untrusted_text_is_escaped_everywhere(site):
    out, target, _ = site
    pages = [p for p in out.rglob("*.html")]
    raw = [p for p in pages if "<script>alert" in p.read_text()]
    assert raw == []
    assert [p for p in pages if "built-in method" in p.read_text() or "object at 0x" in p.read_text()] == []
    shown = [p for p in pages if "planted &lt;script&gt;alert" in p.read_text()]
    assert out / concept_path(target) in shown and len(shown) >= 2  # its page and the pages linking to it
    index = (out / "search-index.js").read_text()
    assert "</script>" not in index and "planted <script>alert" in index


def test_same_store_same_bytes(report_ws, cli_module, tmp_path):
    root, _ = report_ws
    a, b = tmp_path / "a", tmp_path / "elsewhere" / "b"
    b.parent.mkdir()
    for out in (a, b):
        assert cli_module(root, "--quiet", "report", "--out", out).exit_code == 0
    ta, tb = _tree(a), _tree(b)
    assert ta == tb and len(ta) > 300


def test_rewrite_replaces_an_earlier_report_and_refuses_other_folders(report_ws, cli_module, tmp_path):
    root, _ = report_ws
    out = tmp_path / "site"
    assert cli_module(root, "report", "--out", out, "--discipline", "physics").exit_code == 0
    (out / "stale.html").write_text("old")
    assert cli_module(root, "report", "--out", out, "--discipline", "physics").exit_code == 0
    assert not (out / "stale.html").exists() and (out / "index.html").is_file()
    assert not (out / "d" / "biology").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no temp folder left
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep")
    res = cli_module(root, "report", "--out", other)
    assert res.exit_code == 2 and "E171" in res.stderr and str(other) in res.stderr
    assert [p.name for p in other.iterdir()] == ["notes.txt"]
    res = cli_module(root, "report", "--out", other / "notes.txt")
    assert res.exit_code == 2 and "E171" in res.stderr


def test_failed_write_leaves_the_previous_report(report_ws, cli_module, tmp_path, monkeypatch):
    from syllabus.report import site as site_module

    root, _ = report_ws
    out = tmp_path / "site"
    assert cli_module(root, "report", "--out", out, "--discipline", "biology").exit_code == 0
    before = _tree(out)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / f".site.tmp-{dead.pid}" / "c").mkdir(parents=True)  # left by a report that was killed
    monkeypatch.setattr(site_module, "_concept_page", disk_full)
    res = cli_module(root, "report", "--out", out)
    assert res.exit_code == 2 and "E170" in res.stderr and "No space left" in res.stderr
    assert _tree(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_bad_arguments(report_ws, cli_module, tmp_path):
    root, _ = report_ws
    for args, code in ((("--run", "nope"), "E081"), (("--discipline", "nope"), "E004"), (("--build", "0099-x"), "E070")):
        res = cli_module(root, "report", "--out", tmp_path / "x", *args)
        assert res.exit_code == 2 and code in res.stderr, (args, res.stderr)
        assert not (tmp_path / "x").exists()


def test_slugs_are_distinct_and_safe():
    ids = ["GO:0008150", "GO~3A0008150", "phys:x-drag-force", "a/b", "é:1", "a b"]
    slugs = [slug(i) for i in ids]
    assert len(set(slugs)) == len(ids)
    assert all(set(s) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~") for s in slugs)


# --- in a real browser -------------------------------------------------------------------------

CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (Debian: apt-get install chromium; "
                                                             "`scripts/setup.sh --test` installs it)")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(site):
    out = site[0]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with Browser(CHROMIUM) as b:
        yield b


def _artifact(path: Path) -> None:
    dest = os.environ.get("SYLLABUS_TEST_ARTIFACTS")
    if dest:
        Path(dest).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(dest) / path.name)


def _links_resolve(b: Browser, base: str) -> int:
    # an SVG <a> has an SVGAnimatedString for href: resolve its value against the page
    hrefs = b.eval("Array.from(document.querySelectorAll('a[href]'), a => typeof a.href === 'string' ? a.href "
                   ": new URL(a.href.baseVal, location.href).href)")
    checked = 0
    for href in sorted(set(hrefs)):
        url = urlparse(href)
        assert href.startswith(base), f"link leaves the site: {href}"
        with urllib.request.urlopen(urljoin(href, url.path)) as resp:
            assert resp.status == 200, href
        checked += 1
    return checked


@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize("page", ["index.html", "d/physics/index.html", "gaps.html", "builds.html"])
def test_browser_pages_load_clean(browser, served, page, tmp_path):
    browser.goto(served + page)
    assert browser.errors() == []
    assert _links_resolve(browser, served) > 3
    shot = browser.screenshot(tmp_path / f"report-{page.replace('/', '-')}.png")
    _artifact(shot)
    assert shot.stat().st_size > 5000


@pytest.mark.slow
@needs_chromium
def test_browser_concept_page(browser, served, site, tmp_path):
    out, target, _ = site
    browser.goto(served + concept_path(target))
    assert browser.errors() == []
    _links_resolve(browser, served)
    visible = """(el => { const r = el.getBoundingClientRect(), s = getComputedStyle(el);
                 return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; })"""
    quote = browser.eval("Array.from(document.querySelectorAll('blockquote.evidence'))"
                         ".find(q => q.textContent.includes('A planted <script>')) !== undefined")
    assert quote is True  # the planted sentence shows as text, and ran as nothing
    assert browser.eval(f"{visible}(Array.from(document.querySelectorAll('blockquote.evidence'))"
                        ".find(q => q.textContent.includes('A planted')))") is True
    assert browser.eval(f"{visible}(document.getElementById('graph'))") is True
    assert browser.eval("document.querySelectorAll('#graph .node').length") >= 2
    assert _links_resolve(browser, served) > browser.eval("document.querySelectorAll('#graph a').length") > 0
    assert browser.eval("Array.from(document.scripts).every(s => s.src && !s.textContent)") is True
    box = browser.eval("document.getElementById('graph').getAttribute('viewBox')")
    rect = browser.eval("(r => [r.x + r.width / 2, r.y + r.height / 2])(document.getElementById('graph')"
                        ".getBoundingClientRect())")
    browser.call("Input.dispatchMouseEvent", type="mouseWheel", x=rect[0], y=rect[1], deltaX=0, deltaY=-300)
    browser.eval("new Promise(r => setTimeout(r, 50))", wait=True)
    zoomed = browser.eval("document.getElementById('graph').getAttribute('viewBox')")
    assert zoomed != box and float(zoomed.split()[2]) < float(box.split()[2])
    shot = browser.screenshot(tmp_path / "report-concept.png")
    _artifact(shot)
    assert browser.errors() == []


@pytest.mark.slow
@needs_chromium
def test_browser_gaps_table_sorts_and_filters(browser, served):
    browser.goto(served + "gaps.html")
    rows = "Array.from(document.querySelectorAll('#gaps tbody tr')).filter(r => r.style.display !== 'none')"
    total = browser.eval(f"{rows}.length")
    assert total > 1
    browser.eval("document.querySelectorAll('#gaps th')[4].click()")  # score: ascending
    scores = browser.eval(f"{rows}.map(r => parseFloat(r.cells[4].dataset.sort))")
    assert scores == sorted(scores)
    kind = browser.eval("document.querySelector('select.filter-kind').options[1].value")
    browser.eval(f"(s => {{ s.value = {json.dumps(kind)}; s.dispatchEvent(new Event('change')); }})"
                 "(document.querySelector('select.filter-kind'))")
    kinds = browser.eval(f"{rows}.map(r => r.dataset.kind)")
    assert kinds and set(kinds) == {kind}
    assert browser.errors() == []


@pytest.mark.slow
@needs_chromium
def test_browser_search_finds_a_label(browser, served, site, tmp_path):
    _, target, _ = site
    browser.goto(served + "search.html?q=planted")
    browser.eval("new Promise(r => { const t = () => document.querySelectorAll('#search-results a').length ? r() "
                 ": setTimeout(t, 50); t(); })", wait=True)
    hits = browser.eval("Array.from(document.querySelectorAll('#search-results a'), a => [a.textContent, a.href])")
    assert any(text.startswith("planted <script>") and href.endswith(concept_path(target)) for text, href in hits)
    assert browser.errors() == []
    _artifact(browser.screenshot(tmp_path / "report-search.png"))


def test_report_on_each_backend(workspace, cli, tmp_path):
    """The mini ontology with one scored item, on SQLite and on a real PostgreSQL server."""
    from syllabus.store.tables import ItemUnit

    assert cli(workspace, "ontology", "import").exit_code == 0
    st = _store(workspace)
    try:
        with st.transaction() as s:
            s.execute(insert(Item).values(id="it-1", discipline="mini", level="L1", kind="probe", source="generated",
                                          question="What is force?", choices=json.dumps(["a", "b"]), answer=0,
                                          trace="{}", split="dev"))
            s.execute(insert(ItemUnit).values(item_id="it-1", unit="concept:mini:Force"))
            s.execute(insert(Run).values(id="r1", model="m", backend="import", params="{}", split="dev",
                                         started="2026-01-01T00:00:00Z", seconds=0.0))
            s.execute(insert(Result).values(run_id="r1", item_id="it-1", prediction=0, correct=1, scores=None))
            n = s.scalar(select(func.count()).select_from(Concept).where(Concept.discipline == "mini"))
    finally:
        st.close()
    out = tmp_path / "site"
    res = cli(workspace, "report", "--out", out, "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["concept_pages"] == n and summary["run"] == "r1" and summary["build"] is None
    overview = (out / "d/mini/index.html").read_text()
    assert re.search(r'passing items</span>.*?<span class="bar-num">1 \(', overview)
    force = (out / concept_path("mini:Force")).read_text()
    assert "What is force?" in force and 'class="pass"' in force and "push or pull" in force
