"""The advertiser portal's reconciliation: upload your own conversion list, read the preview,
apply chosen classes, download the result file.

An advertiser reconciles its own campaigns only (the selectors scope every object) and reads
revenue only: the preview and the result file never carry the affiliates' payouts.
"""

from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from campaigns import selectors as campaign_selectors
from core.exceptions import ApplicationError
from core.models import AuditSource
from core.uploads import MULTIPART_OVERHEAD, upload_size_limited
from portal.access import AdvertiserRequest, advertiser_required
from portal.forms import ReconciliationApplyForm, ReconciliationUploadForm
from portal.tables import csv_response
from tracker import selectors
from tracker.models import ChangeSource
from tracker.reconciliation_files import MAX_FILE_BYTES, MAX_ROWS, reconciliation_result_lines
from tracker.services.reconciliations import reconciliation_apply, reconciliation_create

PAGE_ROWS = 200
LIST_ROWS = 50


@upload_size_limited(MAX_FILE_BYTES + MULTIPART_OVERHEAD)
@advertiser_required
@require_http_methods(["GET", "POST"])
def reconciliation_list(request: AdvertiserRequest) -> HttpResponse:
    """Your reconciliations, and the upload form (a valid upload opens its preview)."""
    campaigns = (
        campaign_selectors.campaign_list(viewer=request.user)
        .prefetch_related(None)
        .order_by("name")
        .values_list("id", "name")
    )
    posted = request.method == "POST"
    form = ReconciliationUploadForm(
        request.POST if posted else None, request.FILES if posted else None, campaigns=campaigns
    )
    if posted and form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        try:
            campaign = (
                campaign_selectors.campaign_get(viewer=request.user, campaign_id=data["campaign"])
                if data["campaign"]
                else None
            )
            reconciliation = reconciliation_create(
                advertiser=request.profile,
                campaign=campaign,
                date_from=data["date_from"],
                date_to=data["date_to"],
                content=upload.read(MAX_FILE_BYTES + 1),
                file_name=upload.name or "upload.csv",
                actor=request.user,
            )
        except ApplicationError as exc:
            form.add_error("date_to" if exc.code == "invalid_date_range" else "file", exc.message)
        else:
            return redirect("portal:advertiser-reconciliation", reconciliation_id=reconciliation.pk)
    return render(
        request,
        "portal/advertiser/reconciliation_list.html",
        {
            "form": form,
            "reconciliations": selectors.reconciliation_list(viewer=request.user)[:LIST_ROWS],
            "max_mb": MAX_FILE_BYTES // (1024 * 1024),
            "max_rows": MAX_ROWS,
        },
    )


@advertiser_required
@require_http_methods(["GET", "POST"])
def reconciliation_detail(request: AdvertiserRequest, reconciliation_id: int) -> HttpResponse:
    """The preview (revenue only) and the apply form; applying redirects back here."""
    reconciliation = selectors.reconciliation_get(
        viewer=request.user, reconciliation_id=reconciliation_id
    )
    form = ReconciliationApplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = reconciliation_apply(
            reconciliation=reconciliation,
            classes=form.cleaned_data["classes"],
            actor=request.user,
            source=ChangeSource.ADVERTISER,
            audit_source=AuditSource.PORTAL,
        )
        if result.outcomes:
            outcomes = sorted(result.outcomes.items())
            done = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in outcomes)
            messages.success(request, f"Applied: {done}.")
        else:
            messages.info(request, "Nothing left to apply in these classes.")
        return redirect("portal:advertiser-reconciliation", reconciliation_id=reconciliation.pk)
    rows = selectors.reconciliation_rows(reconciliation=reconciliation)
    return render(
        request,
        "portal/advertiser/reconciliation_detail.html",
        {
            "reconciliation": reconciliation,
            "summary": selectors.reconciliation_summary_rows(
                reconciliation=reconciliation, viewer=request.user
            ),
            "rows": rows.select_related(None)[:PAGE_ROWS],
            "rows_total": rows.count(),
            "page_rows": PAGE_ROWS,
            "form": form,
        },
    )


@advertiser_required
@require_GET
def reconciliation_result(
    request: AdvertiserRequest, reconciliation_id: int
) -> StreamingHttpResponse:
    reconciliation = selectors.reconciliation_get(
        viewer=request.user, reconciliation_id=reconciliation_id
    )
    return csv_response(
        f"reconciliation-{reconciliation.pk}.csv",
        reconciliation_result_lines(reconciliation=reconciliation, viewer=request.user),
    )
