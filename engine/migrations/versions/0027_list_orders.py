"""The dossier list can also be read by creation, a date that never changes: an index follows that order

Revision ID: 0027_list_orders
Revises: 0026_contract_unique_place

An API client walking every dossier reads them newest created first, the id
breaking ties (`order=created`): the page after a cursor is read from this index
in order instead of sorting every dossier of the scope.
"""
from alembic import op

revision = "0027_list_orders"
down_revision = "0026_contract_unique_place"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_index("ix_instance_created_id", "process_instance", ["created_at", "id"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_instance_created_id", table_name="process_instance")
