"""`manage.py rollups_rebuild`: recompute the reporting rollups of a period from raw data.

    manage.py rollups_rebuild --from 2026-03-01 --to 2026-03-31   # UTC days, inclusive
    manage.py rollups_rebuild --days 7                            # the last 7 UTC days
    manage.py rollups_rebuild --all                               # everything there is

Safe while traffic flows: each chunk (a day at most) is recomputed in its own transaction under
the refresh lock, and recomputing is idempotent. Hours older than CLICK_RETENTION_DAYS keep their
click counts (the raw clicks may have been pruned); their conversions are recomputed.
"""

import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from reporting.services.rollups import HOUR, stats_period_bounds, stats_rebuild


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = (
        "Recompute the hourly reporting rollups of a period (UTC days) from raw clicks and "
        "conversions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        period = parser.add_mutually_exclusive_group(required=True)
        period.add_argument("--from", dest="date_from", help="First UTC day (YYYY-MM-DD).")
        period.add_argument("--days", type=int, help="The last N UTC days, today included.")
        period.add_argument("--all", action="store_true", help="Every hour with raw data.")
        parser.add_argument("--to", dest="date_to", help="Last UTC day, inclusive (default today).")

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        today = now.date()
        if options["all"]:
            bounds = stats_period_bounds()
            if bounds is None:
                self.stdout.write("No clicks or conversions: nothing to rebuild.")
                return
            start, end = bounds
        else:
            if options["days"] is not None:
                if options["days"] < 1:
                    raise CommandError("--days must be at least 1.")
                first = today - dt.timedelta(days=options["days"] - 1)
            else:
                first = _day(options["date_from"])
            last = _day(options["date_to"]) if options["date_to"] else today
            if last < first:
                raise CommandError("--to is before --from.")
            start = dt.datetime.combine(first, dt.time.min, tzinfo=dt.UTC)
            end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        with tqdm(
            total=int((end - start) / HOUR),
            unit="hour",
            file=getattr(self.stderr, "_out", sys.stderr),
            disable=options["verbosity"] < 1,
        ) as bar:
            result = stats_rebuild(start=start, end=end, now=now, progress=bar.update)
        self.stdout.write(
            f"Rebuilt {result.hours} hours ({result.click_hours} with click counts) "
            f"from {start.isoformat()} to {end.isoformat()}."
        )
