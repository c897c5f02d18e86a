"""Reporting rollups: hourly aggregates of clicks and conversions, so that no report reads raw
clicks. Maintained by `reporting.services.rollups` (incremental refresh every few seconds,
rebuild on demand); read by `reporting.services.reports`.

Two grains, both by UTC hour, campaign, affiliate and currency:

- `HourlyStat`: nothing more. Dashboards and reports by day, hour, campaign and affiliate read it;
  its size depends on time and on (campaign, affiliate) pairs, never on traffic volume.
- `HourlyDimStat`: one row per value of ONE breakdown dimension (country, one of sub1..sub5, the
  conversion event, the device type, OS, browser, landing page or smart link), so every click
  and conversion is counted once per dimension. Reports grouped or filtered by a dimension read
  the rows of that dimension only. Its size grows with
  each dimension's own cardinality, not with the product of all of them (a row per combination
  of them would be as large as the raw click table as soon as one sub id is high-cardinality).

Clicks count in the hour they were made; conversions in the hour they were created (whatever
their click's hour), with their click's country and sub ids, and by their CURRENT status.
In the `event` dimension a conversion counts under its event's id (as text: renaming an event's
code relabels its past rows without a rebuild; reports show the code); a click has no event, so
every click counts in the event-less row (value "") and the event rows carry conversions only. The
landing page and smart link dimensions also key by id as text ("" for a click without one), so
renaming either relabels its past rows; device type, OS and browser by the click's own values. Money
(`revenue`, `payout`) is that of approved conversions only: what the ledger books.
"""

from django.db import models

from accounts.models import Affiliate
from campaigns.models import Campaign
from core.fields import money_field

__all__ = ["HourlyDimStat", "HourlyStat", "StatsDimension", "StatsWatermark"]


class StatsDimension(models.TextChoices):
    COUNTRY = "country", "Country"
    SUB1 = "sub1", "Sub ID 1"
    SUB2 = "sub2", "Sub ID 2"
    SUB3 = "sub3", "Sub ID 3"
    SUB4 = "sub4", "Sub ID 4"
    SUB5 = "sub5", "Sub ID 5"
    EVENT = "event", "Conversion event"
    DEVICE_TYPE = "device_type", "Device type"
    OS = "os", "Operating system"
    BROWSER = "browser", "Browser"
    LANDING_PAGE = "landing_page", "Landing page"
    SMART_LINK = "smart_link", "Smart link"


class StatsMetrics(models.Model):
    clicks = models.BigIntegerField(default=0)
    unique_clicks = models.BigIntegerField(default=0)
    blocked_clicks = models.BigIntegerField(default=0)
    conversions_pending = models.BigIntegerField(default=0)
    conversions_approved = models.BigIntegerField(default=0)
    conversions_rejected = models.BigIntegerField(default=0)
    conversions_reversed = models.BigIntegerField(default=0)
    revenue = money_field(help_text="Revenue of approved conversions.")
    payout = money_field(help_text="Affiliate payout of approved conversions.")

    class Meta:
        abstract = True


class HourlyStat(StatsMetrics):
    hour = models.DateTimeField(help_text="Start of the UTC hour.")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    affiliate = models.ForeignKey(
        Affiliate, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    currency = models.CharField(max_length=3)

    class Meta:
        constraints = [
            # Leading campaign: the campaign dashboard's range scan.
            models.UniqueConstraint(
                fields=["campaign", "hour", "affiliate", "currency"], name="hourlystat_key"
            ),
        ]
        indexes = [
            models.Index(fields=["affiliate", "hour"], name="hourlystat_affiliate_hour"),
            models.Index(fields=["hour"], name="hourlystat_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h campaign #{self.campaign_id} aff #{self.affiliate_id}"


class HourlyDimStat(StatsMetrics):
    hour = models.DateTimeField(help_text="Start of the UTC hour.")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    affiliate = models.ForeignKey(
        Affiliate, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    currency = models.CharField(max_length=3)
    dimension = models.CharField(max_length=16, choices=StatsDimension.choices)
    value = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "dimension", "hour", "affiliate", "currency", "value"],
                name="hourlydimstat_key",
            ),
        ]
        indexes = [
            models.Index(fields=["affiliate", "dimension", "hour"], name="hourlydimstat_affiliate"),
            models.Index(fields=["dimension", "hour"], name="hourlydimstat_hour"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.hour:%Y-%m-%d %H}h campaign #{self.campaign_id} {self.dimension}={self.value}"
        )


class StatsWatermark(models.Model):
    """How far the incremental refresh has read one append-only source table.

    `last_id`: every row with a smaller or equal id was visible (committed) when a refresh passed
    it, or its id was a gap older than the grace period. `gap_since`: when the refresh first
    stopped at the gap right after `last_id` (None when it is not waiting on one).
    """

    source = models.CharField(max_length=32, primary_key=True)
    last_id = models.BigIntegerField(default=0)
    gap_since = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.source} <= {self.last_id}"
