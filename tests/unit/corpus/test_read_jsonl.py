import json

import pytest
from corpus_helpers import outline

from syllabus.corpus.readers import read_file
from syllabus.errors import SyllabusError


def _lines(*records) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def test_jsonl_records_become_paragraphs_with_title_headings(read):
    source = _lines(
        {"title": "Friction", "text": "Friction opposes motion.\n\nIt turns work into heat.", "id": 1},
        "",
        "   ",
        {"text": "A record without a title.\r\nSame paragraph."},
        {"title": 42, "text": "A non-string title is ignored."},
    )
    assert outline(read("notes.jsonl", source)) == [
        ("heading", "Friction", 1),
        ("paragraph", "Friction opposes motion."),
        ("paragraph", "It turns work into heat."),
        ("paragraph", "A record without a title. Same paragraph."),
        ("paragraph", "A non-string title is ignored."),
    ]


def test_jsonl_field_can_be_chosen_and_dotted(read):
    source = _lines({"data": {"body": "Nested body text.", "text": "not this"}, "text": "nor this"})
    assert outline(read("n.jsonl", source, jsonl_field="data.body")) == [("paragraph", "Nested body text.")]
    assert outline(read("m.jsonl", _lines({"content": "Other field."}), jsonl_field="content")) == [
        ("paragraph", "Other field.")]


def test_jsonl_keeps_unicode_line_separators_inside_strings(read):
    result = read("u.jsonl", _lines({"text": "before\u2028after \u00e9t\u00e9"}))
    assert result.text == "before after \u00e9t\u00e9"


@pytest.mark.parametrize("bad_line, field, detail", [
    ("{not json", "text", "not valid JSON"),
    ('["a", "list"]', "text", "expected a JSON object"),
    ('{"body": "no text field"}', "text", "no field `text`"),
    ('{"text": 7}', "text", "is int, not a string"),
    ('{"data": {"body": null}}', "data.body", "is NoneType, not a string"),
    ('{"data": "flat"}', "data.body", "no field `data.body`"),
])
def test_bad_jsonl_line_is_E046_with_its_line_number(write, bad_line, field, detail):
    path = write("bad.jsonl", _lines({"text": "fine", "data": {"body": "fine"}}, "", bad_line, {"text": "fine"}))
    with pytest.raises(SyllabusError) as info:
        read_file(path, shown="corpora/bad.jsonl", jsonl_field=field)
    err = info.value
    assert err.code == "E046"
    assert err.fields["file"] == "corpora/bad.jsonl" and err.fields["line"] == 3
    assert err.fields["field"] == field and detail in err.fields["detail"]
    assert err.message.startswith("corpora/bad.jsonl:3: ")
    assert f"string field `{field}`" in err.fix
