"""The `event` dimension of the rollups, filled for the hours counted so far.

Its rows are written from what is already known, in one statement each (PostgreSQL; other
databases start empty and need nothing): the event-less row's clicks are the sum of the hour's
country rows (exact even where raw clicks were pruned), and the event rows are counted from the
raw conversions. Conversions after this runs are counted by the refresh as usual.
"""

from django.db import migrations, models

_CLICKS = """
INSERT INTO reporting_hourlydimstat (hour, campaign_id, affiliate_id, currency, dimension, value,
    clicks, unique_clicks, blocked_clicks, conversions_pending, conversions_approved,
    conversions_rejected, conversions_reversed, revenue, payout)
SELECT hour, campaign_id, affiliate_id, currency, 'event', '',
    sum(clicks), sum(unique_clicks), sum(blocked_clicks), 0, 0, 0, 0, 0, 0
FROM reporting_hourlydimstat
WHERE dimension = 'country'
GROUP BY 1, 2, 3, 4
HAVING sum(clicks) > 0
"""
_CONVERSIONS = """
INSERT INTO reporting_hourlydimstat (hour, campaign_id, affiliate_id, currency, dimension, value,
    clicks, unique_clicks, blocked_clicks, conversions_pending, conversions_approved,
    conversions_rejected, conversions_reversed, revenue, payout)
SELECT date_trunc('hour', v.created_at), v.campaign_id, v.affiliate_id, v.currency,
    'event', v.event_id::varchar, 0, 0, 0,
    count(*) FILTER (WHERE v.status = 'pending'),
    count(*) FILTER (WHERE v.status = 'approved'),
    count(*) FILTER (WHERE v.status = 'rejected'),
    count(*) FILTER (WHERE v.status = 'reversed'),
    coalesce(sum(v.revenue) FILTER (WHERE v.status = 'approved'), 0),
    coalesce(sum(v.payout) FILTER (WHERE v.status = 'approved'), 0)
FROM tracker_conversion v
GROUP BY 1, 2, 3, 4, 5, 6
ON CONFLICT (campaign_id, dimension, hour, affiliate_id, currency, value) DO UPDATE SET
    conversions_pending = EXCLUDED.conversions_pending,
    conversions_approved = EXCLUDED.conversions_approved,
    conversions_rejected = EXCLUDED.conversions_rejected,
    conversions_reversed = EXCLUDED.conversions_reversed,
    revenue = EXCLUDED.revenue, payout = EXCLUDED.payout
"""


def _fill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DELETE FROM reporting_hourlydimstat WHERE dimension = 'event'")
        cursor.execute(_CLICKS)
        cursor.execute(_CONVERSIONS)


def _drop(apps, schema_editor):
    apps.get_model("reporting", "HourlyDimStat").objects.filter(dimension="event").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('reporting', '0002_tables_renamed'),
        ('tracker', '0009_conversion_identity_per_event'),
    ]

    operations = [
        migrations.AlterField(
            model_name='hourlydimstat',
            name='dimension',
            field=models.CharField(choices=[('country', 'Country'), ('sub1', 'Sub ID 1'), ('sub2', 'Sub ID 2'), ('sub3', 'Sub ID 3'), ('sub4', 'Sub ID 4'), ('sub5', 'Sub ID 5'), ('event', 'Conversion event')], max_length=8),
        ),
        migrations.RunPython(_fill, _drop),
    ]
