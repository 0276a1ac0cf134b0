"""Versioned documents (contract v1, v2…) and uploads per field and place; contracts per place

Revision ID: 0007_volunteer
Revises: 0003_api
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_volunteer"
down_revision = "0003_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("series", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("place", sa.Integer(), nullable=True))
        batch_op.create_index("ix_document_series", ["instance_id", "series"], unique=False)
    with op.batch_alter_table("volunteer_contract", schema=None) as batch_op:
        batch_op.add_column(sa.Column("place", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("volunteer_contract", schema=None) as batch_op:
        batch_op.drop_column("place")
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index("ix_document_series")
        batch_op.drop_column("place")
        batch_op.drop_column("version")
        batch_op.drop_column("series")
