"""Cutting a read document into section- and paragraph-aware chunks.

Blocks are walked in order while the heading path is tracked (a heading of level k replaces
the path's levels >= k). A chunk is a run of consecutive paragraphs of one section, packed
greedily up to ``max_words`` words (whitespace-separated); it never crosses a heading, and a
heading is never a chunk of its own (it only names the ``section`` of the chunks after it).
A paragraph longer than ``max_words`` is split at sentence ends (". ", "? " or "! ", optionally
after a closing quote or bracket, followed by an uppercase letter or a digit) into pieces of at
most ``max_words`` words, and those pieces are packed like paragraphs; a single sentence
longer than ``max_words`` stays whole. Offsets point into ``ReadResult.text``, so a chunk of
several paragraphs includes the blank lines between them.
"""
from __future__ import annotations

import re

from syllabus.corpus.model import HEADING, ChunkSpan, ReadResult
from syllabus.errors import SyllabusError

SECTION_SEPARATOR = " > "
_SENTENCE_END = re.compile(r"[.?!][\"'\u201d\u2019)\]]* (?=\S)")


def chunk_document(result: ReadResult, max_words: int = 200) -> list[ChunkSpan]:
    """The chunks of *result*, in document order."""
    if max_words < 1:
        raise SyllabusError("E151", option="max_words", value=max_words, expected="of at least 1")
    text = result.text
    chunks: list[ChunkSpan] = []
    path: list[tuple[int, str]] = []
    section: str | None = None
    run_start = run_end = -1
    run_words = 0

    def flush() -> None:
        nonlocal run_start, run_words
        if run_start >= 0:
            chunks.append(ChunkSpan(len(chunks), section, run_start, run_end, text[run_start:run_end]))
        run_start, run_words = -1, 0

    for block in result.blocks:
        if block.kind == HEADING:
            flush()
            path = [(lvl, name) for lvl, name in path if lvl < block.level]
            path.append((block.level, text[block.start:block.end]))
            section = SECTION_SEPARATOR.join(name for _, name in path)
            continue
        for start, end, words in _units(text, block.start, block.end, max_words):
            if run_start >= 0 and run_words + words > max_words:
                flush()
            if run_start < 0:
                run_start = start
            run_end = end
            run_words += words
    flush()
    return chunks


def _units(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int, int]]:
    """``(start, end, words)`` of a paragraph, or of its sentence-packed pieces when it is long."""
    words = len(text[start:end].split())
    if words <= max_words:
        return [(start, end, words)]
    pieces: list[tuple[int, int, int]] = []
    piece_start, piece_words = start, 0
    sentence_start = last_end = start
    for sentence_end, next_start in _sentence_bounds(text, start, end):
        n = len(text[sentence_start:sentence_end].split())
        if piece_words and piece_words + n > max_words:
            pieces.append((piece_start, last_end, piece_words))
            piece_start, piece_words = sentence_start, 0
        piece_words += n
        last_end = sentence_end
        sentence_start = next_start
    pieces.append((piece_start, end, piece_words))
    return pieces


def _sentence_bounds(text: str, start: int, end: int):
    """``(end of sentence, start of next)`` for each sentence of ``text[start:end]``."""
    for match in _SENTENCE_END.finditer(text, start, end):
        following = text[match.end()]
        if following.isupper() or following.isdigit():
            yield match.end() - 1, match.end()
    yield end, end
