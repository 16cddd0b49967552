import io

import pypdf
import pytest
from corpus_helpers import texts

from syllabus.corpus.readers import page_paragraphs, read_file
from syllabus.errors import SyllabusError

PAGE_ONE = [
    "Friction is a force that opposes the relative motion of two",
    "surfaces in contact. It acts parallel to the surfaces and its",
    "size depends on the normal force. A typical exam-",
    "ple is the braking of a car.",
    "Static friction keeps objects at rest until a threshold",
    "force is exceeded; kinetic friction then takes over and is",
    "usually a little smaller than the static maximum.",
]
PAGE_TWO = ["Drag is friction in a fluid."]


def test_pdf_text_is_extracted_page_by_page_with_paragraphs(read, make_pdf):
    data = make_pdf([PAGE_ONE, PAGE_TWO])
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages) == 2  # a real PDF, as pypdf sees it
    result = read("friction.pdf", data)
    assert texts(result) == [
        "Friction is a force that opposes the relative motion of two surfaces in contact. It acts parallel "
        "to the surfaces and its size depends on the normal force. A typical example is the braking of a car.",
        "Static friction keeps objects at rest until a threshold force is exceeded; kinetic friction then "
        "takes over and is usually a little smaller than the static maximum.",
        "Drag is friction in a fluid.",
    ]
    assert all(b.kind == "paragraph" for b in result.blocks)


def test_page_paragraphs_split_on_blank_lines_and_join_hyphenated_words():
    assert page_paragraphs("One para-\ngraph here.\n\n\nAnother\r\none.\n") == [
        "One paragraph here.", "Another one."]
    # a hyphen before an uppercase letter or a digit is a real hyphen, not a word break
    assert page_paragraphs("Rayleigh-\nJeans law and pre-\n1900 physics") == ["Rayleigh- Jeans law and pre- 1900 physics"]


def test_page_paragraphs_short_lines_end_paragraphs_only_before_a_new_start():
    lines = ["A long line of a wrapped paragraph goes on and on here,", "and so does this one, it is long",
             "too.", "next line starts lowercase so it continues the text", "Short.", "\u2022 A bullet item",
             "A final long line of text that is as long as the others."]
    assert page_paragraphs("\n".join(lines)) == [
        "A long line of a wrapped paragraph goes on and on here, and so does this one, it is long too. "
        "next line starts lowercase so it continues the text Short.",
        "\u2022 A bullet item",
        "A final long line of text that is as long as the others.",
    ]


def _encrypted(data: bytes, user_password: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_with_a_user_password_is_E043(write, make_pdf):
    path = write("secret.pdf", _encrypted(make_pdf([PAGE_TWO]), "secret"))
    with pytest.raises(SyllabusError) as info:
        read_file(path, shown="corpora/secret.pdf")
    assert info.value.code == "E043" and info.value.fields["file"] == "corpora/secret.pdf"
    assert "encrypted" in info.value.fields["detail"]


def test_pdf_with_only_an_owner_password_is_read(read, make_pdf):
    assert texts(read("locked.pdf", _encrypted(make_pdf([PAGE_TWO]), ""))) == ["Drag is friction in a fluid."]


@pytest.mark.parametrize("data", [
    b"%PDF-1.4\nthis is not really a pdf\n%%EOF\n",
    b"not a pdf at all",
    b"",
])
def test_corrupt_pdf_is_E043(write, data):
    with pytest.raises(SyllabusError) as info:
        read_file(write("broken.pdf", data))
    assert info.value.code == "E043"


def test_pdf_without_a_text_layer_is_E043(write, make_pdf):
    with pytest.raises(SyllabusError) as info:
        read_file(write("scan.pdf", make_pdf([[], []])))
    assert info.value.code == "E043" and "no text" in info.value.fields["detail"]


def test_truncated_pdf_is_E043(write, make_pdf):
    data = make_pdf([PAGE_ONE])
    with pytest.raises(SyllabusError) as info:
        read_file(write("cut.pdf", data[: len(data) // 3]))
    assert info.value.code == "E043"
