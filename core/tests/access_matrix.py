"""The access matrix: every URL pattern x method x role -> expected status.

`ROWS` is the table; `world_build()` makes the objects its paths point at. Two tenants of each
kind: advertiser A and B (each with a private campaign, an approval-only campaign, a partner key),
affiliate A and B (each with a link, a click, a conversion, an end user with points, a postback
endpoint with a failed delivery, a requested and an approved payout, a pending application).
A's objects carry `MARK-A` in their free-text fields and B's `MARK-B`, so a body that leaks the
other tenant's rows is caught by its text.

Every path names tenant A's object. So per row: `advertiser_a` / `affiliate_a` are the owners,
`advertiser_b` / `affiliate_b` the other tenant (404 when the role may use the endpoint at all),
`admin` sees everything, `anonymous` gets 401 unless the endpoint is public.

Two more kinds of caller are derived from those (`Row.__post_init__`), unless a row names them:
- API keys (`KEY_ROLES`): a read key and a write key of affiliate A and of advertiser A. A key
  authenticates API requests as its owner: a write key gets its owner's answer, a read key too on
  safe methods and 403 (`insufficient_scope`) on every other. Pages ignore keys: a key's caller
  is anonymous there.
- Staff that are not superusers (`STAFF_ROLES`): `staff_viewer` holds every `view_*` permission,
  `staff_payouts` every permission of the payouts app. On an admin API route staff get the
  admin's answer when they hold the permission the view names, else 403: the viewer reads
  everything and changes nothing, the payouts staff use the payouts routes only. Routes open to
  any account (`/api/auth/me`, the caller's own API keys) and public ones answer them as the
  admin. In the console they get what their permissions show.

The server-rendered pages follow their own rules. The portal sends anonymous visitors to its
login page (302), answers 403 to the other portal's role and to admins, and 404 for another
tenant's object. The Django admin is for staff only: everyone else is sent to the admin's login
page. Its per-model pages are rows built from `ADMIN_MODELS`, one line per registered model.
"""

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.api_keys import api_key_create
from accounts.models import ApprovalStatus, User
from accounts.tests.factories import (
    DEFAULT_PASSWORD,
    AdminUserFactory,
    AdvertiserFactory,
    AffiliateFactory,
    StaffUserFactory,
)
from campaigns.models import AccessStatus, Campaign, Visibility
from campaigns.tests.factories import (
    CampaignAccessFactory,
    CampaignFactory,
    ConversionEventFactory,
    LandingPageFactory,
    PartnerKeyFactory,
    PricingRuleFactory,
    SmartLinkEntryFactory,
    SmartLinkFactory,
    TrackingLinkFactory,
)
from core.audit import audit_record
from core.models import AuditSource
from forwarding.models import DeliveryStatus
from forwarding.tests.factories import (
    DeliveryFactory,
    OperatorWebhookFactory,
    PostbackEndpointFactory,
)
from payouts import invoices as invoice_services
from payouts import services as payout_services
from payouts.exchange_rates import exchange_rate_set
from payouts.ledger import ledger_adjustment_post
from payouts.tests.factories import conversion_approve, payout_method_add
from tracker.models import IpList
from tracker.services.reconciliations import reconciliation_create
from tracker.tests.factories import ClickFactory, postback

BASE_ROLES = ("anonymous", "admin", "advertiser_a", "advertiser_b", "affiliate_a", "affiliate_b")
# role -> (owner role, scope): requests that carry one API key of the owner and nothing else.
KEY_ROLES = {
    "affiliate_a_read_key": ("affiliate_a", "read"),
    "affiliate_a_write_key": ("affiliate_a", "write"),
    "advertiser_a_read_key": ("advertiser_a", "read"),
    "advertiser_a_write_key": ("advertiser_a", "write"),
}
STAFF_ROLES = ("staff_viewer", "staff_payouts")
ROLES = (*BASE_ROLES, *KEY_ROLES, *STAFF_ROLES)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Server-rendered pages (HTML, form posts, session login); everything else is the JSON API.
PAGE_PREFIXES = ("portal/", "admin/")


@dataclass
class World:
    users: dict[str, User | None]
    ids: dict[str, Any]
    # KEY_ROLES -> the key their requests carry.
    api_keys: dict[str, str] = field(default_factory=dict)
    # Free text that only tenant A's / B's objects carry (leak detection).
    markers: dict[str, str] = field(default_factory=lambda: {"a": "MARK-A", "b": "MARK-B"})


def _tenant(tag: str, *, admin: User, receiver_url: str) -> dict[str, Any]:
    """One advertiser and one affiliate with everything the API can show about them."""
    mark = f"MARK-{tag.upper()}"
    advertiser = AdvertiserFactory(company=f"{mark} advertiser")
    affiliate = AffiliateFactory(company=f"{mark} affiliate")
    campaign = CampaignFactory(
        advertiser=advertiser,
        name=f"{mark} private campaign",
        visibility=Visibility.PRIVATE,
        external_offer_id=f"{mark}-offer",
    )
    applied_to = CampaignFactory(
        advertiser=advertiser, name=f"Approval campaign {tag}", visibility=Visibility.APPROVAL
    )
    application = CampaignAccessFactory(
        campaign=applied_to, affiliate=affiliate, status=AccessStatus.PENDING
    )
    key = PartnerKeyFactory(advertiser=advertiser, name=f"{mark} key")
    # An event without conversions (deletable) and a rule for the tenant's own affiliate that
    # priced none (deletable): the conversion below is on the default event.
    event = ConversionEventFactory(campaign=campaign, code="lead", name=f"{mark} lead")
    rule = PricingRuleFactory(
        campaign=campaign, event=event, affiliate=affiliate, note=f"{mark} rule"
    )
    link = TrackingLinkFactory(campaign=campaign, affiliate=affiliate)
    landing_page = LandingPageFactory(campaign=campaign, name=f"{mark} landing page")
    smart_link = SmartLinkFactory(affiliate=affiliate, name=f"{mark} smart link")
    SmartLinkEntryFactory(smart_link=smart_link, campaign=campaign)
    click = ClickFactory(link=link, sub1=f"{mark}-sub", user_id=f"{mark}-player")
    conversion = postback(key, click_id=click.click_id, payout="5.00", transaction_id=f"{mark}-txn")
    today = timezone.now().date()
    reconciliation = reconciliation_create(
        advertiser=advertiser,
        campaign=campaign,
        date_from=today,
        date_to=today,
        content=f"transaction_id,status\n{mark}-txn,rejected\n".encode(),
        file_name=f"{mark}.csv",
        actor=advertiser.user,
    )
    endpoint = PostbackEndpointFactory(affiliate=affiliate, url=receiver_url, name=f"{mark} hook")
    delivery = DeliveryFactory(
        endpoint=endpoint, status=DeliveryStatus.FAILED, attempt_count=8, next_attempt_at=None
    )
    # Ledger money for the payouts (no conversion row: the ledger references ids only).
    conversion_approve(affiliate=affiliate, advertiser=advertiser, payout=Decimal("500"))
    payout = payout_services.payout_request_create(affiliate=affiliate, amount="60", currency="USD")
    approved_payout = payout_services.payout_request_create(
        affiliate=affiliate, amount="70", currency="USD"
    )
    payout_services.payout_approve(payout=approved_payout, actor=admin)
    # Invoices of periods before any ledger entry: an issued one (the advertiser sees it) and a
    # draft (it does not); both carry their total in a manual line.
    last_month = invoice_services.previous_month_period(timezone.now())
    before_last = invoice_services.previous_month_period(
        dt.datetime.combine(last_month[0], dt.time.min, tzinfo=dt.UTC)
    )
    invoices = {}
    for name, (start, end) in (("issued", last_month), ("draft", before_last)):
        invoice, _ = invoice_services.invoice_draft_for_period(
            advertiser_id=advertiser.pk, currency="USD", period_start=start, period_end=end
        )
        invoice_services.invoice_line_add(
            invoice_id=invoice.pk, description=f"{mark} {name} fee", amount="100", actor=admin
        )
        invoices[name] = invoice
    invoice_services.invoice_issue(invoice_id=invoices["issued"].pk, actor=admin)
    payout_method = payout_method_add(affiliate=affiliate, kind="paypal", label=f"{mark} PayPal")
    api_key = api_key_create(user=affiliate.user, name=f"{mark} API key", now=timezone.now())
    advertiser_api_key = api_key_create(
        user=advertiser.user, name=f"{mark} advertiser API key", now=timezone.now()
    )
    return {
        "advertiser": advertiser.pk,
        "affiliate": affiliate.pk,
        "affiliate_email": affiliate.user.email,
        "campaign": campaign.pk,
        "applied_campaign": applied_to.pk,
        "application": application.pk,
        "access": link.campaign.accesses.get(affiliate=affiliate).pk,
        "key": key.pk,
        "key_secret": key.key,
        "event": event.pk,
        "landing_page": landing_page.pk,
        "rule": rule.pk,
        "link": link.pk,
        "link_token": link.token,
        "smart_link": smart_link.pk,
        "smart_link_token": smart_link.token,
        "click": click.pk,
        "click_id": click.click_id,
        "player": click.user_id,
        "conversion": conversion.pk,
        "reconciliation": reconciliation.pk,
        "endpoint": endpoint.pk,
        "delivery": delivery.pk,
        "payout": payout.pk,
        "approved_payout": approved_payout.pk,
        "invoice": invoices["issued"].pk,
        "invoice_draft": invoices["draft"].pk,
        "invoice_draft_start": invoices["draft"].period_start.isoformat(),
        "invoice_draft_end": invoices["draft"].period_end.isoformat(),
        "payout_method": payout_method.pk,
        "api_key": api_key.api_key.pk,
        "advertiser_api_key": advertiser_api_key.api_key.pk,
        "advertiser_user": advertiser.user,
        "affiliate_user": affiliate.user,
    }


