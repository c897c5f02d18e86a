"""Every existing campaign gets its default event `default`, with the campaign's current terms.

Reversible: going back deletes the default events (the events created later are the schema
migration's to drop).
"""

from django.db import migrations


def default_events_create(apps, schema_editor):
    Campaign = apps.get_model("campaigns", "Campaign")
    ConversionEvent = apps.get_model("campaigns", "ConversionEvent")
    having_default = ConversionEvent.objects.filter(is_default=True).values("campaign_id")
    missing = Campaign.objects.exclude(pk__in=having_default).order_by("pk")
    batch = []
    for campaign in missing.iterator(chunk_size=1000):
        batch.append(
            ConversionEvent(
                campaign_id=campaign.pk,
                code="default",
                name="Conversion",
                is_default=True,
                payout_type=campaign.payout_type,
                payout_amount=campaign.payout_amount,
                revshare_percent=campaign.revshare_percent,
                default_revenue=campaign.default_revenue,
                allow_multiple=campaign.allow_multiple_conversions,
                initial_status="approved",
            )
        )
        if len(batch) >= 1000:
            ConversionEvent.objects.bulk_create(batch)
            batch = []
    ConversionEvent.objects.bulk_create(batch)


def default_events_delete(apps, schema_editor):
    apps.get_model("campaigns", "ConversionEvent").objects.filter(is_default=True).delete()


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0004_conversion_events_pricing_rules")]

    operations = [migrations.RunPython(default_events_create, default_events_delete)]
