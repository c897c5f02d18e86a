"""The report page of both portals: any period (presets or dates), one breakdown, the rows and
totals the reports API gives for the same query, and their CSV. Each portal's view decides who
may open it (`advertiser_required`, `affiliate_required`) and calls `report_response`."""

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.http import AuthenticatedHttpRequest
from core.csv_export import csv_lines
from core.exceptions import ApplicationError
from portal import selectors
from portal.forms import REPORT_PRESETS, ReportForm
from portal.tables import csv_response, wants_csv
from reporting.services.reports import ReportQuery, report_build


def report_response(
    request: AuthenticatedHttpRequest, *, template: str
) -> HttpResponse | StreamingHttpResponse:
    viewer = request.user
    form = ReportForm(request.GET or None, groups=selectors.report_groups(viewer=viewer))
    today = timezone.now().date()
    date_from, date_to = form.period(today=today)
    group = form.group()
    report = None
    if not form.is_bound or form.is_valid():
        try:
            if wants_csv(request):
                # Exactly the API's CSV of `group_by=<group>` over these days.
                full = report_build(
                    viewer=viewer,
                    query=ReportQuery(group_by=(group,), date_from=date_from, date_to=date_to),
                )
                return csv_response(
                    f"report-{group}-{date_from}-{date_to}.csv",
                    csv_lines(
                        full.columns,
                        ([row[column] for column in full.columns] for row in full.shaped()),
                    ),
                )
            report = selectors.portal_report(
                viewer=viewer, date_from=date_from, date_to=date_to, group=group
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
    return render(
        request,
        template,
        {
            "form": form,
            "report": report,
            "presets": REPORT_PRESETS,
            "page_rows": selectors.REPORT_PAGE_ROWS,
        },
    )
