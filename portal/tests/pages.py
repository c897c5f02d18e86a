"""Every page of the portals, and the console's index, filled with the demo network's data.

`demo_world()` runs `seed_demo` (a few hundred clicks: conversions in USD and EUR, balances,
end-user points) and adds what the demo leaves out, so that every page shows rows: a pending
application with a long message, a postback endpoint with a long URL and a failed delivery, a
payout request of more than a thousand dollars, an account waiting for approval. Its `pages`
list each page once, as the role that sees it; a page with `form` is what a POST of that form
answers (the secret shown once, the postback tester's result, a refused payout request).

Tests that must hold on every page (no raw 4-decimal amount, no sideways scrolling at a phone's
width) walk this one list, so a new page only has to be added here.
"""

import base64
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from io import StringIO

from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.api_keys import api_key_create, api_key_revoke
from accounts.models import ApiKey, ApiKeyScope, User
from accounts.tests.factories import DEFAULT_PASSWORD, AffiliateFactory
from accounts.two_factor import otp_enrolment_start
from campaigns.events import event_create
from campaigns.models import AccessStatus, Campaign, PartnerKey, TrackingLink
from campaigns.pricing_rules import pricing_rule_create
from campaigns.smart_links import smart_link_create
from campaigns.tests.factories import CampaignAccessFactory
from forwarding.models import DeliveryAttempt, DeliveryStatus, ForwardEvent
from forwarding.tests.factories import DeliveryFactory, PostbackEndpointFactory
from payouts import invoices
from payouts.models import LedgerTransaction, PayoutRequest
from payouts.payout_methods import payout_method_create
from payouts.services import payout_request_create
from payouts.tests.factories import GOOD_IBAN, conversion_approve
from portal import urls as portal_urls
from tracker.models import Click, Conversion, EndUserPoints
from tracker.services.reconciliations import reconciliation_create

DEMO_CLICKS = 400
# The demo logins `seed_demo` creates, as the README documents them.
DEMO_LOGINS = {
    "advertiser": ("advertiser@clickledger.local", "demo-advertiser-pass"),
    "affiliate": ("affiliate1@clickledger.local", "demo-affiliate-pass"),
    "pending": ("affiliate3@clickledger.local", "demo-affiliate-pass"),
    "admin": ("admin@clickledger.local", "demo-admin-pass"),
}
# Nothing listens there: a test delivery fails at once ("no answer"), without a receiver.
CLOSED_PORT_URL = "http://127.0.0.1:9/postback?cid={click_id}&status={status}&amount={payout}"
LONG_URL = (
    "https://tracker.publisher-example.com/postbacks/clickledger/receive?click_id={click_id}"
    "&transaction={transaction_id}&status={status}&payout={payout}&currency={currency}"
    "&sub1={sub1}&sub2={sub2}&user={user_id}"
)


# Portal routes that answer no page of their own: redirects after an action, downloads.
NOT_PAGES = frozenset(
    {
        "home",
        "logout",
        "advertiser-campaign-status",
        "advertiser-application-decide",
        "affiliate-campaign-apply",
        "affiliate-campaign-link",
        "affiliate-endpoint-delete",
        "affiliate-smart-link-deactivate",
        "affiliate-delivery-replay",
        "affiliate-statement",
        "advertiser-event-delete",
        "advertiser-pricing-rule-delete",
        "advertiser-pricing-rule-template",
        "advertiser-api-key-revoke",
        "advertiser-invoice-csv",
        "affiliate-api-key-revoke",
        "advertiser-reconciliation-result",
        "affiliate-payout-method-remove",
        "advertiser-landing-page-create",
        "advertiser-landing-page-edit",
    }
)


def portal_page_names() -> set[str]:
    """Every route of the portal that renders a page (what `DemoWorld.pages` must cover)."""
    return {pattern.name for pattern in portal_urls.urlpatterns} - NOT_PAGES


@dataclass(frozen=True)
class PortalPage:
    name: str  # screenshots and failure messages
    role: str  # anonymous, pending, advertiser, affiliate or admin
    path: str
    form: dict[str, str | list[str]] | None = None  # POSTed to `path`; None: a GET


