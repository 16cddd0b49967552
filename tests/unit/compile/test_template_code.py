"""Template blocks compiled to Python render exactly what Jinja renders, and leave the rest to Jinja."""
import itertools

import pytest

from syllabus.compile.graph import ConceptView, EvidenceView, LabelView
from syllabus.compile.renderers import phrase
from syllabus.compile.templates import Templates
from syllabus.errors import SyllabusError


def jinja_only(workspace_dir=None) -> Templates:
    t = Templates(workspace_dir)
    t._compile_code = lambda name: None
    return t


def render_both(name, context, workspace_dir=None, pair=None):
    """(compiled result or error code, Jinja's result or error code) for one template and context."""
    out = []
    for t in pair or (Templates(workspace_dir), jinja_only(workspace_dir)):
        try:
            out.append(t.render(name, context))
        except SyllabusError as exc:
            out.append(exc.code)
    return out


EV = EvidenceView(7, "corpora/physics/a.md", "c1", 3, 40, 'Heat is "energy" in transit.')
HEAT = ConceptView("p:heat", "physics", "heat", "Energy transferred because of a temperature difference.", None,
                   ("thermal energy", "Q"), (EV,))
ICE = ConceptView("p:ice", "physics", "ice", None, None, (), ())
LABELS = [LabelView("p:a", "physics", "aether"), LabelView("p:b", "physics", "Boyle's law"),
          LabelView("p:c", "physics", "pH")]


def contexts():
    for evidence, truth, many, concept, direction, source, first_defined in itertools.product(
            (None, EV), (True, False), (False, True), (HEAT, ICE), ("forward", "backward", "how"),
            (None, "Newton 1687"), (True, False)):
        views = LABELS if many else LABELS[:1]
        objects = [HEAT if first_defined else ICE, *views[1:]]
        steps = [{"subject": LABELS[i], "object": LABELS[i + 1], "verb": "causes", "evidence": evidence if i else None,
                  "source": source} for i in range(2 if many else 1)]
        options = [{"letter": "AB"[i], "label": v.label, "id": v.id} for i, v in enumerate(LABELS[:2])]
        yield {"discipline": "physics", "concept": concept, "evidence": evidence, "statement": "heat is cold.",
               "truth": truth, "support": "It is.", "correction": "It is not.", "options": options,
               "answer": options[1], "relation_phrase": "a kind of", "phrase": phrase("causes"),
               "subject": concept, "object": LABELS[0], "objects": objects, "subjects": views, "claimed": LABELS[2],
               "steps": steps, "conclusion": phrase("is_a"), "rule_reason": "Because.", "wrong": "ice",
               "direction": direction}


def test_every_builtin_template_is_compiled_and_renders_what_jinja_renders():
    t = Templates()
    pair = (t, jinja_only())
    names = [v.name for task in t.tasks() for v in t.variants(task)]
    assert len(names) >= 28
    for name in names:
        t.render(name, next(contexts()))
        assert t._code[name] is not None, name
        for context in contexts():
            fast, jinja = render_both(name, context, pair=pair)
            assert fast == jinja, (name, context)


@pytest.mark.parametrize("body", [
    "{{ concept.label | upper }}",  # a filter outside the subset
    "{% set x = concept.label %}{{ x }}",
    "{{ concept.label is defined }}",
    "{{ range(2) | list }}",  # a call
    "{% for x in concept.alt_labels %}{{ x }}{% else %}none{% endfor %}",
    "{{ concept.label ~ '!' }}",
    "{% for x in concept.alt_labels if x %}{{ x }}{% endfor %}",
])
def test_templates_outside_the_subset_are_left_to_jinja(tmp_path, body):
    folder = tmp_path / "concept" / "term"
    folder.mkdir(parents=True)
    (folder / "1.j2").write_text("{% block user %}" + body + "{% endblock %}{% block assistant %}A{% endblock %}")
    t = Templates(tmp_path)
    fast, jinja = render_both("concept/term/1.j2", {"concept": HEAT}, tmp_path)
    t.render("concept/term/1.j2", {"concept": HEAT})
    assert t._code["concept/term/1.j2"] is None
    assert fast == jinja


@pytest.mark.parametrize("body, context", [
    ("{{ d.items }} {{ d.label }}", {"d": {"items": 1, "label": "x"}}),  # a key a dict attribute shadows
    ("{{ concept.__class__ }}", {"concept": HEAT}),  # the sandbox refuses it: E060
    ("{{ concept._hidden }}", {"concept": HEAT}),
    ("{{ missing }}", {}),  # undefined: E060
    ("{{ objects[5].label }}", {"objects": LABELS}),  # out of range: Jinja's undefined, then E060
    ("{{ objects[-1].label }}{{ objects[0] }}", {"objects": LABELS}),
    ("{{ objects | map(attribute='label') | join_and }}", {"objects": [*LABELS, {"label": "a dict"}]}),
    ("{{ objects | map(attribute='label') | length }}", {"objects": LABELS}),  # len of a generator: E060
    ("{% for o in objects %}{% for p in objects %}{{ loop.index }}{{ loop.last }}{% endfor %}"
     "[{{ loop.index0 }} {{ loop.first }} {{ loop.revindex }} {{ loop.length }}]{% endfor %}{{ o }}",
     {"objects": LABELS[:2], "o": "outer"}),
    ("{% if a > 1 and not b or c == 'x' %}y{% elif a %}z{% else %}n{% endif %}{{ 'p' if b else 'q' }}",
     {"a": 2, "b": 0, "c": "x"}),
    ("{{ text | replace('a', n) | capitalize_first }} {{ text | lower_first }}", {"text": "a banana", "n": 3}),
])
def test_reads_the_compiled_code_does_not_do_itself_give_jinjas_result_or_error(tmp_path, body, context):
    folder = tmp_path / "concept" / "term"
    folder.mkdir(parents=True)
    (folder / "1.j2").write_text("{% block user %}" + body + "{% endblock %}{% block assistant %}A{% endblock %}")
    fast, jinja = render_both("concept/term/1.j2", context, tmp_path)
    assert fast == jinja
