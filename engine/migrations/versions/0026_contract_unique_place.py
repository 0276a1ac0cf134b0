"""One contract row per place of an instance, kept unique by an index, and the version each row describes

Revision ID: 0026_contract_unique_place
Revises: 0025_scenario_runs

Recording a contract read the place's row, then inserted or updated it: two
statements, and two rows when two recordings crossed. It is now one upsert,
whose conflict target is a unique index: on (instance_id, place) for the rows
of a numbered place, on instance_id for the rows without a place (a project
with a single place), since NULLs never collide in a unique index. The rows
these indexes would refuse are removed first, keeping the most recent of each
place. The row also keeps the version of the contract's document it describes,
which the upsert returns so that the contract is printed with it: the version
is no longer read by a statement of its own. Existing rows take the latest
version of their place's contract series.
"""
import sqlalchemy as sa
from alembic import op

revision = "0026_contract_unique_place"
down_revision = "0025_scenario_runs"
branch_labels = None
depends_on = None

contracts = sa.table("volunteer_contract", sa.column("id", sa.Integer), sa.column("instance_id", sa.Integer),
                     sa.column("place", sa.Integer), sa.column("created_at", sa.DateTime),
                     sa.column("version", sa.Integer))
documents = sa.table("document", sa.column("instance_id", sa.Integer), sa.column("series", sa.String),
                     sa.column("version", sa.Integer))


def upgrade() -> None:
    """Remove the older duplicates of each place's contract, index the place, and record each row's version."""
    op.execute(contracts.delete().where(contracts.c.id.not_in(sa.select(_most_recent_ids().c.id))))
    with op.batch_alter_table("volunteer_contract") as batch:
        batch.add_column(sa.Column("version", sa.Integer, nullable=True))
    numbered, unnumbered = sa.column("place").is_not(None), sa.column("place").is_(None)
    op.create_index("uq_volunteer_contract_place", "volunteer_contract", ["instance_id", "place"], unique=True,
                    sqlite_where=numbered, postgresql_where=numbered)
    op.create_index("uq_volunteer_contract_no_place", "volunteer_contract", ["instance_id"], unique=True,
                    sqlite_where=unnumbered, postgresql_where=unnumbered)
    # The series a contract's documents share, as `handlers.contract.generate_contract` names them.
    series = sa.case((contracts.c.place.is_(None), sa.literal("contract")),
                     else_=sa.literal("contract/place-") + sa.cast(contracts.c.place, sa.String))
    op.execute(contracts.update().values(version=sa.select(sa.func.max(documents.c.version)).where(
        documents.c.instance_id == contracts.c.instance_id, documents.c.series == series).scalar_subquery()))


def downgrade() -> None:
    """Revert this migration: drop the indexes and the version (the removed duplicates stay removed)."""
    op.drop_index("uq_volunteer_contract_no_place", table_name="volunteer_contract")
    op.drop_index("uq_volunteer_contract_place", table_name="volunteer_contract")
    with op.batch_alter_table("volunteer_contract") as batch:
        batch.drop_column("version")


def _most_recent_ids() -> sa.Subquery:
    """The id of the most recent row of each place of each instance (the highest id among equal times)."""
    place = sa.func.coalesce(contracts.c.place, sa.literal_column("0"))
    rank = sa.func.row_number().over(partition_by=(contracts.c.instance_id, place),
                                     order_by=(contracts.c.created_at.desc(), contracts.c.id.desc()))
    ranked = sa.select(contracts.c.id, rank.label("rank")).subquery()
    return sa.select(ranked.c.id).where(ranked.c.rank == 1).subquery()
