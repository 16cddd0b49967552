import subprocess
import sys
import tomllib
from pathlib import Path

import syllabus

REPO = Path(__file__).resolve().parents[2]


def test_every_subpackage_is_listed_in_pyproject():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO / "src").parts) for p in (REPO / "src").rglob("__init__.py")}
    found |= {"syllabus_migrations" + "".join("." + x for x in p.parent.relative_to(REPO / "migrations").parts)
              for p in (REPO / "migrations").rglob("__init__.py")}
    assert found == listed


def test_version_matches_pyproject():
    assert tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"] == syllabus.__version__


def test_cli_start_does_not_import_ml_libraries():
    code = ("import sys; from syllabus.cli.main import app; "
            "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', 'spacy', 'rdflib', 'sqlalchemy') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
