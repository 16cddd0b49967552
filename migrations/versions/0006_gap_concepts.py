"""Gaps record the concepts their unit touches; discipline indexes also order by id.

``gap.concept_a`` / ``gap.concept_b`` (indexed) hold the concept of a concept gap, the subject
and object of a relation or chain gap, and the two concepts of a missing-edge pair, so that
``gaps --under`` joins a concept subtree on an index instead of expanding every relation and
chain of the subtree. ``(discipline, id)`` indexes on concept and relation let graph reports
read a discipline's first rows in id order without sorting the whole discipline.

Revision ID: 0006_gap_concepts
Revises: 0005_bench
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_gap_concepts"
down_revision = "0005_bench"
branch_labels = None
depends_on = None

# the backfill, in SQL both SQLite and PostgreSQL run (the application fills new gaps itself)
BACKFILL = (
    "UPDATE gap SET concept_a = substr(unit, 9) WHERE unit LIKE 'concept:%'",
    "UPDATE gap SET concept_a = (SELECT r.subject_id FROM relation r WHERE r.id = substr(gap.unit, 10)), "
    "concept_b = (SELECT r.object_id FROM relation r WHERE r.id = substr(gap.unit, 10)) "
    "WHERE unit LIKE 'relation:%'",
    "UPDATE gap SET concept_a = (SELECT h.subject_id FROM chain h WHERE h.id = substr(gap.unit, 7)), "
    "concept_b = (SELECT h.object_id FROM chain h WHERE h.id = substr(gap.unit, 7)) "
    "WHERE unit LIKE 'chain:%'",
    "UPDATE gap SET concept_a = substr(unit, 6, strpos(unit, '|') - 6), concept_b = substr(unit, strpos(unit, '|') + 1) "
    "WHERE unit LIKE 'pair:%|%'",
)


def upgrade() -> None:
    op.add_column("gap", sa.Column("concept_a", sa.String(512), nullable=True))
    op.add_column("gap", sa.Column("concept_b", sa.String(512), nullable=True))
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in BACKFILL:
        op.execute(statement.replace("strpos(", "instr(") if sqlite else statement)
    op.create_index("ix_gap_concept_a", "gap", ["concept_a"])
    op.create_index("ix_gap_concept_b", "gap", ["concept_b"])
    for table in ("concept", "relation"):
        op.drop_index(f"ix_{table}_discipline", table_name=table)
        op.create_index(f"ix_{table}_discipline_id", table, ["discipline", "id"])


def downgrade() -> None:
    for table in ("relation", "concept"):
        op.drop_index(f"ix_{table}_discipline_id", table_name=table)
        op.create_index(f"ix_{table}_discipline", table, ["discipline"])
    op.drop_index("ix_gap_concept_b", table_name="gap")
    op.drop_index("ix_gap_concept_a", table_name="gap")
    with op.batch_alter_table("gap") as batch:
        batch.drop_column("concept_b")
        batch.drop_column("concept_a")
