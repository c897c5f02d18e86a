"""Server time of every portal page and of the operator console, on the configured database.

    python manage.py bench_portal [--requests 20] [--seed-clicks N] [--only TEXT]
                                  [--target-ms 200] [--strict] [--json PATH]

Needs the demo network of `seed_demo` (its users are the ones logged in). For the 1 M-click
figure, create it once with `python manage.py seed_demo --clicks 1000000` (about 2.5 min on
2 cores), or pass `--seed-clicks 1000000` to let this command add that traffic first.

Each page is requested through Django's full request stack in-process with the test client
(middleware, session, authentication, view, template rendering; no network, no WSGI server):
one warm-up request, then `--requests` timed ones, each timed with `time.perf_counter` around
the handler. Pages: both portals as their demo users (dashboards, every list with a filter and a
sort, detail pages of real objects, CSV exports), the admin index and the main changelists as
the demo admin. It prints p50 / p95 / max per page, the number of SQL queries of one request,
whether any of them reads the raw click table, and PASS or FAIL of the p95 against
`--target-ms`; `--strict` exits non-zero on any FAIL (or any page not answering 200).

A CSV export streams: its time is until its first row is out (the download has started); the
time of the whole file is printed beside it, with its size, since it grows with the rows
exported (30,000 conversions at 1 M clicks), not with the size of the network.
"""

import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test.utils import CaptureQueriesContext

TARGET_MS = 200.0
DEFAULT_REQUESTS = 20
RAW_CLICK_TABLE = '"tracker_click"'


@dataclass(frozen=True)
class BenchPage:
    name: str
    role: str  # "admin", "advertiser" or "affiliate": whose demo login requests it
    path: str


def _percentile(samples: list[float], percent: float) -> float:
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(percent / 100 * len(ordered)) - 1))
    return ordered[index]


def bench_users() -> dict[str, Any]:
    """The demo logins by role, or CommandError saying how to create them."""
    from accounts.models import User
    from devtools.management.commands.seed_demo import (
        ADMIN_EMAIL,
        ADVERTISER_EMAIL,
        AFFILIATE_EMAILS,
    )

    emails = {
        "admin": ADMIN_EMAIL,
        "advertiser": ADVERTISER_EMAIL,
        "affiliate": AFFILIATE_EMAILS[0],
    }
    users = {user.email: user for user in User.objects.filter(email__in=emails.values())}
    missing = [email for email in emails.values() if email not in users]
    if missing:
        raise CommandError(
            f"No demo data here (missing {', '.join(missing)}): run `python manage.py seed_demo "
            "--clicks 1000000` first, or pass --seed-clicks N."
        )
    return {role: users[email] for role, email in emails.items()}


