"""Admin actions that ask before they act: Django's delete-style confirmation page.

`confirmed_action` wraps an admin action. Choosing it on a changelist shows
`admin/action_confirmation.html`: the question, every selected object (up to
`CONFIRMATION_PREVIEW_ROWS`, then a count) linked to its page, optionally a reason field or the
fields of a form of the action's own, and a button. Only the POST of that page (`confirm=yes`)
runs the action, on the same selection (the selected ids, or the whole filtered changelist with
`select_across`).

It lives in `accounts`, the first app with admin modules, so that every app's admin can use it
without importing an app to its right.
"""

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse

from accounts.http import AuthenticatedHttpRequest

_M = TypeVar("_M", bound=Model)

CONFIRMATION_PREVIEW_ROWS = 100
CONFIRM_FIELD = "confirm"


class ActionReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=255, required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )

    def __init__(self, *args: Any, help_text: str, required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = help_text
        self.fields["reason"].required = required


def _describe(obj: Model) -> str:
    return str(obj)


def _change_url(obj: Model) -> str | None:
    opts = obj._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return None


def confirmed_action(
    *,
    description: str,
    question: str,
    button: str,
    permissions: list[str] | None = None,
    reason_help: str | None = None,
    reason_required: bool = False,
    warning: Callable[[QuerySet[_M]], str] | None = None,
    describe: Callable[[_M], str] = _describe,
    form_factory: Callable[[AuthenticatedHttpRequest, Any], forms.Form] | None = None,
) -> Callable:
    """Decorate `func(modeladmin, request, queryset, **kwargs)` as an admin action that runs
    only once its confirmation page is submitted. With `reason_help` the page also asks for a
    reason (that help under it; optional unless `reason_required`) and the action gets it as
    `reason=` ("" if none). With `form_factory(request, data)` (data: the POST, or None for
    the unbound form) the page asks for that form's fields instead, and the action runs only
    once they are valid, with each cleaned field as a keyword argument.
    `warning(queryset)` may return a line shown under the question
    (say, how many selected rows the action will refuse), "" for none.

    `question` may use `{count}` and `{verbose_name}` (singular or plural to match).
    """

    if reason_help is not None and form_factory is not None:
        raise TypeError("An action asks for a reason or for its own form, not both.")

    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def action(
            modeladmin: admin.ModelAdmin, request: AuthenticatedHttpRequest, queryset: QuerySet[_M]
        ) -> HttpResponse | None:
            is_confirmed = request.POST.get(CONFIRM_FIELD) == "yes"
            form: forms.Form | None = None
            if reason_help is not None:
                form = ActionReasonForm(
                    request.POST if is_confirmed else None,
                    help_text=reason_help,
                    required=reason_required,
                )
            elif form_factory is not None:
                form = form_factory(request, request.POST if is_confirmed else None)
            if is_confirmed and (form is None or form.is_valid()):
                extra = {} if form is None else dict(form.cleaned_data)
                return func(modeladmin, request, queryset, **extra)
            return _confirmation_page(
                modeladmin,
                request,
                queryset,
                action_name=action.__name__,
                title=description,
                question=question,
                button=button,
                form=form,
                warning=warning(queryset) if warning else "",
                describe=describe,
            )

        return admin.action(description=description, permissions=permissions)(action)

    return decorator


def _confirmation_page(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[_M],
    *,
    action_name: str,
    title: str,
    question: str,
    button: str,
    form: forms.Form | None,
    warning: str,
    describe: Callable[[_M], str],
) -> TemplateResponse:
    opts = modeladmin.model._meta
    preview = list(queryset.order_by("pk")[: CONFIRMATION_PREVIEW_ROWS + 1])
    total = len(preview)
    if total > CONFIRMATION_PREVIEW_ROWS:
        total = queryset.count()
    verbose_name = opts.verbose_name if total == 1 else opts.verbose_name_plural
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": opts,
        "question": question.format(count=total, verbose_name=verbose_name),
        "warning": warning,
        "objects": [
            (describe(obj), _change_url(obj)) for obj in preview[:CONFIRMATION_PREVIEW_ROWS]
        ],
        "hidden_count": max(total - CONFIRMATION_PREVIEW_ROWS, 0),
        "form": form,
        "button": button,
        "action_name": action_name,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "selected_ids": request.POST.getlist(ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "confirm_field": CONFIRM_FIELD,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/action_confirmation.html", context)
