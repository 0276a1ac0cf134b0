"""An instance's engine state is saved by differences: the tasks a change touched, appended to a delta log

Revision ID: 0024_state_deltas
Revises: 0023_inbox_keyset

Serialising every task of an instance at each completion was the largest
cost of a save. `instance_state.state` stays the full state written last;
`instance_state.delta` holds, one JSON line per save since, the tasks that
changed and the ones that went (see `engine.runtime.serialization`). A save
appends one line; once the lines outweigh the full state, the next save
writes the full state again and empties them. Rows of older versions have no
line yet and load as before.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0024_state_deltas"
down_revision = "0023_inbox_keyset"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the delta log to every state row, empty (the application writes it from then on)."""
    with op.batch_alter_table("instance_state") as batch:
        batch.add_column(sa.Column("delta", sa.Text, nullable=False, server_default=""))
    with op.batch_alter_table("instance_state") as batch:
        batch.alter_column("delta", server_default=None)


def downgrade() -> None:
    """Revert this migration: fold each delta log into its full state, then drop it."""
    connection = op.get_bind()
    table = sa.table("instance_state", sa.column("instance_id", sa.Integer), sa.column("state", sa.Text),
                     sa.column("delta", sa.Text))
    rows = connection.execute(sa.select(table.c.instance_id, table.c.state, table.c.delta)
                              .where(table.c.delta != "")).all()
    for instance_id, state, delta in rows:
        connection.execute(table.update().where(table.c.instance_id == instance_id)
                           .values(state=json.dumps(_merged(json.loads(state), delta)), delta=""))
    with op.batch_alter_table("instance_state") as batch:
        batch.drop_column("delta")


def _merged(state: dict, delta: str) -> dict:
    """A full state with its delta log folded in (a frozen copy of `engine.models.runtime.merge_state`)."""
    for line in filter(None, delta.splitlines()):
        change = json.loads(line)
        subprocesses = state.setdefault("subprocesses", {})
        for key in [key for key in subprocesses if key not in change["procs"]]:
            del subprocesses[key]
        for key, part in change["p"].items():
            target = state if key == "" else subprocesses.setdefault(key, {"tasks": {}})
            target.update(part["meta"])
            tasks = target.setdefault("tasks", {})
            tasks.update(part["tasks"])
            for task_id in part["gone"]:
                tasks.pop(task_id, None)
    return state
