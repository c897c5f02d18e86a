"""Reporting rollups (`reporting.models`): kept fresh incrementally, rebuilt on demand.

Technique: periodic recomputation of "dirty" hours, driven by id watermarks.

- Clicks and conversion history rows are append-only and carry increasing ids. `stats_refresh`
  (a Celery beat task every few seconds) finds the UTC hours touched since its last run: the hours
  of clicks with an id above the clicks watermark, and the hours (of the conversion's creation)
  of conversions with a history row above the history watermark. Every status change appends a
  history row, so a conversion that moved from pending to approved marks its hour again.
- Each dirty hour is RECOMPUTED from the raw rows of that hour (clicks by `created_at`, through
  the BRIN index; conversions by `created_at`, with their click's country and sub ids), never
  incremented. Recomputing is idempotent: running twice, running after a rebuild, or marking an
  hour dirty for nothing never counts anything twice, and a conversion's CURRENT status is what
  counts. The click path writes nothing for reporting: no shared counter row, no contention.
- Rows committed out of id order: an id is taken when a transaction inserts, but becomes visible
  only when it commits, so a refresh can see id 101 while id 100 is still in flight. The
  watermark therefore only moves over a gap-free run of visible ids; at the first gap it stops
  (rows beyond it are still processed: their hours are dirty on every run until the watermark
  passes them). A gap that stays open for `STATS_GAP_GRACE_SECONDS` (default 300 s) is an id
  that will never commit (a rolled-back insert, a deleted row) and is skipped. Only a
  transaction that stays open longer than that, then commits, is missed; `rollups_rebuild`
  repairs that (and any manual change to raw rows).
- One refresh at a time: the watermark rows are locked (`FOR UPDATE SKIP LOCKED`), and a
  concurrent refresh returns at once. A rebuild takes the same lock per chunk, so it never
  interleaves with a refresh.
- Raw clicks older than the retention horizon may be pruned (`clicks_prune`); hours before the
  horizon keep their click counts and only ever get their conversion columns recomputed.

Freshness: with the beat entry every 15 s a click or conversion is in reports within ~20 s.
"""

import bisect
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Count, Exists, F, Max, Min, OuterRef, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, TruncHour
from django.utils import timezone

from campaigns.models import Campaign
from reporting.models import HourlyDimStat, HourlyStat, StatsDimension, StatsWatermark
from tracker.models import Click, Conversion, ConversionHistory, ConversionStatus

SOURCE_CLICKS = "clicks"
SOURCE_HISTORY = "conversion_history"
HOUR = dt.timedelta(hours=1)
# Longest hour range recomputed in one go (a day: bounded memory for the aggregated rows).
CHUNK_HOURS = 24
GAP_SCAN_LIMIT = 100_000
_UPSERT_BATCH = 5_000

DIMENSIONS = tuple(StatsDimension.values)
# The dimensions a click carries itself; a conversion counts with its click's values of these.
_CLICK_DIMENSIONS = tuple(
    dimension for dimension in DIMENSIONS if dimension != StatsDimension.EVENT
)
# Dimensions whose value is a row of another table, kept by id as text ("" for none): the
# click's column holding it.
ID_DIMENSIONS = {
    StatsDimension.LANDING_PAGE.value: "landing_page_id",
    StatsDimension.SMART_LINK.value: "smart_link_id",
}
KEY_FIELDS = ("campaign_id", "dimension", "hour", "affiliate_id", "currency", "value")
CLICK_COLUMNS = ("clicks", "unique_clicks", "blocked_clicks")
CONVERSION_COLUMNS = (
    "conversions_pending",
    "conversions_approved",
    "conversions_rejected",
    "conversions_reversed",
    "revenue",
    "payout",
)
METRIC_COLUMNS = CLICK_COLUMNS + CONVERSION_COLUMNS
_COUNT_COLUMNS = tuple(column for column in METRIC_COLUMNS if column not in ("revenue", "payout"))
_ZERO = Decimal("0.0000")

Progress = Callable[[int], object]


@dataclass(frozen=True)
class RefreshResult:
    skipped: bool
    click_hours: int = 0
    conversion_hours: int = 0
    clicks_watermark: int = 0
    history_watermark: int = 0


