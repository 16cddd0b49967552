"""Bad ontology input: exit 2, a coded message naming file and line, and the store exactly as before."""
import pytest
from snapshot import whole_store

from syllabus.config import load_workspace

CASES = {
    "bad_turtle": ("bad.ttl", b"@prefix m: <https://example.org/mini/> .\nm:A a m:B ;\n  m:c \"unterminated .\n",
                   [], "E022", ["bad.ttl:", "Turtle"]),
    "broken_obo_stanza": ("bad.obo", b"format-version: 1.4\n\n[Term]\nid: X:1\nname: x\n\n[Term\nid: X:2\n",
                          [], "E022", ["bad.obo:7", "stanza header"]),
    "obo_without_id": ("noid.obo", b"format-version: 1.4\n\n[Term]\nname: x\n", [], "E022", ["noid.obo:3", "no id"]),
    "obo_bad_def": ("def.obo", b"format-version: 1.4\n\n[Term]\nid: X:1\nname: x\ndef: unquoted text []\n", [],
                    "E022", ["def.obo:6", "quoted"]),
    "wrong_encoding": ("latin.obo", "format-version: 1.4\n\n[Term]\nid: X:1\nname: caf\u00e9\n".encode("latin-1"),
                       [], "E024", ["latin.obo", "UTF-8"]),
    "binary_junk": ("junk.ttl", bytes(range(256)) * 4, [], "E024", ["junk.ttl"]),
    "empty_file": ("empty.obo", b"\n\n", [], "E023", ["empty.obo"]),
    "rdf_without_concepts": ("none.ttl", b"<https://e.org/a> <https://e.org/b> <https://e.org/c> .\n", [], "E023",
                             ["none.ttl"]),
    "bad_rdfxml": ("bad.rdf", b"<?xml version='1.0'?>\n<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>\n<oops>\n",
                   [], "E022", ["bad.rdf", "RDF/XML"]),
    "bad_jsonld": ("bad.jsonld", b'{"@id": "x", \n "broken": }', [], "E022", ["bad.jsonld", "JSON-LD"]),
    "unknown_format_flag": ("ok.ttl", None, ["--format", "yaml"], "E021", ["yaml", "ttl, rdfxml"]),
    "unknown_extension": ("onto.yaml", b"a: b\n", [], "E021", [".yaml"]),
    "missing_file": ("nowhere.ttl", None, [], "E020", ["nowhere.ttl"]),
    "unknown_discipline": ("ok.ttl", None, ["--discipline", "chemistry"], "E004", ["chemistry", "mini"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_exits_2_and_leaves_the_store_as_it_was(workspace, cli, case):
    name, content, extra, code, needles = CASES[case]
    assert cli(workspace, "ontology", "import").exit_code == 0
    url = load_workspace(workspace).store_url
    before = whole_store(url)
    target = workspace / "ontologies" / name
    if content is not None:
        target.write_bytes(content)
    elif name == "ok.ttl":
        (workspace / "ontologies" / "mini.ttl").rename(target)
    args = ["ontology", "import", f"ontologies/{name}", *extra]
    if "--discipline" not in extra:
        args += ["--discipline", "mini"]
    result = cli(workspace, *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error {code}:"), result.stderr
    assert "fix:" in result.stderr
    for needle in needles:
        assert needle in result.stderr
    assert whole_store(url) == before


def test_a_bad_second_file_rolls_back_the_first(workspace, cli):
    (workspace / "syllabus.toml").write_text((workspace / "syllabus.toml").read_text().replace(
        'ontologies = ["ontologies/mini.ttl"]', 'ontologies = ["ontologies/mini.ttl", "ontologies/bad.obo"]'))
    (workspace / "ontologies" / "bad.obo").write_text("format-version: 1.4\n[Term]\nid X:1\n")
    url = load_workspace(workspace).store_url
    result = cli(workspace, "ontology", "import")
    assert result.exit_code == 2 and "bad.obo:3" in result.stderr
    contents = whole_store(url)
    assert contents["concept"] == [] and contents["ontology_source"] == []


def test_duplicate_ids_refuse_import_and_lint_reports_both_lines(workspace, cli):
    (workspace / "ontologies" / "dup.obo").write_text(
        "format-version: 1.4\n\n[Term]\nid: X:1\nname: a\n\n[Term]\nid: X:1\nname: b\n")
    result = cli(workspace, "ontology", "import", "ontologies/dup.obo", "-d", "mini")
    assert result.exit_code == 2 and "E026" in result.stderr and "dup.obo:3" in result.stderr and "dup.obo:7" in result.stderr
    lint = cli(workspace, "ontology", "lint", "ontologies/dup.obo")
    assert lint.exit_code == 1 and "dup.obo:7: error L003" in lint.output


def test_bad_config_is_exit_2(tmp_path, cli):
    (tmp_path / "syllabus.toml").write_text('[[disciplines]]\nname = "x"\n')
    result = cli(tmp_path, "status")
    assert result.exit_code == 2 and "E003" in result.stderr and "prefix" in result.stderr


def test_store_behind_head_is_refused_with_the_fix(workspace, cli):
    assert cli(workspace, "db", "upgrade").exit_code == 0
    assert cli(workspace, "db", "downgrade", "0001_graph").exit_code == 0
    result = cli(workspace, "status")
    assert result.exit_code == 2 and "E010" in result.stderr and "syllabus db upgrade" in result.stderr
