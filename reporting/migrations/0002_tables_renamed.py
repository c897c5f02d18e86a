"""The tables keep their rows; only their names change (from `tracker_*`)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('reporting', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelTable(
            name='hourlydimstat',
            table=None,
        ),
        migrations.AlterModelTable(
            name='hourlystat',
            table=None,
        ),
        migrations.AlterModelTable(
            name='statswatermark',
            table=None,
        ),
    ]
