"""The ledger entry's immutability triggers on SQLite, where 0003 lost them.

SQLite cannot alter a column in place: Django rebuilds the table (create a copy, move the rows,
drop the old table, rename), and the triggers of the dropped table go with it. 0003's AlterField
rebuilt `payouts_ledgerentry` that way, so on SQLite posted entries could be edited. PostgreSQL
alters in place and kept its triggers: nothing to do there. `ledger_reconcile` checks the
triggers on both databases.
"""

from django.db import migrations

TABLE = "payouts_ledgerentry"
SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER IF NOT EXISTS {TABLE}_no_{op.lower()}
    BEFORE {op} ON {TABLE}
    BEGIN
        SELECT RAISE(ABORT, 'ledger rows are immutable: {op} on {TABLE} refused');
    END;
    """
    for op in ("UPDATE", "DELETE")
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("payouts", "0003_fewer_ledger_indexes")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)]
