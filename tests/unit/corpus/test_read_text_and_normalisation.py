from corpus_helpers import outline, texts

from syllabus.corpus.model import Block
from syllabus.corpus.readers import read_file


def test_txt_paragraphs_split_on_blank_lines_and_lines_join_with_spaces(read):
    result = read("notes.txt", "Force is mass\ntimes acceleration.\n\nFriction opposes\nmotion.\n   \n\n\nLast one.\n")
    assert outline(result) == [
        ("paragraph", "Force is mass times acceleration."),
        ("paragraph", "Friction opposes motion."),
        ("paragraph", "Last one."),
    ]
    assert result.text == "Force is mass times acceleration.\n\nFriction opposes motion.\n\nLast one."
    assert result.blocks[1] == Block("paragraph", 35, 59, 0)


def test_txt_has_no_headings_even_for_heading_like_lines(read):
    result = read("notes.txt", "# Not a heading\n\nTitle\n=====\n")
    assert [b.kind for b in result.blocks] == ["paragraph", "paragraph"]


def test_crlf_and_cr_newlines_are_normalised(read):
    result = read("dos.txt", "one\r\ntwo\r\n\r\nthree\rfour\r\rfive")
    assert texts(result) == ["one two", "three four", "five"]


def test_tabs_nbsp_and_space_runs_collapse_and_blocks_are_trimmed(read):
    result = read("ws.txt", "  a\tb\u00a0\u00a0c    d  \n\t e \u202f f\n")
    assert texts(result) == ["a b c d e f"]


def test_text_is_nfc(read):
    decomposed = "Cafe\u0301 and \u212bngstr\u00f6m"  # e + combining acute, angstrom sign
    result = read("nfc.txt", decomposed)
    assert result.text == "Caf\u00e9 and \u00c5ngstr\u00f6m"


def test_invisible_characters_are_removed(read):
    result = read("soft.txt", "hyphen\u00adation and zero\u200bwidth\x07 bell")
    assert result.text == "hyphenation and zerowidth bell"


def test_utf8_bom_is_accepted_and_dropped(read):
    result = read("bom.txt", b"\xef\xbb\xbfHello world.\n")
    assert result.text == "Hello world."


def test_reading_is_deterministic(write):
    path = write("det.md", "# T\n\nSome *text* here.\n\n- a\n- b\n")
    first, second = read_file(path), read_file(path)
    assert first == second
    assert first.blocks == second.blocks and first.text == second.text
