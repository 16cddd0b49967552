"""The import contracts in pyproject.toml ([tool.importlinter]: layers, forbidden cross-stage imports,
no circles) hold for the source, and the check really fails on a planted violation."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def _lint(src: Path, config: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(src)}  # the package under src/, not whichever one is installed
    return subprocess.run([sys.executable, "-c", LINT, "--no-cache", str(config)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_import_contracts_hold(tmp_path):
    result = _lint(REPO / "src", REPO / "pyproject.toml", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_store_module_importing_the_cli_breaks_the_layers(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(REPO / "src" / "syllabus", src / "syllabus", ignore=shutil.ignore_patterns("__pycache__"))
    (src / "syllabus" / "store" / "upward.py").write_text("from syllabus.cli import common\n", encoding="utf-8")
    result = _lint(src, REPO / "pyproject.toml", tmp_path)
    assert result.returncode == 1
    assert "Layers: cli, workflows, stages, store, shared modules, errors BROKEN" in result.stdout
    assert "syllabus.store.upward -> syllabus.cli.common" in result.stdout
