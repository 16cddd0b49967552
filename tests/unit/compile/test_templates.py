"""Templates: phrasings, overrides, sandbox, coded errors with template and line, the text filters."""
import pytest

from syllabus.compile.graph import ConceptView
from syllabus.compile.templates import Templates, define, definiens, join_and
from syllabus.errors import SyllabusError


def concept(label, definition, alts=()):
    return ConceptView("x:1", "physics", label, definition, None, tuple(alts), ())


def test_define_and_definiens():
    noun_phrase = concept("acceleration", "The rate at which velocity changes with time")
    assert define(noun_phrase) == "Acceleration is the rate at which velocity changes with time."
    sentence = concept("banked curve", "A banked curve is a section of road tilted toward the inside of the turn.")
    assert define(sentence) == sentence.definition
    assert definiens(sentence) == "A section of road tilted toward the inside of the turn."
    leaky = concept("RNA", "Ribonucleic acid, or RNA, copies genetic information.", ["ribonucleic acid"])
    assert "RNA" not in definiens(leaky) and "ibonucleic" not in definiens(leaky)
    article = concept("resonance", "A harmonic response of a system")
    assert define(article) == "Resonance is a harmonic response of a system."
    acronym = concept("genome", "DNA of an organism")
    assert define(acronym) == "Genome is DNA of an organism."
    mixed_case = concept("pH", "A measure of how acidic a solution is")
    assert define(mixed_case) == "pH is a measure of how acidic a solution is."  # not "PH"
    assert join_and(["a"]) == "a" and join_and(["a", "b", "c"]) == "a, b and c" and join_and([]) == ""


def test_every_task_has_several_phrasings():
    t = Templates()
    for task in ("concept.definition", "concept.term", "concept.synonyms", "concept.true_false", "concept.choice",
                 "relation.forward", "relation.backward", "relation.how_related", "relation.true_false",
                 "chain.explain"):
        assert len(t.variants(task)) >= 2, task


def test_workspace_overrides_and_adds_phrasings(tmp_path):
    folder = tmp_path / "concept" / "definition"
    folder.mkdir(parents=True)
    (folder / "1.j2").write_text("{% block user %}Q {{ concept.label }}{% endblock %}{% block assistant %}A{% endblock %}")
    (folder / "9.j2").write_text("{% block user %}Q9{% endblock %}{% block assistant %}A9{% endblock %}")
    t = Templates(tmp_path)
    names = [v.name for v in t.variants("concept.definition")]
    assert names == ["concept/definition/1.j2", "concept/definition/2.j2", "concept/definition/9.j2"]
    assert t.render("concept/definition/1.j2", {"concept": concept("heat", "energy")}) == {"user": "Q heat",
                                                                                         "assistant": "A"}
    assert t.sha("concept/definition/1.j2") != Templates().sha("concept/definition/1.j2")


def test_undefined_variables_and_sandbox_violations_are_coded(tmp_path):
    folder = tmp_path / "concept" / "term"
    folder.mkdir(parents=True)
    (folder / "1.j2").write_text("{% block user %}\n\n{{ missing }}{% endblock %}{% block assistant %}A{% endblock %}")
    (folder / "2.j2").write_text("{% block user %}{{ concept.__class__.__mro__ }}{% endblock %}"
                                 "{% block assistant %}A{% endblock %}")
    t = Templates(tmp_path)
    with pytest.raises(SyllabusError) as err:
        t.render("concept/term/1.j2", {"concept": concept("heat", "energy")})
    assert err.value.code == "E060" and "concept/term/1.j2:3" in err.value.message and "missing" in err.value.message
    with pytest.raises(SyllabusError) as err:
        t.render("concept/term/2.j2", {"concept": concept("heat", "energy")})
    assert err.value.code == "E060" and "SecurityError" in err.value.message or "__class__" in err.value.message


