"""Example ids are unique through a named index instead of a table constraint.

A compile from nothing writes every example row again (1.5 million for the 250k-concept benchmark
graph). Kept up row by row, the unique b-tree on random hash ids made those inserts cost twice as
much CPU as the rows themselves, on a machine whose other cores are rendering. A constraint's
index cannot be dropped on SQLite; a named unique index can, so a full compile drops the
example indexes after deleting the old rows and builds them once, sorted, after the last insert
(both in the compile's transaction: a failed compile gets them back on rollback).

Revision ID: 0008_example_id_index
Revises: 0007_example_dep_compact
"""
from alembic import op

revision = "0008_example_id_index"
down_revision = "0007_example_dep_compact"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("example") as batch:  # SQLite: the table is copied without the constraint
        batch.drop_constraint("uq_example_id", type_="unique")
    op.create_index("ix_example_id", "example", ["id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_example_id", table_name="example")
    with op.batch_alter_table("example") as batch:
        batch.create_unique_constraint("uq_example_id", ["id"])
