"""Migration operations for what only PostgreSQL has (the SQLite quickstart skips them)."""

from collections.abc import Sequence

from django.db import migrations


def postgresql_only(*, forward: Sequence[str], backward: Sequence[str]) -> migrations.RunPython:
    """Run `forward` on PostgreSQL when migrating, `backward` when reversing; nothing elsewhere."""

    def run(statements: Sequence[str]):
        def apply(apps, schema_editor) -> None:
            if schema_editor.connection.vendor == "postgresql":
                for statement in statements:
                    schema_editor.execute(statement)

        return apply

    return migrations.RunPython(run(forward), run(backward), elidable=False)


def pattern_indexes_drop(indexes: Sequence[tuple[str, str, str]]) -> migrations.RunPython:
    """Drop the `varchar_pattern_ops` twins Django adds on PostgreSQL to an indexed or unique
    CharField (for LIKE 'prefix%'), given as (index name, table, column); reversing recreates them.

    Dropping an index is quick (no rebuild), so this is safe on large tables.
    """
    return postgresql_only(
        forward=[f"DROP INDEX IF EXISTS {name}" for name, _table, _column in indexes],
        backward=[
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column} varchar_pattern_ops)"
            for name, table, column in indexes
        ],
    )


def columns_add(
    *, table: str, columns: Sequence[tuple[str, str, str, str | None]]
) -> migrations.RunPython:
    """Add columns with `ALTER TABLE ... ADD COLUMN` on both databases, for a table whose model
    state holds a PostgreSQL-only index (the click table's BRIN): to add a NOT NULL column,
    Django rebuilds the table on SQLite, and the rebuild would try to create that index.

    `columns`: (name, PostgreSQL type, SQLite type, default as SQL or None). A default fills the
    existing rows; on PostgreSQL it is dropped again right after (the model has none, and adding
    a constant default changes no row on disk, so this is quick on a large table). Use inside
    `SeparateDatabaseAndState` with the matching `AddField`s as the state operations.
    """

    def forward(apps, schema_editor) -> None:
        postgresql = schema_editor.connection.vendor == "postgresql"
        for name, pg_type, sqlite_type, default in columns:
            column_type = pg_type if postgresql else sqlite_type
            if default is None:
                schema_editor.execute(f"ALTER TABLE {table} ADD COLUMN {name} {column_type} NULL")
                continue
            schema_editor.execute(
                f"ALTER TABLE {table} ADD COLUMN {name} {column_type} NOT NULL DEFAULT {default}"
            )
            if postgresql:
                schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {name} DROP DEFAULT")

    def backward(apps, schema_editor) -> None:
        for name, *_ in reversed(columns):
            schema_editor.execute(f"ALTER TABLE {table} DROP COLUMN {name}")

    return migrations.RunPython(forward, backward, elidable=False)