def test_fast_attribute_reads_keep_the_sandbox_rules(tmp_path):
    """Dataclass fields and dict keys read directly; everything else still passes the sandbox's checks."""
    folder = tmp_path / "concept" / "term"
    folder.mkdir(parents=True)
    bodies = {
        "1.j2": "{{ concept.label }}|{{ step.subject }}|{{ step.items is callable }}|{{ step['items'] }}",
        "2.j2": "{{ concept.nope }}",
        "3.j2": "{{ concept.__class__ }}",
        "4.j2": "{{ step.pop('subject') }}",
    }
    for name, body in bodies.items():
        (folder / name).write_text("{% block user %}" + body + "{% endblock %}{% block assistant %}A{% endblock %}")
    t = Templates(tmp_path)
    ctx = {"concept": concept("heat", "energy"), "step": {"subject": "ice", "items": "k"}}
    assert t.render("concept/term/1.j2", ctx)["user"] == "heat|ice|True|k"
    for name, detail in (("2.j2", "nope"), ("3.j2", "__class__"), ("4.j2", "pop")):
        with pytest.raises(SyllabusError) as err:
            t.render(f"concept/term/{name}", ctx)
        assert err.value.code == "E060" and detail in err.value.message, err.value.message
    assert ctx["step"] == {"subject": "ice", "items": "k"}


def test_map_filter_and_globals_behave_as_in_jinja(tmp_path):
    """The fast ``map(attribute=...)`` gives what Jinja's own gives; other forms and the globals still work."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    folder = tmp_path / "concept" / "term"
    folder.mkdir(parents=True)
    bodies = [
        "{{ items | map(attribute='label') | join_and }}",
        "{{ items | map(attribute='label') | list | length }}",
        "{{ (items | map(attribute='label') | list)[0] if items else '-' }}",
        "{{ mixed | map(attribute='label') | join(',') }}",
        "{{ mixed | map(attribute='nope', default='?') | join(',') }}",
        "{{ items | map(attribute='label') | map('upper') | join(',') }}",
        "{{ gen | map(attribute='label') | join(',') }}",
        "{% for i in range(2) %}{{ i }}{% endfor %}{% set ns = namespace(n=3) %}{{ ns.n }}",
    ]
    for i, body in enumerate(bodies):
        (folder / f"{i}.j2").write_text("{% block user %}" + body + "{% endblock %}{% block assistant %}A{% endblock %}")
    plain = ImmutableSandboxedEnvironment(loader=jinja2.FileSystemLoader(str(tmp_path)), undefined=jinja2.StrictUndefined)
    plain.filters["join_and"] = join_and
    t = Templates(tmp_path)
    for items in ([], [concept("heat", "energy")], [concept("heat", "energy"), concept("ice", "water")]):
        for i in range(len(bodies)):
            def ctx():
                return {"items": items, "mixed": [*items, {"label": "dict"}], "gen": (x for x in items)}
            theirs = "".join(plain.get_template(f"concept/term/{i}.j2").blocks["user"](
                plain.get_template(f"concept/term/{i}.j2").new_context(ctx())))
            assert t.render(f"concept/term/{i}.j2", ctx())["user"] == theirs.strip(), bodies[i]


def test_a_render_leaves_nothing_behind_for_the_next(tmp_path):
    """Variables set, looped or missing in one render never reach another (the compiled code and Jinja alike)."""
    folder = tmp_path / "concept" / "term"
    folder.mkdir(parents=True)
    (folder / "1.j2").write_text(
        "{% set shown = concept.label | upper %}"
        "{% block user %}{% set word = concept.label %}{{ word }}{% for a in concept.alt_labels %}/{{ a }}"
        "{% endfor %}{% if extra is defined %}+{{ extra }}{% endif %}{% endblock %}"
        "{% block assistant %}{{ shown is defined }} {{ concept.definition }}{% endblock %}")
    t = Templates(tmp_path)
    first = t.render("concept/term/1.j2", {"concept": concept("heat", "energy", ("warmth",)), "extra": "x"})
    second = t.render("concept/term/1.j2", {"concept": concept("ice", "frozen water")})
    assert first == {"user": "heat/warmth+x", "assistant": "False energy"}
    assert second == {"user": "ice", "assistant": "False frozen water"}
    with pytest.raises(SyllabusError):  # a variable the earlier render had is undefined now
        t.render("concept/term/1.j2", {})
    assert t.render("concept/term/1.j2", {"concept": concept("heat", "energy")})["user"] == "heat"


def test_the_synonyms_answer_agrees_in_number_with_its_terms():
    t = Templates()
    one = t.render("concept/synonyms/2.j2", {"concept": concept("rule of eight", None, ("octet rule",)),
                                             "discipline": "chemistry"})["assistant"]
    assert one == 'The term octet rule refers to the same concept as "rule of eight".'
    two = t.render("concept/synonyms/2.j2", {"concept": concept("heat", None, ("warmth", "thermal energy")),
                                             "discipline": "physics"})["assistant"]
    assert two == 'The terms warmth and thermal energy refer to the same concept as "heat".'
