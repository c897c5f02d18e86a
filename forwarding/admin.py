"""Django admin for forwarding: postback endpoints, operator webhooks and the deliveries sent
to them.

The operator's view of the outbox: deliveries filtered by status, event, affiliate, endpoint and
time, each with its attempts inline (time, status code, latency, response excerpt, error), and a
bulk replay. Everything here is read-only but the operator webhooks; the actions and saves go
through the forwarding services so a replay or a disable behaves exactly as from the API.
Secrets are never displayed, but a new operator webhook's, once.
"""

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin_actions import confirmed_action
from accounts.http import AuthenticatedHttpRequest
from accounts.models import Affiliate, User
from core.exceptions import ApplicationError
from core.models import AuditSource, OperatorEventType
from forwarding.models import Delivery, DeliveryAttempt, OperatorWebhook, PostbackEndpoint
from forwarding.services.delivery import delivery_replay
from forwarding.services.endpoints import endpoint_disable, endpoint_test_create, endpoint_update
from forwarding.services.operator_webhooks import (
    operator_webhook_create,
    operator_webhook_delete,
    operator_webhook_update,
    operator_webhook_url_check,
)


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


TEST_SEND_LIMIT = 10


def _describe_endpoint(endpoint: PostbackEndpoint) -> str:
    state = "active" if endpoint.is_active else "disabled"
    return f"#{endpoint.pk} {endpoint.affiliate}: {endpoint.method} {endpoint.url} ({state})"


def _receiver(delivery: Delivery) -> PostbackEndpoint | OperatorWebhook:
    receiver = delivery.endpoint or delivery.operator_webhook
    assert receiver is not None  # noqa: S101 - a check constraint: exactly one is set
    return receiver


def _describe_delivery(delivery: Delivery) -> str:
    return (
        f"#{delivery.pk} {delivery.event} to {_receiver(delivery).url}: {delivery.status},"
        f" {delivery.attempt_count} attempt(s)"
    )


@admin.register(PostbackEndpoint)
class PostbackEndpointAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = [
        "id",
        "affiliate",
        "method",
        "url",
        "events",
        "campaign",
        "is_active",
        "failing_since",
        "last_success_at",
        "disabled_reason",
    ]
    list_filter = ["is_active", "method"]
    list_select_related = ["affiliate__user", "campaign"]
    search_fields = ["url"]
    fields = [
        "affiliate",
        "name",
        "url",
        "method",
        "events",
        "campaign",
        "is_active",
        "failing_since",
        "last_success_at",
        "disabled_at",
        "disabled_reason",
        "previous_secret_expires_at",
        "created_at",
        "updated_at",
    ]
    actions = ["enable_endpoints", "disable_endpoints", "send_test"]

    def has_operate_permission(self, request: HttpRequest) -> bool:
        # The rows are read-only here (no change form): acting on them needs the change right.
        return request.user.has_perm("forwarding.change_postbackendpoint")

    @confirmed_action(
        description="Enable selected endpoints",
        question="Enable {count} {verbose_name}? They receive the next matching events.",
        button="Yes, enable",
        permissions=["operate"],
        describe=_describe_endpoint,
    )
    def enable_endpoints(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[PostbackEndpoint]
    ) -> None:
        endpoints = list(queryset.order_by("pk"))
        for endpoint in endpoints:
            endpoint_update(
                endpoint=endpoint,
                data={"is_active": True},
                actor=request.user,
                source=AuditSource.CONSOLE,
            )
        self.message_user(request, f"{len(endpoints)} endpoint(s) enabled.", messages.SUCCESS)

    @confirmed_action(
        description="Disable selected endpoints (cancels their pending deliveries)",
        question="Disable {count} {verbose_name}? Their pending deliveries are cancelled"
        " and their owners see them disabled by an admin.",
        button="Yes, disable",
        permissions=["operate"],
        describe=_describe_endpoint,
    )
    def disable_endpoints(self, request: HttpRequest, queryset: QuerySet[PostbackEndpoint]) -> None:
        disabled = sum(
            endpoint_disable(endpoint_id=pk, reason="disabled by an admin")
            for pk in queryset.order_by("pk").values_list("pk", flat=True)
        )
        self.message_user(request, f"{disabled} endpoint(s) disabled.", messages.SUCCESS)

    @confirmed_action(
        description="Send a test event to selected endpoints",
        question="Send a test event to {count} {verbose_name} (at most"
        f" {TEST_SEND_LIMIT})? Each is a real signed HTTP request to the affiliate's server,"
        " sent by a worker: the answers appear on the deliveries' pages.",
        button="Yes, send",
        permissions=["operate"],
        describe=_describe_endpoint,
    )
    def send_test(self, request: HttpRequest, queryset: QuerySet[PostbackEndpoint]) -> None:
        for endpoint in queryset.order_by("pk")[:TEST_SEND_LIMIT]:
            try:
                delivery = endpoint_test_create(endpoint=endpoint)
            except ApplicationError as exc:
                self.message_user(request, f"#{endpoint.pk}: {exc.message}", messages.WARNING)
                continue
            url = reverse(f"{self.admin_site.name}:forwarding_delivery_change", args=[delivery.pk])
            self.message_user(
                request,
                format_html(
                    '#{}: test queued as <a href="{}">delivery #{}</a>.',
                    endpoint.pk,
                    url,
                    delivery.pk,
                ),
                messages.SUCCESS,
            )


