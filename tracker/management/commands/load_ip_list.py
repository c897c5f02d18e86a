"""`manage.py load_ip_list`: load (or replace) one of the operator's IP lists from a file.

    manage.py load_ip_list --kind datacenter --name aws ranges.txt
    manage.py load_ip_list --kind deny --name abuse --skip-invalid - < list.txt

One entry per line: an address, a CIDR (`203.0.113.0/24`, `2001:db8::/32`) or `first-last`;
`#` starts a comment. The list named `--name` is replaced in one transaction. Unusable lines
refuse the file, each reported with its line number, unless `--skip-invalid`.
"""

import sys
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.exceptions import ApplicationError
from core.models import AuditSource
from tracker.ip_lists import ip_list_load
from tracker.models import IpListKind


class Command(BaseCommand):
    help = "Load or replace a deny or data-center IP list from a file of addresses and CIDRs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", required=True, choices=IpListKind.values)
        parser.add_argument("--name", required=True, help="The list's name, e.g. aws.")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Load the usable lines and report the others, instead of refusing the file.",
        )
        parser.add_argument("file", help="The file to read; - reads standard input.")

    def handle(self, *args, **options) -> None:
        path = options["file"]
        started = time.monotonic()
        try:
            if path == "-":
                result = self._load(sys.stdin.buffer, source="stdin", options=options)
            else:
                with open(path, "rb") as file:
                    result = self._load(file, source=path, options=options)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        except ApplicationError as exc:
            details = [line for lines in (exc.fields or {}).values() for line in lines]
            raise CommandError("\n".join([exc.message, *details])) from exc
        for number, text, why in result.bad_lines:
            self.stderr.write(f"skipped line {number}: {text!r}: {why}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.ip_list}: {result.entries} entries in {result.ranges} ranges "
                f"({len(result.bad_lines)} line(s) skipped) in {time.monotonic() - started:.1f} s"
            )
        )

    def _load(self, file, *, source: str, options: dict):
        return ip_list_load(
            kind=options["kind"],
            name=options["name"],
            lines=file,
            source=source,
            skip_invalid=options["skip_invalid"],
            audit_source=AuditSource.SYSTEM,
            progress=lambda message: self.stdout.write(message),
        )
