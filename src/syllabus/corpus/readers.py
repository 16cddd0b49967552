"""Reading corpus files of any supported format into a normalised :class:`ReadResult`.

Formats live in a registry (:data:`READERS`, format name -> :class:`Reader`): a new format is
one parse function registered with :func:`register`. The format is chosen by the file's suffix
chain, so ``about.rst.txt`` (how Sphinx publishes sources, e.g. the Python docs) is RST and
``notes.md.txt`` Markdown. Every reader returns raw ``(kind, text, level)`` pieces; the common
checks and the normalisation (:func:`syllabus.corpus.model.assemble`) are shared.

Every failure is a coded :class:`SyllabusError`, checked in this order: E045 unsupported suffix,
E020 missing file, E044 over ``max_bytes``, E040 a NUL byte in the first 64 KiB (not for PDF),
E041 not UTF-8 (a BOM is fine), E046 a bad JSONL line, E043 an encrypted, corrupt or text-less
PDF, and E042 when no paragraph is left (a file of headings only has nothing to chunk).

Per-format rules: txt - paragraphs split on blank lines, no headings; md - see
:mod:`syllabus.corpus.markdown`; rst - :mod:`syllabus.corpus.rst`; html -
:mod:`syllabus.corpus.html_text`; pdf - pypdf's text of each page, split into paragraphs by
:func:`page_paragraphs`; jsonl - one JSON object per line (blank lines ignored), its
``jsonl_field`` (a dotted path such as ``data.body``) split like txt, preceded by a level-1
heading when the record has a string ``title`` field.
"""
from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from syllabus.corpus.model import HEADING, PARAGRAPH, ReadResult, assemble
from syllabus.errors import SyllabusError

Piece = tuple[str, str, int]  # (kind, raw text, heading level)
NUL_WINDOW = 65536
_BLANK_LINES = re.compile(r"\n[ \t\f\v\u00a0]*\n\s*")
_HYPHEN_BREAK = re.compile(r"(?<=[^\W\d_])-\n[ \t]*(?=[a-z])")
_BULLETS = "\u2022\u25e6\u2023\u2043\u25aa\u25cf-*\u2013\u2014"


@dataclass(frozen=True)
class Options:
    """What a parse function gets besides the content."""

    shown: str
    jsonl_field: str = "text"


@dataclass(frozen=True)
class Reader:
    """A registered format: its parse function and the suffixes that select it."""

    name: str
    parse: Callable[[str | bytes, Options], list[Piece]]
    suffixes: tuple[str, ...]
    binary: bool = False  # parse gets bytes, and the NUL / UTF-8 checks are skipped


READERS: dict[str, Reader] = {}
_BY_SUFFIX: dict[str, str] = {}
# Markup formats that may be published with an extra ``.txt`` (Sphinx's ``_sources/x.rst.txt``).
_WRAPPED_IN_TXT = ("md", "rst", "html")


def register(name: str, *suffixes: str, binary: bool = False):
    """Decorator: make *fn* the reader of format *name* for files ending in *suffixes*."""
    def wrap(fn):
        READERS[name] = Reader(name, fn, tuple(suffixes), binary)
        for suffix in suffixes:
            _BY_SUFFIX[suffix] = name
        return fn
    return wrap


