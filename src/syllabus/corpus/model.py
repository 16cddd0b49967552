"""The read form of a corpus file (normalised text plus blocks) and its chunks.

Readers produce raw ``(kind, text, level)`` pieces; :func:`assemble` normalises them the same
way for every format and lays them out as one text with exact block offsets.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

HEADING = "heading"
PARAGRAPH = "paragraph"
SEPARATOR = "\n\n"

# Whitespace of any kind (tabs, newlines, NBSP, thin spaces...) becomes one space inside a block;
# invisible characters and C0 controls other than whitespace are removed.
_SPACE = re.compile(r"\s+")
_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1b\x7f\u00ad\u200b\u2060\ufeff]")


@dataclass(frozen=True)
class Block:
    """A heading or a paragraph of the normalised text: ``text[start:end]`` is its text exactly."""

    kind: str  # "heading" | "paragraph"
    start: int
    end: int
    level: int = 0  # heading level (1 = top); 0 for paragraphs


@dataclass
class ReadResult:
    """Normalised document text (NFC, no markup, blocks joined by a blank line) and its blocks."""

    text: str
    blocks: list[Block]

    def block_text(self, block: Block) -> str:
        return self.text[block.start:block.end]

    @property
    def paragraphs(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == PARAGRAPH]


@dataclass(frozen=True)
class ChunkSpan:
    """A chunk of one section: ``text == ReadResult.text[start:end]``."""

    ordinal: int
    section: str | None  # heading path such as "Forces > Friction"; None before the first heading
    start: int
    end: int
    text: str


def clean(text: str) -> str:
    """One block's text normalised: NFC, invisible characters removed, whitespace collapsed."""
    text = _INVISIBLE.sub("", text)
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return _SPACE.sub(" ", text).strip()


def assemble(pieces: list[tuple[str, str, int]]) -> ReadResult:
    """Normalise ``(kind, text, level)`` pieces, drop empty ones, and join them with offsets."""
    parts: list[str] = []
    blocks: list[Block] = []
    pos = 0
    for kind, raw, level in pieces:
        text = clean(raw)
        if not text:
            continue
        if parts:
            pos += len(SEPARATOR)
        parts.append(text)
        blocks.append(Block(kind, pos, pos + len(text), level if kind == HEADING else 0))
        pos += len(text)
    return ReadResult(SEPARATOR.join(parts), blocks)
