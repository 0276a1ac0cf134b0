"""Scenario runs started from the browser are played in the background; their progress is kept in a table

Revision ID: 0025_scenario_runs
Revises: 0024_state_deltas

Played inside the web request, the scenarios took 8 s on a quiet machine and
30 to 50 s on a loaded one, close to gunicorn's 60 s timeout. The request now
writes a `scenario_run` row and a thread plays the scenarios, writing after
each one how many are done; the page that polls it may be served by any
worker. The result (outcomes, coverage) is kept in the row.
"""
import sqlalchemy as sa
from alembic import op

revision = "0025_scenario_runs"
down_revision = "0024_state_deltas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table of scenario runs."""
    op.create_table(
        "scenario_run",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("deployment_id", sa.Integer, sa.ForeignKey("deployment.id")),
        sa.Column("staged_deployment_id", sa.Integer, sa.ForeignKey("staged_deployment.id", ondelete="CASCADE")),
        sa.Column("scenario", sa.String(200), nullable=False),
        sa.Column("coverage", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("current", sa.String(300)),
        sa.Column("result", sa.JSON),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("created_by_id", sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
    )


def downgrade() -> None:
    """Revert this migration: drop the table of scenario runs (runs are throwaway checks)."""
    op.drop_table("scenario_run")
