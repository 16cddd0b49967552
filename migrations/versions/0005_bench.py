"""Benchmark items and their trace index, model runs and results, diagnosed gaps.

Revision ID: 0005_bench
Revises: 0004_compile
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_bench"
down_revision = "0004_compile"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("discipline", sa.String(64), nullable=False),
        sa.Column("level", sa.String(4), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("benchmark", sa.String(256), nullable=True),
        sa.Column("external_id", sa.String(256), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("choices", sa.Text(), nullable=False),
        sa.Column("answer", sa.Integer(), nullable=False),
        sa.Column("trace", sa.Text(), nullable=False),
        sa.Column("split", sa.String(8), nullable=False),
        sa.Column("leak", sa.Text(), nullable=True),
        sa.CheckConstraint("split IN ('dev', 'test')", name="ck_item_split"),
        sa.CheckConstraint("source IN ('generated', 'imported')", name="ck_item_source"),
        sa.PrimaryKeyConstraint("id", name="pk_item"),
    )
    op.create_index("ix_item_discipline", "item", ["discipline"])
    op.create_table(
        "item_unit",
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(600), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], ondelete="CASCADE", name="fk_item_unit_item_id_item"),
        sa.PrimaryKeyConstraint("item_id", "unit", name="pk_item_unit"),
    )
    op.create_index("ix_item_unit_unit", "item_unit", ["unit"])
    op.create_table(
        "run",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("backend", sa.String(32), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("split", sa.String(8), nullable=True),
        sa.Column("started", sa.String(32), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_run"),
    )
    op.create_table(
        "result",
        sa.Column("run_id", sa.String(128), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("prediction", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("scores", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"], ondelete="CASCADE", name="fk_result_run_id_run"),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], ondelete="CASCADE", name="fk_result_item_id_item"),
        sa.PrimaryKeyConstraint("run_id", "item_id", name="pk_result"),
    )
    op.create_index("ix_result_item_id", "result", ["item_id"])
    op.create_table(
        "gap",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("unit", sa.String(1200), nullable=False),
        sa.Column("discipline", sa.String(64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("build", sa.String(40), nullable=True),
        sa.CheckConstraint("status IN ('open', 'patched', 'verified', 'dismissed')", name="ck_gap_status"),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"], ondelete="CASCADE", name="fk_gap_run_id_run"),
        sa.PrimaryKeyConstraint("id", name="pk_gap"),
    )
    op.create_index("ix_gap_run_id", "gap", ["run_id"])
    op.create_index("ix_gap_unit", "gap", ["unit"])
    op.create_index("ix_gap_discipline", "gap", ["discipline"])


def downgrade() -> None:
    for index, table in (("ix_gap_discipline", "gap"), ("ix_gap_unit", "gap"), ("ix_gap_run_id", "gap")):
        op.drop_index(index, table_name=table)
    op.drop_table("gap")
    op.drop_index("ix_result_item_id", table_name="result")
    op.drop_table("result")
    op.drop_table("run")
    op.drop_index("ix_item_unit_unit", table_name="item_unit")
    op.drop_table("item_unit")
    op.drop_index("ix_item_discipline", table_name="item")
    op.drop_table("item")
