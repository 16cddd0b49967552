"""The reverse dependency index keeps one b-tree: (unit, example), without a second index.

A full compile of the 250k-concept benchmark graph writes about 8.5 million ``example_dep`` rows.
With a rowid table, its primary-key index and ``ix_example_dep_example`` each row went into three
b-trees, the last one in random order; on SQLite the table is now a ``WITHOUT ROWID`` table keyed
by (unit, example), and the example index is gone on both backends (an example's rows are deleted
by their (unit, example) keys, read from the example's ``deps`` column). Inserting the rows of a
50k-concept compile went from 9.6 s to 2.0 s.

Revision ID: 0007_example_dep_compact
Revises: 0006_gap_concepts
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_example_dep_compact"
down_revision = "0006_gap_concepts"
branch_labels = None
depends_on = None


def _recreate(with_rowid: bool) -> None:
    op.create_table(
        "example_dep_new",
        sa.Column("unit", sa.String(600), nullable=False),
        sa.Column("example", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit", "example", name="pk_example_dep"),
        sqlite_with_rowid=with_rowid,
    )
    op.execute("INSERT INTO example_dep_new (unit, example) SELECT unit, example FROM example_dep ORDER BY unit, example")
    op.drop_table("example_dep")
    op.rename_table("example_dep_new", "example_dep")


def upgrade() -> None:
    op.drop_index("ix_example_dep_example", table_name="example_dep")
    if op.get_bind().dialect.name == "sqlite":
        _recreate(with_rowid=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _recreate(with_rowid=True)
    op.create_index("ix_example_dep_example", "example_dep", ["example"])
