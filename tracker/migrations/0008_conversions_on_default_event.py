"""Existing conversions were all of their campaign's one kind: they become its default event's."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def conversions_event_fill(apps, schema_editor):
    Conversion = apps.get_model("tracker", "Conversion")
    ConversionEvent = apps.get_model("campaigns", "ConversionEvent")
    default_event = ConversionEvent.objects.filter(
        campaign_id=OuterRef("campaign_id"), is_default=True
    ).values("pk")[:1]
    Conversion.objects.filter(event__isnull=True).update(event_id=Subquery(default_event))


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0007_conversion_event_and_rule"),
        ("campaigns", "0005_default_events"),
    ]

    operations = [migrations.RunPython(conversions_event_fill, migrations.RunPython.noop)]