def bench_pages(users: dict[str, Any]) -> list[BenchPage]:
    """Every page to time, with the ids of real objects of the demo users."""
    from campaigns.models import Campaign, CampaignAccess, PartnerKey, TrackingLink
    from forwarding.models import PostbackEndpoint
    from tracker.models import Conversion, EndUserPoints

    advertiser, affiliate = users["advertiser"], users["affiliate"]
    campaign = Campaign.objects.filter(advertiser_id=advertiser.pk).order_by("id").first()
    partner_key = PartnerKey.objects.filter(advertiser_id=advertiser.pk).order_by("id").first()
    link = TrackingLink.objects.filter(affiliate_id=affiliate.pk).order_by("id").first()
    endpoint = PostbackEndpoint.objects.filter(affiliate_id=affiliate.pk).order_by("id").first()
    conversion = (
        Conversion.objects.filter(campaign__advertiser_id=advertiser.pk)
        .select_related("click")
        .order_by("-id")
        .first()
    )
    end_user = EndUserPoints.objects.filter(affiliate_id=affiliate.pk).order_by("-id").first()
    today = conversion.created_at.date() if conversion else None

    def page(name: str, role: str, path: str) -> BenchPage:
        return BenchPage(name=name, role=role, path=path)

    adv, aff = "/portal/advertiser", "/portal/affiliate"
    pages = [
        page("adv dashboard 30 d", "advertiser", f"{adv}/"),
        page("adv dashboard 90 d", "advertiser", f"{adv}/?days=90"),
        page("adv campaigns", "advertiser", f"{adv}/campaigns/"),
        page("adv campaigns filtered", "advertiser", f"{adv}/campaigns/?status=active&sort=name"),
        page("adv campaigns csv", "advertiser", f"{adv}/campaigns/?format=csv"),
        page("adv campaign new", "advertiser", f"{adv}/campaigns/new/"),
        page("adv applications", "advertiser", f"{adv}/applications/"),
        page("adv applications filtered", "advertiser", f"{adv}/applications/?status=approved"),
        page("adv applications csv", "advertiser", f"{adv}/applications/?format=csv"),
        page("adv partner keys", "advertiser", f"{adv}/partner-keys/"),
        page("adv conversions", "advertiser", f"{adv}/conversions/"),
        page("adv conversions by payout", "advertiser", f"{adv}/conversions/?sort=-payout"),
        page(
            "adv conversions approved p5",
            "advertiser",
            f"{adv}/conversions/?status=approved&sort=created&page=5",
        ),
        page("adv conversions last page", "advertiser", f"{adv}/conversions/?page=last"),
        page("adv conversions csv", "advertiser", f"{adv}/conversions/?format=csv"),
        page("adv profile", "advertiser", "/portal/profile/"),
        page("aff dashboard 30 d", "affiliate", f"{aff}/"),
        page("aff dashboard 90 d", "affiliate", f"{aff}/?days=90"),
        page("aff campaigns", "affiliate", f"{aff}/campaigns/"),
        page("aff campaigns filtered", "affiliate", f"{aff}/campaigns/?access=approved&sort=name"),
        page("aff links", "affiliate", f"{aff}/links/"),
        page("aff links csv", "affiliate", f"{aff}/links/?format=csv"),
        page("aff endpoints", "affiliate", f"{aff}/endpoints/"),
        page("aff deliveries", "affiliate", f"{aff}/deliveries/"),
        page("aff deliveries failed", "affiliate", f"{aff}/deliveries/?status=failed"),
        page("aff conversions", "affiliate", f"{aff}/conversions/"),
        page("aff conversions by payout", "affiliate", f"{aff}/conversions/?sort=-payout"),
        page("aff conversions pending", "affiliate", f"{aff}/conversions/?status=pending"),
        page("aff conversions last page", "affiliate", f"{aff}/conversions/?page=last"),
        page("aff conversions csv", "affiliate", f"{aff}/conversions/?format=csv"),
        page("aff payouts", "affiliate", f"{aff}/payouts/"),
        page("aff payouts csv", "affiliate", f"{aff}/payouts/?format=csv"),
        page("aff statement USD csv", "affiliate", f"{aff}/payouts/statement/USD.csv"),
        page("aff points", "affiliate", f"{aff}/points/"),
        page("aff points by points", "affiliate", f"{aff}/points/?sort=-points"),
        page("aff points csv", "affiliate", f"{aff}/points/?format=csv"),
        page("aff profile", "affiliate", "/portal/profile/"),
        page("admin index", "admin", "/admin/"),
        page(
            "admin affiliates pending", "admin", "/admin/accounts/affiliate/?status__exact=pending"
        ),
        page("admin advertisers", "admin", "/admin/accounts/advertiser/"),
        page("admin campaigns", "admin", "/admin/campaigns/campaign/"),
        page("admin applications", "admin", "/admin/campaigns/campaignaccess/"),
        page("admin partner keys", "admin", "/admin/campaigns/partnerkey/"),
        page("admin clicks", "admin", "/admin/tracker/click/"),
        page("admin conversions", "admin", "/admin/tracker/conversion/"),
        page(
            "admin conversions pending",
            "admin",
            "/admin/tracker/conversion/?status__exact=pending",
        ),
        page("admin postback logs", "admin", "/admin/tracker/postbacklog/"),
        page("admin deliveries", "admin", "/admin/forwarding/delivery/"),
        page("admin payouts", "admin", "/admin/payouts/payoutrequest/"),
        page("admin ledger transactions", "admin", "/admin/payouts/ledgertransaction/"),
        page("admin ledger accounts", "admin", "/admin/payouts/ledgeraccount/"),
        page("admin end-user points", "admin", "/admin/tracker/enduserpoints/"),
    ]
    if campaign is not None:
        pages.append(page("adv campaign edit", "advertiser", f"{adv}/campaigns/{campaign.pk}/"))
        pages.append(
            page(
                "adv conversions campaign+dates",
                "advertiser",
                f"{adv}/conversions/?campaign={campaign.pk}&date_from={today}&date_to={today}",
            )
        )
        pages.append(
            page(
                "admin campaign change", "admin", f"/admin/campaigns/campaign/{campaign.pk}/change/"
            )
        )
    if partner_key is not None:
        pages.append(
            page("adv partner key edit", "advertiser", f"{adv}/partner-keys/{partner_key.pk}/")
        )
        pages.append(
            page("adv postback tester", "advertiser", f"{adv}/partner-keys/{partner_key.pk}/test/")
        )
    if conversion is not None:
        pages.append(
            page("adv conversion detail", "advertiser", f"{adv}/conversions/{conversion.pk}/")
        )
        pages.append(
            page(
                "adv conversions search",
                "advertiser",
                f"{adv}/conversions/?q={conversion.click.click_id}",
            )
        )
        pages.append(
            page(
                "admin conversions search",
                "admin",
                f"/admin/tracker/conversion/?q={conversion.click.click_id}",
            )
        )
        pages.append(
            page(
                "admin conversion change",
                "admin",
                f"/admin/tracker/conversion/{conversion.pk}/change/",
            )
        )
        pages.append(
            page(
                "admin clicks search",
                "admin",
                f"/admin/tracker/click/?q={conversion.click.click_id}",
            )
        )
    if link is not None:
        pages.append(page("aff link builder", "affiliate", f"{aff}/links/{link.pk}/?sub1=news"))
    if endpoint is not None:
        pages.append(page("aff endpoint edit", "affiliate", f"{aff}/endpoints/{endpoint.pk}/"))
    if end_user is not None:
        pages.append(page("aff points search", "affiliate", f"{aff}/points/?q={end_user.user_id}"))
    if CampaignAccess.objects.filter(campaign__advertiser_id=advertiser.pk).exists():
        pages.append(
            page("adv applications pending", "advertiser", f"{adv}/applications/?status=pending")
        )
    return pages


