"""The concept graph: disciplines, ontology sources, concepts, labels, relations.

Revision ID: 0001_graph
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_graph"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "discipline",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(64), nullable=False),
        sa.Column("iri", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_discipline"),
    )
    op.create_table(
        "ontology_source",
        sa.Column("discipline", sa.String(64), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("importer", sa.String(64), nullable=False),
        sa.Column("n_concepts", sa.Integer(), nullable=False),
        sa.Column("n_relations", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["discipline"], ["discipline.name"], ondelete="CASCADE",
                                name="fk_ontology_source_discipline_discipline"),
        sa.PrimaryKeyConstraint("discipline", "path", name="pk_ontology_source"),
    )
    op.create_table(
        "concept",
        sa.Column("id", sa.String(512), nullable=False),
        sa.Column("discipline", sa.String(64), nullable=False),
        sa.Column("pref_label", sa.Text(), nullable=True),
        sa.Column("definition", sa.Text(), nullable=True),
        sa.Column("type", sa.String(128), nullable=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(1024), nullable=True),
        sa.CheckConstraint("origin IN ('ontology', 'extracted', 'patched', 'external')", name="ck_concept_origin"),
        sa.CheckConstraint("status IN ('active', 'deprecated')", name="ck_concept_status"),
        sa.ForeignKeyConstraint(["discipline"], ["discipline.name"], ondelete="CASCADE",
                                name="fk_concept_discipline_discipline"),
        sa.PrimaryKeyConstraint("id", name="pk_concept"),
    )
    op.create_index("ix_concept_discipline", "concept", ["discipline"])
    op.create_table(
        "label",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("concept_id", sa.String(512), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(["concept_id"], ["concept.id"], ondelete="CASCADE",
                                name="fk_label_concept_id_concept"),
        sa.PrimaryKeyConstraint("id", name="pk_label"),
        sa.UniqueConstraint("concept_id", "kind", "text", name="uq_label_concept_id_kind_text"),
    )
    op.create_index("ix_label_text", "label", ["text"])
    op.create_table(
        "relation",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("discipline", sa.String(64), nullable=False),
        sa.Column("subject_id", sa.String(512), nullable=False),
        sa.Column("predicate", sa.String(128), nullable=False),
        sa.Column("object_id", sa.String(512), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("source", sa.String(1024), nullable=True),
        sa.CheckConstraint("status IN ('asserted', 'proposed', 'gap', 'rejected')", name="ck_relation_status"),
        sa.ForeignKeyConstraint(["discipline"], ["discipline.name"], ondelete="CASCADE",
                                name="fk_relation_discipline_discipline"),
        sa.ForeignKeyConstraint(["subject_id"], ["concept.id"], ondelete="CASCADE",
                                name="fk_relation_subject_id_concept"),
        sa.ForeignKeyConstraint(["object_id"], ["concept.id"], ondelete="CASCADE",
                                name="fk_relation_object_id_concept"),
        sa.PrimaryKeyConstraint("id", name="pk_relation"),
        sa.UniqueConstraint("subject_id", "predicate", "object_id", "origin",
                            name="uq_relation_subject_id_predicate_object_id_origin"),
    )
    op.create_index("ix_relation_discipline", "relation", ["discipline"])
    op.create_index("ix_relation_object_id", "relation", ["object_id"])


def downgrade() -> None:
    op.drop_index("ix_relation_object_id", table_name="relation")
    op.drop_index("ix_relation_discipline", table_name="relation")
    op.drop_table("relation")
    op.drop_index("ix_label_text", table_name="label")
    op.drop_table("label")
    op.drop_index("ix_concept_discipline", table_name="concept")
    op.drop_table("concept")
    op.drop_table("ontology_source")
    op.drop_table("discipline")
