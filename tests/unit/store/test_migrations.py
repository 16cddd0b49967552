"""Migrations on both backends: empty -> head -> base -> head, upgrades keep rows, models match."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, select

from syllabus.errors import SyllabusError
from syllabus.store import migrate, open_store
from syllabus.store.engine import make_engine
from syllabus.store.tables import Base, Concept, Discipline, Label

TABLES = {"discipline", "ontology_source", "concept", "label", "relation", "document", "chunk", "evidence",
          "chunk_parse", "chunk_extraction", "embedding", "chain", "unit", "graph_change", "build", "example",
          "example_dep", "item", "item_unit", "run", "result", "gap", "review_decision"}


def _tables(engine):
    with engine.connect() as conn:
        return set(inspect(conn).get_table_names()) - {"alembic_version"}


def test_empty_head_base_head(store_url):
    engine = make_engine(store_url)
    assert _tables(engine) == set()
    assert migrate.upgrade(engine) == migrate.head_revision()
    assert _tables(engine) == TABLES
    assert migrate.downgrade(engine, "base") is None
    assert _tables(engine) == set()
    assert migrate.upgrade(engine) == migrate.head_revision()
    assert _tables(engine) == TABLES
    engine.dispose()


def test_models_match_migrations(store_url):
    engine = make_engine(store_url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diffs == []


def test_upgrade_keeps_existing_rows(store_url):
    engine = make_engine(store_url)
    first = migrate.revisions()[0]
    migrate.upgrade(engine, first)
    with engine.begin() as conn:
        conn.execute(insert(Discipline.__table__).values(name="physics", prefix="phys", iri="https://x/"))
        conn.execute(insert(Concept.__table__).values(id="phys:Force", discipline="physics", pref_label="force",
                                                      origin="ontology", status="active"))
        conn.execute(insert(Label.__table__).values(concept_id="phys:Force", kind="pref", text="force"))
    assert migrate.upgrade(engine) == migrate.head_revision()
    with engine.connect() as conn:
        assert conn.execute(select(Concept.__table__.c.id, Concept.__table__.c.pref_label)).all() == [
            ("phys:Force", "force")]
        assert conn.execute(select(Label.__table__.c.text)).scalars().all() == ["force"]
    engine.dispose()


def test_open_store_upgrades_an_empty_database_only(store_url):
    store = open_store(store_url)
    assert _tables(store.engine) == TABLES
    store.close()
    engine = make_engine(store_url)
    migrate.downgrade(engine, migrate.revisions()[0])
    engine.dispose()
    with pytest.raises(SyllabusError) as err:
        open_store(store_url)
    assert err.value.code == "E010" and "syllabus db upgrade" in err.value.fix


def test_unknown_revision_is_coded(store_url):
    engine = make_engine(store_url)
    with pytest.raises(SyllabusError) as err:
        migrate.upgrade(engine, "nope")
    assert err.value.code == "E012"
    engine.dispose()


def test_gap_concepts_are_backfilled_from_unit_keys(store_url):
    """0006 fills gap.concept_a / concept_b for the gaps already stored, on both backends."""
    from syllabus.store.tables import Chain, Gap, Relation, Run

    engine = make_engine(store_url)
    migrate.upgrade(engine, "0005_bench")
    with engine.begin() as conn:
        conn.execute(insert(Discipline.__table__).values(name="d", prefix="d", iri="https://x/"))
        conn.execute(insert(Concept.__table__), [dict(id=f"d:{c}", discipline="d", pref_label=c, origin="ontology",
                                                      status="active") for c in "ABC"])
        conn.execute(insert(Relation.__table__).values(id="rel1", discipline="d", subject_id="d:A", predicate="causes",
                                                       object_id="d:B", origin="ontology", status="asserted",
                                                       confidence=1.0))
        conn.execute(insert(Chain.__table__).values(id="ch1", discipline="d", rule="r", relation_ids="[]", hops=2,
                                                    subject_id="d:B", predicate="causes", object_id="d:C",
                                                    split="bench"))
        conn.execute(insert(Run.__table__).values(id="r", model="m", backend="b", params="{}", started="t",
                                                  seconds=0.0))
        conn.execute(insert(Gap.__table__), [
            dict(id=g, run_id="r", kind="k", unit=u, discipline="d", score=0.5, items="[]", status="open")
            for g, u in (("g1", "concept:d:A"), ("g2", "relation:rel1"), ("g3", "chain:ch1"),
                         ("g4", "pair:d:A|d:C"), ("g5", "relation:gone"))])
    migrate.upgrade(engine)
    G = Gap.__table__
    with engine.connect() as conn:
        got = {r.id: (r.concept_a, r.concept_b) for r in conn.execute(select(G.c.id, G.c.concept_a, G.c.concept_b))}
    engine.dispose()
    assert got == {"g1": ("d:A", None), "g2": ("d:A", "d:B"), "g3": ("d:B", "d:C"), "g4": ("d:A", "d:C"),
                   "g5": (None, None)}


def _up_down_up(engine, revision: str):
    """Upgrade to *revision*, downgrade to the one before it, upgrade again: yields each revision reached."""
    before = migrate.revisions()[migrate.revisions().index(revision) - 1]
    for target, move in ((revision, migrate.upgrade), (before, migrate.downgrade), (revision, migrate.upgrade)):
        move(engine, target)
        yield target


def test_example_dep_keeps_its_rows_through_0007_and_back(store_url):
    """0007 rebuilds example_dep (WITHOUT ROWID on SQLite, no example index) and keeps every row."""
    from sqlalchemy import text

    from syllabus.store.tables import ExampleDep

    engine = make_engine(store_url)
    migrate.upgrade(engine, "0006_gap_concepts")
    rows = [{"unit": f"concept:d:{i % 7}", "example": i} for i in range(50)]
    with engine.begin() as conn:
        conn.execute(insert(ExampleDep.__table__), rows)
    XD = ExampleDep.__table__
    for target in _up_down_up(engine, "0007_example_dep_compact"):
        with engine.connect() as conn:
            got = conn.execute(select(XD.c.unit, XD.c.example).order_by(XD.c.unit, XD.c.example)).all()
            indexes = {i["name"] for i in inspect(conn).get_indexes("example_dep")}
            ddl = (conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'example_dep'")).scalar()
                   if engine.dialect.name == "sqlite" else None)
        assert got == sorted((r["unit"], r["example"]) for r in rows)
        assert ("ix_example_dep_example" in indexes) == (target == "0006_gap_concepts")
        if ddl is not None:
            assert ("WITHOUT ROWID" in ddl) == (target != "0006_gap_concepts")
    engine.dispose()


def test_example_ids_stay_unique_through_0008_and_back(store_url):
    """0008 swaps the unique constraint on example.id for a unique index, keeping the rows."""
    from sqlalchemy.exc import IntegrityError

    from syllabus.store.tables import Example

    engine = make_engine(store_url)
    migrate.upgrade(engine, "0007_example_dep_compact")
    XE = Example.__table__
    row = {"unit": "concept:d:A", "discipline": "d", "renderer": "concept@2", "task": "concept.definition",
           "template": "concept/definition/1.j2", "template_sha": "0123456789abcdef", "deps": "", "stale": 0,
           "build": "0001-x"}
    with engine.begin() as conn:
        conn.execute(insert(XE), [{**row, "seq": i, "id": f"ex-{i}"} for i in range(1, 4)])
    for target in _up_down_up(engine, "0008_example_id_index"):
        with engine.connect() as conn:
            assert conn.execute(select(XE.c.id).order_by(XE.c.seq)).scalars().all() == ["ex-1", "ex-2", "ex-3"]
            unique_indexes = {i["name"] for i in inspect(conn).get_indexes("example") if i["unique"]}
            constraints = {c["name"] for c in inspect(conn).get_unique_constraints("example")}
        assert ("ix_example_id" in unique_indexes) == (target == "0008_example_id_index")
        assert ("uq_example_id" in constraints) == (target == "0007_example_dep_compact")
        with pytest.raises(IntegrityError), engine.begin() as conn:  # either way a duplicate id is refused
            conn.execute(insert(XE).values(**row, seq=9, id="ex-2"))
    engine.dispose()


def test_revision_checks_agree_with_alembic_and_do_not_import_it(store_url, tmp_path):
    """head and current revision are read without Alembic, and give Alembic's answers."""
    import subprocess
    import sys

    engine = make_engine(store_url)
    assert migrate.head_revision() == migrate._script().get_current_head()
    with engine.connect() as conn:
        assert migrate.current_revision(conn) is None
    for rev in (migrate.revisions()[0], "head"):
        migrate.upgrade(engine, rev)
        with engine.connect() as conn:
            assert migrate.current_revision(conn) == MigrationContext.configure(conn).get_current_revision()
    engine.dispose()
    probe = ("import sys\nfrom syllabus.store import open_store\n"
             f"open_store({store_url!r}).close()\nprint('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False"]
