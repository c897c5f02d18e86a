"""Two indexes every posting wrote and nothing reads.

- `ledgerentry.account`: `ledger_entry_account` (account, id) already leads with the account.
- The `varchar_pattern_ops` twin of `ledgertransaction.idempotency_key` that Django adds on
  PostgreSQL for LIKE 'prefix%': the key is looked up exactly (its unique index stays).

Dropping an index takes a moment, not a rebuild, so this is safe on a large ledger.
"""

import django.db.models.deletion
from django.db import migrations, models

PATTERN_INDEXES = [
    (
        "payouts_ledgertransaction_idempotency_key_c795805f_like",
        "payouts_ledgertransaction",
        "idempotency_key",
    ),
]


def _pattern_indexes_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, _table, _column in PATTERN_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def _pattern_indexes_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, table, column in PATTERN_INDEXES:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column} varchar_pattern_ops)"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0002_ledger_immutable"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ledgerentry",
            name="account",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="payouts.ledgeraccount",
            ),
        ),
        migrations.RunPython(_pattern_indexes_drop, _pattern_indexes_create, elidable=False),
    ]