def reader_for(path: Path) -> str | None:
    """The format name for *path* from its suffix chain, or None when unsupported."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if not suffixes:
        return None
    name = _BY_SUFFIX.get(suffixes[-1])
    if name == "txt" and len(suffixes) > 1:
        inner = _BY_SUFFIX.get(suffixes[-2])
        if inner in _WRAPPED_IN_TXT:
            return inner
    return name


def read_file(path: Path, *, shown: str | None = None, jsonl_field: str = "text",
              max_bytes: int = 20_000_000) -> ReadResult:
    """Read, strip markup from and normalise one corpus file."""
    path = Path(path)
    shown = shown or str(path)
    name = reader_for(path)
    if name is None:
        raise SyllabusError("E045", file=shown, suffix=path.suffix or "(none)", known=", ".join(SUPPORTED))
    reader = READERS[name]
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise SyllabusError("E020", file=shown) from exc
    if size > max_bytes:
        raise SyllabusError("E044", file=shown, size=size, limit=max_bytes)
    data = path.read_bytes()
    if len(data) > max_bytes:  # grew since stat
        raise SyllabusError("E044", file=shown, size=len(data), limit=max_bytes)
    options = Options(shown=shown, jsonl_field=jsonl_field)
    pieces = reader.parse(data if reader.binary else decode(data, shown), options)
    result = assemble(pieces)
    if not any(b.kind == PARAGRAPH for b in result.blocks):
        raise SyllabusError("E042", file=shown)
    return result


def decode(data: bytes, shown: str) -> str:
    """UTF-8 (with or without a BOM) text with ``\\n`` newlines; binary or other encodings fail."""
    nul = data.find(b"\x00", 0, NUL_WINDOW)
    if nul >= 0:
        raise SyllabusError("E040", file=shown, offset=nul)
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SyllabusError("E041", file=shown, offset=exc.start + bom) from exc
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def paragraphs(text: str) -> list[Piece]:
    """Paragraph pieces of plain text: split on blank (or whitespace-only) lines."""
    return [(PARAGRAPH, p, 0) for p in _BLANK_LINES.split(text) if p.strip()]


@register("txt", ".txt", ".text")
def parse_txt(text: str, options: Options) -> list[Piece]:
    return paragraphs(text)


@register("md", ".md", ".markdown")
def parse_md(text: str, options: Options) -> list[Piece]:
    from syllabus.corpus.markdown import parse_markdown

    return parse_markdown(text)


@register("rst", ".rst")
def parse_rst(text: str, options: Options) -> list[Piece]:
    from syllabus.corpus.rst import parse_rst as parse

    return parse(text)


@register("html", ".html", ".htm")
def parse_html(text: str, options: Options) -> list[Piece]:
    from syllabus.corpus.html_text import parse_html as parse

    return parse(text)


@register("jsonl", ".jsonl")
def parse_jsonl(text: str, options: Options) -> list[Piece]:
    field = options.jsonl_field
    keys = field.split(".")
    pieces: list[Piece] = []
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines: U+2028 is not a newline
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise _jsonl_error(options, number, f"not valid JSON ({exc})") from exc
        if not isinstance(record, dict):
            raise _jsonl_error(options, number, f"expected a JSON object, found {type(record).__name__}")
        value = record
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                raise _jsonl_error(options, number, f"no field `{field}`")
            value = value[key]
        if not isinstance(value, str):
            raise _jsonl_error(options, number, f"field `{field}` is {type(value).__name__}, not a string")
        title = record.get("title")
        if isinstance(title, str) and title.strip() and field != "title":
            pieces.append((HEADING, title, 1))
        pieces.extend(paragraphs(value.replace("\r\n", "\n").replace("\r", "\n")))
    return pieces


def _jsonl_error(options: Options, line: int, detail: str) -> SyllabusError:
    return SyllabusError("E046", file=options.shown, line=line, detail=detail, field=options.jsonl_field)


@register("pdf", ".pdf", binary=True)
def parse_pdf(data: bytes, options: Options) -> list[Piece]:
    import logging

    import pypdf

    def unreadable(detail: str) -> SyllabusError:
        return SyllabusError("E043", file=options.shown, detail=detail)

    log = logging.getLogger("pypdf")
    level = log.level
    log.setLevel(logging.ERROR)  # pypdf warns about every quirk it recovers from
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # owner-password-only PDFs open with an empty user password
            except Exception as exc:  # missing AES backend, unknown handler
                raise unreadable(f"encrypted ({exc})") from exc
            if not opened:
                raise unreadable("encrypted with a password")
        pages = [page.extract_text() or "" for page in reader.pages]
    except SyllabusError:
        raise
    except Exception as exc:  # corrupt files raise PdfReadError, but also KeyError, struct.error...
        raise unreadable(str(exc) or type(exc).__name__) from exc
    finally:
        log.setLevel(level)
    pieces = [(PARAGRAPH, text, 0) for page in pages for text in page_paragraphs(page)]
    if not any(text.strip() for _, text, _ in pieces):
        raise unreadable("no text layer" if pages else "no pages")
    return pieces


def page_paragraphs(page: str) -> list[str]:
    """Paragraphs of one PDF page's extracted text.

    Blank lines separate paragraphs. pypdf's text rarely has any, so within a blank-line block
    a line also ends a paragraph when it is short (under 70% of the block's typical, 75th
    percentile, line length; blocks of 4+ lines) and the next line starts like a new paragraph
    (an uppercase letter, a digit or a bullet): the last line of a paragraph, a heading or a
    list item, not a wrapped line. Hyphenated line-end word breaks ("exam-" + "ple") are joined.
    """
    out: list[str] = []
    for block in _BLANK_LINES.split(page.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        full = sorted(len(line) for line in lines)[len(lines) * 3 // 4] if len(lines) >= 4 else 0
        current: list[str] = []
        for k, line in enumerate(lines):
            current.append(line)
            following = lines[k + 1][0] if k + 1 < len(lines) else ""
            if not following or (len(line) < 0.7 * full and (following.isupper() or following.isdigit()
                                                             or following in _BULLETS)):
                out.append(_HYPHEN_BREAK.sub("", "\n".join(current)).replace("\n", " "))
                current = []
    return out


SUPPORTED: tuple[str, ...] = tuple(s for reader in READERS.values() for s in reader.suffixes)