def _refresh_token(email: str) -> str:
    response = Client().post(
        "/api/auth/login",
        json.dumps({"email": email, "password": DEFAULT_PASSWORD}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["refresh"]


def _admin_objects(*, blacklisted_email: str) -> dict[str, Any]:
    """The pk of one row of every model the admin registers, for its object pages; the few
    kinds the tenants do not make are made here."""
    seen = {"user_agent": "matrix", "ip_address": "203.0.113.9", "username": blacklisted_email}
    missing = {
        "auth.group": lambda: Group.objects.create(name="Operators"),
        "token_blacklist.blacklistedtoken": lambda: BlacklistedToken.objects.create(
            token=OutstandingToken.objects.get(
                jti=RefreshToken(_refresh_token(blacklisted_email))["jti"]
            )
        ),
        "axes.accessattempt": lambda: AccessAttempt.objects.create(
            **seen, get_data="", post_data="", failures_since_start=1
        ),
        "axes.accesslog": lambda: AccessLog.objects.create(**seen),
        "axes.accessfailurelog": lambda: AccessFailureLog.objects.create(**seen),
        # Unconfirmed: a confirmed device would make its user's session need a second factor.
        "otp_totp.totpdevice": lambda: TOTPDevice.objects.create(
            user=User.objects.get(email=blacklisted_email), name="app", confirmed=False
        ),
        "otp_static.staticdevice": lambda: StaticDevice.objects.create(
            user=User.objects.get(email=blacklisted_email), name="codes", confirmed=False
        ),
        "payouts.exchangerate": lambda: exchange_rate_set(
            on=timezone.now().date(), from_currency="GBP", to_currency="USD", rate=Decimal("1.27")
        )[0],
        "payouts.ledgeradjustment": lambda: ledger_adjustment_post(
            affiliate_id=User.objects.get(email=blacklisted_email).pk,
            currency="USD",
            amount=Decimal("1"),
            reason="matrix",
            actor=None,
        ),
        "tracker.iplist": lambda: IpList.objects.create(
            kind="deny", name="matrix", loaded_at=timezone.now()
        ),
        "core.auditentry": lambda: audit_record(
            actor=None,
            source=AuditSource.SYSTEM,
            action="create",
            obj_type="campaigns.campaign",
            obj_id=0,
            after={"name": "matrix"},
        ),
    }
    ids = {}
    for model in admin.site._registry:
        label = model._meta.label_lower
        pk = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        if pk is None:
            pk = missing[label]().pk
        ids[admin_object_key(label)] = pk
    return ids


def world_build(*, receiver_url: str) -> World:
    admin = AdminUserFactory()
    a = _tenant("a", admin=admin, receiver_url=receiver_url)
    b = _tenant("b", admin=admin, receiver_url=receiver_url)
    # An open campaign nobody has applied to (applying is the affiliate's own act, no tenant).
    public = CampaignFactory(advertiser_id=a["advertiser"], visibility=Visibility.PUBLIC)
    pending_affiliate = AffiliateFactory(status=ApprovalStatus.PENDING)
    pending_advertiser = AdvertiserFactory(status=ApprovalStatus.PENDING)
    ids: dict[str, Any] = {f"{k}_{tag}": v for tag, t in (("a", a), ("b", b)) for k, v in t.items()}
    ids.update(
        public_campaign=public.pk,
        pending_affiliate=pending_affiliate.pk,
        pending_advertiser=pending_advertiser.pk,
        refresh_a=_refresh_token(a["affiliate_email"]),
        receiver_url=receiver_url,
        now=timezone.now().date().isoformat(),
        campaign_content_type=ContentType.objects.get_for_model(Campaign).pk,
        # The receiver without the query's macros: an operator webhook's URL takes none.
        operator_receiver_url=receiver_url.partition("?")[0],
        operator_webhook=OperatorWebhookFactory(url=receiver_url.partition("?")[0]).pk,
    )
    ids.update(_admin_objects(blacklisted_email=b["affiliate_email"]))
    users = {
        "anonymous": None,
        "admin": admin,
        "advertiser_a": a["advertiser_user"],
        "advertiser_b": b["advertiser_user"],
        "affiliate_a": a["affiliate_user"],
        "affiliate_b": b["affiliate_user"],
        "staff_viewer": _staff("Viewers", Permission.objects.filter(codename__startswith="view_")),
        "staff_payouts": _staff(
            "Payouts", Permission.objects.filter(content_type__app_label="payouts")
        ),
    }
    api_keys = {
        role: api_key_create(user=users[owner], name=role, scope=scope, now=timezone.now()).key
        for role, (owner, scope) in KEY_ROLES.items()
    }
    return World(users=users, ids=ids, api_keys=api_keys)


def _staff(group_name: str, permissions) -> User:
    """A staff user (not a superuser) whose group holds `permissions`."""
    group = Group.objects.create(name=group_name)
    group.permissions.set(permissions)
    user = StaffUserFactory()
    user.groups.add(group)
    return user


@dataclass(frozen=True)
class Row:
    """One (route, method): the request to make and the status each role must get."""

    route: str
    method: str
    path: str
    expect: dict[str, int]
    # A dict is sent as JSON (or a form, for pages); a string as a text/csv body.
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    note: str = ""
    # Roles whose 302 is a denial: a redirect to the portal's or the admin's login page.
    to_login: tuple[str, ...] = ()
    # Settings the request runs under (the variants of one route in VARIANT_ROWS).
    settings: dict[str, Any] = field(default_factory=dict)
    # A refusal that still writes its own log row (partner postbacks log every request).
    logs_refusals: bool = False

    @property
    def is_page(self) -> bool:
        """Server-rendered (HTML, form posts) rather than the JSON API."""
        return self.route.startswith(PAGE_PREFIXES)

    def __post_init__(self) -> None:
        # Frozen: the derived roles are filled in once, here.
        object.__setattr__(self, "expect", {**_derived_expectations(self), **self.expect})
        if "anonymous" in self.to_login:
            object.__setattr__(self, "to_login", (*self.to_login, *KEY_ROLES))


# API routes where staff are answered as the admin: open to every account, or about the caller's
# own API keys (no model permission involved).
STAFF_AS_ADMIN_ROUTES = {
    "api/auth/me",
    "api/api-keys",
    "api/api-keys/<int:api_key_id>",
    "api/api-keys/<int:api_key_id>/revoke",
}
# The payouts app's API routes: `staff_payouts` holds their permissions.
PAYOUTS_ROUTES = (
    "api/payouts",
    "api/balance",
    "api/statement.csv",
    "api/exchange-rates",
    "api/invoices",
    "api/payout-methods",
    "api/adjustments",
)


def _derived_expectations(row: Row) -> dict[str, int]:
    """The key and staff roles' answers, from the base roles' (see the module's docstring)."""
    base = row.expect
    public = len({base[role] for role in BASE_ROLES if role in base}) == 1
    safe = row.method in SAFE_METHODS
    derived: dict[str, int] = {}
    for role, (owner, scope) in KEY_ROLES.items():
        if row.is_page or public:
            derived[role] = base["anonymous"]
        elif scope == "read" and not safe:
            derived[role] = 403
        else:
            derived[role] = base[owner]
    if row.is_page or public or row.route in STAFF_AS_ADMIN_ROUTES:
        derived.update(dict.fromkeys(STAFF_ROLES, base["admin"]))
    else:
        derived["staff_viewer"] = base["admin"] if safe else 403
        derived["staff_payouts"] = base["admin"] if row.route.startswith(PAYOUTS_ROUTES) else 403
    return derived


def expect(
    anonymous: int,
    admin: int,
    advertiser_a: int,
    advertiser_b: int,
    affiliate_a: int,
    affiliate_b: int,
) -> dict[str, int]:
    """The base roles' answers; the key and staff roles' are derived (`Row.__post_init__`)."""
    return {
        "anonymous": anonymous,
        "admin": admin,
        "advertiser_a": advertiser_a,
        "advertiser_b": advertiser_b,
        "affiliate_a": affiliate_a,
        "affiliate_b": affiliate_b,
    }


def everyone(code: int) -> dict[str, int]:
    return expect(code, code, code, code, code, code)


# Managing API keys needs a login: a request authenticated by a key is refused (403).
KEYS_REFUSED = dict.fromkeys(KEY_ROLES, 403)


ROWS: list[Row] = []

# Who may call what, in the shapes the permission classes give.
ANY_USER = expect(401, 200, 200, 200, 200, 200)
ADMIN_ONLY = expect(401, 200, 403, 403, 403, 403)
APPROVED_ROLES = expect(401, 200, 200, 200, 200, 200)
ADMIN_OR_ADVERTISER = expect(401, 200, 200, 200, 403, 403)
ADMIN_OR_AFFILIATE = expect(401, 200, 403, 403, 200, 200)
# A's object: the owner and the admin may, the other tenant gets 404, other roles 403.
ADVERTISER_A_OBJECT = expect(401, 200, 200, 404, 403, 403)
AFFILIATE_A_OBJECT = expect(401, 200, 403, 403, 200, 404)
# Traffic both A's advertiser and A's affiliate see (a conversion, an affiliate's clicks).
TRAFFIC_A = expect(401, 200, 200, 404, 200, 404)

ROWS += [
    # --- site --------------------------------------------------------------------------------
    Row("healthz", "GET", "/healthz", everyone(200)),
    # `/` sends each viewer home (anonymous: the portal's login page); /favicon.ico to the icon.
    Row("", "GET", "/", everyone(302)),
    Row("favicon.ico", "GET", "/favicon.ico", everyone(302)),
    Row("api/schema/", "GET", "/api/schema/", everyone(200)),
    Row("api/docs/", "GET", "/api/docs/", everyone(200)),
    # --- auth (public: no authentication classes, the role of the caller does not matter) ----
    Row(
        "api/auth/register",
        "POST",
        "/api/auth/register",
        everyone(201),
        body={
            "email": "new@example.test",
            "password": "A-long-enough passphrase 42",
            "role": "affiliate",
            "name": "New",
        },
    ),
    Row(
        "api/auth/login",
        "POST",
        "/api/auth/login",
        everyone(200),
        body={"email": "{affiliate_email_a}", "password": DEFAULT_PASSWORD},
    ),
    Row(
        "api/auth/refresh",
        "POST",
        "/api/auth/refresh",
        everyone(200),
        body={"refresh": "{refresh_a}"},
    ),
    Row(
        "api/auth/logout",
        "POST",
        "/api/auth/logout",
        everyone(204),
        body={"refresh": "{refresh_a}"},
    ),
    Row("api/auth/me", "GET", "/api/auth/me", ANY_USER),
    # --- the caller's own API keys ------------------------------------------------------------
    Row("api/api-keys", "GET", "/api/api-keys", ANY_USER),
    Row(
        "api/api-keys",
        "POST",
        "/api/api-keys",
        expect(401, 201, 201, 201, 201, 201) | KEYS_REFUSED,
        body={"name": "Matrix key", "scope": "write"},
    ),
    Row(
        "api/api-keys/<int:api_key_id>",
        "GET",
        "/api/api-keys/{api_key_a}",
        expect(401, 404, 404, 404, 200, 404) | KEYS_REFUSED,
        note="keys are personal: only the owner reaches its key, admins included",
    ),
    Row(
        "api/api-keys/<int:api_key_id>",
        "DELETE",
        "/api/api-keys/{api_key_a}",
        expect(401, 404, 404, 404, 204, 404) | KEYS_REFUSED,
        note="keys are personal: only the owner reaches its key, admins included",
    ),
    Row(
        "api/api-keys/<int:api_key_id>/revoke",
        "POST",
        "/api/api-keys/{api_key_a}/revoke",
        expect(401, 404, 404, 404, 200, 404) | KEYS_REFUSED,
        note="keys are personal: only the owner reaches its key, admins included",
    ),
    # --- partners (admin) ----------------------------------------------------------------------
    Row("api/affiliates", "GET", "/api/affiliates", ADMIN_ONLY),
    Row(
        "api/affiliates/<int:affiliate_id>",
        "GET",
        "/api/affiliates/{affiliate_a}",
        AFFILIATE_A_OBJECT,
    ),
    Row(
        "api/affiliates/<int:partner_id>/approve",
        "POST",
        "/api/affiliates/{pending_affiliate}/approve",
        ADMIN_ONLY,
    ),
    Row(
        "api/affiliates/<int:partner_id>/reject",
        "POST",
        "/api/affiliates/{pending_affiliate}/reject",
        ADMIN_ONLY,
    ),
    Row(
        "api/affiliates/<int:partner_id>/suspend",
        "POST",
        "/api/affiliates/{affiliate_a}/suspend",
        ADMIN_ONLY,
    ),
    Row("api/advertisers", "GET", "/api/advertisers", ADMIN_ONLY),
    Row(
        "api/advertisers/<int:advertiser_id>",
        "GET",
        "/api/advertisers/{advertiser_a}",
        ADVERTISER_A_OBJECT,
    ),
    Row(
        "api/advertisers/<int:partner_id>/approve",
        "POST",
        "/api/advertisers/{pending_advertiser}/approve",
        ADMIN_ONLY,
    ),
    Row(
        "api/advertisers/<int:partner_id>/reject",
        "POST",
        "/api/advertisers/{pending_advertiser}/reject",
        ADMIN_ONLY,
    ),
    Row(
        "api/advertisers/<int:partner_id>/suspend",
        "POST",
        "/api/advertisers/{advertiser_a}/suspend",
        ADMIN_ONLY,
    ),
    # --- campaigns -----------------------------------------------------------------------------
    Row("api/campaigns", "GET", "/api/campaigns", APPROVED_ROLES),
    Row(
        "api/campaigns",
        "POST",
        "/api/campaigns",
        expect(401, 201, 201, 400, 403, 403),
        body={
            "name": "New campaign",
            "landing_url": "https://adv.example/land?cid={{click_id}}",
            "payout_type": "revshare",
            "revshare_percent": "80",
            "advertiser_id": "{advertiser_a}",
        },
        note="advertiser B naming A's advertiser_id: 400 invalid_advertiser",
    ),
    Row(
        "api/campaigns/<int:campaign_id>",
        "GET",
        "/api/campaigns/{campaign_a}",
        TRAFFIC_A,
        note="a private campaign: only affiliates with access see it",
    ),
    Row(
        "api/campaigns/<int:campaign_id>",
        "PATCH",
        "/api/campaigns/{campaign_a}",
        ADVERTISER_A_OBJECT,
        body={"description": "changed"},
    ),
    Row(
        "api/campaigns/<int:campaign_id>/pause",
        "POST",
        "/api/campaigns/{campaign_a}/pause",
        ADVERTISER_A_OBJECT,
    ),
    Row(
        "api/campaigns/<int:campaign_id>/resume",
        "POST",
        "/api/campaigns/{campaign_a}/resume",
        ADVERTISER_A_OBJECT,
    ),
    Row(
        "api/campaigns/<int:campaign_id>/archive",
        "POST",
        "/api/campaigns/{campaign_a}/archive",
        ADVERTISER_A_OBJECT,
    ),
    Row(
        "api/campaigns/<int:campaign_id>/apply",
        "POST",
        "/api/campaigns/{public_campaign}/apply",
        expect(401, 403, 403, 403, 200, 200),
    ),
    Row(
        "api/campaigns/<int:campaign_id>/invite",
        "POST",
        "/api/campaigns/{applied_campaign_a}/invite",
        ADVERTISER_A_OBJECT,
        body={"affiliate_id": "{affiliate_a}"},
        note="affiliate A's pending application becomes approved access",
    ),
    Row(
        "api/campaigns/<int:campaign_id>/link",
        "GET",
        "/api/campaigns/{campaign_a}/link",
        expect(401, 403, 403, 403, 200, 404),
    ),
    Row(
        "api/campaigns/<int:campaign_id>/events",
        "GET",
        "/api/campaigns/{campaign_a}/events",
        TRAFFIC_A,
        note="affiliates that may see the campaign get the events without revenue",
    ),
    Row(
        "api/campaigns/<int:campaign_id>/events",
        "POST",
        "/api/campaigns/{campaign_a}/events",
        expect(401, 201, 201, 404, 403, 403),
        body={"code": "sale", "name": "Sale", "payout_type": "fixed", "payout_amount": "4"},
    ),
    Row("api/events/<int:event_id>", "GET", "/api/events/{event_a}", ADVERTISER_A_OBJECT),
    Row(
        "api/events/<int:event_id>",
        "PATCH",
        "/api/events/{event_a}",
        ADVERTISER_A_OBJECT,
        body={"name": "Qualified lead"},
    ),
    Row(
        "api/events/<int:event_id>",
        "DELETE",
        "/api/events/{event_a}",
        expect(401, 204, 204, 404, 403, 403),
    ),
    Row(
        "api/campaigns/<int:campaign_id>/landing-pages",
        "GET",
        "/api/campaigns/{campaign_a}/landing-pages",
        TRAFFIC_A,
        note="affiliate A runs campaign A: it gets the active pages' ids and names",
    ),
    Row(
        "api/campaigns/<int:campaign_id>/landing-pages",
        "POST",
        "/api/campaigns/{campaign_a}/landing-pages",
        expect(401, 201, 201, 404, 403, 403),
        body={"name": "Spring offer", "url": "https://adv.example/spring"},
    ),
    Row(
        "api/landing-pages/<int:landing_page_id>",
        "PATCH",
        "/api/landing-pages/{landing_page_a}",
        ADVERTISER_A_OBJECT,
        body={"weight": 50},
    ),
    Row(
        "api/campaigns/<int:campaign_id>/pricing-rules",
        "GET",
        "/api/campaigns/{campaign_a}/pricing-rules",
        ADVERTISER_A_OBJECT,
        note="affiliates never list rules, not even their own",
    ),
    Row(
        "api/campaigns/<int:campaign_id>/pricing-rules",
        "POST",
        "/api/campaigns/{campaign_a}/pricing-rules",
        expect(401, 201, 201, 404, 403, 403),
        body={"event": "lead", "country": "GB", "payout_type": "fixed", "payout_amount": "6"},
    ),
    Row(
        "api/campaigns/<int:campaign_id>/pricing-rules/import",
        "POST",
        "/api/campaigns/{campaign_a}/pricing-rules/import",
        ADVERTISER_A_OBJECT,
        body="event,country,payout_type,payout_amount\nlead,US,fixed,7\n",
        note="a text/csv body",
    ),
    Row(
        "api/campaigns/<int:campaign_id>/pricing-rules/preview",
        "GET",
        "/api/campaigns/{campaign_a}/pricing-rules/preview?affiliate={affiliate_a}&event=lead",
        ADVERTISER_A_OBJECT,
    ),
    Row(
        "api/pricing-rules/<int:rule_id>", "GET", "/api/pricing-rules/{rule_a}", ADVERTISER_A_OBJECT
    ),
    Row(
        "api/pricing-rules/<int:rule_id>",
        "PATCH",
        "/api/pricing-rules/{rule_a}",
        ADVERTISER_A_OBJECT,
        body={"payout_amount": "9"},
    ),
    Row(
        "api/pricing-rules/<int:rule_id>",
        "DELETE",
        "/api/pricing-rules/{rule_a}",
        expect(401, 204, 204, 404, 403, 403),
    ),
    Row("api/applications", "GET", "/api/applications", APPROVED_ROLES),
    Row(
        "api/applications/<int:application_id>/approve",
        "POST",
        "/api/applications/{application_a}/approve",
        ADVERTISER_A_OBJECT,
    ),
    Row(
        "api/applications/<int:application_id>/reject",
        "POST",
        "/api/applications/{application_a}/reject",
        ADVERTISER_A_OBJECT,
    ),
    Row(
        "api/applications/<int:application_id>/revoke",
        "POST",
        "/api/applications/{access_a}/revoke",
        ADVERTISER_A_OBJECT,
    ),
    Row("api/partner-keys", "GET", "/api/partner-keys", ADMIN_OR_ADVERTISER),
    Row(
        "api/partner-keys",
        "POST",
        "/api/partner-keys",
        expect(401, 201, 201, 400, 403, 403),
        body={"name": "Another key", "advertiser_id": "{advertiser_a}"},
    ),
    Row(
        "api/partner-keys/<int:partner_key_id>",
        "PATCH",
        "/api/partner-keys/{key_a}",
        ADVERTISER_A_OBJECT,
        body={"is_active": False},
    ),
    Row(
        "api/partner-keys/<int:partner_key_id>/rotate",
        "POST",
        "/api/partner-keys/{key_a}/rotate",
        ADVERTISER_A_OBJECT,
    ),
    Row(
        "api/conversions/<int:conversion_id>/explain",
        "GET",
        "/api/conversions/{conversion_a}/explain",
        TRAFFIC_A,
    ),
    Row("api/clicks/<str:click_id>/explain", "GET", "/api/clicks/{click_id_a}/explain", TRAFFIC_A),
    Row(
        "api/partner-keys/<int:partner_key_id>/sandbox",
        "POST",
        "/api/partner-keys/{key_a}/sandbox",
        ADVERTISER_A_OBJECT,
        body={"params": {"click_id": "{click_id_a}", "status": "pending"}},
    ),
    # --- payouts -------------------------------------------------------------------------------
    Row("api/balance", "GET", "/api/balance?affiliate_id={affiliate_a}", AFFILIATE_A_OBJECT),
    Row("api/payouts", "GET", "/api/payouts", ADMIN_OR_AFFILIATE),
    Row(
        "api/payouts",
        "POST",
        "/api/payouts",
        expect(401, 403, 403, 403, 201, 201),
        body={"amount": "50", "currency": "USD"},
    ),
    Row("api/payouts/export.csv", "GET", "/api/payouts/export.csv", ADMIN_OR_AFFILIATE),
    Row(
        "api/payouts/<int:payout_id>",
        "GET",
        "/api/payouts/{payout_a}",
        AFFILIATE_A_OBJECT,
    ),
    Row(
        "api/payouts/approve/<int:payout_id>",
        "POST",
        "/api/payouts/approve/{payout_a}",
        ADMIN_ONLY,
    ),
    Row(
        "api/payouts/<int:payout_id>/approve",
        "POST",
        "/api/payouts/{payout_a}/approve",
        ADMIN_ONLY,
    ),
    Row(
        "api/payouts/<int:payout_id>/reject",
        "POST",
        "/api/payouts/{payout_a}/reject",
        ADMIN_ONLY,
        body={"reason": "no"},
    ),
    Row(
        "api/payouts/<int:payout_id>/mark-paid",
        "POST",
        "/api/payouts/{approved_payout_a}/mark-paid",
        ADMIN_ONLY,
        body={"reference": "wire-1"},
    ),
    Row(
        "api/statement.csv",
        "GET",
        "/api/statement.csv?currency=USD&affiliate_id={affiliate_a}",
        AFFILIATE_A_OBJECT,
    ),
    # --- exchange rates (admin; the payouts staff hold the exchange rate permissions) ---------
    Row("api/exchange-rates", "GET", "/api/exchange-rates", ADMIN_ONLY),
    Row(
        "api/exchange-rates",
        "POST",
        "/api/exchange-rates",
        expect(401, 201, 403, 403, 403, 403),
        body={"date": "{now}", "from_currency": "EUR", "to_currency": "USD", "rate": "1.05"},
    ),
    # --- invoices (advertiser: its issued and paid ones; drafts are the admin's) ----------------
    Row("api/invoices", "GET", "/api/invoices", ADMIN_OR_ADVERTISER),
    Row(
        "api/invoices",
        "POST",
        "/api/invoices",
        ADMIN_ONLY,
        body={
            "advertiser_id": "{advertiser_a}",
            "currency": "USD",
            "period_start": "{invoice_draft_start_a}",
            "period_end": "{invoice_draft_end_a}",
        },
        note="the draft of that period exists: 200 with it",
    ),
    Row("api/invoices/<int:invoice_id>", "GET", "/api/invoices/{invoice_a}", ADVERTISER_A_OBJECT),
    Row(
        "api/invoices/<int:invoice_id>.csv",
        "GET",
        "/api/invoices/{invoice_a}.csv",
        ADVERTISER_A_OBJECT,
    ),
    Row(
        "api/invoices/<int:invoice_id>/lines",
        "POST",
        "/api/invoices/{invoice_draft_a}/lines",
        expect(401, 201, 403, 403, 403, 403),
        body={"description": "Matrix fee", "amount": "5"},
    ),
    Row(
        "api/invoices/<int:invoice_id>/issue",
        "POST",
        "/api/invoices/{invoice_draft_a}/issue",
        ADMIN_ONLY,
    ),
    Row(
        "api/invoices/<int:invoice_id>/payments",
        "POST",
        "/api/invoices/{invoice_a}/payments",
        expect(401, 201, 403, 403, 403, 403),
        body={"amount": "40", "reference": "wire-matrix"},
    ),
    Row("api/payout-methods", "GET", "/api/payout-methods", ADMIN_OR_AFFILIATE),
    Row(
        "api/payout-methods",
        "POST",
        "/api/payout-methods",
        expect(401, 403, 403, 403, 201, 201),
        body={"kind": "paypal", "email": "new@example.test", "password": DEFAULT_PASSWORD},
        note="the caller's own; its password confirms it",
    ),
    Row(
        "api/payout-methods/<int:payout_method_id>",
        "GET",
        "/api/payout-methods/{payout_method_a}",
        AFFILIATE_A_OBJECT,
    ),
    Row(
        "api/payout-methods/<int:payout_method_id>",
        "PATCH",
        "/api/payout-methods/{payout_method_a}",
        expect(401, 403, 403, 403, 200, 404),
        body={"label": "Renamed", "password": DEFAULT_PASSWORD},
        note="only the owner changes where its money goes; admins read",
    ),
    Row(
        "api/payout-methods/<int:payout_method_id>",
        "DELETE",
        "/api/payout-methods/{payout_method_a}",
        expect(401, 403, 403, 403, 204, 404),
        body={"password": DEFAULT_PASSWORD},
    ),
    Row("api/adjustments", "GET", "/api/adjustments", ADMIN_ONLY),
    Row(
        "api/adjustments",
        "POST",
        "/api/adjustments",
        expect(401, 201, 403, 403, 403, 403),
        body={
            "owner_type": "affiliate",
            "owner_id": "{affiliate_a}",
            "amount": "-5",
            "currency": "USD",
            "reason": "matrix correction",
        },
    ),
    # --- traffic -------------------------------------------------------------------------------
    Row("api/clicks", "GET", "/api/clicks", APPROVED_ROLES),
    Row("api/conversions", "GET", "/api/conversions", APPROVED_ROLES),
    Row(
        "api/conversions/<int:conversion_id>",
        "GET",
        "/api/conversions/{conversion_a}",
        TRAFFIC_A,
    ),
    Row(
        "api/conversions/<int:conversion_id>/status",
        "POST",
        "/api/conversions/{conversion_a}/status",
        ADVERTISER_A_OBJECT,
        body={"status": "rejected", "reason": "fraud"},
    ),
    Row("api/points", "GET", "/api/points", ADMIN_OR_AFFILIATE),
    # --- smart links (the affiliate's own; admins: any) ---------------------------------------
    Row("api/smart-links", "GET", "/api/smart-links", ADMIN_OR_AFFILIATE),
    Row(
        "api/smart-links",
        "POST",
        "/api/smart-links",
        expect(401, 201, 403, 403, 201, 400),
        body={
            "name": "New smart link",
            "entries": [{"campaign": "{campaign_a}"}],
            "affiliate_id": "{affiliate_a}",
        },
        note="B may not create for A: 400 invalid_affiliate",
    ),
    Row(
        "api/smart-links/<int:smart_link_id>",
        "GET",
        "/api/smart-links/{smart_link_a}",
        AFFILIATE_A_OBJECT,
    ),
    Row(
        "api/smart-links/<int:smart_link_id>",
        "PATCH",
        "/api/smart-links/{smart_link_a}",
        AFFILIATE_A_OBJECT,
        body={"name": "Renamed"},
    ),
    Row(
        "api/smart-links/<int:smart_link_id>",
        "DELETE",
        "/api/smart-links/{smart_link_a}",
        AFFILIATE_A_OBJECT,
        note="deactivates: 200 with the smart link",
    ),
    # --- forwarding ----------------------------------------------------------------------------
    Row("api/postback-endpoints", "GET", "/api/postback-endpoints", ADMIN_OR_AFFILIATE),
    Row(
        "api/postback-endpoints",
        "POST",
        "/api/postback-endpoints",
        expect(401, 201, 403, 403, 201, 400),
        body={"url": "{receiver_url}", "affiliate_id": "{affiliate_a}"},
    ),
    Row(
        "api/postback-endpoints/<int:endpoint_id>",
        "PATCH",
        "/api/postback-endpoints/{endpoint_a}",
        AFFILIATE_A_OBJECT,
        body={"is_active": True},
    ),
    Row(
        "api/postback-endpoints/<int:endpoint_id>",
        "DELETE",
        "/api/postback-endpoints/{endpoint_a}",
        expect(401, 204, 403, 403, 204, 404),
    ),
    Row(
        "api/postback-endpoints/<int:endpoint_id>/test",
        "POST",
        "/api/postback-endpoints/{endpoint_a}/test",
        expect(401, 202, 403, 403, 202, 404),
        note="queued for the worker: 202 with the test to poll",
    ),
    Row(
        "api/postback-endpoints/<int:endpoint_id>/rotate-secret",
        "POST",
        "/api/postback-endpoints/{endpoint_a}/rotate-secret",
        AFFILIATE_A_OBJECT,
    ),
    Row("api/deliveries", "GET", "/api/deliveries", ADMIN_OR_AFFILIATE),
    Row(
        "api/deliveries/<int:delivery_id>",
        "GET",
        "/api/deliveries/{delivery_a}",
        AFFILIATE_A_OBJECT,
    ),
    Row(
        "api/deliveries/<int:delivery_id>/replay",
        "POST",
        "/api/deliveries/{delivery_a}/replay",
        AFFILIATE_A_OBJECT,
    ),
    Row("api/operator-webhooks", "GET", "/api/operator-webhooks", ADMIN_ONLY),
    Row(
        "api/operator-webhooks",
        "POST",
        "/api/operator-webhooks",
        expect(401, 201, 403, 403, 403, 403),
        body={"url": "{operator_receiver_url}", "events": ["payout.requested"]},
    ),
    Row(
        "api/operator-webhooks/<int:webhook_id>",
        "PATCH",
        "/api/operator-webhooks/{operator_webhook}",
        ADMIN_ONLY,
        body={"is_active": True},
    ),
    Row(
        "api/operator-webhooks/<int:webhook_id>",
        "DELETE",
        "/api/operator-webhooks/{operator_webhook}",
        expect(401, 204, 403, 403, 403, 403),
    ),
    # --- reports -------------------------------------------------------------------------------
    Row("api/reports", "GET", "/api/reports", APPROVED_ROLES),
    # Each role its own scope (admin all, advertiser its campaigns, affiliate its traffic).
    Row("api/reports/fraud", "GET", "/api/reports/fraud", APPROVED_ROLES),
    Row(
        "api/analytics/campaign/<int:campaign_id>",
        "GET",
        "/api/analytics/campaign/{campaign_a}",
        ADVERTISER_A_OBJECT,
    ),
    # --- the first integrations' listings (login required, scoped) ----------------------------
    Row("clicks", "GET", "/clicks", APPROVED_ROLES),
    Row("conversions", "GET", "/conversions", APPROVED_ROLES),
    Row(
        "affiliates/<int:affiliate_id>/clicks",
        "GET",
        "/affiliates/{affiliate_a}/clicks",
        TRAFFIC_A,
    ),
    Row(
        "affiliates/<int:affiliate_id>/conversions",
        "GET",
        "/affiliates/{affiliate_a}/conversions",
        TRAFFIC_A,
    ),
    # --- tracking (public: a visitor's browser and partners' servers) --------------------------
    Row("c/<str:token>", "GET", "/c/{link_token_a}", everyone(302)),
    Row("api/track/click/<str:token>", "GET", "/api/track/click/{link_token_a}", everyone(302)),
    Row("s/<str:token>", "GET", "/s/{smart_link_token_a}", everyone(302)),
    Row(
        "click",
        "GET",
        "/click?affiliate_id={affiliate_a}&campaign_id={campaign_a}",
        everyone(200),
    ),
    Row(
        "^postback/(?P<key>[^/]+)/?$",
        "GET",
        "/postback/{key_secret_a}?click_id={click_id_a}&payout=1",
        everyone(200),
    ),
    Row(
        "^postback/(?P<key>[^/]+)/?$",
        "POST",
        "/postback/{key_secret_a}",
        everyone(200),
        body={"click_id": "{click_id_a}", "payout": "1"},
    ),
    Row(
        "postback",
        "GET",
        "/postback?affiliate_id={affiliate_a}&click_id={click_id_a}&amount=1&currency=USD",
        everyone(200),
    ),
    Row(
        "api/track/postback",
        "POST",
        "/api/track/postback",
        everyone(200),
        body={"click_id": "{click_id_a}", "payout": "1"},
        headers={"HTTP_X_POSTBACK_KEY": "{key_secret_a}"},
    ),
    Row("api/analytics/postback/test", "GET", "/api/analytics/postback/test", everyone(200)),
    Row(
        "^px/(?P<key>[^/]+)\\.(?P<form>gif|html|js)$",
        "GET",
        "/px/{key_secret_a}.html?click_id={click_id_a}&payout=1",
        everyone(200),
        note="a conversion pixel (its HTML form: the matrix reads bodies as text): always 200",
    ),
]

# The same route under other settings or from other sources: the keyless legacy postback is
# switched off in production, and when on it takes only allowed sources or a partner key.
_LEGACY_POSTBACK_A = "/postback?affiliate_id={affiliate_a}&click_id={click_id_a}&amount=1"
_STRANGER = {"REMOTE_ADDR": "203.0.113.9"}
VARIANT_ROWS = [
    Row(
        "postback",
        "GET",
        _LEGACY_POSTBACK_A,
        everyone(404),
        settings={"LEGACY_POSTBACK_ENABLED": False},
        note="switched off",
    ),
    Row(
        "postback",
        "GET",
        _LEGACY_POSTBACK_A,
        everyone(403),
        headers=_STRANGER,
        logs_refusals=True,
        note="on, from a source outside LEGACY_POSTBACK_ALLOWED_IPS, without a key",
    ),
    Row(
        "postback",
        "GET",
        _LEGACY_POSTBACK_A + "&key={key_secret_a}",
        everyone(200),
        headers=_STRANGER,
        note="on, from any source, with the click's advertiser's key",
    ),
    Row(
        "postback",
        "GET",
        _LEGACY_POSTBACK_A,
        everyone(200),
        headers={**_STRANGER, "HTTP_X_POSTBACK_KEY": "{key_secret_a}"},
        note="on, from any source, with the key in the X-Postback-Key header",
    ),
    Row(
        "postback",
        "GET",
        _LEGACY_POSTBACK_A + "&key={key_secret_b}",
        everyone(404),
        headers=_STRANGER,
        logs_refusals=True,
        note="on, with another advertiser's key: the click is not in its scope",
    ),
    Row(
        "postback",
        "GET",
        _LEGACY_POSTBACK_A,
        everyone(200),
        headers={"REMOTE_ADDR": "198.51.100.7"},
        settings={"LEGACY_POSTBACK_ALLOWED_IPS": ["198.51.100.0/24"]},
        note="on, from an allowed source",
    ),
]

# --- portal (server-rendered, session login) ---------------------------------------------------
# Anonymous visitors are sent to the login page; a user of the other portal's role, or an admin
# (admins work in the Django admin), gets 403; a partner gets 404 for another tenant's object,
# like a missing one (portal/access.py). A form post that worked redirects (302); one that did
# not re-renders the form (200).
LOGIN = ("anonymous",)
ADVERTISER_PAGE = expect(302, 403, 200, 200, 403, 403)
ADVERTISER_A_PAGE = expect(302, 403, 200, 404, 403, 403)
AFFILIATE_PAGE = expect(302, 403, 403, 403, 200, 200)
AFFILIATE_A_PAGE = expect(302, 403, 403, 403, 200, 404)
# Only anonymous visitors may sign up or log in; the signed-in are sent on.
SIGNED_OUT_PAGE = expect(200, 302, 302, 302, 302, 302)


def _page(route: str, method: str, path: str, expected: dict[str, int], **kwargs: Any) -> Row:
    """A portal page: its anonymous 302 must be the login redirect."""
    return Row(route, method, path, expected, to_login=LOGIN, **kwargs)


ROWS += [
    # --- shared pages --------------------------------------------------------------------------
    _page("portal/", "GET", "/portal/", everyone(302), note="each role to its own portal"),
    Row("portal/login/", "GET", "/portal/login/", SIGNED_OUT_PAGE),
    Row("portal/login/", "POST", "/portal/login/", SIGNED_OUT_PAGE, body={}),
    Row("portal/login/", "PUT", "/portal/login/", SIGNED_OUT_PAGE, body={}),
    Row(
        "portal/login/code/",
        "GET",
        "/portal/login/code/",
        everyone(302),
        note="no password step under way: back to the login page",
    ),
    Row("portal/login/code/", "POST", "/portal/login/code/", everyone(302), body={}),
    Row("portal/logout/", "GET", "/portal/logout/", everyone(405), note="POST only"),
    Row("portal/logout/", "POST", "/portal/logout/", everyone(302), body={}),
    Row("portal/signup/", "GET", "/portal/signup/", SIGNED_OUT_PAGE),
    Row("portal/signup/", "POST", "/portal/signup/", SIGNED_OUT_PAGE, body={}),
    _page("portal/pending/", "GET", "/portal/pending/", everyone(302), note="only the unapproved"),
    _page(
        "portal/profile/",
        "GET",
        "/portal/profile/",
        expect(302, 302, 200, 200, 200, 200),
        note="the admin is sent to the Django admin",
    ),
    _page(
        "portal/two-factor/",
        "GET",
        "/portal/two-factor/",
        expect(302, 200, 200, 200, 200, 200),
        note="every signed-in user's own second factor, the admin's too",
    ),
    _page(
        "portal/two-factor/",
        "POST",
        "/portal/two-factor/",
        expect(302, 200, 200, 200, 200, 200),
        body={},
        note="no action: the page again",
    ),
    # --- advertiser portal ---------------------------------------------------------------------
    _page("portal/advertiser/", "GET", "/portal/advertiser/", ADVERTISER_PAGE),
    _page("portal/advertiser/reports/", "GET", "/portal/advertiser/reports/", ADVERTISER_PAGE),
    _page("portal/advertiser/campaigns/", "GET", "/portal/advertiser/campaigns/", ADVERTISER_PAGE),
    _page(
        "portal/advertiser/campaigns/new/",
        "GET",
        "/portal/advertiser/campaigns/new/",
        ADVERTISER_PAGE,
    ),
    _page(
        "portal/advertiser/campaigns/new/",
        "POST",
        "/portal/advertiser/campaigns/new/",
        ADVERTISER_PAGE,
        body={},
    ),
    _page(
        "portal/advertiser/campaigns/<int:campaign_id>/",
        "GET",
        "/portal/advertiser/campaigns/{campaign_a}/",
        ADVERTISER_A_PAGE,
    ),
    _page(
        "portal/advertiser/campaigns/<int:campaign_id>/",
        "POST",
        "/portal/advertiser/campaigns/{campaign_a}/",
        ADVERTISER_A_PAGE,
        body={},
    ),
    _page(
        "portal/advertiser/campaigns/<int:campaign_id>/status/",
        "POST",
        "/portal/advertiser/campaigns/{campaign_a}/status/",
        expect(302, 403, 302, 404, 403, 403),
        body={"status": "paused"},
    ),
    _page(
        "portal/advertiser/campaigns/<int:campaign_id>/landing-pages/",
        "POST",
        "/portal/advertiser/campaigns/{campaign_a}/landing-pages/",
        expect(302, 403, 302, 404, 403, 403),
        body={"name": "Spring", "url": "https://adv.example/spring", "weight": "10"},
        note="back to the campaign's page, where the outcome is shown",
    ),
    _page(
        "portal/advertiser/landing-pages/<int:landing_page_id>/",
        "POST",
        "/portal/advertiser/landing-pages/{landing_page_a}/",
        expect(302, 403, 302, 404, 403, 403),
        body={"name": "Spring", "url": "https://adv.example/spring", "weight": "0"},
        note="unchecked Active deactivates the page",
    ),
    _page(
        "portal/advertiser/campaigns/<int:campaign_id>/invite/",
        "POST",
        "/portal/advertiser/campaigns/{applied_campaign_a}/invite/",
        expect(302, 403, 302, 404, 403, 403),
        body={"affiliate": "{affiliate_a}"},
        note="back to the campaign's page, where the outcome is shown",
    ),
    _page(
        "portal/advertiser/applications/",
        "GET",
        "/portal/advertiser/applications/",
        ADVERTISER_PAGE,
    ),
    _page(
        "portal/advertiser/applications/<int:access_id>/decide/",
        "POST",
        "/portal/advertiser/applications/{application_a}/decide/",
        expect(302, 403, 302, 404, 403, 403),
        body={"status": "approved"},
    ),
    _page(
        "portal/advertiser/partner-keys/",
        "GET",
        "/portal/advertiser/partner-keys/",
        ADVERTISER_PAGE,
    ),
    _page(
        "portal/advertiser/partner-keys/",
        "POST",
        "/portal/advertiser/partner-keys/",
        ADVERTISER_PAGE,
        body={"name": "Portal key"},
        note="each advertiser makes its own key: the page shows its secret once",
    ),
    _page(
        "portal/advertiser/partner-keys/<int:partner_key_id>/",
        "GET",
        "/portal/advertiser/partner-keys/{key_a}/",
        ADVERTISER_A_PAGE,
    ),
    _page(
        "portal/advertiser/partner-keys/<int:partner_key_id>/",
        "POST",
        "/portal/advertiser/partner-keys/{key_a}/",
        expect(302, 403, 302, 404, 403, 403),
        body={"name": "Renamed", "is_active": "on"},
    ),
    _page(
        "portal/advertiser/partner-keys/<int:partner_key_id>/rotate/",
        "POST",
        "/portal/advertiser/partner-keys/{key_a}/rotate/",
        ADVERTISER_A_PAGE,
        body={},
    ),
    _page(
        "portal/advertiser/partner-keys/<int:partner_key_id>/test/",
        "GET",
        "/portal/advertiser/partner-keys/{key_a}/test/",
        ADVERTISER_A_PAGE,
    ),
    _page(
        "portal/advertiser/partner-keys/<int:partner_key_id>/test/",
        "POST",
        "/portal/advertiser/partner-keys/{key_a}/test/",
        ADVERTISER_A_PAGE,
        body={"method": "GET", "click_id": "no-such-click", "status": "test", "currency": "USD"},
        note="the tester shows the partner's answer (here 404 click_not_found) on a 200 page",
    ),
    _page(
        "portal/advertiser/conversions/",
        "GET",
        "/portal/advertiser/conversions/",
        ADVERTISER_PAGE,
    ),
    _page(
        "portal/advertiser/conversions/<int:conversion_id>/",
        "GET",
        "/portal/advertiser/conversions/{conversion_a}/",
        ADVERTISER_A_PAGE,
    ),
    _page(
        "portal/advertiser/conversions/<int:conversion_id>/",
        "POST",
        "/portal/advertiser/conversions/{conversion_a}/",
        expect(302, 403, 302, 404, 403, 403),
        body={"status": "rejected", "reason": "fraud"},
    ),
    _page(
        "portal/advertiser/campaigns/<int:campaign_id>/events/new/",
        "GET",
        "/portal/advertiser/campaigns/{campaign_a}/events/new/",
        ADVERTISER_A_PAGE,
    ),
    _page(
        "portal/advertiser/campaigns/<int:campaign_id>/events/new/",
        "POST",
        "/portal/advertiser/campaigns/{campaign_a}/events/new/",
        ADVERTISER_A_PAGE,
        body={},
    ),
    _page(
        "portal/advertiser/events/<int:event_id>/",
        "GET",
        "/portal/advertiser/events/{event_a}/",
        ADVERTISER_A_PAGE,
    ),
    _page(
        "portal/advertiser/events/<int:event_id>/",
        "POST",
        "/portal/advertiser/events/{event_a}/",
        ADVERTISER_A_PAGE,
        body={},
    ),
    _page(
        "portal/advertiser/events/<int:event_id>/delete/",
        "POST",
        "/portal/advertiser/events/{event_a}/delete/",
        expect(302, 403, 302, 404, 403, 403),
        body={},
    ),
    _page(
        "portal/advertiser/campaigns/<int:campaign_id>/pricing-rules/",
        "GET",
        "/portal/advertiser/campaigns/{campaign_a}/pricing-rules/",
        ADVERTISER_A_PAGE,
    ),
    _page(
        "portal/advertiser/campaigns/<int:campaign_id>/pricing-rules/new/",
        "GET",
        "/portal/advertiser/campaigns/{campaign_a}/pricing-rules/new/",
        ADVERTISER_A_PAGE,
    ),
    _page(
        "portal/advertiser/campaigns/<int:campaign_id>/pricing-rules/new/",
        "POST",
        "/portal/advertiser/campaigns/{campaign_a}/pricing-rules/new/",
        ADVERTISER_A_PAGE,
        body={},
    ),
    _page(
        "portal/advertiser/campaigns/<int:campaign_id>/pricing-rules/import/",
        "GET",
        "/portal/advertiser/campaigns/{campaign_a}/pricing-rules/import/",
        ADVERTISER_A_PAGE,
    ),
    _page(
        "portal/advertiser/campaigns/<int:campaign_id>/pricing-rules/import/",
        "POST",
        "/portal/advertiser/campaigns/{campaign_a}/pricing-rules/import/",
        ADVERTISER_A_PAGE,
        body={},
        note="no file: the form again, with its error",
    ),
    _page(
        "portal/advertiser/campaigns/<int:campaign_id>/pricing-rules/template.csv",
        "GET",
        "/portal/advertiser/campaigns/{campaign_a}/pricing-rules/template.csv",
        ADVERTISER_A_PAGE,
    ),
    _page(
        "portal/advertiser/pricing-rules/<int:rule_id>/",
        "GET",
        "/portal/advertiser/pricing-rules/{rule_a}/",
        ADVERTISER_A_PAGE,
    ),
    _page(
        "portal/advertiser/pricing-rules/<int:rule_id>/",
        "POST",
        "/portal/advertiser/pricing-rules/{rule_a}/",
        ADVERTISER_A_PAGE,
        body={},
    ),
    _page(
        "portal/advertiser/pricing-rules/<int:rule_id>/delete/",
        "POST",
        "/portal/advertiser/pricing-rules/{rule_a}/delete/",
        expect(302, 403, 302, 404, 403, 403),
        body={},
    ),
    _page("portal/advertiser/invoices/", "GET", "/portal/advertiser/invoices/", ADVERTISER_PAGE),
    _page(
        "portal/advertiser/invoices/<int:invoice_id>/",
        "GET",
        "/portal/advertiser/invoices/{invoice_a}/",
        ADVERTISER_A_PAGE,
    ),
    _page(
        "portal/advertiser/invoices/<int:invoice_id>/print/",
        "GET",
        "/portal/advertiser/invoices/{invoice_a}/print/",
        ADVERTISER_A_PAGE,
    ),
    _page(
        "portal/advertiser/invoices/<int:invoice_id>.csv",
        "GET",
        "/portal/advertiser/invoices/{invoice_a}.csv",
        ADVERTISER_A_PAGE,
    ),
    _page("portal/advertiser/api-keys/", "GET", "/portal/advertiser/api-keys/", ADVERTISER_PAGE),
    _page(
        "portal/advertiser/api-keys/",
        "POST",
        "/portal/advertiser/api-keys/",
        ADVERTISER_PAGE,
        body={"name": "Portal key", "scope": "read"},
        note="the page shows the new key once",
    ),
    _page(
        "portal/advertiser/api-keys/<int:api_key_id>/revoke/",
        "POST",
        "/portal/advertiser/api-keys/{advertiser_api_key_a}/revoke/",
        expect(302, 403, 302, 404, 403, 403),
        body={},
    ),
    # --- affiliate portal ----------------------------------------------------------------------
    _page("portal/affiliate/", "GET", "/portal/affiliate/", AFFILIATE_PAGE),
    _page("portal/affiliate/reports/", "GET", "/portal/affiliate/reports/", AFFILIATE_PAGE),
    _page("portal/affiliate/campaigns/", "GET", "/portal/affiliate/campaigns/", AFFILIATE_PAGE),
    _page(
        "portal/affiliate/campaigns/<int:campaign_id>/",
        "GET",
        "/portal/affiliate/campaigns/{campaign_a}/",
        AFFILIATE_A_PAGE,
        note="a private campaign: only the affiliate with access sees it",
    ),
    _page(
        "portal/affiliate/campaigns/<int:campaign_id>/apply/",
        "POST",
        "/portal/affiliate/campaigns/{public_campaign}/apply/",
        expect(302, 403, 403, 403, 302, 302),
        body={},
    ),
    _page(
        "portal/affiliate/campaigns/<int:campaign_id>/link/",
        "POST",
        "/portal/affiliate/campaigns/{campaign_a}/link/",
        expect(302, 403, 403, 403, 302, 404),
        body={},
    ),
    _page("portal/affiliate/links/", "GET", "/portal/affiliate/links/", AFFILIATE_PAGE),
    _page(
        "portal/affiliate/links/<int:link_id>/",
        "GET",
        "/portal/affiliate/links/{link_a}/",
        AFFILIATE_A_PAGE,
    ),
    _page("portal/affiliate/smart-links/", "GET", "/portal/affiliate/smart-links/", AFFILIATE_PAGE),
    _page(
        "portal/affiliate/smart-links/",
        "POST",
        "/portal/affiliate/smart-links/",
        AFFILIATE_PAGE,
        body={},
        note="an empty form: re-rendered with its errors",
    ),
    _page(
        "portal/affiliate/smart-links/<int:smart_link_id>/",
        "GET",
        "/portal/affiliate/smart-links/{smart_link_a}/",
        AFFILIATE_A_PAGE,
    ),
    _page(
        "portal/affiliate/smart-links/<int:smart_link_id>/",
        "POST",
        "/portal/affiliate/smart-links/{smart_link_a}/",
        AFFILIATE_A_PAGE,
        body={},
        note="an empty form: re-rendered with its errors",
    ),
    _page(
        "portal/affiliate/smart-links/<int:smart_link_id>/deactivate/",
        "POST",
        "/portal/affiliate/smart-links/{smart_link_a}/deactivate/",
        expect(302, 403, 403, 403, 302, 404),
        body={},
    ),
    _page("portal/affiliate/endpoints/", "GET", "/portal/affiliate/endpoints/", AFFILIATE_PAGE),
    _page(
        "portal/affiliate/endpoints/",
        "POST",
        "/portal/affiliate/endpoints/",
        AFFILIATE_PAGE,
        body={},
        note="an empty form: re-rendered with its errors",
    ),
    _page(
        "portal/affiliate/endpoints/<int:endpoint_id>/",
        "GET",
        "/portal/affiliate/endpoints/{endpoint_a}/",
        AFFILIATE_A_PAGE,
    ),
    _page(
        "portal/affiliate/endpoints/<int:endpoint_id>/",
        "POST",
        "/portal/affiliate/endpoints/{endpoint_a}/",
        expect(302, 403, 403, 403, 302, 404),
        body={"url": "{receiver_url}", "method": "GET", "events": "approved", "is_active": "on"},
    ),
    _page(
        "portal/affiliate/endpoints/<int:endpoint_id>/delete/",
        "POST",
        "/portal/affiliate/endpoints/{endpoint_a}/delete/",
        expect(302, 403, 403, 403, 302, 404),
        body={},
    ),
    _page(
        "portal/affiliate/endpoints/<int:endpoint_id>/rotate/",
        "POST",
        "/portal/affiliate/endpoints/{endpoint_a}/rotate/",
        AFFILIATE_A_PAGE,
        body={},
        note="the page shows the new secret once",
    ),
    _page(
        "portal/affiliate/endpoints/<int:endpoint_id>/test/",
        "POST",
        "/portal/affiliate/endpoints/{endpoint_a}/test/",
        expect(302, 403, 403, 403, 302, 404),
        body={},
        note="queued for the worker; the owner is sent to the test's page",
    ),
    _page(
        "portal/affiliate/endpoints/<int:endpoint_id>/tests/<int:delivery_id>/",
        "GET",
        "/portal/affiliate/endpoints/{endpoint_a}/tests/{delivery_a}/",
        AFFILIATE_A_PAGE,
        note="the delivery of A is a test event",
    ),
    _page("portal/affiliate/deliveries/", "GET", "/portal/affiliate/deliveries/", AFFILIATE_PAGE),
    _page(
        "portal/affiliate/deliveries/<int:delivery_id>/replay/",
        "POST",
        "/portal/affiliate/deliveries/{delivery_a}/replay/",
        expect(302, 403, 403, 403, 302, 404),
        body={},
    ),
    _page("portal/affiliate/conversions/", "GET", "/portal/affiliate/conversions/", AFFILIATE_PAGE),
    _page("portal/affiliate/payouts/", "GET", "/portal/affiliate/payouts/", AFFILIATE_PAGE),
    _page(
        "portal/affiliate/payouts/",
        "POST",
        "/portal/affiliate/payouts/",
        expect(302, 403, 403, 403, 302, 302),
        body={"amount": "50", "currency": "USD", "method": "paypal"},
    ),
    _page(
        "portal/affiliate/payout-methods/",
        "GET",
        "/portal/affiliate/payout-methods/",
        AFFILIATE_PAGE,
    ),
    _page(
        "portal/affiliate/payout-methods/new/<str:kind>/",
        "GET",
        "/portal/affiliate/payout-methods/new/paypal/",
        AFFILIATE_PAGE,
    ),
    _page(
        "portal/affiliate/payout-methods/new/<str:kind>/",
        "POST",
        "/portal/affiliate/payout-methods/new/paypal/",
        expect(302, 403, 403, 403, 302, 302),
        body={"email": "new@example.test", "password": DEFAULT_PASSWORD},
    ),
    _page(
        "portal/affiliate/payout-methods/<int:payout_method_id>/",
        "GET",
        "/portal/affiliate/payout-methods/{payout_method_a}/",
        AFFILIATE_A_PAGE,
    ),
    _page(
        "portal/affiliate/payout-methods/<int:payout_method_id>/",
        "POST",
        "/portal/affiliate/payout-methods/{payout_method_a}/",
        expect(302, 403, 403, 403, 302, 404),
        body={"email": "changed@example.test", "password": DEFAULT_PASSWORD},
    ),
    _page(
        "portal/affiliate/payout-methods/<int:payout_method_id>/remove/",
        "POST",
        "/portal/affiliate/payout-methods/{payout_method_a}/remove/",
        expect(302, 403, 403, 403, 302, 404),
        body={"password": DEFAULT_PASSWORD},
    ),
    _page(
        "portal/affiliate/payouts/statement/<str:currency>.csv",
        "GET",
        "/portal/affiliate/payouts/statement/USD.csv",
        AFFILIATE_PAGE,
        note="the caller's own ledger only: there is no other affiliate to name",
    ),
    _page("portal/affiliate/points/", "GET", "/portal/affiliate/points/", AFFILIATE_PAGE),
    _page("portal/affiliate/api-keys/", "GET", "/portal/affiliate/api-keys/", AFFILIATE_PAGE),
    _page(
        "portal/affiliate/api-keys/",
        "POST",
        "/portal/affiliate/api-keys/",
        AFFILIATE_PAGE,
        body={"name": "Portal key", "scope": "write"},
        note="the page shows the new key once",
    ),
    _page(
        "portal/affiliate/api-keys/<int:api_key_id>/revoke/",
        "POST",
        "/portal/affiliate/api-keys/{api_key_a}/revoke/",
        expect(302, 403, 403, 403, 302, 404),
        body={},
    ),
    # --- django.contrib.auth pages under portal/auth/ ------------------------------------------
    Row("portal/auth/login/", "GET", "/portal/auth/login/", SIGNED_OUT_PAGE, note="the portal's"),
    Row("portal/auth/login/", "POST", "/portal/auth/login/", SIGNED_OUT_PAGE, body={}),
    Row("portal/auth/login/", "PUT", "/portal/auth/login/", SIGNED_OUT_PAGE, body={}),
    Row("portal/auth/logout/", "GET", "/portal/auth/logout/", everyone(405), note="POST only"),
    Row(
        "portal/auth/logout/",
        "POST",
        "/portal/auth/logout/",
        everyone(200),
        body={},
        note="Django's own logout: the logged-out page, no redirect",
    ),
    _page(
        "portal/auth/password_change/",
        "GET",
        "/portal/auth/password_change/",
        expect(302, 200, 200, 200, 200, 200),
    ),
    _page(
        "portal/auth/password_change/",
        "POST",
        "/portal/auth/password_change/",
        expect(302, 200, 200, 200, 200, 200),
        body={},
    ),
    _page(
        "portal/auth/password_change/",
        "PUT",
        "/portal/auth/password_change/",
        expect(302, 200, 200, 200, 200, 200),
        body={},
    ),
    _page(
        "portal/auth/password_change/done/",
        "GET",
        "/portal/auth/password_change/done/",
        expect(302, 200, 200, 200, 200, 200),
    ),
    Row("portal/auth/password_reset/", "GET", "/portal/auth/password_reset/", everyone(200)),
    Row(
        "portal/auth/password_reset/",
        "POST",
        "/portal/auth/password_reset/",
        everyone(200),
        body={},
    ),
    Row(
        "portal/auth/password_reset/",
        "PUT",
        "/portal/auth/password_reset/",
        everyone(200),
        body={},
    ),
    Row(
        "portal/auth/password_reset/done/",
        "GET",
        "/portal/auth/password_reset/done/",
        everyone(200),
    ),
    *[
        Row(
            "portal/auth/reset/<uidb64>/<token>/",
            method,
            "/portal/auth/reset/MQ/not-a-token/",
            everyone(200),
            body=None if method == "GET" else {},
            note="an invalid link: the page says so",
        )
        for method in ("GET", "POST", "PUT")
    ],
    Row("portal/auth/reset/done/", "GET", "/portal/auth/reset/done/", everyone(200)),
]

# --- Django admin (the operator console: staff only) -------------------------------------------
# Everyone but the staff admin is sent to the admin's login page.
NOT_STAFF = ("anonymous", "advertiser_a", "advertiser_b", "affiliate_a", "affiliate_b")


def _admin(
    route: str,
    path: str,
    admin_status: int = 200,
    *,
    method: str = "GET",
    note: str = "",
    staff: tuple[int, int] | None = None,
) -> Row:
    """`staff`: the answers to (`staff_viewer`, `staff_payouts`); by default the admin's."""
    viewer, payouts = staff or (admin_status, admin_status)
    return Row(
        f"admin/{route}",
        method,
        path,
        expect(302, admin_status, 302, 302, 302, 302)
        | {"staff_viewer": viewer, "staff_payouts": payouts},
        note=note,
        to_login=NOT_STAFF,
    )


# What the admin lets staff do per registered model (the ModelAdmins' has_*_permission):
# "full" add and delete, "no add" delete only, "no delete" add only (for the object the rows
# open), "no add or delete" neither (the change page may
# still be a read-only view). Every model has its changelist, change page and history. A model
# registered without a line here has routes without rows: the guard fails.
ADMIN_MODELS = {
    "auth.group": "full",
    "token_blacklist.outstandingtoken": "no add or delete",
    "token_blacklist.blacklistedtoken": "full",
    "axes.accessattempt": "no add",
    "axes.accesslog": "no add",
    "axes.accessfailurelog": "no add",
    "accounts.user": "full",
    "accounts.apikey": "no add",
    "accounts.advertiser": "full",
    "accounts.affiliate": "full",
    "campaigns.campaign": "full",
    "campaigns.campaignaccess": "no add",
    "campaigns.trackinglink": "no add",
    "campaigns.partnerkey": "no add",
    # Its first object is a campaign's default event, which cannot be deleted.
    "campaigns.conversionevent": "no delete",
    "campaigns.pricingrule": "full",
    "campaigns.smartlink": "no add or delete",
    "payouts.payoutrequest": "no add or delete",
    "payouts.ledgertransaction": "no add or delete",
    "payouts.ledgeraccount": "no add or delete",
    "payouts.invoice": "no add or delete",
    "payouts.exchangerate": "no delete",
    "payouts.payoutmethod": "no add or delete",
    # Posted on its add page (a form calling the adjustment service); the ledger keeps it.
    "payouts.ledgeradjustment": "no delete",
    "tracker.click": "no add or delete",
    "tracker.conversion": "no add or delete",
    "tracker.postbacklog": "no add or delete",
    "tracker.enduserpoints": "no add or delete",
    # Added by uploading a file (its add page); kept as the record of what was applied.
    "tracker.reconciliation": "no delete",
    # Add is the upload page; the detail page is read-only.
    "tracker.iplist": "full",
    "forwarding.postbackendpoint": "no add or delete",
    "forwarding.delivery": "no add or delete",
    "otp_totp.totpdevice": "no add",
    "otp_static.staticdevice": "no add",
    "forwarding.operatorwebhook": "full",
    "core.auditentry": "no add or delete",
}
_ADMIN_ADD_DELETE = {
    "full": (200, 200),
    "no add": (403, 200),
    "no delete": (200, 403),
    "no add or delete": (403, 403),
}


def admin_object_key(label: str) -> str:
    """`world.ids` key of the one object of model `label` the admin rows open."""
    return "admin_" + label.replace(".", "_")


def _admin_model_rows(label: str, rights: str) -> list[Row]:
    """changelist, add, history, delete, change and the bare object URL (which redirects to
    change, whatever the method) of one registered model, on one object of it."""
    app_label, model_name = label.split(".")
    base = f"{app_label}/{model_name}/"
    url = f"/admin/{base}"
    obj = f"{url}{{{admin_object_key(label)}}}/"
    add, delete = _ADMIN_ADD_DELETE[rights]
    # The viewer reads every model and changes none; the payouts staff reach the payouts models
    # only, as the admin does (whose pages there add and delete nothing).
    payouts = app_label == "payouts"
    read = (200, 200 if payouts else 403)
    return [
        _admin(base, url, staff=read),
        _admin(f"{base}add/", f"{url}add/", add, staff=(403, add if payouts else 403)),
        _admin(f"{base}<path:object_id>/history/", f"{obj}history/", staff=read),
        _admin(
            f"{base}<path:object_id>/delete/",
            f"{obj}delete/",
            delete,
            staff=(403, delete if payouts else 403),
        ),
        _admin(f"{base}<path:object_id>/change/", f"{obj}change/", staff=read),
        *[
            _admin(f"{base}<path:object_id>/", obj, 302, method=method)
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        ],
    ]


def _admin_app_labels() -> list[str]:
    """The app labels of the admin's app index pattern, in the order the admin joins them."""
    labels: list[str] = []
    for model in admin.site._registry:
        if model._meta.app_label not in labels:
            labels.append(model._meta.app_label)
    return labels


ROWS += [
    _admin("", "/admin/"),
    Row(
        "admin/login/",
        "GET",
        "/admin/login/",
        expect(200, 302, 200, 200, 200, 200),
        note="staff are sent to the index; the others may log in as staff",
    ),
    Row(
        "admin/logout/",
        "POST",
        "/admin/logout/",
        expect(302, 200, 302, 302, 302, 302),
        body={},
        note="only staff are logged out here; the others go to the index (and its login)",
    ),
    _admin("password_change/", "/admin/password_change/"),
    _admin("password_change/done/", "/admin/password_change/done/"),
    _admin("autocomplete/", "/admin/autocomplete/", 403, note="no field named: refused"),
    _admin("jsi18n/", "/admin/jsi18n/"),
    _admin(
        "r/<path:content_type_id>/<path:object_id>/",
        "/admin/r/{campaign_content_type}/{campaign_a}/",
        404,
        note="a campaign has no page on the site",
    ),
    _admin(
        "^(?P<app_label>" + "|".join(_admin_app_labels()) + ")/$",
        "/admin/campaigns/",
        staff=(200, 404),
        note="an app none of whose models the payouts staff may see: 404",
    ),
    _admin(
        "accounts/user/<id>/password/",
        "/admin/accounts/user/{affiliate_a}/password/",
        staff=(403, 403),
        note="needs accounts.change_user",
    ),
    _admin("(?P<url>.*)$", "/admin/no-such-page/", 404),
    _admin(
        "payouts/exchangerate/import/",
        "/admin/payouts/exchangerate/import/",
        staff=(403, 200),
        note="needs the add and change permissions of exchange rates",
    ),
    _admin(
        "reports/fraud/",
        "/admin/reports/fraud/",
        staff=(200, 403),
        note="needs tracker.view_click and tracker.view_conversion",
    ),
    _admin(
        "otp_totp/totpdevice/<int:pk>/config/",
        "/admin/otp_totp/totpdevice/{admin_otp_totp_totpdevice}/config/",
        403,
        note="the secret is never shown in the console",
    ),
    _admin(
        "otp_totp/totpdevice/<int:pk>/qrcode/",
        "/admin/otp_totp/totpdevice/{admin_otp_totp_totpdevice}/qrcode/",
        403,
        note="the secret is never shown in the console",
    ),
    *[row for label, rights in ADMIN_MODELS.items() for row in _admin_model_rows(label, rights)],
]

# --- reconciliation and bulk decisions ---------------------------------------------------------
_RECONCILIATION_A = "/api/reconciliations/{reconciliation_a}"
_PORTAL_RECONCILIATION_A = "/portal/advertiser/reconciliations/{reconciliation_a}/"
_ADMIN_RECONCILIATION = "tracker/reconciliation/<path:object_id>/"
_ADMIN_RECONCILIATION_A = "/admin/tracker/reconciliation/{admin_tracker_reconciliation}/"

ROWS += [
    Row(
        "api/conversions/bulk",
        "POST",
        "/api/conversions/bulk",
        expect(401, 200, 200, 200, 403, 403),
        body={"action": "approve", "filters": {"campaign_id": "{campaign_a}"}, "dry_run": False},
        note="another tenant's campaign filters down to nothing (count 0)",
    ),
    Row(
        "api/reconciliations",
        "POST",
        "/api/reconciliations?campaign_id={campaign_a}&date_from={now}&date_to={now}",
        expect(401, 201, 201, 404, 403, 403),
        body="transaction_id,status\nMARK-A-txn,rejected\n",
        note="a text/csv body",
    ),
    Row(
        "api/reconciliations/<int:reconciliation_id>",
        "GET",
        _RECONCILIATION_A,
        ADVERTISER_A_OBJECT,
    ),
    Row(
        "api/reconciliations/<int:reconciliation_id>/apply",
        "POST",
        _RECONCILIATION_A + "/apply",
        ADVERTISER_A_OBJECT,
        body={"classes": ["status_differs"]},
    ),
    Row(
        "api/reconciliations/<int:reconciliation_id>/result.csv",
        "GET",
        _RECONCILIATION_A + "/result.csv",
        ADVERTISER_A_OBJECT,
    ),
    _page(
        "portal/advertiser/reconciliations/",
        "GET",
        "/portal/advertiser/reconciliations/",
        ADVERTISER_PAGE,
    ),
    _page(
        "portal/advertiser/reconciliations/",
        "POST",
        "/portal/advertiser/reconciliations/",
        ADVERTISER_PAGE,
        body={},
        note="no file: the form again",
    ),
    _page(
        "portal/advertiser/reconciliations/<int:reconciliation_id>/",
        "GET",
        _PORTAL_RECONCILIATION_A,
        ADVERTISER_A_PAGE,
    ),
    _page(
        "portal/advertiser/reconciliations/<int:reconciliation_id>/",
        "POST",
        _PORTAL_RECONCILIATION_A,
        expect(302, 403, 302, 404, 403, 403),
        body={"classes": "status_differs"},
    ),
    _page(
        "portal/advertiser/reconciliations/<int:reconciliation_id>/result.csv",
        "GET",
        _PORTAL_RECONCILIATION_A + "result.csv",
        ADVERTISER_A_PAGE,
    ),
    _admin(
        _ADMIN_RECONCILIATION + "apply/",
        _ADMIN_RECONCILIATION_A + "apply/",
        302,
        method="POST",
        staff=(403, 403),
        note="needs change_reconciliation and change_conversion; then back to the preview",
    ),
    _admin(
        "tracker/reconciliation/<path:object_id>/result.csv",
        _ADMIN_RECONCILIATION_A + "result.csv",
        staff=(200, 403),
    ),
]