class AffiliateFilter(admin.SimpleListFilter):
    """By the endpoint's affiliate. (A plain `endpoint__affiliate` filter builds the lookup
    `endpoint__affiliate__user__exact`, which the admin then refuses: the profile's primary key
    is a relation.)"""

    title = "affiliate"
    parameter_name = "affiliate"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        affiliates = (
            Affiliate.objects.filter(postback_endpoints__isnull=False)
            .distinct()
            .select_related("user")
        )
        return [(str(affiliate.pk), str(affiliate)) for affiliate in affiliates]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(endpoint__affiliate_id=int(value))
        return queryset


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    ordering = ["id"]
    readonly_fields = (
        "attempt_number",
        "attempted_at",
        "status_code",
        "latency_ms",
        "is_success",
        "error",
        "response_excerpt",
        "request_url",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = [
        "id",
        "created_at",
        "event",
        "status",
        "affiliate",
        "endpoint",
        "operator_webhook",
        "conversion",
        "attempt_count",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = [
        "status",
        "event",
        ("created_at", admin.DateFieldListFilter),
        AffiliateFilter,
        "endpoint",
        "operator_webhook",
    ]
    list_select_related = ["endpoint__affiliate__user", "operator_webhook"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    search_fields = ["=event_id"]
    search_help_text = "Exact event id (the webhook-id header)."
    inlines = [DeliveryAttemptInline]
    fields = [
        "endpoint",
        "operator_webhook",
        "conversion",
        "event",
        "event_id",
        "event_key",
        "status",
        "attempt_count",
        "max_attempts",
        "next_attempt_at",
        "locked_until",
        "delivered_at",
        "last_status_code",
        "last_error",
        "payload",
        "created_at",
        "updated_at",
    ]
    actions = ["replay_deliveries"]

    def has_operate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("forwarding.change_delivery")

    @admin.display(description="Affiliate", ordering="endpoint__affiliate")
    def affiliate(self, obj: Delivery):
        return obj.endpoint.affiliate if obj.endpoint else "-"

    @admin.display(description="Conversion", ordering="conversion_id")
    def conversion(self, obj: Delivery) -> str:
        # The conversion is the tracker's row, named here by id and reached by its admin URL.
        if obj.conversion_id is None:
            return "-"
        url = reverse(f"{self.admin_site.name}:tracker_conversion_change", args=[obj.conversion_id])
        return format_html('<a href="{}">#{}</a>', url, obj.conversion_id)

    @confirmed_action(
        description="Replay selected deliveries",
        question="Replay {count} {verbose_name}? Each is sent again with the same"
        " webhook-id and a fresh retry schedule; pending ones are left as they are.",
        button="Yes, replay",
        permissions=["operate"],
        describe=_describe_delivery,
    )
    def replay_deliveries(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        replayed = 0
        refused: dict[str, int] = {}
        for delivery in queryset.select_related("endpoint", "operator_webhook").order_by("pk"):
            try:
                delivery_replay(delivery=delivery)
            except ApplicationError as exc:
                refused[exc.message] = refused.get(exc.message, 0) + 1
                continue
            replayed += 1
        if replayed:
            self.message_user(request, f"{replayed} delivery(ies) queued again.", messages.SUCCESS)
        for message, count in refused.items():
            self.message_user(request, f"{count} not replayed: {message}", messages.WARNING)


def _staff(request: HttpRequest) -> User:
    # The admin site only lets logged-in staff this far.
    return cast(User, request.user)


class OperatorWebhookForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=OperatorEventType.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = OperatorWebhook
        fields = ["name", "url", "events", "is_active"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        url = cleaned.get("url")
        if url:
            try:
                operator_webhook_url_check(url)
            except ApplicationError as exc:
                self.add_error("url", exc.message)
        return cleaned


@admin.register(OperatorWebhook)
class OperatorWebhookAdmin(admin.ModelAdmin):
    """Saving goes through the operator-webhook services (checks, audit log); the signing
    secret is shown once, in the message after the webhook is added."""

    form = OperatorWebhookForm
    list_display = ["id", "name", "url", "event_list", "is_active", "last_success_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    readonly_fields = ["last_success_at", "failing_since", "created_at", "updated_at"]

    @admin.display(description="Events")
    def event_list(self, obj: OperatorWebhook) -> str:
        return ", ".join(obj.events)

    def save_model(
        self,
        request: HttpRequest,
        obj: OperatorWebhook,
        form: forms.ModelForm,
        change: bool,
    ) -> None:
        data = {name: form.cleaned_data[name] for name in OperatorWebhookForm.Meta.fields}
        if change:
            saved = operator_webhook_update(
                webhook=obj, data=data, actor=_staff(request), source=AuditSource.CONSOLE
            )
        else:
            saved = operator_webhook_create(
                **data, actor=_staff(request), source=AuditSource.CONSOLE
            )
            self.message_user(
                request,
                f"Signing secret of the new webhook (shown once, copy it now): {saved.secret}",
                messages.WARNING,
            )
        obj.pk = saved.pk
        obj.secret = saved.secret

    def delete_model(self, request: HttpRequest, obj: OperatorWebhook) -> None:
        operator_webhook_delete(webhook=obj, actor=_staff(request), source=AuditSource.CONSOLE)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[OperatorWebhook]) -> None:
        for webhook in queryset.order_by("pk"):
            self.delete_model(request, webhook)
