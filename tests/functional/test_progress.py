"""Progress bars: drawn on a terminal (a real pseudo-terminal here), silent under --quiet, --json
or when the output is not a terminal."""
from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run_in_pty(args: list[str], cwd: Path) -> str:
    """Run the CLI with stdout and stderr on a pseudo-terminal; what it drew."""
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "100", "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "syllabus.cli.main", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave, env=env)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            proc.kill()
            raise AssertionError("no output in 120 s")
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=60)
    os.close(master)
    assert proc.returncode == 0, out.decode(errors="replace")
    return out.decode(errors="replace")


@pytest.fixture
def small_ws(tmp_path):
    root = tmp_path / "ws"
    (root / "ontologies").mkdir(parents=True)
    shutil.copy(REPO / "ontologies" / "biology.obo", root / "ontologies" / "biology.obo")
    (root / "syllabus.toml").write_text('[[disciplines]]\nname = "biology"\nprefix = "BIO"\n'
                                        'iri = "http://purl.obolibrary.org/obo/BIO_"\n'
                                        'ontologies = ["ontologies/biology.obo"]\n')
    return root


def test_bars_on_a_terminal_only(small_ws, tmp_path):
    drawn = _run_in_pty(["ontology", "import"], small_ws)
    assert "ontology import biology.obo" in drawn and "\x1b[" in drawn  # the bar, with cursor control
    report = _run_in_pty(["report", "--out", str(tmp_path / "site")], small_ws)
    assert "report biology" in report
    quiet = _run_in_pty(["--quiet", "report", "--out", str(tmp_path / "site")], small_ws)
    assert "report biology" not in quiet and quiet.strip() == ""
    as_json = _run_in_pty(["report", "--out", str(tmp_path / "site"), "--json"], small_ws)
    assert "report biology" not in as_json and as_json.lstrip().startswith("{")
    piped = subprocess.run([sys.executable, "-m", "syllabus.cli.main", "ontology", "import", "--force"], cwd=small_ws,
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert piped.returncode == 0 and "\x1b[" not in piped.stderr and "ontology import biology.obo" not in piped.stderr
