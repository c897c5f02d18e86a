"""Posted ledger rows can never be updated or deleted: the database refuses it.

Row-level triggers (BEFORE UPDATE OR DELETE) raise. On PostgreSQL they do not fire on TRUNCATE,
which Django's test flush uses, so `transaction=True` tests still tear down. A correction is a
new, opposite transaction, never an edit.
"""

from django.db import migrations

TABLES = ("payouts_ledgertransaction", "payouts_ledgerentry")

POSTGRES_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION payouts_ledger_immutable() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'ledger rows are immutable: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'raise_exception';
    END;
    $$ LANGUAGE plpgsql;
    """,
    *(
        f"""
        CREATE TRIGGER {table}_immutable
        BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION payouts_ledger_immutable();
        """
        for table in TABLES
    ),
]
POSTGRES_REVERSE = [
    *(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};" for table in TABLES),
    "DROP FUNCTION IF EXISTS payouts_ledger_immutable();",
]

SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER {table}_no_{op.lower()}
    BEFORE {op} ON {table}
    BEGIN
        SELECT RAISE(ABORT, 'ledger rows are immutable: {op} on {table} refused');
    END;
    """
    for table in TABLES
    for op in ("UPDATE", "DELETE")
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {table}_no_{op.lower()};"
    for table in TABLES
    for op in ("UPDATE", "DELETE")
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise NotImplementedError(
                f"No ledger immutability triggers for {schema_editor.connection.vendor}."
            )
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("payouts", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
