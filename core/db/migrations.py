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
