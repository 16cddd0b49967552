import pytest
from corpus_helpers import build_pdf

from syllabus.corpus.chunking import chunk_document
from syllabus.corpus.model import assemble
from syllabus.corpus.readers import read_file
from syllabus.errors import SyllabusError


def doc(*pieces):
    """A ReadResult from ("h", level, text) and ("p", text) tuples."""
    return assemble([("heading", p[2], p[1]) if p[0] == "h" else ("paragraph", p[1], 0) for p in pieces])


def words(n: int, word: str = "w") -> str:
    return " ".join([word] * n)


def check_chunks(result, chunks, max_words):
    """Offsets exact, ordinals dense, chunks inside one section and made of whole paragraphs
    (or sentence-split pieces of one long paragraph)."""
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    headings = [b for b in result.blocks if b.kind == "heading"]
    for chunk in chunks:
        assert chunk.text == result.text[chunk.start:chunk.end]
        assert chunk.text == chunk.text.strip() and chunk.text
        assert not any(chunk.start <= h.start < chunk.end for h in headings), "a chunk crosses a heading"
        if len(chunk.text.split()) > max_words:  # only a single over-long sentence may exceed
            assert "\n\n" not in chunk.text
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    assert all(a.end < b.start for a, b in zip(chunks, chunks[1:]))


def test_paragraphs_are_packed_greedily_up_to_max_words():
    result = doc(("p", words(30, "a")), ("p", words(30, "b")), ("p", words(30, "c")), ("p", words(50, "d")))
    chunks = chunk_document(result, max_words=70)
    check_chunks(result, chunks, 70)
    assert [len(c.text.split()) for c in chunks] == [60, 30, 50]
    assert chunks[0].text == words(30, "a") + "\n\n" + words(30, "b")  # separators are part of the chunk


def test_chunks_never_cross_headings_and_carry_the_section_path():
    result = doc(
        ("p", "Preface text."),
        ("h", 1, "Forces"), ("p", "Intro to forces."),
        ("h", 2, "Friction"), ("p", "Static."), ("p", "Kinetic."),
        ("h", 3, "Rolling"), ("p", "Rolling resistance."),
        ("h", 2, "Drag"), ("p", "Drag in fluids."),
        ("h", 2, "Empty section"),
        ("h", 1, "Energy"), ("p", "Work and heat."),
        ("h", 3, "Skipped level"), ("p", "Deep."),
    )
    chunks = chunk_document(result, max_words=200)
    check_chunks(result, chunks, 200)
    assert [(c.section, c.text) for c in chunks] == [
        (None, "Preface text."),
        ("Forces", "Intro to forces."),
        ("Forces > Friction", "Static.\n\nKinetic."),
        ("Forces > Friction > Rolling", "Rolling resistance."),
        ("Forces > Drag", "Drag in fluids."),
        ("Energy", "Work and heat."),
        ("Energy > Skipped level", "Deep."),
    ]


def test_long_paragraph_is_split_at_sentence_ends():
    sentences = [f"Sentence {i} has some words in it." for i in range(1, 13)]  # 7 words each
    result = doc(("h", 1, "S"), ("p", " ".join(sentences)))
    chunks = chunk_document(result, max_words=20)
    check_chunks(result, chunks, 20)
    assert [c.text for c in chunks] == [" ".join(sentences[i:i + 2]) for i in range(0, 12, 2)]
    assert all(c.section == "S" for c in chunks)


def test_sentence_ends_need_an_uppercase_letter_or_digit_after_them():
    text = ("Use e.g. the first form. 2 forms exist! Is it? yes it is. Quotes end too.\" Then more. "
            "(Brackets do not start one.) Next one.")
    result = doc(("p", text))
    pieces = [c.text for c in chunk_document(result, max_words=1)]  # every sentence on its own
    assert pieces == ["Use e.g. the first form.", "2 forms exist!", "Is it? yes it is.", "Quotes end too.\"",
                      "Then more. (Brackets do not start one.)", "Next one."]


def test_a_single_sentence_longer_than_max_words_stays_whole():
    long_sentence = "Long " + words(49, "x") + "."
    result = doc(("p", "Short one. " + long_sentence + " Tail here."))
    chunks = chunk_document(result, max_words=10)
    check_chunks(result, chunks, 10)
    assert [c.text for c in chunks] == ["Short one.", long_sentence, "Tail here."]


def test_pieces_of_a_split_paragraph_pack_with_neighbouring_paragraphs():
    result = doc(("p", "Lead in."), ("p", "One two three four. Five six seven eight. Nine."), ("p", "After."))
    chunks = chunk_document(result, max_words=6)
    check_chunks(result, chunks, 6)
    assert [c.text for c in chunks] == ["Lead in.\n\nOne two three four.", "Five six seven eight. Nine.\n\nAfter."]


def test_no_paragraphs_means_no_chunks_and_bad_max_words_is_refused():
    assert chunk_document(doc(("h", 1, "Only"), ("h", 2, "Headings"))) == []
    with pytest.raises(SyllabusError) as refused:
        chunk_document(doc(("p", "x")), max_words=0)
    assert refused.value.code == "E151" and "max_words" in refused.value.message


def test_chunking_read_documents_of_every_format_keeps_offsets_exact(write):
    samples = {
        "a.txt": "First para here.\n\nSecond para. " + "More words. " * 60,
        "a.md": "# T\n\nPara *one*.\n\n## U\n\n- item\n- item two\n\n" + "Long sentence here. " * 80,
        "a.rst": "T\n=\n\nPara :func:`one`.\n\nU\n-\n\n" + "Long sentence here. " * 80 + "\n",
        "a.html": "<h1>T</h1><p>Para <b>one</b>.</p><h2>U</h2><p>" + "Long sentence here. " * 80 + "</p>",
        "a.jsonl": '{"title": "T", "text": "Para one.\\n\\nPara two."}\n{"text": "Another."}\n',
        "a.pdf": build_pdf([["Page one text.", "Second line."], ["Page two."]]),
    }
    for name, content in samples.items():
        result = read_file(write(name, content))
        for max_words in (5, 50, 200):
            chunks = chunk_document(result, max_words)
            check_chunks(result, chunks, max_words)
            assert chunks == chunk_document(result, max_words)  # deterministic
            assert sum(len(c.text.split()) for c in chunks) == sum(
                len(result.text[b.start:b.end].split()) for b in result.blocks if b.kind == "paragraph")
