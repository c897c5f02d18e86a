"""The tables keep their rows; only their names change (from `tracker_*`)."""


from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('forwarding', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelTable(
            name='delivery',
            table=None,
        ),
        migrations.AlterModelTable(
            name='deliveryattempt',
            table=None,
        ),
        migrations.AlterModelTable(
            name='postbackendpoint',
            table=None,
        ),
    ]
