"""The corpus side: documents, chunks and the evidence that ties facts to text.

Revision ID: 0002_corpus
Revises: 0001_graph
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_corpus"
down_revision = "0001_graph"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("discipline", sa.String(64), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("n_words", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["discipline"], ["discipline.name"], ondelete="CASCADE",
                                name="fk_document_discipline_discipline"),
        sa.PrimaryKeyConstraint("id", name="pk_document"),
        sa.UniqueConstraint("discipline", "path", name="uq_document_discipline_path"),
    )
    op.create_table(
        "chunk",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("section", sa.Text(), nullable=True),
        sa.Column("char_start", sa.Integer(), nullable=False),
        sa.Column("char_end", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE",
                                name="fk_chunk_document_id_document"),
        sa.PrimaryKeyConstraint("id", name="pk_chunk"),
        sa.UniqueConstraint("document_id", "ordinal", name="uq_chunk_document_id_ordinal"),
    )
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("concept_id", sa.String(512), nullable=True),
        sa.Column("relation_id", sa.String(64), nullable=True),
        sa.Column("chunk_id", sa.String(64), nullable=False),
        sa.Column("char_start", sa.Integer(), nullable=False),
        sa.Column("char_end", sa.Integer(), nullable=False),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("extractor", sa.String(64), nullable=False),
        sa.Column("extractor_version", sa.String(32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.CheckConstraint("(concept_id IS NULL) <> (relation_id IS NULL)", name="ck_evidence_one_target"),
        sa.ForeignKeyConstraint(["concept_id"], ["concept.id"], ondelete="CASCADE",
                                name="fk_evidence_concept_id_concept"),
        sa.ForeignKeyConstraint(["relation_id"], ["relation.id"], ondelete="CASCADE",
                                name="fk_evidence_relation_id_relation"),
        sa.ForeignKeyConstraint(["chunk_id"], ["chunk.id"], ondelete="CASCADE",
                                name="fk_evidence_chunk_id_chunk"),
        sa.PrimaryKeyConstraint("id", name="pk_evidence"),
    )
    op.create_index("ix_evidence_concept_id", "evidence", ["concept_id"])
    op.create_index("ix_evidence_relation_id", "evidence", ["relation_id"])
    op.create_index("ix_evidence_chunk_id", "evidence", ["chunk_id"])


def downgrade() -> None:
    op.drop_index("ix_evidence_chunk_id", table_name="evidence")
    op.drop_index("ix_evidence_relation_id", table_name="evidence")
    op.drop_index("ix_evidence_concept_id", table_name="evidence")
    op.drop_table("evidence")
    op.drop_table("chunk")
    op.drop_table("document")
