"""The hourly rollups and their watermarks move to the `reporting` app.

No table is rebuilt or copied: the models leave this app's state only (the `reporting` app's
first migration takes them over, then renames their tables).
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("tracker", "0005_forwarding_becomes_an_app"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="HourlyDimStat"),
                migrations.DeleteModel(name="HourlyStat"),
                migrations.DeleteModel(name="StatsWatermark"),
            ],
            database_operations=[],
        ),
    ]