@dataclass(frozen=True)
class RebuildResult:
    hours: int
    click_hours: int


def _hour_floor(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def click_retention_horizon(*, now: dt.datetime) -> dt.datetime | None:
    """Clicks made before this instant may be pruned (None: clicks are kept forever).

    Never closer than the longest attribution window plus a day: a click that can still convert
    must still exist (a conversion references its click).
    """
    days = settings.CLICK_RETENTION_DAYS
    if not days:
        return None
    longest_window_hours = (
        Campaign.objects.aggregate(longest=Max("attribution_window_hours"))["longest"] or 0
    )
    keep = max(dt.timedelta(days=days), dt.timedelta(hours=longest_window_hours, days=1))
    return now - keep


def _rows_by_dimension(
    queryset, *, created_field: str, values: dict, currency: str, metrics: dict
) -> Iterator[dict]:
    """Aggregated rows of `queryset` per (hour, campaign, affiliate, currency, value), one pass
    per dimension (`values`: each dimension's value expression), as HourlyDimStat keyword
    arguments."""
    for dimension in DIMENSIONS:
        rows = (
            queryset.annotate(bucket=TruncHour(created_field, tzinfo=dt.UTC))
            .values(
                "bucket",
                "campaign_id",
                "affiliate_id",
                value=values[dimension],
                stat_currency=F(currency),
            )
            .annotate(**metrics)
            .order_by()
        )
        for row in rows.iterator(chunk_size=10_000):
            row["hour"] = row.pop("bucket")
            row["currency"] = row.pop("stat_currency")
            row["dimension"] = dimension
            yield row


def _click_values(prefix: str = "") -> dict:
    """Each click dimension's value expression (ORM), through `prefix` (e.g. "click__")."""
    values: dict = {}
    for dimension in _CLICK_DIMENSIONS:
        column = ID_DIMENSIONS.get(dimension)
        if column is None:
            values[dimension] = F(f"{prefix}{dimension}")
        else:
            values[dimension] = Coalesce(Cast(f"{prefix}{column}", CharField()), Value(""))
    return values


def _click_rows(start: dt.datetime, end: dt.datetime) -> Iterator[dict]:
    return _rows_by_dimension(
        Click.objects.filter(created_at__gte=start, created_at__lt=end),
        created_field="created_at",
        # A click has no event: its clicks count in the event dimension's "" row.
        values={
            **_click_values(),
            StatsDimension.EVENT: Value(""),
        },
        # Clicks have no currency of their own: they count in their campaign's.
        currency="campaign__currency",
        metrics={
            "clicks": Count("id"),
            "unique_clicks": Count("id", filter=Q(is_unique=True)),
            "blocked_clicks": Count("id", filter=~Q(blocked_reason="")),
        },
    )


def _conversion_rows(start: dt.datetime, end: dt.datetime) -> Iterator[dict]:
    approved = Q(status=ConversionStatus.APPROVED)
    return _rows_by_dimension(
        Conversion.objects.filter(created_at__gte=start, created_at__lt=end),
        created_field="created_at",
        values={
            **_click_values("click__"),
            StatsDimension.EVENT: Cast("event_id", CharField()),
        },
        currency="currency",
        metrics={
            "conversions_pending": Count("id", filter=Q(status=ConversionStatus.PENDING)),
            "conversions_approved": Count("id", filter=approved),
            "conversions_rejected": Count("id", filter=Q(status=ConversionStatus.REJECTED)),
            "conversions_reversed": Count("id", filter=Q(status=ConversionStatus.REVERSED)),
            "revenue": Sum("revenue", filter=approved, default=_ZERO),
            "payout": Sum("payout", filter=approved, default=_ZERO),
        },
    )


def _upsert(rows: Iterable[dict], *, columns: tuple[str, ...]) -> None:
    """Write `columns` of the rows' HourlyDimStat rows, creating the rows that are missing."""
    batch: list[HourlyDimStat] = []
    for row in rows:
        batch.append(HourlyDimStat(**row))
        if len(batch) >= _UPSERT_BATCH:
            _upsert_batch(batch, columns)
            batch = []
    if batch:
        _upsert_batch(batch, columns)


def _upsert_batch(batch: list[HourlyDimStat], columns: tuple[str, ...]) -> None:
    HourlyDimStat.objects.bulk_create(
        batch,
        update_conflicts=True,
        unique_fields=["campaign", "dimension", "hour", "affiliate", "currency", "value"],
        update_fields=list(columns),
    )


def _dimension_values_sql(alias: str, *, event: str) -> str:
    """Unpivot the dimensions: the click `alias`'s own columns, and `event` (an SQL expression:
    the conversion's event id as text, or '' for a click)."""
    pairs = [
        f"('{dimension}', coalesce({alias}.{ID_DIMENSIONS[dimension]}::varchar, ''))"
        if dimension in ID_DIMENSIONS
        else f"('{dimension}', {alias}.{dimension})"
        for dimension in _CLICK_DIMENSIONS
    ]
    pairs.append(f"('{StatsDimension.EVENT.value}', {event})")
    return f"CROSS JOIN LATERAL (VALUES {', '.join(pairs)}) AS d(dimension, value)"


_T = {
    "dim": HourlyDimStat._meta.db_table,
    "hourly": HourlyStat._meta.db_table,
    "click": Click._meta.db_table,
    "conversion": Conversion._meta.db_table,
    "campaign": Campaign._meta.db_table,
}
_DIM_KEY = "campaign_id, dimension, hour, affiliate_id, currency, value"
# PostgreSQL: one statement per part, a single pass over the raw rows (the dimensions are
# unpivoted with LATERAL VALUES) and no rows through Python. Same results as the ORM path below
# (`test_the_sql_and_portable_paths_agree`).
_CLICKS_SQL = f"""
INSERT INTO {_T["dim"]} (hour, campaign_id, affiliate_id, currency, dimension, value,
    clicks, unique_clicks, blocked_clicks, conversions_pending, conversions_approved,
    conversions_rejected, conversions_reversed, revenue, payout)
SELECT date_trunc('hour', c.created_at), c.campaign_id, c.affiliate_id, cp.currency,
    d.dimension, d.value, count(*), count(*) FILTER (WHERE c.is_unique),
    count(*) FILTER (WHERE c.blocked_reason <> ''), 0, 0, 0, 0, 0, 0
FROM {_T["click"]} c
JOIN {_T["campaign"]} cp ON cp.id = c.campaign_id
{_dimension_values_sql("c", event="''::varchar")}
WHERE c.created_at >= %s AND c.created_at < %s
GROUP BY 1, 2, 3, 4, 5, 6
ON CONFLICT ({_DIM_KEY}) DO UPDATE SET clicks = EXCLUDED.clicks,
    unique_clicks = EXCLUDED.unique_clicks, blocked_clicks = EXCLUDED.blocked_clicks
"""  # noqa: S608 - table names from our models, values bound
_CONVERSIONS_SQL = f"""
INSERT INTO {_T["dim"]} (hour, campaign_id, affiliate_id, currency, dimension, value,
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
FROM {_T["conversion"]} v
JOIN {_T["click"]} c ON c.id = v.click_id
{_dimension_values_sql("c", event="v.event_id::varchar")}
WHERE v.created_at >= %s AND v.created_at < %s
GROUP BY 1, 2, 3, 4, 5, 6
ON CONFLICT ({_DIM_KEY}) DO UPDATE SET
    conversions_pending = EXCLUDED.conversions_pending,
    conversions_approved = EXCLUDED.conversions_approved,
    conversions_rejected = EXCLUDED.conversions_rejected,
    conversions_reversed = EXCLUDED.conversions_reversed,
    revenue = EXCLUDED.revenue, payout = EXCLUDED.payout
"""  # noqa: S608
_HOURLY_SQL = f"""
INSERT INTO {_T["hourly"]} (hour, campaign_id, affiliate_id, currency,
    {", ".join(METRIC_COLUMNS)})
SELECT hour, campaign_id, affiliate_id, currency,
    {", ".join(f"sum({column})" for column in METRIC_COLUMNS)}
FROM {_T["dim"]}
WHERE dimension = 'country' AND hour >= %s AND hour < %s
GROUP BY 1, 2, 3, 4
"""  # noqa: S608


def _recompute_range(
    start: dt.datetime, end: dt.datetime, *, clicks: bool, conversions: bool, portable: bool
) -> None:
    """Recompute the rollups of the UTC hours [start, end) from raw rows, in the caller's
    transaction: click columns when `clicks`, conversion columns when `conversions`, then the
    HourlyStat rows of the range from the (complete) country rows. `portable`: through the ORM
    (any database) instead of PostgreSQL statements."""
    in_range = {"hour__gte": start, "hour__lt": end}
    if clicks:
        HourlyDimStat.objects.filter(**in_range).update(**dict.fromkeys(CLICK_COLUMNS, 0))
    if conversions:
        HourlyDimStat.objects.filter(**in_range).update(**dict.fromkeys(CONVERSION_COLUMNS, 0))
    if portable:
        if clicks:
            _upsert(_click_rows(start, end), columns=CLICK_COLUMNS)
        if conversions:
            _upsert(_conversion_rows(start, end), columns=CONVERSION_COLUMNS)
    else:
        with connection.cursor() as cursor:
            if clicks:
                cursor.execute(_CLICKS_SQL, [start, end])
            if conversions:
                cursor.execute(_CONVERSIONS_SQL, [start, end])
    HourlyDimStat.objects.filter(**in_range, **dict.fromkeys(_COUNT_COLUMNS, 0)).delete()
    HourlyStat.objects.filter(**in_range).delete()
    # Every click and conversion has exactly one country value (maybe ""), so the country rows
    # of an hour add up to the hour's totals.
    if not portable:
        with connection.cursor() as cursor:
            cursor.execute(_HOURLY_SQL, [start, end])
        return
    totals = (
        HourlyDimStat.objects.filter(**in_range, dimension=StatsDimension.COUNTRY)
        .values("hour", "campaign_id", "affiliate_id", "currency")
        .annotate(**{column: Sum(column) for column in METRIC_COLUMNS})
        .order_by()
    )
    HourlyStat.objects.bulk_create(
        (HourlyStat(**row) for row in totals.iterator(chunk_size=10_000)), batch_size=_UPSERT_BATCH
    )


def _ranges(hours: Iterable[dt.datetime]) -> list[tuple[dt.datetime, dt.datetime]]:
    """Sorted hours -> [start, end) ranges of consecutive hours, at most CHUNK_HOURS long."""
    ranges: list[tuple[dt.datetime, dt.datetime]] = []
    for hour in sorted(set(hours)):
        if ranges and ranges[-1][1] == hour and ranges[-1][1] - ranges[-1][0] < CHUNK_HOURS * HOUR:
            ranges[-1] = (ranges[-1][0], hour + HOUR)
        else:
            ranges.append((hour, hour + HOUR))
    return ranges


def _recompute_hours(
    *,
    click_hours: set[dt.datetime],
    conversion_hours: set[dt.datetime],
    click_horizon: dt.datetime | None,
    progress: Progress | None = None,
    portable: bool | None = None,
) -> None:
    """Recompute every hour that is dirty for clicks or conversions.

    Conversions are recomputed for every such hour (they are few: cheaper than splitting the
    ranges further); clicks only where new clicks arrived, and never before the retention
    horizon, where raw clicks may be gone.
    """
    if portable is None:
        portable = connection.vendor != "postgresql"
    if click_horizon is not None:
        first_click_hour = _hour_floor(click_horizon) + HOUR
        click_hours = {hour for hour in click_hours if hour >= first_click_hour}
    for start, end in _ranges(click_hours | conversion_hours):
        hour = start
        while hour < end:
            with_clicks = hour in click_hours
            run_end = hour + HOUR
            while run_end < end and (run_end in click_hours) == with_clicks:
                run_end += HOUR
            _recompute_range(hour, run_end, clicks=with_clicks, conversions=True, portable=portable)
            hour = run_end
        if progress is not None:
            progress(int((end - start) / HOUR))


# --- Watermarks -------------------------------------------------------------------------------


def _watermarks_lock(*, skip_locked: bool) -> dict[str, StatsWatermark] | None:
    """Lock both watermark rows (created on first use), or None if another refresh holds them."""
    StatsWatermark.objects.bulk_create(
        [StatsWatermark(source=SOURCE_CLICKS), StatsWatermark(source=SOURCE_HISTORY)],
        ignore_conflicts=True,
    )
    marks = {
        mark.source: mark
        for mark in StatsWatermark.objects.select_for_update(skip_locked=skip_locked).order_by(
            "source"
        )
    }
    if len(marks) < 2:
        return None
    return marks


def _first_gap(ids: list[int], after: int) -> int | None:
    """Index in `ids` (sorted, all > after) of the first id that does not follow its predecessor
    (`after` for the first one), or None when the ids are consecutive."""
    if not ids or ids[-1] - after == len(ids):
        return None
    # ids[i] - i is non-decreasing; the first gap is the first i where it exceeds after + 1.
    offsets = _Offsets(ids)
    return bisect.bisect_right(offsets, after + 1)


class _Offsets:
    """ids[i] - i as a lazy sequence, for bisect."""

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> int:
        return self.ids[index] - index


def _watermark_advance(*, mark: StatsWatermark, model, now: dt.datetime) -> None:
    """Move `mark.last_id` over the visible, gap-free ids above it (not saved).

    At a gap it stops and notes when it first stopped there (`gap_since`); a gap that has stayed
    open for the grace period is skipped (its id will not commit any more).
    """
    grace = dt.timedelta(seconds=settings.STATS_GAP_GRACE_SECONDS)
    if mark.refreshed_at is None:
        # First refresh ever: start at the first existing row, not at id 1 (ids consumed by
        # rolled-back inserts before it would otherwise be waited on as gaps).
        first = model.objects.aggregate(first=Min("id"))["first"]
        mark.last_id = max(mark.last_id, (first or 1) - 1)
    last = mark.last_id
    while True:
        ids = list(
            model.objects.filter(id__gt=last)
            .order_by("id")
            .values_list("id", flat=True)[:GAP_SCAN_LIMIT]
        )
        gap = _first_gap(ids, last)
        if gap is None:
            mark.gap_since = None
            if ids:
                last = ids[-1]
            if len(ids) < GAP_SCAN_LIMIT:
                break
            continue
        before_gap = ids[gap - 1] if gap else last
        if before_gap == mark.last_id and mark.gap_since and now - mark.gap_since >= grace:
            # Waited long enough on this gap: skip it and keep scanning.
            last = ids[gap] - 1
            mark.last_id = last
            mark.gap_since = None
            continue
        if before_gap != mark.last_id or mark.gap_since is None:
            mark.gap_since = now
        last = before_gap
        break
    mark.last_id = last


def _dirty_click_hours(*, after_id: int) -> set[dt.datetime]:
    return set(
        Click.objects.filter(id__gt=after_id)
        .annotate(bucket=TruncHour("created_at", tzinfo=dt.UTC))
        .values_list("bucket", flat=True)
        .distinct()
        .order_by()
    )


def _dirty_conversion_hours(*, after_id: int) -> set[dt.datetime]:
    return set(
        ConversionHistory.objects.filter(id__gt=after_id)
        .annotate(bucket=TruncHour("conversion__created_at", tzinfo=dt.UTC))
        .values_list("bucket", flat=True)
        .distinct()
        .order_by()
    )


def stats_refresh(
    *, now: dt.datetime | None = None, progress: Progress | None = None
) -> RefreshResult:
    """Bring the rollups up to date with every click and status change committed so far.

    One transaction; a concurrent refresh returns at once (`skipped`). Idempotent: a second run
    with nothing new recomputes nothing, and recomputing an hour twice gives the same rows.
    """
    now = now or timezone.now()
    with transaction.atomic():
        marks = _watermarks_lock(skip_locked=True)
        if marks is None:
            return RefreshResult(skipped=True)
        clicks_mark, history_mark = marks[SOURCE_CLICKS], marks[SOURCE_HISTORY]
        clicks_after, history_after = clicks_mark.last_id, history_mark.last_id
        # Watermarks first, dirty hours second: the dirty hours' later reads see at least every
        # row the watermark moved over (READ COMMITTED only ever sees more).
        _watermark_advance(mark=clicks_mark, model=Click, now=now)
        _watermark_advance(mark=history_mark, model=ConversionHistory, now=now)
        click_hours = _dirty_click_hours(after_id=clicks_after)
        conversion_hours = _dirty_conversion_hours(after_id=history_after)
        _recompute_hours(
            click_hours=click_hours,
            conversion_hours=conversion_hours,
            click_horizon=click_retention_horizon(now=now),
            progress=progress,
        )
        for mark in (clicks_mark, history_mark):
            mark.refreshed_at = now
            mark.save()
    return RefreshResult(
        skipped=False,
        click_hours=len(click_hours),
        conversion_hours=len(conversion_hours),
        clicks_watermark=clicks_mark.last_id,
        history_watermark=history_mark.last_id,
    )


def stats_period_bounds() -> tuple[dt.datetime, dt.datetime] | None:
    """[first hour, last hour + 1 h) of all raw clicks and conversions, None when there are none."""
    clicks = Click.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    conversions = Conversion.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    firsts = [value for value in (clicks["first"], conversions["first"]) if value]
    lasts = [value for value in (clicks["last"], conversions["last"]) if value]
    if not firsts:
        return None
    return _hour_floor(min(firsts)), _hour_floor(max(lasts)) + HOUR


def stats_rebuild(
    *,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    portable: bool | None = None,
) -> RebuildResult:
    """Recompute the rollups of every UTC hour overlapping [start, end) from raw data.

    One transaction per chunk of up to a day, each holding the refresh lock (so a refresh never
    interleaves). Hours before the click retention horizon keep their click counts (their raw
    clicks may be gone) and get their conversion columns recomputed. Idempotent.
    """
    now = now or timezone.now()
    start = _hour_floor(start)
    end = _hour_floor(end - dt.timedelta(microseconds=1)) + HOUR if end > start else start
    horizon = click_retention_horizon(now=now)
    first_click_hour = _hour_floor(horizon) + HOUR if horizon else start
    hours = click_hours = 0
    chunk_start = start
    while chunk_start < end:
        chunk_end = min(chunk_start + CHUNK_HOURS * HOUR, end)
        chunk_hours = {chunk_start + HOUR * n for n in range(int((chunk_end - chunk_start) / HOUR))}
        with transaction.atomic():
            _watermarks_lock(skip_locked=False)
            _recompute_hours(
                click_hours=chunk_hours,
                conversion_hours=chunk_hours,
                click_horizon=horizon,
                portable=portable,
            )
        hours += len(chunk_hours)
        click_hours += sum(1 for hour in chunk_hours if hour >= first_click_hour)
        if progress is not None:
            progress(len(chunk_hours))
        chunk_start = chunk_end
    return RebuildResult(hours=hours, click_hours=click_hours)


# --- Retention --------------------------------------------------------------------------------


def clicks_prune(*, now: dt.datetime | None = None, batch_size: int = 10_000) -> int:
    """Delete clicks older than the retention horizon that no conversion references.

    Only clicks the rollups have already counted (at or below the clicks watermark) go, in
    batches of `batch_size`, each its own transaction, so the table is never locked for long.
    Returns how many were deleted. Running twice deletes nothing more.
    """
    now = now or timezone.now()
    horizon = click_retention_horizon(now=now)
    if horizon is None:
        return 0
    counted_up_to = (
        StatsWatermark.objects.filter(source=SOURCE_CLICKS)
        .values_list("last_id", flat=True)
        .first()
        or 0
    )
    prunable = (
        Click.objects.filter(created_at__lt=horizon, id__lte=counted_up_to)
        .alias(converted=Exists(Conversion.objects.filter(click_id=OuterRef("pk"))))
        .filter(converted=False)
        .order_by()
    )
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(prunable.values_list("id", flat=True)[:batch_size])
            if not ids:
                return deleted
            count, _ = Click.objects.filter(id__in=ids).delete()
            deleted += count
