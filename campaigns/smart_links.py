"""Smart links: an affiliate's one URL (`/s/<token>`) over several campaigns it may run.

Each entry names a campaign, a priority (1 first) and a weight. The redirect
(`tracker.services.smart_links`) skips the entries whose campaign would block the click, draws by
weight among the first priority level that can take it, and sends whatever none can take to the
smart link's catch-all URL.

Saving a smart link creates the affiliate's tracking link for every entry's campaign through
`link_get_or_create`, so the redirect finds every link in its one read and the click is
recorded on that link exactly as a `/c/<token>` click would be. Who may call what is decided by
the views (roles) and the selectors (ownership).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.models import Affiliate, User
from campaigns.macros import TemplateError, template_validate
from campaigns.models import Campaign, SmartLink, SmartLinkEntry
from campaigns.selectors import campaigns_runnable_by_affiliate
from campaigns.services import link_get_or_create
from campaigns.terms import FieldErrors, Invalid, clean_bool, clean_text, fields_clean
from core import tokens
from core.audit import audit_record, audit_snapshot
from core.exceptions import ApplicationError
from core.models import AuditSource

SMART_LINK_ENTRIES_MAX = 50
PRIORITY_MAX = 1000
WEIGHT_MAX = 1_000_000
DEFAULT_PRIORITY = 1
DEFAULT_WEIGHT = 100
# What the catch-all URL may carry: the visit's own values. No campaign took the visit, so
# there is no click id, campaign or offer to put in it.
CATCH_ALL_MACROS = frozenset(
    {"affiliate_id", "sub1", "sub2", "sub3", "sub4", "sub5", "user_id", "country"}
)
_AUDIT_FIELDS = ["affiliate", "name", "catch_all_url", "is_active"]


@dataclass(frozen=True)
class EntrySpec:
    campaign_id: int
    priority: int
    weight: int


def smart_link_url(*, smart_link: SmartLink) -> str:
    return f"{settings.PUBLIC_BASE_URL}/s/{smart_link.token}"


def _clean_catch_all_url(raw: Any) -> str:
    value = clean_text(2000)(raw)
    if value:
        try:
            template_validate(value, allowed=CATCH_ALL_MACROS)
        except TemplateError as exc:
            raise Invalid(str(exc)) from exc
    return value


_FIELD_CLEANERS = {
    "name": (clean_text(200, required=True), "invalid_name"),
    "catch_all_url": (_clean_catch_all_url, "invalid_catch_all_url"),
    "is_active": (clean_bool, "invalid_is_active"),
}


def _whole_number(raw: Any, *, minimum: int, maximum: int) -> int:
    if isinstance(raw, bool):
        raise Invalid("must be a whole number.")
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if not isinstance(raw, int):
        raise Invalid("must be a whole number.")
    if not minimum <= raw <= maximum:
        raise Invalid(f"must be between {minimum} and {maximum}.")
    return raw


def _entry_clean(item: Any) -> EntrySpec:
    if not isinstance(item, Mapping):
        raise Invalid("must be an object with campaign, priority and weight.")
    if item.get("campaign") is None:
        raise Invalid("campaign is required.")
    try:
        campaign_id = _whole_number(item["campaign"], minimum=1, maximum=2**63 - 1)
    except Invalid as exc:
        raise Invalid(f"campaign {exc}") from exc
    try:
        priority = _whole_number(
            item.get("priority", DEFAULT_PRIORITY), minimum=1, maximum=PRIORITY_MAX
        )
    except Invalid as exc:
        raise Invalid(f"priority {exc}") from exc
    try:
        weight = _whole_number(item.get("weight", DEFAULT_WEIGHT), minimum=0, maximum=WEIGHT_MAX)
    except Invalid as exc:
        raise Invalid(f"weight {exc}") from exc
    return EntrySpec(campaign_id=campaign_id, priority=priority, weight=weight)


def _entries_clean(raw: Any, errors: FieldErrors) -> list[EntrySpec] | None:
    """The entries of a payload, or None when one is wrong (errors added under `entries`)."""
    if not isinstance(raw, list | tuple) or not raw:
        errors.add("entries", "Give at least one entry (campaign, priority, weight).", "no_entries")
        return None
    if len(raw) > SMART_LINK_ENTRIES_MAX:
        errors.add("entries", f"At most {SMART_LINK_ENTRIES_MAX} entries.", "too_many_entries")
        return None
    specs: list[EntrySpec] = []
    seen: set[int] = set()
    ok = True
    for position, item in enumerate(raw, start=1):
        try:
            spec = _entry_clean(item)
        except Invalid as exc:
            errors.add("entries", f"Entry {position}: {exc}", "invalid_entries")
            ok = False
            continue
        if spec.campaign_id in seen:
            errors.add(
                "entries",
                f"Entry {position}: campaign #{spec.campaign_id} is listed twice.",
                "duplicate_campaign",
            )
            ok = False
            continue
        seen.add(spec.campaign_id)
        specs.append(spec)
    if not ok:
        return None
    if not any(spec.weight > 0 for spec in specs):
        errors.add("entries", "At least one entry needs a weight above 0.", "no_positive_weight")
        return None
    return specs


def _require_approved(affiliate: Affiliate) -> None:
    if not affiliate.is_approved:
        raise ApplicationError(
            "The affiliate's account is not approved.", code="affiliate_not_approved", status=403
        )


def _campaigns_check(
    *, affiliate: Affiliate, specs: Sequence[EntrySpec], errors: FieldErrors
) -> dict[int, Campaign]:
    """The entries' campaigns, each one the affiliate may run; the others are errors
    (`campaign_not_available`: missing, private, not approved, archived look the same)."""
    ids = [spec.campaign_id for spec in specs]
    runnable = {
        campaign.pk: campaign
        for campaign in campaigns_runnable_by_affiliate(affiliate_id=affiliate.pk).filter(
            pk__in=ids
        )
    }
    for position, spec in enumerate(specs, start=1):
        if spec.campaign_id not in runnable:
            errors.add(
                "entries",
                f"Entry {position}: campaign #{spec.campaign_id} is not one this affiliate may "
                "run (apply to it first).",
                "campaign_not_available",
            )
    return runnable


def _entries_write(
    *, smart_link: SmartLink, specs: Sequence[EntrySpec], campaigns: Mapping[int, Campaign]
) -> None:
    """Replace the entries, and make sure the affiliate has a tracking link for each campaign."""
    for spec in specs:
        link_get_or_create(campaign=campaigns[spec.campaign_id], affiliate=smart_link.affiliate)
    smart_link.entries.all().delete()
    SmartLinkEntry.objects.bulk_create(
        SmartLinkEntry(
            smart_link=smart_link,
            campaign_id=spec.campaign_id,
            priority=spec.priority,
            weight=spec.weight,
        )
        for spec in specs
    )


def _entries_snapshot(smart_link: SmartLink) -> list[dict[str, int]]:
    return [
        {"campaign": campaign_id, "priority": priority, "weight": weight}
        for campaign_id, priority, weight in SmartLinkEntry.objects.filter(smart_link=smart_link)
        .order_by("priority", "id")
        .values_list("campaign_id", "priority", "weight")
    ]


def _clean(
    data: Mapping[str, Any], *, affiliate: Affiliate, required: Sequence[str]
) -> tuple[dict[str, Any], list[EntrySpec] | None, dict[int, Campaign]]:
    errors = FieldErrors(summary="The smart link has invalid fields.")
    for name in required:
        if name not in data:
            errors.add(name, "This field is required.", f"missing_{name}")
    cleaned = fields_clean(data, _FIELD_CLEANERS, errors)
    specs = _entries_clean(data["entries"], errors) if "entries" in data else None
    campaigns: dict[int, Campaign] = {}
    if specs is not None:
        campaigns = _campaigns_check(affiliate=affiliate, specs=specs, errors=errors)
    errors.raise_if_any()
    return cleaned, specs, campaigns


def _snapshot(smart_link: SmartLink) -> dict[str, Any]:
    return {
        **audit_snapshot(smart_link, _AUDIT_FIELDS),
        "entries": _entries_snapshot(smart_link),
    }


@transaction.atomic
def smart_link_create(
    *,
    affiliate: Affiliate,
    name: str,
    entries: Sequence[Mapping[str, Any]],
    catch_all_url: str = "",
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
) -> SmartLink:
    """A new active smart link of `affiliate`, with an unguessable token.

    `entries`: `{campaign (id), priority (1..1000, default 1), weight (0..1000000, default
    100)}`, at least one, at most 50, no campaign twice, at least one weight above 0, each
    campaign one the affiliate may run (400 `campaign_not_available`; a public campaign it has
    not applied to counts, and creating the smart link approves it as applying would).
    `catch_all_url`: optional http(s) URL with the visit's macros (`CATCH_ALL_MACROS`). Every
    field error is reported at once. The affiliate must be approved (403
    `affiliate_not_approved`). Atomic: the smart link, its entries and the tracking links are
    written together or not at all.
    """
    _require_approved(affiliate)
    cleaned, specs, campaigns = _clean(
        {"name": name, "entries": entries, "catch_all_url": catch_all_url},
        affiliate=affiliate,
        required=("name", "entries"),
    )
    assert specs is not None  # noqa: S101 - `_clean` raised when entries were missing or wrong
    smart_link: SmartLink | None = None
    for _attempt in range(3):
        try:
            with transaction.atomic():
                smart_link = SmartLink.objects.create(
                    affiliate=affiliate,
                    name=cleaned["name"],
                    catch_all_url=cleaned["catch_all_url"],
                    token=tokens.new_link_token(),
                )
            break
        except IntegrityError:
            # Only a token collision (96 random bits) gets here: draw another token.
            continue
    if smart_link is None:
        raise ApplicationError(
            "Could not allocate a smart link token.", code="link_error", status=500
        )
    _entries_write(smart_link=smart_link, specs=specs, campaigns=campaigns)
    audit_record(
        actor=actor,
        source=source,
        action="create",
        obj_type=SmartLink,
        obj_id=smart_link.pk,
        obj_repr=str(smart_link),
        after=_snapshot(smart_link),
    )
    return smart_link


@transaction.atomic
def smart_link_update(
    *,
    smart_link: SmartLink,
    data: Mapping[str, Any],
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
) -> SmartLink:
    """Change the fields present in `data` (`name`, `catch_all_url`, `is_active`, `entries`);
    `entries`, when given, replaces the list as a whole, under the rules of `smart_link_create`.

    The row is locked for the update, so two concurrent edits apply one after the other.
    """
    locked = SmartLink.objects.select_for_update().select_related("affiliate").get(pk=smart_link.pk)
    if "entries" in data:
        _require_approved(locked.affiliate)
    cleaned, specs, campaigns = _clean(data, affiliate=locked.affiliate, required=())
    before = _snapshot(locked)
    changed = [name for name, value in cleaned.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, cleaned[name])
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
    if specs is not None:
        _entries_write(smart_link=locked, specs=specs, campaigns=campaigns)
    audit_record(
        actor=actor,
        source=source,
        action="update",
        obj_type=SmartLink,
        obj_id=locked.pk,
        obj_repr=str(locked),
        before=before,
        after=_snapshot(locked),
    )
    return locked


@transaction.atomic
def smart_link_deactivate(
    *, smart_link: SmartLink, actor: User | None = None, source: str = AuditSource.SYSTEM
) -> SmartLink:
    """Stop the smart link: `/s/<token>` answers 404 from now on. Its clicks keep pointing at
    it, so it is never deleted; `smart_link_update(is_active=True)` brings it back. Deactivating
    an inactive smart link changes and records nothing."""
    locked = SmartLink.objects.select_for_update().get(pk=smart_link.pk)
    if not locked.is_active:
        return locked
    locked.is_active = False
    locked.save(update_fields=["is_active", "updated_at"])
    audit_record(
        actor=actor,
        source=source,
        action="deactivate",
        obj_type=SmartLink,
        obj_id=locked.pk,
        obj_repr=str(locked),
        before={"is_active": True},
        after={"is_active": False},
    )
    return locked
