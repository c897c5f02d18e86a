"""The postback endpoints, deliveries and attempts move to the `forwarding` app.

No table is rebuilt or copied: the models leave this app's state only (the `forwarding` app's
first migration takes them over, then renames their tables). A delivery names its conversion by
id from now on, so the foreign-key constraint to the conversion table is dropped first (its
column and index stay).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("tracker", "0004_fewer_postback_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="conversion",
            field=models.ForeignKey(
                blank=True,
                null=True,
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deliveries",
                to="tracker.conversion",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="DeliveryAttempt"),
                migrations.DeleteModel(name="Delivery"),
                migrations.DeleteModel(name="PostbackEndpoint"),
            ],
            database_operations=[],
        ),
    ]
