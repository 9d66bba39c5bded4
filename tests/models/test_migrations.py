"""The migrations build the schema the models describe, on the database of this CI pass."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from models import Base


def test_the_migrated_database_is_what_the_models_say(migrated: str):
    engine = create_engine(migrated)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            indexes = inspect(connection).get_indexes("outbox")
    finally:
        engine.dispose()
    assert differences == []  # a model changed without a migration, or the other way round
    # Delivery reports find their row by number (migration 0006): nothing indexes the message ids,
    # which a send writes in random order.
    outbox_indexes = {index["name"]: index["column_names"] for index in indexes}
    assert outbox_indexes["ix_outbox_phone"] == ["phone"]
    assert not any("at_message_id" in columns for columns in outbox_indexes.values())
