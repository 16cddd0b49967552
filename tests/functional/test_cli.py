"""The real CLI in temporary workspaces: init, import, status, export, lint, diff, db."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_init_then_status_on_an_empty_workspace(tmp_path, cli):
    assert cli(None, "init", str(tmp_path / "ws")).exit_code == 0
    result = cli(tmp_path / "ws", "status", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["disciplines"] == {}


def test_import_status_export_cycle(workspace, cli):
    result = cli(workspace, "ontology", "import", "--json")
    assert result.exit_code == 0
    [report] = json.loads(result.stdout)
    assert report["concepts_added"] == 8 and report["file"] == "ontologies/mini.ttl"
    again = json.loads(cli(workspace, "ontology", "import", "--json").stdout)[0]
    assert again["unchanged_file"] is True
    status = json.loads(cli(workspace, "status", "--json").stdout)["disciplines"]["mini"]
    assert status["concepts"] == {"active": 7, "deprecated": 1, "by_origin": {"external": 1, "ontology": 8}}
    assert status["relations"]["by_predicate"] == {"causes": 1, "is_a": 6, "part_of": 1, "related_to": 1}
    out = workspace / "out" / "mini.obo"
    assert cli(workspace, "ontology", "export", "--out", str(out)).exit_code == 0
    assert "id: mini:Force" in out.read_text()
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]
    stdout = cli(workspace, "ontology", "export", "--format", "ttl").stdout
    assert "mini:Force" not in stdout and "<https://example.org/mini/Force> a owl:Class" in stdout


def test_export_failure_leaves_the_old_file(workspace, cli):
    cli(workspace, "ontology", "import")
    target = workspace / "out.ttl"
    target.write_text("old")
    result = cli(workspace, "ontology", "export", "--format", "xml", "--out", str(target))
    assert result.exit_code == 2 and "E021" in result.stderr
    assert target.read_text() == "old"


def test_lint_and_diff_json(workspace, cli):
    lint = cli(workspace, "ontology", "lint", "--json")
    assert lint.exit_code == 0
    data = json.loads(lint.stdout)
    assert data["errors"] == 0
    assert {f["code"] for f in data["findings"]["mini"]} == {"L104"}  # mini:Object is_a BFO:0000040
    other = workspace / "ontologies" / "mini2.ttl"
    other.write_text((workspace / "ontologies" / "mini.ttl").read_text().replace('"force"', '"force (physics)"'))
    diff = json.loads(cli(workspace, "ontology", "diff", "ontologies/mini.ttl", "ontologies/mini2.ttl", "--json").stdout)
    assert [c["id"] for c in diff["concepts"]["changed"]] == ["mini:Force"]


def test_db_commands(workspace, cli):
    assert json.loads(cli(workspace, "db", "current", "--json").stdout)["current"] is None
    assert cli(workspace, "db", "upgrade").exit_code == 0
    current = json.loads(cli(workspace, "db", "current", "--json").stdout)
    assert current["at_head"] is True
    assert cli(workspace, "db", "history").stdout.split() == ["0001_graph", "0002_corpus", "0003_extraction",
                                                             "0004_compile", "0005_bench", "0006_gap_concepts",
                                                             "0007_example_dep_compact", "0008_example_id_index",
                                                             "0009_review_decisions"]
    assert cli(workspace, "db", "downgrade", "base").exit_code == 0
    assert json.loads(cli(workspace, "db", "current", "--json").stdout)["current"] is None
    bad = cli(workspace, "db", "downgrade", "0042_nope")
    assert bad.exit_code == 2 and "E012" in bad.stderr


def test_sample_workspace_lints_clean(cli):
    result = cli(REPO, "ontology", "lint", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"errors": 0, "warnings": 0, "findings": {"biology": [], "chemistry": [], "physics": []}}


def test_sample_workspace_imports(tmp_path, cli):
    ws = tmp_path / "sample"
    shutil.copytree(REPO / "ontologies", ws / "ontologies")
    shutil.copy(REPO / "syllabus.toml", ws / "syllabus.toml")
    assert cli(ws, "ontology", "import").exit_code == 0
    status = json.loads(cli(ws, "status", "--json").stdout)["disciplines"]
    for name in ("physics", "biology"):
        assert 50 <= status[name]["concepts"]["active"] <= 80
        assert {"is_a", "part_of", "causes", "requires", "has_property"} <= set(status[name]["relations"]["by_predicate"])


@pytest.mark.shared_data
def test_real_cell_ontology_imports_and_lints(tmp_path, cli, shared_data):
    (tmp_path / "syllabus.toml").write_text(
        '[[disciplines]]\nname = "cell"\nprefix = "CL"\niri = "http://purl.obolibrary.org/obo/CL_"\n'
        f'ontologies = ["{shared_data / "ontologies" / "cl-2019-01-29.obo"}"]\n')
    assert cli(tmp_path, "ontology", "import").exit_code == 0
    status = json.loads(cli(tmp_path, "status", "--json").stdout)["disciplines"]["cell"]
    assert status["concepts"]["active"] + status["concepts"]["deprecated"] == 2319
    lint = cli(tmp_path, "ontology", "lint", "--json")
    assert lint.exit_code in (0, 1)
    findings = json.loads(lint.stdout)["findings"]["cell"]
    assert all(":" in f["where"] for f in findings)  # OBO findings point at file:line


def test_console_script_version_help_and_env_workspace(tmp_path):
    exe = Path(sys.executable).parent / "syllabus"
    assert subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.startswith("syllabus ")
    assert "ontology" in subprocess.run([exe, "--help"], capture_output=True, text=True).stdout
    env = dict(os.environ, SYLLABUS_WORKSPACE=str(tmp_path))
    missing = subprocess.run([exe, "status"], capture_output=True, text=True, env=env)
    assert missing.returncode == 2 and "E001" in missing.stderr and str(tmp_path) in missing.stderr
