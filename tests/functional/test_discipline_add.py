"""A first run without hand-editing: `syllabus init --discipline`, `syllabus discipline add`, and
errors that say which command declares a discipline."""
from __future__ import annotations

import re
import shlex
import shutil
import tomllib
from pathlib import Path

from syllabus.config import load_workspace

DATA = Path(__file__).resolve().parents[1] / "data"
REPO = Path(__file__).resolve().parents[2]

COMMENTED = """# my workspace: keep this comment
[store]
url = "sqlite:///.syllabus/store.db"   # trailing comment

[[disciplines]]
name = "physics"   # the first one
prefix = "phys"
iri = "https://example.org/physics/"

[prefixes]
BFO = "http://purl.obolibrary.org/obo/BFO_"   # kept too

[compile]
seed = 3
"""


def _bytes(path: Path) -> bytes:
    return path.read_bytes()


def test_add_keeps_comments_and_order(tmp_path, cli):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "syllabus.toml").write_text(COMMENTED)
    (ws / "ontologies").mkdir()
    shutil.copy(DATA / "mini.ttl", ws / "ontologies" / "mini.ttl")
    res = cli(ws, "discipline", "add", "mini", "--prefix", "mini", "--iri", "https://example.org/mini/",
              "--ontology", "ontologies/mini.ttl", "--corpus", "corpora/mini", "--json")
    assert res.exit_code == 0, res.output
    text = (ws / "syllabus.toml").read_text()
    for line in COMMENTED.splitlines():
        assert line in text  # every line, comments included, is still there
    assert text.index("[prefixes]") < text.index("[compile]")
    data = tomllib.loads(text)
    assert [d["name"] for d in data["disciplines"]] == ["physics", "mini"]
    assert data["disciplines"][1] == {"name": "mini", "prefix": "mini", "iri": "https://example.org/mini/",
                                      "ontologies": ["ontologies/mini.ttl"], "corpora": ["corpora/mini"]}
    assert data["compile"] == {"seed": 3} and data["prefixes"]["BFO"].endswith("BFO_")
    assert load_workspace(ws).discipline("mini").ontologies == ["ontologies/mini.ttl"]
    imported = cli(ws, "ontology", "import", "--discipline", "mini", "--json")
    assert imported.exit_code == 0, imported.output


def test_add_refuses_duplicates_and_bad_values_leaving_the_file(tmp_path, cli):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "syllabus.toml").write_text(COMMENTED)
    before = _bytes(ws / "syllabus.toml")
    cases = [(("physics", "--prefix", "p2"), "E172", "name `physics`"),
             (("other", "--prefix", "phys"), "E172", "prefix `phys` is already declared by discipline `physics`"),
             (("Bad Name", "--prefix", "b"), "E173", "Bad name"),
             (("ok", "--prefix", "1x"), "E173", "Bad prefix"),
             (("ok", "--prefix", "ok", "--iri", "not an iri"), "E173", "Bad iri")]
    for args, code, words in cases:
        res = cli(ws, "discipline", "add", *args)
        assert res.exit_code == 2 and code in res.stderr and words in res.stderr, (args, res.stderr)
        assert _bytes(ws / "syllabus.toml") == before


def test_add_refuses_a_broken_file(tmp_path, cli):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "syllabus.toml").write_text("[store\nurl = 1\n")
    res = cli(ws, "discipline", "add", "x", "--prefix", "x")
    assert res.exit_code == 2 and "E002" in res.stderr
    (ws / "syllabus.toml").write_text('disciplines = "nope"\n')
    res = cli(ws, "discipline", "add", "x", "--prefix", "x")
    assert res.exit_code == 2 and "E003" in res.stderr


def test_init_with_a_discipline(tmp_path, cli):
    root = tmp_path / "ws"
    res = cli(None, "init", str(root), "--discipline", "go", "--prefix", "GO")
    assert res.exit_code == 0, res.output
    ws = load_workspace(root)
    assert ws.discipline_names() == ["go"] and ws.discipline("go").prefix == "GO"
    assert "# Declare one [[disciplines]] table per discipline" in (root / "syllabus.toml").read_text()
    bad = cli(None, "init", str(tmp_path / "bad"), "--discipline", "go", "--prefix", "9")
    assert bad.exit_code == 2 and "E173" in bad.stderr and not (tmp_path / "bad").exists()
    lone = cli(None, "init", str(tmp_path / "lone"), "--discipline", "go")
    assert lone.exit_code == 2 and "--prefix" in lone.output + lone.stderr and not (tmp_path / "lone").exists()


