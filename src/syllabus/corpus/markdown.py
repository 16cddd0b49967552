"""Markdown to heading and paragraph pieces, with markdown-it-py (CommonMark plus GFM tables).

Kept: ATX and setext headings (with their levels), paragraphs, each list item's paragraphs,
block quotes and table cells (each cell one paragraph, row by row). Dropped: fenced and
indented code blocks, HTML blocks and inline HTML, images, and a leading YAML front matter
block. Inline markup is removed: emphasis and strikethrough keep their text, links their text,
inline code its content; line breaks become spaces.
"""
from __future__ import annotations

import re

from syllabus.corpus.model import HEADING, PARAGRAPH

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_parser = None


def _markdown():
    global _parser
    if _parser is None:
        from markdown_it import MarkdownIt

        _parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    return _parser


def parse_markdown(text: str) -> list[tuple[str, str, int]]:
    """``(kind, text, level)`` pieces of a Markdown document, in order."""
    text = _FRONT_MATTER.sub("", text, count=1)
    pieces: list[tuple[str, str, int]] = []
    level = 0
    for token in _markdown().parse(text):
        if token.type == "heading_open":
            level = int(token.tag[1:])
        elif token.type == "heading_close":
            level = 0
        elif token.type == "inline":
            content = _inline_text(token.children or [])
            pieces.append((HEADING, content, level) if level else (PARAGRAPH, content, 0))
    return pieces


def _inline_text(children) -> str:
    out: list[str] = []
    for child in children:
        kind = child.type
        if kind in ("text", "code_inline"):
            out.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            out.append(" ")
        # image, html_inline and the *_open / *_close markers add no text
    return "".join(out)
