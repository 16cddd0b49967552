"""Extraction state: label origin, cached parses, per-chunk extraction state, embeddings, chains.

Revision ID: 0003_extraction
Revises: 0002_corpus
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_extraction"
down_revision = "0002_corpus"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("label") as batch:
        batch.add_column(sa.Column("origin", sa.String(16), server_default="ontology", nullable=False))
    op.create_table(
        "chunk_parse",
        sa.Column("chunk_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["chunk_id"], ["chunk.id"], ondelete="CASCADE", name="fk_chunk_parse_chunk_id_chunk"),
        sa.PrimaryKeyConstraint("chunk_id", name="pk_chunk_parse"),
    )
    op.create_table(
        "chunk_extraction",
        sa.Column("chunk_id", sa.String(64), nullable=False),
        sa.Column("extractor", sa.String(64), nullable=False),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["chunk_id"], ["chunk.id"], ondelete="CASCADE",
                                name="fk_chunk_extraction_chunk_id_chunk"),
        sa.PrimaryKeyConstraint("chunk_id", "extractor", name="pk_chunk_extraction"),
    )
    op.create_table(
        "embedding",
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("text_sha", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("model", "text_sha", name="pk_embedding"),
    )
    op.create_table(
        "chain",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("discipline", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("relation_ids", sa.Text(), nullable=False),
        sa.Column("hops", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(512), nullable=False),
        sa.Column("predicate", sa.String(128), nullable=False),
        sa.Column("object_id", sa.String(512), nullable=False),
        sa.Column("split", sa.String(8), nullable=False),
        sa.CheckConstraint("split IN ('train', 'bench')", name="ck_chain_split"),
        sa.ForeignKeyConstraint(["discipline"], ["discipline.name"], ondelete="CASCADE",
                                name="fk_chain_discipline_discipline"),
        sa.ForeignKeyConstraint(["subject_id"], ["concept.id"], ondelete="CASCADE", name="fk_chain_subject_id_concept"),
        sa.ForeignKeyConstraint(["object_id"], ["concept.id"], ondelete="CASCADE", name="fk_chain_object_id_concept"),
        sa.PrimaryKeyConstraint("id", name="pk_chain"),
    )
    op.create_index("ix_chain_discipline", "chain", ["discipline"])


def downgrade() -> None:
    op.drop_index("ix_chain_discipline", table_name="chain")
    op.drop_table("chain")
    op.drop_table("embedding")
    op.drop_table("chunk_extraction")
    op.drop_table("chunk_parse")
    with op.batch_alter_table("label") as batch:
        batch.drop_column("origin")
