"""A partial index on the clicks that raised a fraud signal, for the fraud report.

Built CONCURRENTLY on PostgreSQL (the click table is the largest and clicks keep arriving while
it builds), hence a non-atomic migration. A clean click writes no entry.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class _AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """CONCURRENTLY on PostgreSQL; a plain CREATE INDEX elsewhere (SQLite has no such option)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(
            self, app_label, schema_editor, from_state, to_state
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(
            self, app_label, schema_editor, from_state, to_state
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("tracker", "0014_ip_lists"),
    ]

    operations = [
        _AddIndexConcurrentlyOnPostgres(
            model_name="click",
            index=models.Index(
                condition=~models.Q(fraud_signals=[]),
                fields=["created_at"],
                name="click_flagged_time",
            ),
        ),
    ]
