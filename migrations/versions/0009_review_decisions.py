"""Review decisions: a domain expert's accept or reject of an extracted fact, with who and when;
the confidence of an extracted concept's definition (the compile gate reads it).

Revision ID: 0009_review_decisions
Revises: 0008_example_id_index
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_review_decisions"
down_revision = "0008_example_id_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_decision",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("discipline", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("text_sha", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("reviewer", sa.String(128), nullable=False),
        sa.Column("decided_at", sa.String(32), nullable=False),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_review_decision"),
        sa.UniqueConstraint("kind", "target", "text_sha", name="uq_review_decision_kind_target_text_sha"),
        sa.CheckConstraint("decision IN ('accept', 'reject')", name="ck_review_decision_decision"),
        sa.CheckConstraint("kind IN ('concept', 'relation', 'definition')", name="ck_review_decision_kind"),
    )
    op.create_index("ix_review_decision_discipline", "review_decision", ["discipline"])
    with op.batch_alter_table("concept") as batch:
        batch.add_column(sa.Column("definition_confidence", sa.Float))


def downgrade() -> None:
    with op.batch_alter_table("concept") as batch:
        batch.drop_column("definition_confidence")
    op.drop_index("ix_review_decision_discipline", table_name="review_decision")
    op.drop_table("review_decision")
