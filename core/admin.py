import json
from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from core.audit import audit_record, audit_snapshot
from core.models import AuditEntry, AuditSource


class AuditedSaveMixin:
    """For a ModelAdmin whose change form saves the model directly: the fields the form
    changed go to the audit log (source `console`), in the change view's transaction."""

    def save_model(
        self, request: HttpRequest, obj: models.Model, form: forms.ModelForm, change: bool
    ) -> None:
        concrete = {field.name for field in obj._meta.concrete_fields}
        fields = [
            name for name in (form.changed_data if change else form.fields) if name in concrete
        ]
        stored = type(obj)._default_manager.filter(pk=obj.pk).first() if change else None
        before = audit_snapshot(stored, fields) if stored is not None else {}
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        audit_record(
            actor=request.user,
            source=AuditSource.CONSOLE,
            action="update" if change else "create",
            obj_type=type(obj),
            obj_id=obj.pk,
            obj_repr=str(obj),
            before=before,
            after=audit_snapshot(obj, fields),
        )


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log, read-only: entries are written by the services that make the changes."""

    list_display = [
        "created_at",
        "actor_email",
        "source",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "changed_fields",
    ]
    # The actor is filtered by the email each entry keeps (the user may since be gone).
    list_filter = ["source", "action", "object_type", "actor_email", "created_at"]
    search_fields = ["actor_email", "object_repr", "object_id"]
    date_hierarchy = "created_at"
    readonly_fields = (
        "created_at",
        "actor_id",
        "actor_email",
        "source",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "changes_table",
    )
    fields = readonly_fields

    @admin.display(description="Changed fields")
    def changed_fields(self, obj: AuditEntry) -> str:
        return ", ".join(obj.changes) if isinstance(obj.changes, dict) else ""

    @admin.display(description="Changes")
    def changes_table(self, obj: AuditEntry) -> str:
        changes = obj.changes if isinstance(obj.changes, dict) else {}
        if not changes:
            return "(no field changed)"
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td><code>{}</code></td><td><code>{}</code></td></tr>",
            ((name, _text(pair[0]), _text(pair[1])) for name, pair in changes.items()),
        )
        return format_html(
            "<table><thead><tr><th>Field</th><th>Before</th><th>After</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)
