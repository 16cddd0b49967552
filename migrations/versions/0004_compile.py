"""Compile: unit fingerprints, the graph change journal (triggers), builds, examples and their dependencies.

Revision ID: 0004_compile
Revises: 0003_extraction
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_compile"
down_revision = "0003_extraction"
branch_labels = None
depends_on = None

# table -> unit keys a touched row stands for (SQL expressions over a row alias R)
JOURNAL = {
    "concept": ["'concept:' || R.id"],
    "label": ["'concept:' || R.concept_id"],
    "relation": ["'relation:' || R.id", "'concept:' || R.subject_id", "'concept:' || R.object_id"],
    "evidence": ["CASE WHEN R.concept_id IS NOT NULL THEN 'concept:' || R.concept_id ELSE 'relation:' || R.relation_id END"],
    "chain": ["'chain:' || R.id"],
}


def _sqlite_triggers() -> list[str]:
    out = []
    for table, exprs in JOURNAL.items():
        for op_name, rows in (("INSERT", ["NEW"]), ("UPDATE", ["OLD", "NEW"]), ("DELETE", ["OLD"])):
            values = ", ".join(f"({e.replace('R.', row + '.')})" for row in rows for e in exprs)
            out.append(f"CREATE TRIGGER trg_{table}_{op_name.lower()} AFTER {op_name} ON {table} "
                       f"BEGIN INSERT INTO graph_change(unit) VALUES {values}; END")
    return out


def _postgres_triggers() -> list[str]:
    out = []
    for table, exprs in JOURNAL.items():
        def rows(row: str) -> str:
            return " ".join(f"INSERT INTO graph_change(unit) VALUES ({e.replace('R.', row + '.')});" for e in exprs)
        out.append(f"""CREATE FUNCTION journal_{table}() RETURNS trigger AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN {rows('OLD')} END IF;
  IF TG_OP <> 'DELETE' THEN {rows('NEW')} END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""")
        out.append(f"CREATE TRIGGER trg_{table}_journal AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION journal_{table}()")
    return out


def upgrade() -> None:
    op.create_table(
        "unit",
        sa.Column("key", sa.String(600), nullable=False),
        sa.Column("discipline", sa.String(64), nullable=False),
        sa.Column("fp", sa.String(32), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_unit"),
    )
    op.create_index("ix_unit_discipline", "unit", ["discipline"])
    op.create_table(
        "graph_change",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit", sa.String(600), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_graph_change"),
    )
    op.create_table(
        "build",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("parent", sa.String(40), nullable=True),
        sa.Column("created", sa.String(32), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("selector", sa.Text(), nullable=True),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_build"),
        sa.UniqueConstraint("seq", name="uq_build_seq"),
    )
    op.create_table(
        "example",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("unit", sa.String(600), nullable=False),
        sa.Column("discipline", sa.String(64), nullable=False),
        sa.Column("renderer", sa.String(64), nullable=False),
        sa.Column("task", sa.String(64), nullable=False),
        sa.Column("template", sa.String(256), nullable=False),
        sa.Column("template_sha", sa.String(16), nullable=False),
        sa.Column("deps", sa.Text(), nullable=False),
        sa.Column("dropped", sa.Text(), nullable=True),
        sa.Column("stale", sa.Integer(), nullable=False),
        sa.Column("build", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_example"),
        sa.UniqueConstraint("id", name="uq_example_id"),
    )
    op.create_index("ix_example_unit", "example", ["unit"])
    op.create_index("ix_example_stale", "example", ["stale"])
    op.create_table(
        "example_dep",
        sa.Column("unit", sa.String(600), nullable=False),
        sa.Column("example", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit", "example", name="pk_example_dep"),
    )
    op.create_index("ix_example_dep_example", "example_dep", ["example"])
    dialect = op.get_bind().dialect.name
    for statement in _postgres_triggers() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in JOURNAL:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_journal ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS journal_{table}()")
        else:
            for name in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_{name}")
    op.drop_index("ix_example_dep_example", table_name="example_dep")
    op.drop_table("example_dep")
    op.drop_index("ix_example_stale", table_name="example")
    op.drop_index("ix_example_unit", table_name="example")
    op.drop_table("example")
    op.drop_table("build")
    op.drop_table("graph_change")
    op.drop_index("ix_unit_discipline", table_name="unit")
    op.drop_table("unit")
