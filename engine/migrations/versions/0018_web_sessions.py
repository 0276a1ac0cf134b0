"""Web sessions kept in the database

Revision ID: 0018_web_sessions
Revises: 0017_task_drafts

A session cookie used to be its own proof: copied before « Se déconnecter », it
still opened pages afterwards. Each session now has a row whose end every
server sees (logout, revoked tokens, deactivated account, new password, an
administrator's « Mettre fin à toutes les sessions », inactivity, age). Cookies
signed before this revision carry no session id and are refused: everyone logs
in again once.
"""
import sqlalchemy as sa
from alembic import op

revision = "0018_web_sessions"
down_revision = "0017_task_drafts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "web_session",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id", ondelete="CASCADE"), nullable=False),
        sa.Column("via", sa.String(10), nullable=False),
        sa.Column("id_token", sa.Text(), nullable=True),
        sa.Column("credential", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("end_reason", sa.String(20), nullable=True),
        sa.Column("user_agent", sa.String(200), nullable=True),
        sa.Column("address", sa.String(45), nullable=True),
    )
    with op.batch_alter_table("web_session") as batch:
        batch.create_index(batch.f("ix_web_session_person_id"), ["person_id"], unique=False)
        batch.create_index(batch.f("ix_web_session_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("web_session") as batch:
        batch.drop_index(batch.f("ix_web_session_created_at"))
        batch.drop_index(batch.f("ix_web_session_person_id"))
    op.drop_table("web_session")
