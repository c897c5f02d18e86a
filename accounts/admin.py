from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_api_key.models import APIKey as LibraryAPIKey

from accounts import services
from accounts.admin_actions import confirmed_action
from accounts.api_keys import api_key_revoke
from accounts.http import AuthenticatedHttpRequest
from accounts.models import Advertiser, Affiliate, ApiKey, ApprovalStatus, User
from core.exceptions import ApplicationError
from core.models import AuditSource


class PartnerLookupsMixin(admin.ModelAdmin):
    """Lets list filters on a foreign key to an Advertiser or Affiliate work.

    Their primary key is the user (one id per person), so the admin's related-field filter builds
    `affiliate__user__exact`, which ModelAdmin.lookup_allowed refuses by default (400).
    """

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        parts = lookup.split("__")
        if len(parts) >= 3 and parts[-2:] == ["user", "exact"]:
            field_names = parts[:-2]
            model: type[models.Model] | None = self.model
            for name in field_names:
                if model is None:
                    break
                field = model._meta.get_field(name)
                if not field.is_relation:
                    break
                model = field.related_model
            else:
                if model in (Advertiser, Affiliate):
                    return True
        return super().lookup_allowed(lookup, value, request)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["id"]
    list_display = ["id", "email", "name", "role", "is_active", "is_staff", "date_joined"]
    list_filter = ["role", "is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "role")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {"classes": ("wide",), "fields": ("email", "name", "role", "password1", "password2")},
        ),
    )


_REASON_HELP = "Shown to the partner with its status, and in the email."
# status: (label, verb of the button, help of the optional reason or None: no reason asked)
_STATUS_ACTIONS = {
    ApprovalStatus.APPROVED: ("Approve", "approve", None),
    ApprovalStatus.REJECTED: ("Reject", "reject", _REASON_HELP),
    ApprovalStatus.SUSPENDED: ("Suspend", "suspend", _REASON_HELP),
}


def _describe_partner(profile: Advertiser | Affiliate) -> str:
    return f"{profile} <{profile.user.email}>: {profile.get_status_display().lower()}"


def _status_action(status: ApprovalStatus) -> Callable[..., Any]:
    label, verb, reason_help = _STATUS_ACTIONS[status]

    def action(
        modeladmin: admin.ModelAdmin,
        request: AuthenticatedHttpRequest,
        queryset: QuerySet[Advertiser] | QuerySet[Affiliate],
        reason: str = "",
    ) -> None:
        changed = 0
        for profile in queryset.select_related("user").order_by("pk"):
            try:
                services.partner_status_set(
                    profile=profile,
                    status=status,
                    actor=request.user,
                    reason=reason,
                    source=AuditSource.CONSOLE,
                )
                changed += 1
            except ApplicationError as exc:
                modeladmin.message_user(request, f"{profile}: {exc.message}", messages.ERROR)
        modeladmin.message_user(request, f"{label}: {changed} account(s).", messages.SUCCESS)

    action.__name__ = f"mark_{status}"
    return confirmed_action(
        description=f"{label} selected accounts (emails them)",
        question=f"{label} {{count}} {{verbose_name}}? Each is emailed the decision.",
        button=f"Yes, {verb}",
        permissions=["change"],
        reason_help=reason_help,
        describe=_describe_partner,
    )(action)


class PartnerAdmin(admin.ModelAdmin):
    list_display = ["user_id", "email", "company", "contact_name", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["user__email", "company", "contact_name"]
    readonly_fields = ["status", "status_reason", "status_changed_at", "status_changed_by"]
    list_select_related = ["user"]
    # A website typed without a scheme is https (Django 6's default; 5.2 still assumes http).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = [
        _status_action(ApprovalStatus.APPROVED),
        _status_action(ApprovalStatus.REJECTED),
        _status_action(ApprovalStatus.SUSPENDED),
    ]

    @admin.display(ordering="user__email")
    def email(self, obj) -> str:
        return obj.user.email


@admin.register(Advertiser)
class AdvertiserAdmin(PartnerAdmin):
    pass


@admin.register(Affiliate)
class AffiliateAdmin(PartnerAdmin):
    list_display = [*PartnerAdmin.list_display, "payout_method"]


# The library's own key model is not used (accounts.ApiKey is): no console page for it.
if admin.site.is_registered(LibraryAPIKey):
    admin.site.unregister(LibraryAPIKey)


@confirmed_action(
    description="Revoke selected API keys",
    question="Revoke {count} {verbose_name}? They are refused at once; this cannot be undone.",
    button="Yes, revoke",
    permissions=["change"],
)
def revoke_api_keys(
    modeladmin: admin.ModelAdmin, request: AuthenticatedHttpRequest, queryset: QuerySet[ApiKey]
) -> None:
    now = timezone.now()
    revoked = 0
    for api_key in queryset.filter(revoked=False).order_by("pk"):
        api_key_revoke(api_key=api_key, now=now)
        revoked += 1
    modeladmin.message_user(request, f"Revoked {revoked} API key(s).", messages.SUCCESS)


_API_KEY_FIELDS: list[str] = [
    "prefix",
    "name",
    "user",
    "scope",
    "ip_allowlist",
    "created",
    "expiry_date",
    "last_used_at",
    "revoked",
    "revoked_at",
]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made by their owners (API or portal), where the key is shown once; the console
    lists and revokes them. The hash is not shown either."""

    list_display = [
        "id",
        "prefix",
        "name",
        "user",
        "scope",
        "created",
        "expiry_date",
        "last_used_at",
        "revoked",
    ]
    list_filter = ["scope", "revoked", "user__role", "created", "expiry_date"]
    search_fields = ["prefix", "name", "user__email"]
    list_select_related = ["user"]
    fields = tuple(_API_KEY_FIELDS)
    readonly_fields = _API_KEY_FIELDS
    actions = [revoke_api_keys]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# --- Two-factor devices (django-otp) -------------------------------------------------------------
# Operators see who has two-factor authentication and delete a user's devices to reset a lost
# phone (the user then sets it up again, or logs in with the password alone if the role does not
# require it). They never add or edit one, and never see a secret or a recovery code
# (OTP_ADMIN_HIDE_SENSITIVE_DATA hides them from django-otp's pages).


class _TwoFactorDeviceAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


@admin.register(TOTPDevice)
class TwoFactorAppAdmin(_TwoFactorDeviceAdmin, TOTPDeviceAdmin):
    pass


@admin.register(StaticDevice)
class RecoveryCodesAdmin(_TwoFactorDeviceAdmin, StaticDeviceAdmin):
    pass
