"""HTML to heading and paragraph pieces: the visible text only, with the stdlib parser.

Skipped with everything inside them: ``head`` and ``title``, ``script``, ``style``,
``noscript``, ``template``, ``nav``, ``header``, ``footer``, ``aside``, ``svg``, ``math``,
``iframe``, ``canvas``, ``select``, ``textarea``, ``pre`` and any element with the ``hidden``
attribute. ``pre`` is dropped on
purpose: in documentation it is almost always code or console output, which the Markdown and
RST readers drop too. ``h1``-``h6`` are headings; ``p``, ``li``, ``td``/``th``, ``dd``/``dt``,
``blockquote``, captions and any other block element end the text run before them, so text
directly inside a ``div`` (or ``body``, ``section``...) becomes its own paragraph. Inline
elements (``a``, ``em``, ``code``, ``span``...) keep their text; ``br`` is a space; images
are dropped. Character references are decoded. Malformed HTML (unclosed ``p`` or ``li``)
is fine because blocks are cut at every block boundary rather than matched.
"""
from __future__ import annotations

from html.parser import HTMLParser

from syllabus.corpus.model import HEADING, PARAGRAPH

SKIP = frozenset({"head", "title", "script", "style", "noscript", "template", "nav", "header", "footer",
                  "aside", "svg", "math", "iframe", "canvas", "pre", "select", "textarea"})
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
BLOCKS = frozenset({
    "address", "article", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "form", "hgroup", "hr", "html", "legend", "li", "main",
    "menu", "ol", "p", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    *HEADINGS,
})
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
                  "source", "track", "wbr"})


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[tuple[str, str, int]] = []
        self._buffer: list[str] = []
        self._skip_tag: str | None = None
        self._skip_depth = 0
        self._heading = 0

    def _flush(self) -> None:
        text = "".join(self._buffer)
        self._buffer.clear()
        if text.strip():
            self.pieces.append((HEADING, text, self._heading) if self._heading else (PARAGRAPH, text, 0))

    def handle_starttag(self, tag: str, attrs) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth += 1
            return
        if tag in VOID:
            if tag == "br":
                self._buffer.append(" ")
            elif tag == "hr":
                self._flush()
            return
        if tag in SKIP or any(name == "hidden" for name, _ in attrs):
            self._flush()
            self._skip_tag, self._skip_depth = tag, 1
            return
        if tag in BLOCKS:
            self._flush()
            self._heading = HEADINGS.get(tag, 0)

    def handle_endtag(self, tag: str) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth -= 1
                if self._skip_depth == 0:
                    self._skip_tag = None
            return
        if tag in BLOCKS:
            self._flush()
            self._heading = 0

    def handle_data(self, data: str) -> None:
        if self._skip_tag is None:
            self._buffer.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def parse_html(text: str) -> list[tuple[str, str, int]]:
    """``(kind, text, level)`` pieces of an HTML document's visible text, in order."""
    parser = _Extractor()
    parser.feed(text)
    parser.close()
    return parser.pieces
