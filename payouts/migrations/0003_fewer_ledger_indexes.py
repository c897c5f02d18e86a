"""Two indexes every posting wrote and nothing reads.

- `ledgerentry.account`: `ledger_entry_account` (account, id) already leads with the account.
- The `varchar_pattern_ops` twin of `ledgertransaction.idempotency_key` that Django adds on
  PostgreSQL for LIKE 'prefix%': the key is looked up exactly (its unique index stays).
"""

import django.db.models.deletion
from django.db import migrations, models

from core.db.migrations import pattern_indexes_drop


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
        pattern_indexes_drop(
            [
                (
                    "payouts_ledgertransaction_idempotency_key_c795805f_like",
                    "payouts_ledgertransaction",
                    "idempotency_key",
                ),
            ]
        ),
    ]
