"""Spot check of the RST reader on the real Python documentation sources (../shared/data)."""
import re
from pathlib import Path

import pytest
from corpus_helpers import check_result

from syllabus.corpus.chunking import chunk_document
from syllabus.corpus.readers import read_file

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
PYTHON_DOCS = SHARED_DATA / "corpora" / "python-docs"
# file -> (text that must be there, text from code blocks / directives that must not)
SAMPLES = {
    "library/functions.rst.txt": (["Return the absolute value of a number.", "abs()"],
                                  ["for element in iterable:", "func-bytearray", ".. function::"]),
    "tutorial/controlflow.rst.txt": (["Perhaps the most well-known statement type is the if statement."],
                                     ["Please enter an integer", "defenestrate", "One suggestion was"]),
    "glossary.rst.txt": (["abstract base class", "Abstract base classes complement duck-typing"],
                         ["if you add new entries", "complex(real=3, imag=5)"]),
    "library/stdtypes.rst.txt": (["strictly less than"], ["+------------+", "====="]),
    "reference/datamodel.rst.txt": (["CPython implementation detail: For CPython, id(x) is the memory address"],
                                    [".. impl-detail::", "return hash((self.name"]),
    "c-api/list.rst.txt": (["PyList_New()", "Return a new list of length len on success"], [":c:func:"]),
    "whatsnew/3.10.rst.txt": (["PEP 634, Structural Pattern Matching: Specification"],
                              ["Rules for maintenance", "XXX Describe"]),
}
LEFTOVERS = re.compile(r":[a-z][\w:-]*:`|^\.\. |\n\.\. |``|`_|^::|\|[\w-]+\|_")


@pytest.mark.shared_data
@pytest.mark.skipif(not PYTHON_DOCS.is_dir(), reason=f"shared data set not present at {PYTHON_DOCS}")
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_python_docs_read_as_clean_prose(name):
    result = read_file(PYTHON_DOCS / name, shown=name)
    check_result(result)
    blocks = [result.text[b.start:b.end] for b in result.blocks]
    assert sum(len(b.split()) for b in blocks) > 200
    for block in blocks:
        assert not LEFTOVERS.search(block), block
    present, absent = SAMPLES[name]
    for expected in present:
        assert any(expected in block for block in blocks), expected
    for unexpected in absent:
        assert unexpected not in result.text, unexpected
    chunks = chunk_document(result)
    assert chunks and all(c.text == result.text[c.start:c.end] for c in chunks)