@dataclass
class DemoWorld:
    logins: dict[str, tuple[str, str]]  # role -> (email, password); anonymous has none
    users: dict[str, User]
    pages: list[PortalPage] = field(default_factory=list)
    # The console's lists and detail pages that show money (the admin's own layout).
    console_pages: list[PortalPage] = field(default_factory=list)

    def pages_of(self, role: str) -> list[PortalPage]:
        return [page for page in self.pages if page.role == role]


def demo_world() -> DemoWorld:
    call_command("seed_demo", clicks=DEMO_CLICKS, seed=7, verbosity=0, stdout=StringIO())
    logins = DEMO_LOGINS
    users = {role: User.objects.get(email=email) for role, (email, _) in logins.items()}
    advertiser, affiliate = users["advertiser"], users["affiliate"]
    campaign = Campaign.objects.filter(advertiser_id=advertiser.pk).order_by("id").first()
    partner_key = PartnerKey.objects.filter(advertiser_id=advertiser.pk).order_by("id").first()
    link = TrackingLink.objects.filter(affiliate_id=affiliate.pk).order_by("id").first()

    # A pending application with a long message, from a company with a long name.
    applicant = AffiliateFactory(company="Northwind Cashback & Loyalty Rewards International")
    CampaignAccessFactory(
        campaign=Campaign.objects.filter(advertiser_id=advertiser.pk).order_by("id")[1],
        affiliate=applicant,
        status=AccessStatus.PENDING,
        message="We run a cashback site with 40k daily visitors in the US and Canada. " * 3,
    )
    # A postback endpoint with a long URL and a delivery that failed after two attempts.
    endpoint = PostbackEndpointFactory(
        affiliate=affiliate.affiliate,
        name="Publisher tracker",
        url=LONG_URL,
        events=[ForwardEvent.APPROVED, ForwardEvent.REVERSED],
    )
    delivery = DeliveryFactory(
        endpoint=endpoint,
        status=DeliveryStatus.FAILED,
        attempt_count=2,
        last_status_code=503,
        last_error="HTTP 503 from tracker.publisher-example.com: Service Temporarily Unavailable",
    )
    for number in (1, 2):
        DeliveryAttempt.objects.create(
            delivery=delivery,
            attempt_number=number,
            attempted_at=timezone.now() - dt.timedelta(minutes=10 * number),
            request_url=LONG_URL,
            status_code=503,
            latency_ms=1840,
            response_excerpt="<html><body>Service Temporarily Unavailable</body></html>",
            error="HTTP 503",
        )
    tested = PostbackEndpointFactory(
        affiliate=affiliate.affiliate, name="Closed port", url=CLOSED_PORT_URL
    )
    # A test sent earlier to that endpoint, answered with an error.
    answered_test = DeliveryFactory(
        endpoint=tested,
        conversion_id=None,
        event=ForwardEvent.TEST,
        event_key="endpoint-test:layout",
        status=DeliveryStatus.FAILED,
        attempt_count=1,
        max_attempts=1,
        last_error="connection refused",
    )
    DeliveryAttempt.objects.create(
        delivery=answered_test,
        attempt_number=1,
        attempted_at=timezone.now() - dt.timedelta(minutes=3),
        request_url=CLOSED_PORT_URL,
        latency_ms=2,
        error="connection refused",
    )
    # A smart link over the affiliate's campaigns, with a long catch-all URL.
    smart_link = smart_link_create(
        affiliate=affiliate.affiliate,
        name="Mobile rotation for the newsletter",
        entries=[
            {"campaign": campaign_id, "priority": position, "weight": 100 - 10 * position}
            for position, campaign_id in enumerate(
                TrackingLink.objects.filter(affiliate_id=affiliate.pk)
                .order_by("id")
                .values_list("campaign_id", flat=True),
                start=1,
            )
        ],
        catch_all_url=LONG_URL.split("?")[0] + "?sub={sub1}&geo={country}&user={user_id}",
    )
    # Earnings of more than a thousand dollars, a payout request of part of them.
    conversion_approve(
        affiliate=affiliate.affiliate,
        advertiser=advertiser.advertiser,
        payout=Decimal("1234.5678"),
        currency="USD",
    )
    payout_request_create(
        affiliate=affiliate.affiliate, amount=Decimal("1000.5"), currency="USD", method="paypal"
    )
    # Payout methods: a bank account with a long name, and a crypto wallet.
    bank_method = payout_method_create(
        affiliate=affiliate.affiliate,
        actor=affiliate,
        password=logins["affiliate"][1],
        kind="bank",
        label="Main euro account at Sparkasse Nordrhein-Westfalen",
        details={"account_holder": "Northwind Media GmbH", "iban": GOOD_IBAN},
    )
    payout_method_create(
        affiliate=affiliate.affiliate,
        actor=affiliate,
        password=logins["affiliate"][1],
        kind="crypto",
        details={
            "currency": "USDT",
            "network": "tron",
            "address": "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7",
        },
    )

    # API keys with everything a key shows: an allowlist, an expiry, a use; one revoked.
    for user in (advertiser, affiliate):
        used = api_key_create(
            user=user,
            name="Nightly reporting script",
            scope=ApiKeyScope.WRITE,
            expires_at=timezone.now() + dt.timedelta(days=90),
            ip_allowlist=["203.0.113.0/24", "2001:db8::/32"],
            now=timezone.now(),
        ).api_key
        ApiKey.objects.filter(pk=used.pk).update(last_used_at=timezone.now())
        api_key_revoke(
            api_key=api_key_create(user=user, name="Old laptop", now=timezone.now()).api_key,
            now=timezone.now(),
        )

    conversion = (
        Conversion.objects.filter(campaign__advertiser_id=advertiser.pk)
        .select_related("click")
        .order_by("-id")
        .first()
    )
    # An offerwall player with a four-figure balance (seeded traffic may give none).
    end_user = EndUserPoints.objects.create(
        affiliate=affiliate.affiliate, user_id="player-1234", points=Decimal("1234.5678")
    )
    # A recent click on the USD campaign that has not converted: the tester converts it.
    unconverted = (
        Click.objects.filter(campaign=campaign, blocked_reason="", conversions__isnull=True)
        .order_by("-id")
        .first()
    )
    # A second event with caps and a long name, and pricing rules of every kind on the campaign.
    sale = event_create(
        campaign=campaign,
        data={
            "code": "first_deposit",
            "name": "First deposit after a verified sign-up",
            "payout_type": "revshare",
            "revshare_percent": "32.5",
            "default_revenue": "1234.5678",
            "initial_status": "pending",
            "caps": [
                {"period": "day", "scope": "affiliate", "metric": "conversions", "limit": "25"},
                {"period": "month", "scope": "campaign", "metric": "payout", "limit": "12500"},
            ],
        },
    )
    rule = pricing_rule_create(
        campaign=campaign,
        data={
            "event": sale.pk,
            "affiliate": affiliate.pk,
            "country": "GB",
            "sub1": "newsletter-december-long-campaign-name",
            "starts_at": "2026-01-01",
            "payout_type": "fixed",
            "payout_amount": "1234.5678",
            "revenue_amount": "2345.6789",
            "note": "Premium placement in the weekly newsletter",
        },
    )
    pricing_rule_create(
        campaign=campaign, data={"country": "DE", "payout_type": "fixed", "payout_amount": "3"}
    )
    pricing_rule_create(
        campaign=campaign,
        data={
            "payout_type": "fixed",
            "payout_amount": "1",
            "starts_at": "2025-01-01",
            "ends_at": "2025-02-01",
        },
    )
    import_csv = (
        f"id,event,affiliate,country,sub1,payout_type,payout_amount,note\n"
        f"{rule.pk},,,,,,1500.25,raised\n"
        f",first_deposit,{affiliate.pk},US,,fixed,20,new market\n"
        f",no_such_event,,XX,,fixed,5,\n"
    )
    # A reconciliation of the advertiser's own list: a status difference on one of its
    # conversions, a conversion it lacks, an unreadable line, and ours it does not list.
    reconciliation = reconciliation_create(
        advertiser=advertiser.advertiser,
        campaign=None,
        date_from=timezone.now().date() - dt.timedelta(days=2),
        date_to=timezone.now().date(),
        content=(
            "transaction_id,click_id,status,amount,currency\n"
            f",{conversion.click.click_id},rejected,1234.5,{conversion.currency}\n"
            "ORDER-2026-000123456789,,approved,99.99,USD\n"
            "ORDER-2026-000123456790,,maybe,1,USD\n"
        ).encode(),
        file_name="advertiser-export-december-2026-all-campaigns.csv",
        actor=advertiser,
    )
    # Two-factor authentication: the advertiser half-way through setting it up (its page shows
    # the QR code), and an affiliate who has it on (its password leads to the code step).
    otp_enrolment_start(user=advertiser)
    with_code = AffiliateFactory(company="Two-factor affiliate")
    TOTPDevice.objects.create(user=with_code.user, name="Authenticator app", confirmed=True)
    # Someone who never logs in here: a login would invalidate the reset token.
    uid = urlsafe_base64_encode(force_bytes(applicant.user.pk))
    token = default_token_generator.make_token(applicant.user)
    # Last month's invoice, issued and half paid, with a long line and a long reference.
    last_month = invoices.previous_month_period(timezone.now())
    invoice, _ = invoices.invoice_draft_for_period(
        advertiser_id=advertiser.pk,
        currency="USD",
        period_start=last_month[0],
        period_end=last_month[1],
    )
    invoices.invoice_line_add(
        invoice_id=invoice.pk,
        description="Premium placement in the publisher network's December newsletter, "
        "three sends to the US and Canada lists",
        amount="12345.67",
        actor=None,
    )
    invoices.invoice_line_add(
        invoice_id=invoice.pk, description="Volume discount", amount="-345.67", actor=None
    )
    invoices.invoice_issue(invoice_id=invoice.pk, actor=None)
    invoices.invoice_payment_record(
        invoice_id=invoice.pk,
        amount="6000",
        paid_at=None,
        reference="SEPA-CT-2026-000123456789-NORTHWIND",
        actor=None,
    )
    adv, aff = "/portal/advertiser", "/portal/affiliate"

    def page(name: str, role: str, path: str, form: dict | None = None) -> PortalPage:
        return PortalPage(name=name, role=role, path=path, form=form)

    world = DemoWorld(logins=logins, users=users)
    world.pages = [
        page("login", "anonymous", "/portal/login/"),
        page("signup", "anonymous", "/portal/signup/"),
        page(
            "signup-errors",
            "anonymous",
            "/portal/signup/",
            {"role": "affiliate", "name": "Dana", "email": "not-an-email", "password": "short"},
        ),
        page("password-reset", "anonymous", "/portal/auth/password_reset/"),
        page("password-reset-done", "anonymous", "/portal/auth/password_reset/done/"),
        page("password-reset-confirm", "anonymous", f"/portal/auth/reset/{uid}/{token}/"),
        page("password-reset-expired", "anonymous", f"/portal/auth/reset/{uid}/expired-token/"),
        page("password-reset-complete", "anonymous", "/portal/auth/reset/done/"),
        # The password of an account with two-factor authentication on answers the code step,
        # which the same visitor then opens again by its own address.
        page(
            "login-password-then-code",
            "anonymous",
            "/portal/login/",
            {"username": with_code.user.email, "password": DEFAULT_PASSWORD},
        ),
        page("login-code", "anonymous", "/portal/login/code/"),
        page("pending", "pending", "/portal/pending/"),
        page("pending-profile", "pending", "/portal/profile/"),
        page("advertiser-dashboard", "advertiser", f"{adv}/"),
        page("advertiser-dashboard-90d", "advertiser", f"{adv}/?days=90"),
        page("advertiser-report", "advertiser", f"{adv}/reports/?preset=90&group_by=affiliate"),
        page("advertiser-campaigns", "advertiser", f"{adv}/campaigns/"),
        page("advertiser-campaign-new", "advertiser", f"{adv}/campaigns/new/"),
        page("advertiser-campaign-edit", "advertiser", f"{adv}/campaigns/{campaign.pk}/"),
        page(
            "advertiser-campaign-invite",
            "advertiser",
            f"{adv}/campaigns/{campaign.pk}/invite/",
            {"affiliate": str(affiliate.pk)},
        ),
        page("advertiser-event-create", "advertiser", f"{adv}/campaigns/{campaign.pk}/events/new/"),
        page("advertiser-event-edit", "advertiser", f"{adv}/events/{sale.pk}/"),
        page(
            "advertiser-pricing-rules",
            "advertiser",
            f"{adv}/campaigns/{campaign.pk}/pricing-rules/?preview_affiliate={affiliate.pk}"
            f"&preview_event={sale.pk}&preview_country=GB"
            "&preview_sub1=newsletter-december-long-campaign-name",
        ),
        page(
            "advertiser-pricing-rule-create",
            "advertiser",
            f"{adv}/campaigns/{campaign.pk}/pricing-rules/new/",
        ),
        page("advertiser-pricing-rule-edit", "advertiser", f"{adv}/pricing-rules/{rule.pk}/"),
        page(
            "advertiser-pricing-rule-import",
            "advertiser",
            f"{adv}/campaigns/{campaign.pk}/pricing-rules/import/",
        ),
        page(
            "advertiser-pricing-rule-import-checked",
            "advertiser",
            f"{adv}/campaigns/{campaign.pk}/pricing-rules/import/",
            {"content": base64.b64encode(import_csv.encode()).decode()},
        ),
        page("advertiser-applications", "advertiser", f"{adv}/applications/"),
        page("advertiser-partner-keys", "advertiser", f"{adv}/partner-keys/"),
        page("advertiser-partner-key-edit", "advertiser", f"{adv}/partner-keys/{partner_key.pk}/"),
        page(
            "advertiser-partner-key-created",
            "advertiser",
            f"{adv}/partner-keys/",
            {"name": "Second shop server"},
        ),
        page(
            "advertiser-partner-key-rotated",
            "advertiser",
            f"{adv}/partner-keys/{partner_key.pk}/rotate/",
            {},
        ),
        page(
            "advertiser-postback-tester", "advertiser", f"{adv}/partner-keys/{partner_key.pk}/test/"
        ),
        page(
            "advertiser-postback-tester-result",
            "advertiser",
            f"{adv}/partner-keys/{partner_key.pk}/test/",
            {
                "method": "GET",
                "click_id": unconverted.click_id,
                "status": "approved",
                "payout": "1234.5",
                "currency": "",
                "transaction_id": "LAYOUT-TEST-0001",
                "user_id": "",
                "params": "",
            },
        ),
        page("advertiser-conversions", "advertiser", f"{adv}/conversions/"),
        page("advertiser-conversion-detail", "advertiser", f"{adv}/conversions/{conversion.pk}/"),
        page("advertiser-reconciliations", "advertiser", f"{adv}/reconciliations/"),
        page(
            "advertiser-reconciliation",
            "advertiser",
            f"{adv}/reconciliations/{reconciliation.pk}/",
        ),
        page("advertiser-profile", "advertiser", "/portal/profile/"),
        page("advertiser-api-keys", "advertiser", f"{adv}/api-keys/"),
        page(
            "advertiser-api-key-created",
            "advertiser",
            f"{adv}/api-keys/",
            {"name": "Warehouse sync", "scope": "read", "expires_on": "", "ip_allowlist": ""},
        ),
        page("advertiser-two-factor-setup", "advertiser", "/portal/two-factor/"),
        page("advertiser-invoices", "advertiser", f"{adv}/invoices/"),
        page("advertiser-invoice", "advertiser", f"{adv}/invoices/{invoice.pk}/"),
        page("advertiser-invoice-print", "advertiser", f"{adv}/invoices/{invoice.pk}/print/"),
        page("affiliate-dashboard", "affiliate", f"{aff}/"),
        page("affiliate-report", "affiliate", f"{aff}/reports/?preset=month&group_by=sub1"),
        page("affiliate-campaigns", "affiliate", f"{aff}/campaigns/"),
        page("affiliate-campaign", "affiliate", f"{aff}/campaigns/{campaign.pk}/"),
        page("affiliate-links", "affiliate", f"{aff}/links/"),
        page("affiliate-link-builder", "affiliate", f"{aff}/links/{link.pk}/?sub1=newsletter"),
        page("affiliate-smart-links", "affiliate", f"{aff}/smart-links/"),
        page("affiliate-smart-link-edit", "affiliate", f"{aff}/smart-links/{smart_link.pk}/"),
        page("affiliate-endpoints", "affiliate", f"{aff}/endpoints/"),
        page("affiliate-endpoint-edit", "affiliate", f"{aff}/endpoints/{endpoint.pk}/"),
        page(
            "affiliate-endpoint-created",
            "affiliate",
            f"{aff}/endpoints/",
            {
                "name": "Second tracker",
                "url": LONG_URL,
                "method": "GET",
                "events": ["approved"],
                "campaign": "",
                "is_active": "on",
            },
        ),
        page(
            "affiliate-endpoint-rotated", "affiliate", f"{aff}/endpoints/{endpoint.pk}/rotate/", {}
        ),
        page("affiliate-endpoint-test", "affiliate", f"{aff}/endpoints/{tested.pk}/test/", {}),
        page(
            "affiliate-endpoint-test-result",
            "affiliate",
            f"{aff}/endpoints/{tested.pk}/tests/{answered_test.pk}/",
        ),
        page("affiliate-deliveries", "affiliate", f"{aff}/deliveries/"),
        page("affiliate-conversions", "affiliate", f"{aff}/conversions/"),
        page("affiliate-payouts", "affiliate", f"{aff}/payouts/"),
        page(
            "affiliate-payout-refused",
            "affiliate",
            f"{aff}/payouts/",
            {"amount": "1", "currency": "USD", "method": "paypal"},
        ),
        page("affiliate-payout-methods", "affiliate", f"{aff}/payout-methods/"),
        page("affiliate-payout-method-add", "affiliate", f"{aff}/payout-methods/new/wire/"),
        page(
            "affiliate-payout-method-refused",
            "affiliate",
            f"{aff}/payout-methods/new/bank/",
            {
                "account_holder": "Northwind Media GmbH",
                "iban": "DE89 3704 0044 0532 0130 01",
                "password": logins["affiliate"][1],
            },
        ),
        page(
            "affiliate-payout-method-edit",
            "affiliate",
            f"{aff}/payout-methods/{bank_method.pk}/",
        ),
        page("affiliate-points", "affiliate", f"{aff}/points/"),
        page("affiliate-points-search", "affiliate", f"{aff}/points/?q={end_user.user_id}"),
        page("affiliate-profile", "affiliate", "/portal/profile/"),
        page("affiliate-api-keys", "affiliate", f"{aff}/api-keys/"),
        page(
            "affiliate-api-key-created",
            "affiliate",
            f"{aff}/api-keys/",
            {
                "name": "Offerwall server",
                "scope": "write",
                "expires_on": "2099-12-31",
                "ip_allowlist": "198.51.100.7",
            },
        ),
        page("affiliate-two-factor", "affiliate", "/portal/two-factor/"),
        page("console-index", "admin", "/admin/"),
    ]
    payout = PayoutRequest.objects.filter(affiliate_id=affiliate.pk).get()
    ledger_transaction = LedgerTransaction.objects.order_by("-id").first()
    world.console_pages = [
        page(f"console-{name}", "admin", f"/admin/{path}")
        for name, path in [
            ("campaigns", "campaigns/campaign/"),
            ("conversions", "tracker/conversion/"),
            ("conversion", f"tracker/conversion/{conversion.pk}/change/"),
            ("payouts", "payouts/payoutrequest/"),
            ("payout", f"payouts/payoutrequest/{payout.pk}/change/"),
            ("ledger-accounts", "payouts/ledgeraccount/"),
            ("payout-methods", "payouts/payoutmethod/"),
            ("adjustment-new", "payouts/ledgeradjustment/add/"),
            ("ledger-transaction", f"payouts/ledgertransaction/{ledger_transaction.pk}/change/"),
            ("end-user-points", "tracker/enduserpoints/"),
            ("invoices", "payouts/invoice/"),
            ("invoice", f"payouts/invoice/{invoice.pk}/change/"),
        ]
    ]
    return world
