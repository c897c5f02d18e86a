"""The device type, OS, browser, landing page and smart link dimensions of the rollups, filled
for the hours counted so far.

Clicks recorded before these columns were filled have none of them, so every counted click goes
to each new dimension's empty row (""): its counts are the sums of the hour's country rows (exact
even where raw clicks were pruned). Conversions are counted from the raw rows with their click's
values (a click with a conversion is never pruned). One statement each, PostgreSQL only (other
databases start empty and need nothing). Clicks that already carry device data when this runs
(recorded by a release that filled them before the rollups knew these dimensions) are counted
under "": `manage.py rollups_rebuild` over their period recounts them by value.
"""

from django.db import migrations, models

_NEW = {
    "device_type": "c.device_type",
    "os": "c.os",
    "browser": "c.browser",
    "landing_page": "coalesce(c.landing_page_id::varchar, '')",
    "smart_link": "coalesce(c.smart_link_id::varchar, '')",
}
_DIMENSIONS = ", ".join(f"('{name}')" for name in _NEW)
_CLICKS = f"""
INSERT INTO reporting_hourlydimstat (hour, campaign_id, affiliate_id, currency, dimension, value,
    clicks, unique_clicks, blocked_clicks, conversions_pending, conversions_approved,
    conversions_rejected, conversions_reversed, revenue, payout)
SELECT s.hour, s.campaign_id, s.affiliate_id, s.currency, d.dimension, '',
    sum(s.clicks), sum(s.unique_clicks), sum(s.blocked_clicks), 0, 0, 0, 0, 0, 0
FROM reporting_hourlydimstat s
CROSS JOIN (VALUES {_DIMENSIONS}) AS d(dimension)
WHERE s.dimension = 'country'
GROUP BY 1, 2, 3, 4, 5
HAVING sum(s.clicks) > 0
"""  # noqa: S608 - constant names
_PAIRS = ", ".join(f"('{name}', {expression})" for name, expression in _NEW.items())
_CONVERSIONS = f"""
INSERT INTO reporting_hourlydimstat (hour, campaign_id, affiliate_id, currency, dimension, value,
    clicks, unique_clicks, blocked_clicks, conversions_pending, conversions_approved,
    conversions_rejected, conversions_reversed, revenue, payout)
SELECT date_trunc('hour', v.created_at), v.campaign_id, v.affiliate_id, v.currency,
    d.dimension, d.value, 0, 0, 0,
    count(*) FILTER (WHERE v.status = 'pending'),
    count(*) FILTER (WHERE v.status = 'approved'),
    count(*) FILTER (WHERE v.status = 'rejected'),
    count(*) FILTER (WHERE v.status = 'reversed'),
    coalesce(sum(v.revenue) FILTER (WHERE v.status = 'approved'), 0),
    coalesce(sum(v.payout) FILTER (WHERE v.status = 'approved'), 0)
FROM tracker_conversion v
JOIN tracker_click c ON c.id = v.click_id
CROSS JOIN LATERAL (VALUES {_PAIRS}) AS d(dimension, value)
GROUP BY 1, 2, 3, 4, 5, 6
ON CONFLICT (campaign_id, dimension, hour, affiliate_id, currency, value) DO UPDATE SET
    conversions_pending = EXCLUDED.conversions_pending,
    conversions_approved = EXCLUDED.conversions_approved,
    conversions_rejected = EXCLUDED.conversions_rejected,
    conversions_reversed = EXCLUDED.conversions_reversed,
    revenue = EXCLUDED.revenue, payout = EXCLUDED.payout
"""  # noqa: S608


def _fill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM reporting_hourlydimstat WHERE dimension = ANY(%s)", [list(_NEW)]
        )
        cursor.execute(_CLICKS)
        cursor.execute(_CONVERSIONS)


def _drop(apps, schema_editor):
    apps.get_model("reporting", "HourlyDimStat").objects.filter(dimension__in=list(_NEW)).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0003_event_dimension"),
        ("tracker", "0011_traffic_control"),
    ]

    operations = [
        migrations.AlterField(
            model_name="hourlydimstat",
            name="dimension",
            field=models.CharField(
                choices=[
                    ("country", "Country"),
                    ("sub1", "Sub ID 1"),
                    ("sub2", "Sub ID 2"),
                    ("sub3", "Sub ID 3"),
                    ("sub4", "Sub ID 4"),
                    ("sub5", "Sub ID 5"),
                    ("event", "Conversion event"),
                    ("device_type", "Device type"),
                    ("os", "Operating system"),
                    ("browser", "Browser"),
                    ("landing_page", "Landing page"),
                    ("smart_link", "Smart link"),
                ],
                max_length=16,
            ),
        ),
        migrations.RunPython(_fill, _drop),
    ]