@dataclass(frozen=True)
class Timing:
    status: int
    size: int  # body bytes
    is_stream: bool
    first_row_ms: float  # streamed body: until its second chunk (the first after the header)
    total_ms: float  # the whole body read


def bench_request(client, path: str) -> Timing:
    """Time one GET through the full request stack, a streamed body read to its end."""
    began = time.perf_counter()
    response = client.get(path)
    first_row = None
    if response.streaming:
        size = 0
        for number, chunk in enumerate(response.streaming_content):
            size += len(chunk)
            if number == 1:
                first_row = time.perf_counter()
    else:
        size = len(response.content)
    ended = time.perf_counter()
    return Timing(
        status=response.status_code,
        size=size,
        is_stream=response.streaming,
        first_row_ms=((first_row or ended) - began) * 1000,
        total_ms=(ended - began) * 1000,
    )


class Command(BaseCommand):
    help = "p50/p95/max server time of every portal page and the admin console (demo data)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--requests",
            type=int,
            default=DEFAULT_REQUESTS,
            help=f"Timed requests per page (default {DEFAULT_REQUESTS}).",
        )
        parser.add_argument(
            "--seed-clicks",
            type=int,
            default=0,
            help="First add this many demo clicks with seed_demo (creating the demo network).",
        )
        parser.add_argument("--only", default="", help="Only the pages whose name contains this.")
        parser.add_argument(
            "--target-ms",
            type=float,
            default=TARGET_MS,
            help=f"p95 target (default {TARGET_MS:g}).",
        )
        parser.add_argument("--strict", action="store_true", help="Exit non-zero on any FAIL.")
        parser.add_argument("--json", dest="json_path", help="Also write the results here.")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.test import Client
        from tqdm import tqdm

        if options["requests"] < 1:
            raise CommandError("--requests must be at least 1.")
        if options["seed_clicks"] < 0:
            raise CommandError("--seed-clicks must not be negative.")
        if options["seed_clicks"]:
            call_command("seed_demo", clicks=options["seed_clicks"], stdout=self.stdout)
        users = bench_users()
        pages = [page for page in bench_pages(users) if options["only"] in page.name]
        if not pages:
            raise CommandError(f"No page name contains {options['only']!r}.")
        clients = {}
        for role, user in users.items():
            clients[role] = Client()
            clients[role].force_login(user)

        debug = settings.DEBUG
        settings.DEBUG = False  # no query log in memory while timing
        results = []
        try:
            bar = tqdm(total=len(pages) * (options["requests"] + 1), unit="req", file=sys.stderr)
            with bar:
                for page in pages:
                    bar.set_description(page.name)
                    results.append(
                        self._measure(clients[page.role], page, options["requests"], bar)
                    )
        finally:
            settings.DEBUG = debug
        failed = self._report(results, target_ms=options["target_ms"])
        if options["json_path"]:
            Path(options["json_path"]).write_text(
                json.dumps(
                    {
                        "target_ms": options["target_ms"],
                        "requests": options["requests"],
                        "pages": results,
                    },
                    indent=2,
                )
            )
        if failed and options["strict"]:
            raise CommandError(f"{failed} page(s) over {options['target_ms']:g} ms at p95.")

    def _measure(self, client, page: BenchPage, requests: int, bar) -> dict[str, Any]:
        with CaptureQueriesContext(connection) as queries:
            warmup = bench_request(client, page.path)
        # Read now: the next request's `request_started` empties the query log.
        sqls = [query["sql"] for query in queries.captured_queries]
        bar.update(1)
        result: dict[str, Any] = {
            "name": page.name,
            "role": page.role,
            "path": page.path,
            "status": warmup.status,
            "queries": len(sqls),
            "reads_click_table": any(RAW_CLICK_TABLE in sql for sql in sqls),
            "is_stream": warmup.is_stream,
            "bytes": warmup.size,
        }
        if warmup.status != 200:
            bar.update(requests)
            return result
        timings = []
        for _ in range(requests):
            timings.append(bench_request(client, page.path))
            bar.update(1)
        # A streamed download answers with its first row; the whole file is reported beside it.
        samples = [t.first_row_ms if t.is_stream else t.total_ms for t in timings]
        totals = [t.total_ms for t in timings]
        return {
            **result,
            "p50_ms": statistics.median(samples),
            "p95_ms": _percentile(samples, 95),
            "max_ms": max(samples),
            "full_p50_ms": statistics.median(totals),
            "full_p95_ms": _percentile(totals, 95),
        }

    def _report(self, results: list[dict[str, Any]], *, target_ms: float) -> int:
        lines = [
            "",
            f"{'page':<34}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'queries':>9}"
            f"{'clicks':>8}  verdict  path",
        ]
        failed = 0
        for row in results:
            if row["status"] != 200:
                failed += 1
                lines.append(
                    f"{row['name']:<34}{'HTTP ' + str(row['status']):>27}{row['queries']:>9}"
                    f"{'-':>8}  FAIL     {row['path']}"
                )
                continue
            verdict = "PASS" if row["p95_ms"] <= target_ms else "FAIL"
            failed += verdict == "FAIL"
            download = (
                f"  (download, first row; whole file p95 {row['full_p95_ms']:.0f} ms,"
                f" {row['bytes'] / 1024:.0f} kB)"
                if row["is_stream"]
                else ""
            )
            lines.append(
                f"{row['name']:<34}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}{row['max_ms']:>9.1f}"
                f"{row['queries']:>9}{'read' if row['reads_click_table'] else '-':>8}  "
                f"{verdict:<7}  {row['path']}{download}"
            )
        lines.append("")
        lines.append(
            f"{len(results) - failed} of {len(results)} page(s) within {target_ms:g} ms at p95"
            + (f"; {failed} FAIL." if failed else ".")
            + " clicks: whether a query of the page reads the raw click table."
        )
        self.stdout.write("\n".join(lines))
        return failed
