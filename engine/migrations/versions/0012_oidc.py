"""Differences between Isidoor's claims at login and the directory, shown to gestionnaires

Revision ID: 0012_oidc
Revises: 0003_api
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_oidc"
down_revision = "0003_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "login_discrepancy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("signature", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("department", sa.String(length=3), nullable=True),
        sa.Column("structure_code", sa.String(length=40), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "signature"),
    )
    with op.batch_alter_table("login_discrepancy", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_discrepancy_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_discrepancy_department"), ["department"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("login_discrepancy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_discrepancy_department"))
        batch_op.drop_index(batch_op.f("ix_login_discrepancy_person_id"))
    op.drop_table("login_discrepancy")
