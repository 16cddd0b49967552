"""Fixtures for the corpus reader and chunking tests: writing samples and reading them with
every offset invariant checked."""
from __future__ import annotations

from pathlib import Path

import pytest
from corpus_helpers import build_pdf, check_result

from syllabus.corpus.model import ReadResult
from syllabus.corpus.readers import read_file


@pytest.fixture
def write(tmp_path):
    """write(name, content) -> path of a new file under tmp_path (str is written as UTF-8)."""
    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_bytes(content.encode("utf-8"))
        else:
            path.write_bytes(content)
        return path
    return _write


@pytest.fixture
def read(write):
    """read(name, content, **options) -> ReadResult, with every invariant checked."""
    def _read(name: str, content: str | bytes, **options) -> ReadResult:
        result = read_file(write(name, content), **options)
        check_result(result)
        return result
    return _read


@pytest.fixture
def make_pdf():
    return build_pdf
