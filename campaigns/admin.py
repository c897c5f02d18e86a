from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from accounts.admin import PartnerLookupsMixin
from accounts.admin_actions import confirmed_action
from accounts.http import AuthenticatedHttpRequest
from accounts.models import Affiliate, User
from campaigns import selectors, services
from campaigns.events import (
    campaign_default_event_sync,
    event_create,
    event_delete,
    event_update,
    event_validate,
)
from campaigns.fraud_policy import fraud_policy_clean
from campaigns.models import (
    AccessStatus,
    Campaign,
    CampaignAccess,
    CampaignStatus,
    Cap,
    ConversionEvent,
    LandingPage,
    PartnerKey,
    PayoutType,
    PricingRule,
    SmartLink,
    SmartLinkEntry,
    TrackingLink,
)
from campaigns.partner_profiles import profile_maps_clean
from campaigns.pricing_rules import (
    pricing_rule_create,
    pricing_rule_delete,
    pricing_rule_describe,
    pricing_rule_update,
    pricing_rule_validate,
)
from campaigns.smart_links import smart_link_url
from campaigns.targeting import targeting_clean, targeting_summary
from core.admin import AuditedSaveMixin
from core.audit import audit_record
from core.exceptions import ApplicationError
from core.formatting import format_money, format_percent
from core.forms import form_field
from core.models import AuditSource
from core.money_fields import MoneyFormField

# Amounts and percentages typed into the admin are read like everywhere else: plain decimals.
_MONEY_FORM_FIELDS: dict[type[models.Field], dict[str, Any]] = {
    models.DecimalField: {"form_class": MoneyFormField}
}


class CapInline(admin.TabularInline):
    model = Cap
    extra = 0
    fields = ["scope", "period", "metric", "limit", "action"]
    formfield_overrides = _MONEY_FORM_FIELDS
    verbose_name = "campaign cap"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cap]:
        # The events' own caps are edited with their event.
        return super().get_queryset(request).filter(event__isnull=True)


def _report(
    modeladmin: admin.ModelAdmin, request: HttpRequest, label: str, changed: int, errors: list[str]
) -> None:
    for error in errors:
        modeladmin.message_user(request, error, messages.ERROR)
    modeladmin.message_user(request, f"{label}: {changed} changed.", messages.SUCCESS)


_CAMPAIGN_STATUS_QUESTIONS = {
    CampaignStatus.PAUSED: "Pause {count} {verbose_name}? Their links keep recording clicks,"
    " as blocked, and send visitors to the fallback URL.",
    CampaignStatus.ACTIVE: "Resume {count} {verbose_name}? Their links track again.",
    CampaignStatus.ARCHIVED: "Archive {count} {verbose_name}? Archiving is final: an"
    " archived campaign can never be resumed.",
}


def _describe_campaign(campaign: Campaign) -> str:
    return f"#{campaign.pk} {campaign.name} ({campaign.advertiser}): {campaign.status}"


def _campaign_status_action(status: CampaignStatus, label: str) -> Callable[..., Any]:
    def action(
        modeladmin: admin.ModelAdmin,
        request: AuthenticatedHttpRequest,
        queryset: QuerySet[Campaign],
    ) -> None:
        changed, errors = 0, []
        for campaign in queryset.order_by("pk"):
            try:
                services.campaign_set_status(
                    campaign=campaign, status=status, actor=request.user, source=AuditSource.CONSOLE
                )
                changed += 1
            except ApplicationError as exc:
                errors.append(f"{campaign}: {exc.message}")
        _report(modeladmin, request, label, changed, errors)

    action.__name__ = f"set_{status}"
    return confirmed_action(
        description=f"{label} selected campaigns",
        question=_CAMPAIGN_STATUS_QUESTIONS[status],
        button=f"Yes, {label.split()[0].lower()}",
        permissions=["change"],
        describe=_describe_campaign,
    )(action)


class AffiliateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Affiliate) -> str:
        return f"{obj} (#{obj.pk}, {obj.user.email})"


class CampaignInviteForm(forms.Form):
    affiliate = AffiliateChoiceField(
        queryset=Affiliate.objects.none(),
        help_text="Only approved affiliates can be invited.",
    )

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(
            self, "affiliate", forms.ModelChoiceField
        ).queryset = selectors.affiliate_list_for_invitation(viewer=viewer)


