"""`manage.py import_exchange_rates <file> [--dry-run]`: load daily exchange rates from a CSV.

    date,from_currency,to_currency,rate
    2026-12-01,EUR,USD,1.0512

Every row is reported (`created`, `updated`, `unchanged`, or `error` with its reason); with
`--verbosity 2` each row's line, else the errors and a progress line every 1,000 rows. A dry run,
or a file with any error, writes nothing (the command then exits with status 1); otherwise the
whole file is set in one transaction (`payouts.exchange_rates.exchange_rates_import`).
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.exceptions import ApplicationError
from payouts.exchange_rates import ImportRow, ImportRowStatus, exchange_rates_import

PROGRESS_EVERY = 1000


class Command(BaseCommand):
    help = "Import daily exchange rates from a CSV (date,from_currency,to_currency,rate)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file (UTF-8, with a header line); - for stdin.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and report every row; write nothing."
        )

    def _row_line(self, row: ImportRow) -> str:
        if row.status == ImportRowStatus.ERROR:
            return f"line {row.line}: error: {row.message}"
        return (
            f"line {row.line}: {row.status}: {row.date} 1 {row.from_currency} = "
            f"{row.rate} {row.to_currency}"
        )

    def handle(self, *args, **options) -> None:
        verbosity = options["verbosity"]
        path = options["file"]
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        seen = 0

        def progress(row: ImportRow) -> None:
            nonlocal seen
            seen += 1
            if row.status == ImportRowStatus.ERROR:
                self.stderr.write(self._row_line(row))
            elif verbosity >= 2:
                self.stdout.write(self._row_line(row))
            if verbosity >= 1 and seen % PROGRESS_EVERY == 0:
                self.stdout.write(f"{seen} rows read...")

        try:
            report = exchange_rates_import(text=text, dry_run=options["dry_run"], progress=progress)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        counts = ", ".join(
            f"{report.count(status)} {status}"
            for status in (
                ImportRowStatus.CREATED,
                ImportRowStatus.UPDATED,
                ImportRowStatus.UNCHANGED,
                ImportRowStatus.ERROR,
            )
        )
        if report.errors:
            raise CommandError(
                f"{len(report.rows)} rows: {counts}. Nothing was written: fix the errors and "
                "import the file again."
            )
        if report.dry_run:
            self.stdout.write(f"Dry run, nothing written. {len(report.rows)} rows: {counts}.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {len(report.rows)} rows: {counts}."))