def test_unknown_discipline_names_the_command(tmp_path, cli):
    root = tmp_path / "ws"
    assert cli(None, "init", str(root)).exit_code == 0
    res = cli(root, "extract", "--discipline", "go")
    assert res.exit_code == 2 and "E004" in res.stderr and "syllabus discipline add go --prefix" in res.stderr


def test_import_of_an_undeclared_discipline_says_what_to_run(tmp_path, cli, monkeypatch):
    """The new user's first try: the fix is two commands that, run as given, import the file."""
    root = tmp_path / "ws"
    assert cli(None, "init", str(root)).exit_code == 0
    shutil.copy(REPO / "ontologies" / "biology.obo", tmp_path / "cell-bio.obo")
    monkeypatch.chdir(tmp_path)
    res = cli(root, "ontology", "import", "cell-bio.obo", "--discipline", "bio")
    assert res.exit_code == 2 and "E004" in res.stderr
    commands = re.findall(r"`(syllabus [^`]+)`", res.stderr)
    assert commands[0] == f"syllabus -w {root} discipline add bio --prefix BIO --ontology cell-bio.obo"
    assert commands[1] == f"syllabus -w {root} ontology import --discipline bio"
    for command in commands[:2]:
        argv = shlex.split(command)[1:]
        done = cli(None, *argv)
        assert done.exit_code == 0, (command, done.output, done.stderr)
    ws = load_workspace(root)
    assert ws.discipline("bio").ontologies == ["../cell-bio.obo"] or ws.discipline("bio").ontologies[0].endswith(
        "cell-bio.obo")
    status = cli(root, "status", "--json")
    assert '"bio"' in status.output


def test_no_discipline_declared_says_how_to_declare_one(tmp_path, cli):
    root = tmp_path / "ws"
    assert cli(None, "init", str(root)).exit_code == 0
    shutil.copy(REPO / "ontologies" / "biology.obo", root / "b.obo")
    res = cli(root, "ontology", "import", "b.obo")
    assert res.exit_code == 2 and "E006" in res.stderr and "syllabus discipline add NAME --prefix P" in res.stderr


def test_a_discipline_without_files_says_how_to_add_one(tmp_path, cli):
    root = tmp_path / "ws"
    assert cli(None, "init", str(root), "--discipline", "bio", "--prefix", "BIO").exit_code == 0
    shutil.copy(REPO / "ontologies" / "biology.obo", root / "ontologies" / "biology.obo")
    for verb in ("import", "lint"):
        res = cli(root, "ontology", verb)
        assert res.exit_code == 2 and "E027" in res.stderr, res.stderr
        assert "syllabus discipline extend bio --ontology FILE" in res.stderr
    before = (root / "syllabus.toml").read_text()
    res = cli(root, "discipline", "extend", "bio", "--ontology", "ontologies/biology.obo", "--corpus", "corpora")
    assert res.exit_code == 0, res.output
    again = cli(root, "discipline", "extend", "bio", "--ontology", "ontologies/biology.obo")
    assert again.exit_code == 0
    after = (root / "syllabus.toml").read_text()
    assert after.startswith(before.split("[[disciplines]]")[0])  # comments and the tables before it kept
    d = load_workspace(root).discipline("bio")
    assert d.ontologies == ["ontologies/biology.obo"] and d.corpora == ["corpora"]
    assert cli(root, "ontology", "import").exit_code == 0
    assert cli(root, "ontology", "lint").exit_code in (0, 1)
    unknown = cli(root, "discipline", "extend", "nope", "--corpus", "corpora")
    assert unknown.exit_code == 2 and "E004" in unknown.stderr and "discipline add nope" in unknown.stderr
    nothing = cli(root, "discipline", "extend", "bio")
    assert nothing.exit_code == 2
