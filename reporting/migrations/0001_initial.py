"""Reporting takes over the hourly rollups and their watermarks from `tracker`.

State only: the tables exist (made by tracker's migrations) and keep their rows, indexes and
constraints; the next migration renames them. The content types move too, so the permissions
that point at them follow the models.
"""

import django.db.models.deletion
from django.db import migrations, models


MODELS = ("hourlystat", "hourlydimstat", "statswatermark")


def content_types_move(apps, schema_editor, *, source="tracker", target="reporting"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        if not ContentType.objects.using(db).filter(app_label=target, model=model).exists():
            ContentType.objects.using(db).filter(app_label=source, model=model).update(
                app_label=target
            )


def content_types_move_back(apps, schema_editor):
    content_types_move(apps, schema_editor, source="reporting", target="tracker")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0001_initial'),
        ('campaigns', '0003_access_invitation'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('tracker', '0006_reporting_becomes_an_app'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='StatsWatermark',
                    fields=[
                        ('source', models.CharField(max_length=32, primary_key=True, serialize=False)),
                        ('last_id', models.BigIntegerField(default=0)),
                        ('gap_since', models.DateTimeField(blank=True, null=True)),
                        ('refreshed_at', models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        'db_table': 'tracker_statswatermark',
                    },
                ),
                migrations.CreateModel(
                    name='HourlyDimStat',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('clicks', models.BigIntegerField(default=0)),
                        ('unique_clicks', models.BigIntegerField(default=0)),
                        ('blocked_clicks', models.BigIntegerField(default=0)),
                        ('conversions_pending', models.BigIntegerField(default=0)),
                        ('conversions_approved', models.BigIntegerField(default=0)),
                        ('conversions_rejected', models.BigIntegerField(default=0)),
                        ('conversions_reversed', models.BigIntegerField(default=0)),
                        ('revenue', models.DecimalField(decimal_places=4, default=0, help_text='Revenue of approved conversions.', max_digits=18)),
                        ('payout', models.DecimalField(decimal_places=4, default=0, help_text='Affiliate payout of approved conversions.', max_digits=18)),
                        ('hour', models.DateTimeField(help_text='Start of the UTC hour.')),
                        ('currency', models.CharField(max_length=3)),
                        ('dimension', models.CharField(choices=[('country', 'Country'), ('sub1', 'Sub ID 1'), ('sub2', 'Sub ID 2'), ('sub3', 'Sub ID 3'), ('sub4', 'Sub ID 4'), ('sub5', 'Sub ID 5')], max_length=8)),
                        ('value', models.CharField(blank=True, max_length=255)),
                        ('affiliate', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.affiliate')),
                        ('campaign', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='campaigns.campaign')),
                    ],
                    options={
                        'db_table': 'tracker_hourlydimstat',
                        'indexes': [models.Index(fields=['affiliate', 'dimension', 'hour'], name='hourlydimstat_affiliate'), models.Index(fields=['dimension', 'hour'], name='hourlydimstat_hour')],
                        'constraints': [models.UniqueConstraint(fields=('campaign', 'dimension', 'hour', 'affiliate', 'currency', 'value'), name='hourlydimstat_key')],
                    },
                ),
                migrations.CreateModel(
                    name='HourlyStat',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('clicks', models.BigIntegerField(default=0)),
                        ('unique_clicks', models.BigIntegerField(default=0)),
                        ('blocked_clicks', models.BigIntegerField(default=0)),
                        ('conversions_pending', models.BigIntegerField(default=0)),
                        ('conversions_approved', models.BigIntegerField(default=0)),
                        ('conversions_rejected', models.BigIntegerField(default=0)),
                        ('conversions_reversed', models.BigIntegerField(default=0)),
                        ('revenue', models.DecimalField(decimal_places=4, default=0, help_text='Revenue of approved conversions.', max_digits=18)),
                        ('payout', models.DecimalField(decimal_places=4, default=0, help_text='Affiliate payout of approved conversions.', max_digits=18)),
                        ('hour', models.DateTimeField(help_text='Start of the UTC hour.')),
                        ('currency', models.CharField(max_length=3)),
                        ('affiliate', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.affiliate')),
                        ('campaign', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='campaigns.campaign')),
                    ],
                    options={
                        'db_table': 'tracker_hourlystat',
                        'indexes': [models.Index(fields=['affiliate', 'hour'], name='hourlystat_affiliate_hour'), models.Index(fields=['hour'], name='hourlystat_hour')],
                        'constraints': [models.UniqueConstraint(fields=('campaign', 'hour', 'affiliate', 'currency'), name='hourlystat_key')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_move_back),
    ]
