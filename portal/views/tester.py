"""The advertiser's postback tester: send one postback to a partner key as the partner's server
would, and show exactly what happened.

There is no second code path: the page builds the `PostbackInbound` that `/postback/<key>`
(tracker.views.postbacks) builds for the same request (the same query string or form body
bytes, the signature headers a partner must add when the key requires them) and calls the same
service, `postback_receive`. The source address is the advertiser's own (`core.net.client_ip`),
so an allowlisted key answers what a partner at that address would get. The postback is real:
it is logged, and any status but `test` records or moves a conversion with its money; with the
dry-run switch, the sandbox runs it instead and nothing is recorded.
"""

import datetime as dt
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from campaigns import selectors as campaign_selectors
from campaigns.models import PartnerKey
from campaigns.partner_keys import partner_key_signature
from core.net import client_ip
from portal.access import AdvertiserRequest, advertiser_required
from portal.forms import PostbackTesterForm
from tracker.models import Conversion, PostbackLog
from tracker.postback_answers import postback_answer
from tracker.postback_params import ENDPOINT_KEYED, PostbackInbound
from tracker.selectors import click_list, conversion_list, postback_log_list
from tracker.services.postbacks import postback_receive
from tracker.services.sandbox import postback_sandbox, sandbox_report_view

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
RECENT_CLICKS = 10


@dataclass(frozen=True)
class TesterRequest:
    """The request as a partner's server would send it, and what the public view reads of it."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: str
    inbound: PostbackInbound


@dataclass(frozen=True)
class TesterResult:
    request: TesterRequest
    http_status: int
    reason_phrase: str
    response_body: str
    payload: dict
    log: PostbackLog | None
    conversion: Conversion | None

    @property
    def is_success(self) -> bool:
        return self.http_status == HTTPStatus.OK


def _tester_request(
    *, partner_key: PartnerKey, form: PostbackTesterForm, source_ip: str | None, now: dt.datetime
) -> TesterRequest:
    method = form.cleaned_data["method"]
    encoded = urlencode(form.postback_params()).encode()
    if method == "POST":
        query, body, content_type = b"", encoded, FORM_CONTENT_TYPE
    else:
        query, body, content_type = encoded, b"", ""
    headers = [("Content-Type", content_type)] if content_type else []
    timestamp = signature = None
    if partner_key.require_signature:
        timestamp = str(int(now.timestamp()))
        signature = partner_key_signature(
            secret=partner_key.signing_secret, timestamp=timestamp, query=query, body=body
        )
        headers += [("X-ClickLedger-Timestamp", timestamp), ("X-ClickLedger-Signature", signature)]
    url = f"{settings.PUBLIC_BASE_URL}/postback/{partner_key.key}"
    return TesterRequest(
        method=method,
        url=f"{url}?{query.decode()}" if query else url,
        headers=headers,
        body=body.decode(),
        inbound=PostbackInbound(
            endpoint=ENDPOINT_KEYED,
            method=method,
            query_string=query,
            body=body,
            content_type=content_type,
            source_ip=source_ip,
            path_key=partner_key.key,
            signature_timestamp=timestamp,
            signature=signature,
        ),
    )


def _tester_send(
    *, request: AdvertiserRequest, tester_request: TesterRequest, now: dt.datetime
) -> TesterResult:
    result = postback_receive(inbound=tester_request.inbound, now=now)
    status, payload = postback_answer(result)
    # The exact bytes the public view answers (it wraps the same payload in a JsonResponse).
    response_body = JsonResponse(payload, status=status).content.decode()
    # The log row this very call wrote (none only when the database was unreachable: 503).
    log = postback_log_list(viewer=request.user).filter(pk=result.log_id).first()
    conversion = None
    if result.conversion is not None:
        conversion = conversion_list(viewer=request.user).filter(pk=result.conversion.pk).first()
    return TesterResult(
        request=tester_request,
        http_status=status,
        reason_phrase=HTTPStatus(status).phrase,
        response_body=response_body,
        payload=payload,
        log=log,
        conversion=conversion,
    )


@advertiser_required
@require_http_methods(["GET", "POST"])
def postback_tester(request: AdvertiserRequest, partner_key_id: int) -> HttpResponse:
    partner_key = campaign_selectors.partner_key_get(
        viewer=request.user, partner_key_id=partner_key_id
    )
    source_ip = client_ip(request)
    form = PostbackTesterForm(request.POST or None)
    result = dry_run = None
    if request.method == "POST" and form.is_valid() and form.cleaned_data["dry_run"]:
        report = postback_sandbox(partner_key=partner_key, params=dict(form.postback_params()))
        dry_run = sandbox_report_view(report=report, viewer=request.user)
    elif request.method == "POST" and form.is_valid():
        now = timezone.now()
        tester_request = _tester_request(
            partner_key=partner_key, form=form, source_ip=source_ip, now=now
        )
        result = _tester_send(request=request, tester_request=tester_request, now=now)
    recent_clicks = (
        click_list(viewer=request.user)
        .select_related("campaign")
        .only("click_id", "created_at", "campaign__name")[:RECENT_CLICKS]
    )
    return render(
        request,
        "portal/advertiser/postback_tester.html",
        {
            "key": partner_key,
            "form": form,
            "result": result,
            "dry_run": dry_run,
            "source_ip": source_ip,
            "recent_clicks": recent_clicks,
        },
    )