@confirmed_action(
    description="Invite an affiliate to selected campaigns (emails the affiliate)",
    question="Invite an affiliate to {count} {verbose_name}? An invitation is approved access at"
    " once, the way into a private campaign: the affiliate sees the campaign, gets its tracking"
    " link and is emailed (once per campaign it did not have access to).",
    button="Yes, invite",
    permissions=["change"],
    describe=_describe_campaign,
    form_factory=lambda request, data: CampaignInviteForm(data, viewer=request.user),
)
def invite_affiliate(
    modeladmin: admin.ModelAdmin,
    request: AuthenticatedHttpRequest,
    queryset: QuerySet[Campaign],
    affiliate: Affiliate,
) -> None:
    invited, had_access, errors = 0, 0, []
    for campaign in queryset.order_by("pk"):
        started = timezone.now()
        try:
            access = services.access_invite(
                campaign=campaign, affiliate=affiliate, actor=request.user
            )
        except ApplicationError as exc:
            errors.append(f"{campaign}: {exc.message}")
            continue
        if access.invited_at is not None and access.invited_at >= started:
            invited += 1
        else:
            had_access += 1
    for error in errors:
        modeladmin.message_user(request, error, messages.ERROR)
    modeladmin.message_user(
        request,
        f"{affiliate} invited to {invited} campaign(s); {had_access} already had its access.",
        messages.SUCCESS,
    )


class CampaignAdminForm(forms.ModelForm):
    """Checks the fields with the same rules as the API (macros in URLs, currency, time zone,
    payout model) so that the admin cannot save a campaign the API would refuse."""

    class Meta:
        model = Campaign
        fields = [
            "advertiser",
            "name",
            "description",
            "landing_url",
            "fallback_url",
            "currency",
            "payout_type",
            "payout_amount",
            "revshare_percent",
            "default_revenue",
            "visibility",
            "external_offer_id",
            "attribution_window_hours",
            "hold_days",
            "auto_approve_after_hours",
            "allow_multiple_conversions",
            "timezone",
            "allowed_countries",
            "targeting",
            "min_seconds_to_convert",
            "fraud_policy",
        ]
        help_texts = {
            "targeting": (
                'JSON, for example {"countries": {"include": ["US"]}, "device_types": '
                '{"include": ["mobile"]}, "ip_deny": ["203.0.113.0/24"], "schedule": '
                '{"days": [0, 1, 2, 3, 4], "hours": [8, 9, 10]}}; see docs/targeting.md.'
            ),
            "fraud_policy": (
                '{"actions": {"bot": "block", "too_fast": "reject"}, '
                '"click_velocity_per_minute": 20, "conversion_velocity_per_day": 5} '
                "(docs/fraud.md); {} turns the checks off."
            ),
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        data = {name: value for name, value in cleaned.items() if name != "advertiser"}
        try:
            services.campaign_validate(
                data=data, campaign=self.instance if self.instance.pk else None
            )
        except ApplicationError as exc:
            if not exc.fields:
                raise forms.ValidationError(exc.message) from exc
            for name, errors in exc.fields.items():
                if name in self.errors:
                    continue  # the form field's own error already says it
                target = name if name in self.fields else None
                for error in errors:
                    self.add_error(target, error)
        else:
            if "targeting" in cleaned:
                # Stored normalized, as the API stores it (valid: campaign_validate passed).
                cleaned["targeting"] = targeting_clean(cleaned["targeting"])
            if "fraud_policy" in cleaned:
                # Stored normalized, as the services store it (the click path relies on it).
                cleaned["fraud_policy"] = fraud_policy_clean(cleaned["fraud_policy"])
        return cleaned


class LandingPageInline(admin.TabularInline):
    """Pages are deactivated, never deleted: clicks keep their id."""

    model = LandingPage
    extra = 0
    fields = ["id", "name", "url", "weight", "is_active"]
    readonly_fields = ["id"]
    verbose_name = "landing page (lp id)"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(AuditedSaveMixin, PartnerLookupsMixin, admin.ModelAdmin):
    """Field edits in the admin go straight to the model (admins are trusted operators), and to
    the audit log; status changes go through the actions so that the transition rules apply."""

    list_display = [
        "id",
        "name",
        "advertiser",
        "status",
        "visibility",
        "payout_type",
        "payout_display",
        "currency",
        "external_offer_id",
        "targeting_display",
        "created_at",
    ]
    list_filter = ["status", "visibility", "payout_type", "advertiser"]
    search_fields = ["name", "external_offer_id", "advertiser__user__email", "advertiser__company"]
    list_select_related = ["advertiser__user"]
    form = CampaignAdminForm
    formfield_overrides = _MONEY_FORM_FIELDS
    fields = [
        *CampaignAdminForm.Meta.fields,
        "targeting_display",
        "status",
        "created_at",
        "updated_at",
    ]
    readonly_fields = ["targeting_display", "status", "created_at", "updated_at"]
    inlines = [CapInline, LandingPageInline]
    actions = [
        _campaign_status_action(CampaignStatus.PAUSED, "Pause"),
        _campaign_status_action(CampaignStatus.ACTIVE, "Resume"),
        _campaign_status_action(CampaignStatus.ARCHIVED, "Archive (final)"),
        invite_affiliate,
    ]

    @admin.display(description="Targeting")
    def targeting_display(self, campaign: Campaign) -> str:
        return targeting_summary(campaign.targeting or {})

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool
    ) -> None:
        """Saves the caps inline and logs how the caps changed, if they did."""
        campaign = form.instance
        before = services.campaign_caps_snapshot(campaign) if change else []
        super().save_related(request, form, formsets, change)
        audit_record(
            actor=request.user,
            source=AuditSource.CONSOLE,
            action="update",
            obj_type=Campaign,
            obj_id=campaign.pk,
            obj_repr=str(campaign),
            before={"caps": before},
            after={"caps": services.campaign_caps_snapshot(campaign)},
        )
        # The default event carries the campaign's terms: the console's edits reach it too.
        campaign_default_event_sync(campaign=campaign)

    @admin.display(description="Payout")
    def payout_display(self, obj: Campaign) -> str:
        if obj.payout_type == PayoutType.FIXED:
            return format_money(obj.payout_amount, obj.currency)
        return f"{format_percent(obj.revshare_percent)} of revenue"


