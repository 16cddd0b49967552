"""Helpers shared by the corpus tests (imported by name: this folder is on sys.path)."""
from __future__ import annotations

import unicodedata

from syllabus.corpus.model import ReadResult


def check_result(result: ReadResult) -> None:
    """Every invariant of a ReadResult: exact offsets, blank-line layout, normalised blocks."""
    assert result.blocks, "a read result always has blocks"
    assert result.text == "\n\n".join(result.text[b.start:b.end] for b in result.blocks)
    position = 0
    for block in result.blocks:
        assert block.start == position
        text = result.text[block.start:block.end]
        assert text and text == text.strip()
        assert "\n" not in text and "\t" not in text and "  " not in text and "\u00a0" not in text
        assert unicodedata.is_normalized("NFC", text)
        assert block.kind in ("heading", "paragraph")
        assert (block.level >= 1) if block.kind == "heading" else (block.level == 0)
        position = block.end + 2


def texts(result: ReadResult, kind: str | None = None) -> list[str]:
    return [result.text[b.start:b.end] for b in result.blocks if kind is None or b.kind == kind]


def outline(result: ReadResult) -> list[tuple]:
    """(kind, text) for paragraphs and (kind, text, level) for headings, in order."""
    return [(b.kind, result.text[b.start:b.end], b.level) if b.kind == "heading"
            else (b.kind, result.text[b.start:b.end]) for b in result.blocks]


def _pdf_string(text: str) -> bytes:
    return b"(" + text.encode("latin-1").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def build_pdf(pages: list[list[str]]) -> bytes:
    """A small, valid PDF (Helvetica text, one line per string) that pypdf extracts text from."""
    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: page tree, filled in below
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    font_id, kids = 3, []
    for lines in pages:
        ops = [b"BT", b"/F1 11 Tf", b"14 TL", b"72 720 Td"] + [_pdf_string(line) + b" Tj T*" for line in lines]
        stream = b"\n".join(ops + [b"ET"])
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (len(objects), font_id))
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
