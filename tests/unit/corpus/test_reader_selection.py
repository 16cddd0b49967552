from pathlib import Path

import pytest

from syllabus.corpus import readers
from syllabus.corpus.model import PARAGRAPH
from syllabus.corpus.readers import READERS, SUPPORTED, read_file, reader_for
from syllabus.errors import SyllabusError


@pytest.mark.parametrize("name, expected", [
    ("notes.txt", "txt"),
    ("notes.text", "txt"),
    ("notes.TXT", "txt"),
    ("guide.md", "md"),
    ("guide.markdown", "md"),
    ("about.rst", "rst"),
    ("about.rst.txt", "rst"),  # how Sphinx publishes sources (the Python docs' _sources)
    ("3.10.rst.txt", "rst"),  # a dotted stem does not confuse the chain
    ("email.mime.rst.txt", "rst"),
    ("x.md.txt", "md"),
    ("page.html.txt", "html"),
    ("page.html", "html"),
    ("page.HTM", "html"),
    ("paper.pdf", "pdf"),
    ("paper.pdf.txt", "txt"),  # text extracted from a PDF is plain text
    ("records.jsonl", "jsonl"),
    ("records.jsonl.txt", "txt"),
    ("notes.v2.txt", "txt"),
    ("about.txt.md", "md"),
])
def test_format_is_chosen_by_the_suffix_chain(name, expected):
    assert reader_for(Path("corpus") / name) == expected


@pytest.mark.parametrize("name", ["archive.tar.gz", "README", "data.json", "image.png", "doc.docx"])
def test_unknown_suffixes_have_no_reader(name):
    assert reader_for(Path(name)) is None


def test_supported_lists_every_registered_extension():
    assert set(SUPPORTED) == {".txt", ".text", ".md", ".markdown", ".rst", ".html", ".htm", ".pdf", ".jsonl"}
    assert set(READERS) == {"txt", "md", "rst", "html", "pdf", "jsonl"}


def test_unsupported_file_is_E045_naming_suffix_and_known_ones(write):
    path = write("table.csv", "a,b\n1,2\n")
    with pytest.raises(SyllabusError) as info:
        read_file(path, shown="corpora/table.csv")
    err = info.value
    assert err.code == "E045"
    assert err.fields["file"] == "corpora/table.csv" and err.fields["suffix"] == ".csv"
    assert ".rst" in err.fields["known"] and ".jsonl" in err.fields["known"]
    assert "corpora/table.csv" in err.message


def test_a_new_format_is_one_registered_function(monkeypatch, write):
    monkeypatch.setattr(readers, "READERS", dict(readers.READERS))
    monkeypatch.setattr(readers, "_BY_SUFFIX", dict(readers._BY_SUFFIX))

    @readers.register("shout", ".shout")
    def parse_shout(text, options):
        return [(PARAGRAPH, line.lower(), 0) for line in text.splitlines() if line.strip()]

    path = write("a.shout", "HELLO THERE\nGENERAL KENOBI\n")
    assert reader_for(path) == "shout"
    result = read_file(path)
    assert result.text == "hello there\n\ngeneral kenobi"
