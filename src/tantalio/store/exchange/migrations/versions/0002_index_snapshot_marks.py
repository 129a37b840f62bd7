"""index snapshot marks: the database's identity and the log of record rows changed in place

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 02:00:00

The server's in-memory indexes are saved as a snapshot beside the database and tagged with
(database id, highest record id, highest index-log seq). A restart loads the snapshot and
replays only what came after: records with a higher id (inserts: ids only grow) and the
records named in `exchange_index_log` after the snapshot's seq. Database triggers write
that log on every UPDATE of a column the index holds (hashes, agency, retraction) and on
every DELETE, whichever code path changed the row, so no writer can forget to log.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEX_COLUMNS = "agency_id, sha256, sha1, md5, pdq, pdq_quality, vpdq, retracted_at"


def upgrade() -> None:
    op.create_table(
        "exchange_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_exchange_meta")),
    )
    op.create_table(
        "exchange_index_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_exchange_index_log")),
        sqlite_autoincrement=True,
    )
    op.bulk_insert(
        sa.table("exchange_meta", sa.column("key", sa.String), sa.column("value", sa.String)),
        [{"key": "database_id", "value": uuid.uuid4().hex}],
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION exchange_index_log_row() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    INSERT INTO exchange_index_log (record_id, agency_id)
                    VALUES (OLD.id, OLD.agency_id);
                    RETURN OLD;
                END IF;
                INSERT INTO exchange_index_log (record_id, agency_id)
                VALUES (NEW.id, OLD.agency_id);
                IF NEW.agency_id <> OLD.agency_id THEN
                    INSERT INTO exchange_index_log (record_id, agency_id)
                    VALUES (NEW.id, NEW.agency_id);
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            f"CREATE TRIGGER exchange_records_index_update AFTER UPDATE OF {INDEX_COLUMNS}"
            " ON exchange_records FOR EACH ROW EXECUTE FUNCTION exchange_index_log_row()"
        )
        op.execute(
            "CREATE TRIGGER exchange_records_index_delete AFTER DELETE"
            " ON exchange_records FOR EACH ROW EXECUTE FUNCTION exchange_index_log_row()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER exchange_records_index_update AFTER UPDATE OF {INDEX_COLUMNS}"
            " ON exchange_records BEGIN"
            " INSERT INTO exchange_index_log (record_id, agency_id) VALUES (NEW.id, OLD.agency_id);"
            " INSERT INTO exchange_index_log (record_id, agency_id)"
            " SELECT NEW.id, NEW.agency_id WHERE NEW.agency_id <> OLD.agency_id;"
            " END"
        )
        op.execute(
            "CREATE TRIGGER exchange_records_index_delete AFTER DELETE ON exchange_records BEGIN"
            " INSERT INTO exchange_index_log (record_id, agency_id) VALUES (OLD.id, OLD.agency_id);"
            " END"
        )


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS exchange_records_index_update ON exchange_records"
        if op.get_context().dialect.name == "postgresql"
        else "DROP TRIGGER IF EXISTS exchange_records_index_update"
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS exchange_records_index_delete ON exchange_records")
        op.execute("DROP FUNCTION IF EXISTS exchange_index_log_row()")
    else:
        op.execute("DROP TRIGGER IF EXISTS exchange_records_index_delete")
    op.drop_table("exchange_index_log")
    op.drop_table("exchange_meta")
