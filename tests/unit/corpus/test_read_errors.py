"""Every coded failure of read_file: E040-E046 (and E020 for a missing file)."""
import pytest

from syllabus.corpus.readers import NUL_WINDOW, read_file
from syllabus.errors import SyllabusError


def _error(path, **options) -> SyllabusError:
    with pytest.raises(SyllabusError) as info:
        read_file(path, **options)
    return info.value


@pytest.mark.parametrize("name", ["a.txt", "a.md", "a.rst", "a.html", "a.jsonl"])
def test_nul_byte_early_in_a_text_file_is_E040(write, name):
    err = _error(write(name, b"text\n\x00more"), shown="shown/" + name)
    assert err.code == "E040" and err.fields == {"file": "shown/" + name, "offset": 5}
    assert "shown/" + name in str(err)


def test_nul_byte_after_the_first_64_kib_is_not_a_binary_sign(write):
    path = write("late.txt", b"a " * (NUL_WINDOW // 2) + b"\x00 tail")
    assert read_file(path).text.endswith("a tail")  # the NUL itself is removed as invisible


def test_non_utf8_text_is_E041_with_the_byte_offset(write):
    err = _error(write("latin.txt", "caf\u00e9 au lait".encode("latin-1")))
    assert err.code == "E041" and err.fields["offset"] == 3


def test_offset_of_E041_counts_the_bom(write):
    err = _error(write("bom.md", b"\xef\xbb\xbfok \xff"))
    assert err.code == "E041" and err.fields["offset"] == 6


@pytest.mark.parametrize("name, content", [
    ("empty.txt", ""),
    ("blank.txt", " \n\t\n\u00a0\n"),
    ("code.md", "```\nonly code\n```\n"),
    ("headings.md", "# Only\n\n## Headings\n"),
    ("toc.rst", "Contents\n========\n\n.. toctree::\n\n   intro\n   usage\n"),
    ("script.html", "<html><head><title>T</title></head><body><script>x()</script></body></html>"),
    ("blank.jsonl", '\n{"text": "   "}\n\n'),
])
def test_file_with_no_text_after_markup_removal_is_E042(write, name, content):
    err = _error(write(name, content), shown="c/" + name)
    assert err.code == "E042" and err.fields == {"file": "c/" + name}


def test_file_over_max_bytes_is_E044(write):
    path = write("big.txt", "word " * 100)
    err = _error(path, max_bytes=499)
    assert err.code == "E044" and err.fields["size"] == 500 and err.fields["limit"] == 499
    assert read_file(path, max_bytes=500).text.startswith("word word")


def test_pdf_over_max_bytes_is_E044_before_parsing(write):
    err = _error(write("big.pdf", b"%PDF-1.4\n" + b"0" * 100), max_bytes=50)
    assert err.code == "E044"


def test_unsupported_suffix_is_E045_even_when_the_file_is_missing(tmp_path):
    err = _error(tmp_path / "no-such.docx")
    assert err.code == "E045" and err.fields["suffix"] == ".docx"
    assert _error(tmp_path / "Makefile").fields["suffix"] == "(none)"


def test_missing_file_is_E020(tmp_path):
    err = _error(tmp_path / "gone.txt", shown="corpora/gone.txt")
    assert err.code == "E020" and err.fields["file"] == "corpora/gone.txt"


def test_errors_default_to_the_path_as_shown_name(write):
    path = write("x.txt", b"\x00")
    assert _error(path).fields["file"] == str(path)