def _describe_access(access: CampaignAccess) -> str:
    return f"#{access.pk} {access.affiliate} on {access.campaign.name}: {access.status}"


def _access_decide_action(status: str, label: str, *, asks_reason: bool) -> Callable[..., Any]:
    def action(
        modeladmin: admin.ModelAdmin,
        request: AuthenticatedHttpRequest,
        queryset: QuerySet[CampaignAccess],
        reason: str = "",
    ) -> None:
        changed, errors = 0, []
        for access in queryset.order_by("pk"):
            try:
                services.access_decide(
                    access=access,
                    status=status,
                    actor=request.user,
                    reason=reason,
                    source=AuditSource.CONSOLE,
                )
                changed += 1
            except ApplicationError as exc:
                errors.append(f"Application #{access.pk}: {exc.message}")
        _report(modeladmin, request, label, changed, errors)

    action.__name__ = f"mark_{status}"
    return confirmed_action(
        description=f"{label} selected applications (emails the affiliate)",
        question=f"{label} {{count}} {{verbose_name}}? Each affiliate is emailed the decision.",
        button=f"Yes, {label.lower()}",
        permissions=["change"],
        reason_help="Sent to the affiliate with the decision." if asks_reason else None,
        describe=_describe_access,
    )(action)


@admin.register(CampaignAccess)
class CampaignAccessAdmin(PartnerLookupsMixin, admin.ModelAdmin):
    list_display = ["id", "campaign", "affiliate", "status", "created_at", "decided_at"]
    list_filter = ["status", "campaign__visibility"]
    search_fields = ["campaign__name", "affiliate__user__email", "affiliate__company"]
    list_select_related = ["campaign", "affiliate__user"]
    readonly_fields = [
        "campaign",
        "affiliate",
        "status",
        "message",
        "decision_reason",
        "decided_by",
        "decided_at",
        "created_at",
        "updated_at",
    ]
    actions = [
        _access_decide_action(AccessStatus.APPROVED, "Approve", asks_reason=False),
        _access_decide_action(AccessStatus.REJECTED, "Reject", asks_reason=True),
        _access_decide_action(AccessStatus.REVOKED, "Revoke", asks_reason=True),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(TrackingLink)
class TrackingLinkAdmin(PartnerLookupsMixin, admin.ModelAdmin):
    list_display = ["id", "token", "campaign", "affiliate", "url", "created_at"]
    list_filter = ["campaign__status"]
    search_fields = ["token", "campaign__name", "affiliate__user__email"]
    list_select_related = ["campaign", "affiliate__user"]
    readonly_fields = ("token", "url", "campaign", "affiliate", "created_at")
    fields = readonly_fields

    @admin.display(description="Tracking URL")
    def url(self, obj: TrackingLink) -> str:
        return format_html('<a href="{0}">{0}</a>', services.link_url(link=obj))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class SmartLinkEntryInline(admin.TabularInline):
    """Entries are the affiliate's to edit (portal, API): their rules need the service."""

    model = SmartLinkEntry
    fields = ("campaign", "priority", "weight")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("priority", "id")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(SmartLink)
class SmartLinkAdmin(AuditedSaveMixin, PartnerLookupsMixin, admin.ModelAdmin):
    """Affiliates build their smart links; the console lists them and can switch one off (or
    back on) with `is_active`, audited. Never deleted: their clicks refer to them."""

    list_display = ["id", "name", "affiliate", "entry_count", "is_active", "url", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "token", "affiliate__user__email", "affiliate__company"]
    list_select_related = ["affiliate__user"]
    readonly_fields = ("name", "affiliate", "token", "url", "catch_all_url", "created_at")
    fields = (*readonly_fields, "is_active")
    inlines = [SmartLinkEntryInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SmartLink]:
        return super().get_queryset(request).annotate(entry_count=models.Count("entries"))

    @admin.display(description="Entries", ordering="entry_count")
    def entry_count(self, obj: SmartLink) -> int:
        return getattr(obj, "entry_count", 0)

    @admin.display(description="Smart link URL")
    def url(self, obj: SmartLink) -> str:
        return format_html('<a href="{0}">{0}</a>', smart_link_url(smart_link=obj))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def _describe_partner_key(key: PartnerKey) -> str:
    return f"#{key.pk} {key.name or 'unnamed'} ({key.advertiser})"


@confirmed_action(
    description="Rotate key (the old key keeps working for the grace period)",
    question="Rotate {count} {verbose_name}? Each gets a new key and signing secret; the"
    " old ones keep working for the grace period, then the partner must use the new ones.",
    button="Yes, rotate",
    permissions=["change"],
    describe=_describe_partner_key,
)
def rotate_partner_keys(
    modeladmin: admin.ModelAdmin, request: AuthenticatedHttpRequest, queryset: QuerySet[PartnerKey]
) -> None:
    from campaigns.partner_keys import partner_key_rotate

    changed, errors = 0, []
    for partner_key in queryset.order_by("pk"):
        try:
            partner_key_rotate(
                partner_key=partner_key,
                now=timezone.now(),
                actor=request.user,
                source=AuditSource.CONSOLE,
            )
            changed += 1
        except ApplicationError as exc:
            errors.append(f"{partner_key}: {exc.message}")
    _report(modeladmin, request, "Rotated", changed, errors)


class PartnerKeyAdminForm(forms.ModelForm):
    """Checks the profile and its maps with the same rules as the API and the portal."""

    class Meta:
        model = PartnerKey
        fields = [
            "advertiser",
            "name",
            "is_active",
            "ip_allowlist",
            "require_signature",
            "profile",
            "param_map",
            "status_map",
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if "profile" not in cleaned:
            return cleaned
        try:
            profile, param_map, status_map = profile_maps_clean(
                profile=cleaned["profile"],
                param_map=cleaned.get("param_map"),
                status_map=cleaned.get("status_map"),
            )
        except ApplicationError as exc:
            for name, errors in (exc.fields or {"profile": [exc.message]}).items():
                for error in errors:
                    self.add_error(name if name in self.fields else None, error)
        else:
            cleaned.update(profile=profile, param_map=param_map, status_map=status_map)
        return cleaned


@admin.register(PartnerKey)
class PartnerKeyAdmin(AuditedSaveMixin, PartnerLookupsMixin, admin.ModelAdmin):
    form = PartnerKeyAdminForm
    list_display = [
        "id",
        "name",
        "advertiser",
        "profile",
        "is_active",
        "require_signature",
        "rotated_at",
    ]
    list_filter = ["is_active", "require_signature", "profile"]
    search_fields = ["name", "key", "previous_key", "advertiser__user__email"]
    list_select_related = ["advertiser__user"]
    readonly_fields = [
        "key",
        "previous_key",
        "previous_key_expires_at",
        "signing_secret",
        "rotated_at",
        "postback_url",
        "created_at",
        "updated_at",
    ]
    # The rotated-out secret only serves signature checks during the grace period.
    exclude = ["previous_signing_secret"]
    actions = [rotate_partner_keys]

    @admin.display(description="Postback URL")
    def postback_url(self, obj: PartnerKey) -> str:
        return f"{settings.PUBLIC_BASE_URL}/postback/{obj.key}" if obj.key else ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Keys are issued with generated secrets through the API or the portal, not typed in.
        return False


# --- conversion events and pricing rules ---------------------------------------------------------


def _form_errors_from(form: forms.ModelForm, exc: ApplicationError) -> None:
    """An ApplicationError from a service's validation, as the form's errors."""
    if not exc.fields:
        raise forms.ValidationError(exc.message) from exc
    for name, errors in exc.fields.items():
        if name in form.errors:
            continue  # the form field's own error already says it
        target = name if name in form.fields else None
        for error in errors:
            form.add_error(target, error)


class EventCapInline(admin.TabularInline):
    model = Cap
    fk_name = "event"
    extra = 0
    fields = ["scope", "period", "metric", "limit", "action"]
    formfield_overrides = _MONEY_FORM_FIELDS
    verbose_name = "event cap"


class ConversionEventAdminForm(forms.ModelForm):
    """Checked with the API's rules (`event_validate`); saved by `event_create`/`event_update`."""

    class Meta:
        model = ConversionEvent
        fields = [
            "campaign",
            "code",
            "name",
            "payout_type",
            "payout_amount",
            "revshare_percent",
            "default_revenue",
            "allow_multiple",
            "initial_status",
        ]

    def service_data(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name != "campaign"}

    def clean(self) -> dict[str, Any]:
        super().clean()
        campaign = self.instance.campaign if self.instance.pk else self.cleaned_data.get("campaign")
        if campaign is None:
            return self.cleaned_data
        try:
            event_validate(
                campaign=campaign,
                data=self.service_data(),
                event=self.instance if self.instance.pk else None,
            )
        except ApplicationError as exc:
            _form_errors_from(self, exc)
        return self.cleaned_data


class _ServiceDeleteMixin(admin.ModelAdmin):
    """Deletes go through the service (`service_delete`), whose refusals become messages."""

    def service_delete(self, obj: Any, *, actor: Any) -> None:
        raise NotImplementedError

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.service_delete(obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset.order_by("pk"):
            try:
                self.service_delete(obj, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{obj}: {exc.message}", messages.ERROR)


@admin.register(ConversionEvent)
class ConversionEventAdmin(_ServiceDeleteMixin, admin.ModelAdmin):
    """The campaign's default event is edited here or through the campaign (both write both);
    it and events with conversions cannot be deleted."""

    list_display = [
        "id",
        "campaign",
        "code",
        "name",
        "is_default",
        "payout_type",
        "payout_display",
        "initial_status",
        "allow_multiple",
    ]
    list_filter = ["is_default", "payout_type", "initial_status", "campaign"]
    search_fields = ["code", "name", "campaign__name"]
    list_select_related = ["campaign"]
    form = ConversionEventAdminForm
    formfield_overrides = _MONEY_FORM_FIELDS
    fields = [*ConversionEventAdminForm.Meta.fields, "is_default", "created_at", "updated_at"]
    readonly_fields = ["is_default", "created_at", "updated_at"]
    inlines = [EventCapInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # An event never moves to another campaign.
        return [*self.readonly_fields, "campaign"] if obj is not None else self.readonly_fields

    def save_model(  # type: ignore[override]  # the console only ever has a logged-in user
        self, request: AuthenticatedHttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        data = form.service_data()
        if change:
            event_update(event=obj, data=data, actor=request.user, source=AuditSource.CONSOLE)
        else:
            created = event_create(
                campaign=form.cleaned_data["campaign"],
                data=data,
                actor=request.user,
                source=AuditSource.CONSOLE,
            )
            obj.pk = created.pk
        obj.refresh_from_db()

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # An event's cap belongs to the event's campaign too (the campaign's cap counters).
        for cap in formset.save(commit=False):
            cap.campaign_id = form.instance.campaign_id
            cap.save()
        for cap in formset.deleted_objects:
            cap.delete()

    def service_delete(self, obj: ConversionEvent, *, actor: Any) -> None:
        event_delete(event=obj, actor=actor, source=AuditSource.CONSOLE)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and (obj.is_default or obj.conversions.exists()):
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="Payout")
    def payout_display(self, obj: ConversionEvent) -> str:
        if obj.payout_type == PayoutType.FIXED:
            return format_money(obj.payout_amount, obj.campaign.currency)
        return f"{format_percent(obj.revshare_percent)} of revenue"


class PricingRuleActiveFilter(admin.SimpleListFilter):
    title = "active now"
    parameter_name = "active"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No: not started or ended")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        now = timezone.now()
        valid = (Q(starts_at__isnull=True) | Q(starts_at__lte=now)) & (
            Q(ends_at__isnull=True) | Q(ends_at__gt=now)
        )
        if self.value() == "yes":
            return queryset.filter(valid)
        if self.value() == "no":
            return queryset.exclude(valid)
        return queryset


class PricingRuleAdminForm(forms.ModelForm):
    """Checked with the API's rules (`pricing_rule_validate`); saved by the rule services."""

    class Meta:
        model = PricingRule
        fields = [
            "campaign",
            "event",
            "affiliate",
            "country",
            "sub1",
            "starts_at",
            "ends_at",
            "payout_type",
            "payout_amount",
            "revshare_percent",
            "revenue_amount",
            "note",
        ]

    def service_data(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name != "campaign"}

    def clean(self) -> dict[str, Any]:
        super().clean()
        campaign = self.instance.campaign if self.instance.pk else self.cleaned_data.get("campaign")
        if campaign is None:
            return self.cleaned_data
        try:
            pricing_rule_validate(
                campaign=campaign,
                data=self.service_data(),
                rule=self.instance if self.instance.pk else None,
            )
        except ApplicationError as exc:
            _form_errors_from(self, exc)
        return self.cleaned_data


@admin.register(PricingRule)
class PricingRuleAdmin(_ServiceDeleteMixin, PartnerLookupsMixin, admin.ModelAdmin):
    """A rule that priced conversions cannot be deleted: end it with `ends_at`."""

    list_display = [
        "id",
        "campaign",
        "description",
        "payout_type",
        "terms_display",
        "validity",
        "is_active",
        "note",
    ]
    list_filter = [
        PricingRuleActiveFilter,
        "campaign",
        "event__code",
        "affiliate",
        "country",
        "payout_type",
    ]
    search_fields = ["note", "campaign__name", "event__code", "affiliate__user__email", "sub1"]
    list_select_related = ["campaign", "event", "affiliate__user"]
    form = PricingRuleAdminForm
    formfield_overrides = _MONEY_FORM_FIELDS
    fields = [*PricingRuleAdminForm.Meta.fields, "description", "created_at", "updated_at"]
    readonly_fields = ["description", "created_at", "updated_at"]
    raw_id_fields = ["event", "affiliate"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*self.readonly_fields, "campaign"] if obj is not None else self.readonly_fields

    def save_model(  # type: ignore[override]  # the console only ever has a logged-in user
        self, request: AuthenticatedHttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        data = form.service_data()
        if change:
            pricing_rule_update(rule=obj, data=data, actor=request.user, source=AuditSource.CONSOLE)
        else:
            created = pricing_rule_create(
                campaign=form.cleaned_data["campaign"],
                data=data,
                actor=request.user,
                source=AuditSource.CONSOLE,
            )
            obj.pk = created.pk
        obj.refresh_from_db()

    def service_delete(self, obj: PricingRule, *, actor: Any) -> None:
        pricing_rule_delete(rule=obj, actor=actor, source=AuditSource.CONSOLE)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.conversions.exists():
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="Applies to")
    def description(self, obj: PricingRule) -> str:
        return pricing_rule_describe(obj) if obj.pk else ""

    @admin.display(description="Terms")
    def terms_display(self, obj: PricingRule) -> str:
        if obj.payout_type == PayoutType.FIXED:
            return format_money(obj.payout_amount, obj.campaign.currency)
        return f"{format_percent(obj.revshare_percent)} of revenue"

    @admin.display(description="Valid")
    def validity(self, obj: PricingRule) -> str:
        start = obj.starts_at.strftime("%Y-%m-%d %H:%M") if obj.starts_at else "always"
        end = obj.ends_at.strftime("%Y-%m-%d %H:%M") if obj.ends_at else "open"
        return f"{start} to {end} UTC"

    @admin.display(description="Active now", boolean=True)
    def is_active(self, obj: PricingRule) -> bool:
        now = timezone.now()
        return (obj.starts_at is None or obj.starts_at <= now) and (
            obj.ends_at is None or now < obj.ends_at
        )
