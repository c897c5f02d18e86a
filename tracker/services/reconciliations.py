"""Reconciliation with an advertiser's own conversion list, and bulk approve/reject.

A reconciliation reads the advertiser's file (`tracker.reconciliation_files`), classes every
line against our conversions of the campaign (or of all the advertiser's campaigns), adds one
`missing_there` row per conversion of ours created in the date range that the file does not
name, and stores it all with the money impact per class: the preview. Reading the file writes
the reconciliation's own rows and nothing else.

Applying chosen classes goes through the status machine (`conversion_status_change`), never a
field write: a `status_differs` row moves our conversion to the advertiser's status (with its
amount, when it approves one and the amount differs: the machine re-prices a conversion on
entering approved and only then). Nothing else can change a decided conversion's amount, so
`amount_differs` rows are reported, not applied; `missing_here` rows create nothing (no click
to attribute them to, so no affiliate, payout or caps: the partner's postback is the way in).
Each row is applied once, in its own transaction, under its row lock: its `applied_at` marks
it, so a second apply skips it, and a conversion changed since the preview is left alone.

Money is Decimal: the deltas are what our booked (approved) revenue and payout would change by
if our records took the file's values, in the conversion's currency.
"""

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Advertiser, User
from campaigns.models import Campaign
from core.exceptions import ApplicationError, NotFoundError
from core.models import AuditSource
from core.sql import rows_insert
from tracker.models import (
    Click,
    Conversion,
    ConversionStatus,
    Reconciliation,
    ReconciliationRow,
    ReconciliationStatus,
    RowClass,
)
from tracker.reconciliation_files import FileRow, file_rows
from tracker.services.conversions import conversion_status_change, conversion_transition_check
from tracker.services.pricing import conversion_price

MAX_RANGE_DAYS = 366
# Our side of a reconciliation: a range holding more conversions than this is refused (narrow
# the dates), so that one request never classes an unbounded number of rows.
MAX_OURS = 100_000
_LOOKUP_CHUNK = 5_000
_INSERT_CHUNK = 2_000
_ZERO = Decimal("0.0000")

APPLICABLE_CLASSES = (RowClass.STATUS_DIFFERS, RowClass.AMOUNT_DIFFERS, RowClass.MISSING_HERE)
ACTION_FOR_STATUS: dict[str, str] = {
    ConversionStatus.APPROVED: "approve",
    ConversionStatus.REJECTED: "reject",
    ConversionStatus.REVERSED: "reverse",
}


class Outcome:
    """What applying a row did (`ReconciliationRow.outcome`)."""

    STATUS_CHANGED = "status_changed"
    ALREADY_THEIR_STATUS = "already_their_status"
    CHANGED_SINCE_PREVIEW = "changed_since_preview"
    NOT_ALLOWED = "not_allowed"
    NOT_SUPPORTED = "not_supported"
    NOT_CREATED = "not_created"
    CONVERSION_GONE = "conversion_gone"


def date_range_check(*, date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC bounds [start, end) of whole days `date_from`..`date_to`; 400
    `invalid_date_range` when they are reversed or span more than `MAX_RANGE_DAYS`."""
    if date_from > date_to:
        raise ApplicationError(
            "date_from is after date_to.",
            code="invalid_date_range",
            fields={"date_to": ["Must be on or after date_from."]},
        )
    if (date_to - date_from).days >= MAX_RANGE_DAYS:
        raise ApplicationError(
            f"A range covers at most {MAX_RANGE_DAYS} days.",
            code="invalid_date_range",
            fields={"date_to": [f"At most {MAX_RANGE_DAYS} days after date_from."]},
        )
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=dt.UTC)
    return start, dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


def booked_money(*, status: str, revenue: Decimal, payout: Decimal) -> tuple[Decimal, Decimal]:
    """What a conversion in `status` holds in the ledger: its money when approved, else none."""
    if status == ConversionStatus.APPROVED:
        return revenue, payout
    return _ZERO, _ZERO


@dataclass
class _Classed:
    row_class: str
    reason: str = ""
    conversion: Conversion | None = None
    currency: str = ""
    revenue_delta: Decimal = _ZERO
    payout_delta: Decimal = _ZERO
    planned_action: str = ""


def _compare(row: FileRow, conversion: Conversion) -> _Classed:
    """Class a line that names exactly one conversion of ours."""
    classed = _Classed(RowClass.MATCHED, conversion=conversion, currency=conversion.currency)
    amount_differs = row.amount is not None and row.amount != conversion.revenue
    if row.status == conversion.status and not amount_differs:
        return classed
    if amount_differs:
        price = conversion_price(
            event=conversion.event, rule=conversion.pricing_rule, revenue=row.amount
        )
        revenue, payout = price.revenue, price.payout
    else:
        revenue, payout = conversion.revenue, conversion.payout
    before = booked_money(
        status=conversion.status, revenue=conversion.revenue, payout=conversion.payout
    )
    after = booked_money(status=row.status, revenue=revenue, payout=payout)
    classed.revenue_delta, classed.payout_delta = after[0] - before[0], after[1] - before[1]
    if row.status == conversion.status:
        classed.row_class = RowClass.AMOUNT_DIFFERS
        classed.reason = "amount_change_unsupported"
        return classed
    classed.row_class = RowClass.STATUS_DIFFERS
    try:
        conversion_transition_check(from_status=conversion.status, to_status=row.status)
    except ApplicationError:
        classed.reason = "invalid_transition"
    else:
        classed.planned_action = ACTION_FOR_STATUS[row.status]
    return classed


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), _LOOKUP_CHUNK):
        yield ordered[start : start + _LOOKUP_CHUNK]


def _candidates(
    rows: list[FileRow], campaign_ids: list[int]
) -> tuple[dict[str, list[Conversion]], dict[str, list[Conversion]], set[str]]:
    """Our conversions the lines may name: by transaction id, by click id (for lines without a
    transaction id), and the click ids of ours that lines name (a `missing_here` line whose
    click we know is worth a postback)."""
    conversions = Conversion.objects.filter(campaign_id__in=campaign_ids).select_related(
        "event", "pricing_rule", "click"
    )
    by_transaction: dict[str, list[Conversion]] = defaultdict(list)
    by_click: dict[str, list[Conversion]] = defaultdict(list)
    valid = [row for row in rows if not row.error]
    for chunk in _chunks(row.transaction_id for row in valid if row.transaction_id):
        for conversion in conversions.filter(transaction_id__in=chunk):
            by_transaction[conversion.transaction_id].append(conversion)
    click_ids = [row.click_id for row in valid if row.click_id and not row.transaction_id]
    for chunk in _chunks(click_ids):
        for conversion in conversions.filter(click__click_id__in=chunk):
            by_click[conversion.click.click_id].append(conversion)
    known_clicks: set[str] = set()
    for chunk in _chunks(row.click_id for row in valid if row.click_id):
        known_clicks.update(
            Click.objects.filter(campaign_id__in=campaign_ids, click_id__in=chunk).values_list(
                "click_id", flat=True
            )
        )
    return by_transaction, by_click, known_clicks


def _class_line(
    row: FileRow,
    *,
    by_transaction: dict[str, list[Conversion]],
    by_click: dict[str, list[Conversion]],
    known_clicks: set[str],
    currencies: set[str],
    seen: dict[int, int],
) -> _Classed:
    if row.error:
        return _Classed(RowClass.INVALID, reason=f"{row.error}: {row.message}")
    if row.transaction_id:
        candidates = by_transaction.get(row.transaction_id, [])
        if row.click_id and candidates:
            candidates = [c for c in candidates if c.click.click_id == row.click_id]
            if not candidates:
                return _Classed(
                    RowClass.INVALID,
                    reason="click_mismatch: the transaction_id belongs to another click",
                )
    else:
        candidates = by_click.get(row.click_id, [])
    if row.event:
        candidates = [c for c in candidates if c.event.code == row.event]
    if len(candidates) > 1:
        return _Classed(
            RowClass.INVALID,
            reason="ambiguous_match: several conversions match; add the event column",
        )
    if not candidates:
        return _missing_here(row, known_clicks=known_clicks, currencies=currencies)
    conversion = candidates[0]
    if conversion.pk in seen:
        return _Classed(
            RowClass.INVALID,
            reason=f"duplicate_row: line {seen[conversion.pk]} names the same conversion",
        )
    seen[conversion.pk] = row.line
    if row.currency and row.currency != conversion.currency:
        return _Classed(
            RowClass.INVALID,
            reason=f"currency_mismatch: the conversion is in {conversion.currency}",
        )
    return _compare(row, conversion)


def _missing_here(row: FileRow, *, known_clicks: set[str], currencies: set[str]) -> _Classed:
    if row.currency:
        if row.currency not in currencies:
            return _Classed(
                RowClass.INVALID,
                reason="currency_mismatch: the campaigns are paid in "
                + ", ".join(sorted(currencies)),
            )
        currency = row.currency
    elif len(currencies) == 1:
        currency = next(iter(currencies))
    else:
        return _Classed(
            RowClass.INVALID,
            reason="currency_required: the campaigns are paid in several currencies",
        )
    revenue = row.amount if row.status == ConversionStatus.APPROVED and row.amount else _ZERO
    reason = "click_known" if row.click_id and row.click_id in known_clicks else "no_click"
    return _Classed(RowClass.MISSING_HERE, reason=reason, currency=currency, revenue_delta=revenue)


def _summary(rows: Iterable[ReconciliationRow]) -> dict:
    """Per class: the row count, how many a apply would act on, and the signed deltas per
    currency (strings with 4 places)."""
    classes: dict[str, dict] = {
        value: {"count": 0, "to_apply": 0, "money": {}} for value in RowClass.values
    }
    for row in rows:
        entry = classes[row.row_class]
        entry["count"] += 1
        if row.planned_action:
            entry["to_apply"] += 1
        if row.currency:
            money = entry["money"].setdefault(row.currency, {"revenue": _ZERO, "payout": _ZERO})
            money["revenue"] += row.revenue_delta
            money["payout"] += row.payout_delta
    for entry in classes.values():
        entry["money"] = {
            currency: {
                "revenue_delta": f"{money['revenue']:.4f}",
                "payout_delta": f"{money['payout']:.4f}",
            }
            for currency, money in sorted(entry["money"].items())
        }
    return {"classes": classes}


@transaction.atomic
def reconciliation_create(
    *,
    advertiser: Advertiser,
    campaign: Campaign | None,
    date_from: dt.date,
    date_to: dt.date,
    content: bytes,
    file_name: str,
    actor: User | None,
    now: dt.datetime | None = None,
) -> Reconciliation:
    """Read the advertiser's file and store the classed preview (the caller has checked that
    the actor may reconcile `advertiser`'s `campaign`, or all its campaigns when None).

    Writes the reconciliation and its rows, nothing else. Refusals: the file's
    (`tracker.reconciliation_files`), `invalid_date_range`, 400 `too_many_conversions` when the
    range holds more than `MAX_OURS` conversions of ours, 400 `no_campaigns` when the advertiser
    has none.
    """
    now = now or timezone.now()
    start, end = date_range_check(date_from=date_from, date_to=date_to)
    lines = file_rows(content)
    campaigns = (
        [campaign]
        if campaign is not None
        else list(Campaign.objects.filter(advertiser_id=advertiser.pk).order_by("pk"))
    )
    if not campaigns:
        raise ApplicationError("This advertiser has no campaign to reconcile.", code="no_campaigns")
    campaign_ids = [c.pk for c in campaigns]
    ours = Conversion.objects.filter(
        campaign_id__in=campaign_ids, created_at__gte=start, created_at__lt=end
    )
    if ours.count() > MAX_OURS:
        raise ApplicationError(
            f"The range holds more than {MAX_OURS:,} of our conversions: narrow the dates.",
            code="too_many_conversions",
        )
    reconciliation = Reconciliation.objects.create(
        advertiser=advertiser,
        campaign=campaign,
        created_by=actor,
        date_from=date_from,
        date_to=date_to,
        file_name=file_name[:255],
        file_sha256=hashlib.sha256(content).hexdigest(),
        line_count=len(lines),
        created_at=now,
    )
    by_transaction, by_click, known_clicks = _candidates(lines, campaign_ids)
    currencies = {c.currency for c in campaigns}
    seen: dict[int, int] = {}
    rows: list[ReconciliationRow] = []
    for line in lines:
        classed = _class_line(
            line,
            by_transaction=by_transaction,
            by_click=by_click,
            known_clicks=known_clicks,
            currencies=currencies,
            seen=seen,
        )
        rows.append(_row_model(reconciliation, classed, line=line))
    # Ours in the range that no line named (a set lookup: the file may name 50,000).
    in_range = ours.select_related("event", "click").order_by("created_at", "pk")
    for conversion in in_range.iterator(chunk_size=2000):
        if conversion.pk in seen:
            continue
        revenue, payout = booked_money(
            status=conversion.status, revenue=conversion.revenue, payout=conversion.payout
        )
        classed = _Classed(
            RowClass.MISSING_THERE,
            conversion=conversion,
            currency=conversion.currency,
            revenue_delta=-revenue,
            payout_delta=-payout,
        )
        rows.append(_row_model(reconciliation, classed, line=None))
    # The ORM's bulk_create spends most of a 50,000-line preview preparing values: insert the
    # plain values directly, in statements well under the driver's 65,535 parameters.
    columns = tuple(
        field.attname for field in ReconciliationRow._meta.concrete_fields if not field.primary_key
    )
    for offset in range(0, len(rows), _INSERT_CHUNK):
        chunk = rows[offset : offset + _INSERT_CHUNK]
        rows_insert(
            ReconciliationRow, columns, [[getattr(row, name) for name in columns] for row in chunk]
        )
    reconciliation.summary = _summary(rows)
    reconciliation.save(update_fields=["summary"])
    return reconciliation


def _row_model(
    reconciliation: Reconciliation, classed: _Classed, *, line: FileRow | None
) -> ReconciliationRow:
    conversion = classed.conversion
    row = ReconciliationRow(
        reconciliation=reconciliation,
        row_class=classed.row_class,
        reason=classed.reason[:255],
        currency=classed.currency,
        conversion=conversion,
        revenue_delta=classed.revenue_delta,
        payout_delta=classed.payout_delta,
        planned_action=classed.planned_action,
    )
    if line is not None:
        row.line = line.line
        row.transaction_id = line.transaction_id
        row.click_id = line.click_id
        row.event = line.event
        row.their_status = line.status
        row.their_amount = line.amount
    if conversion is not None:
        row.our_status = conversion.status
        row.our_revenue = conversion.revenue
        row.our_payout = conversion.payout
        if line is None:
            row.transaction_id = conversion.transaction_id
            row.click_id = conversion.click.click_id
            row.event = conversion.event.code
    return row


# --- applying ----------------------------------------------------------------------------------


@dataclass
class ApplyResult:
    """What one apply call did: rows applied per outcome, and the money it moved per currency
    (booked revenue and payout, signed)."""

    outcomes: dict[str, int] = field(default_factory=dict)
    money: dict[str, dict[str, Decimal]] = field(default_factory=dict)

    def add(
        self, outcome: str, *, count: int = 1, currency: str = "", revenue=_ZERO, payout=_ZERO
    ) -> None:
        if count:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + count
        if revenue or payout:
            money = self.money.setdefault(currency, {"revenue": _ZERO, "payout": _ZERO})
            money["revenue"] += revenue
            money["payout"] += payout


def reconciliation_classes_check(classes: object) -> list[str]:
    """The classes to apply, validated: a non-empty list of `APPLICABLE_CLASSES`."""
    allowed = [str(value) for value in APPLICABLE_CLASSES]
    if (
        not isinstance(classes, list)
        or not classes
        or any(not isinstance(value, str) or value not in allowed for value in classes)
    ):
        raise ApplicationError(
            f"Choose the classes to apply among: {', '.join(allowed)}.",
            code="invalid_classes",
            fields={"classes": [f"A non-empty list of: {', '.join(allowed)}."]},
        )
    return sorted(set(classes))


# The rows an apply only reports: one UPDATE marks them all (no conversion is touched).
_REPORTED = {
    RowClass.MISSING_HERE: (
        Outcome.NOT_CREATED,
        "No click of ours to attribute it to; the partner's postback creates it.",
    ),
    RowClass.AMOUNT_DIFFERS: (
        Outcome.NOT_SUPPORTED,
        "The amount of a conversion changes only when it is approved.",
    ),
}
_NOT_ALLOWED_MESSAGE = "The status machine does not allow this change."


def reconciliation_apply(
    *,
    reconciliation: Reconciliation,
    classes: list[str],
    actor: User | None,
    source: str,
    audit_source: str = AuditSource.SYSTEM,
    now: dt.datetime | None = None,
) -> ApplyResult:
    """Apply the rows of `classes` not applied yet (the caller has checked who may).

    Rows that are only reported (`missing_here`, `amount_differs`, and status differences the
    machine does not allow) are marked by one UPDATE each class, which skips rows already
    marked; each status change runs in its own transaction under its row's lock. Either way a
    row's `applied_at` is set once, so a second call with the same classes finds nothing to do
    and changes nothing. Refusals: 400 `invalid_classes`."""
    classes = reconciliation_classes_check(classes)
    now = now or timezone.now()
    result = ApplyResult()
    pending = reconciliation.rows.filter(applied_at__isnull=True)
    for row_class, (outcome, message) in _REPORTED.items():
        if row_class in classes:
            marked = pending.filter(row_class=row_class).update(
                outcome=outcome, outcome_message=message, applied_at=now
            )
            result.add(outcome, count=marked)
    if RowClass.STATUS_DIFFERS in classes:
        changes = pending.filter(row_class=RowClass.STATUS_DIFFERS)
        refused = changes.filter(planned_action="").update(
            outcome=Outcome.NOT_ALLOWED, outcome_message=_NOT_ALLOWED_MESSAGE, applied_at=now
        )
        result.add(Outcome.NOT_ALLOWED, count=refused)
        row_ids = list(
            changes.exclude(planned_action="").order_by("pk").values_list("pk", flat=True)
        )
        for row_id in row_ids:
            _row_apply(
                row_id=row_id,
                reconciliation_id=reconciliation.pk,
                actor=actor,
                source=source,
                audit_source=audit_source,
                now=now,
                result=result,
            )
    if result.outcomes:
        Reconciliation.objects.filter(pk=reconciliation.pk).update(
            status=ReconciliationStatus.APPLIED, applied_at=now
        )
        reconciliation.refresh_from_db(fields=["status", "applied_at"])
    return result


@transaction.atomic
def _row_apply(
    *,
    row_id: int,
    reconciliation_id: int,
    actor: User | None,
    source: str,
    audit_source: str,
    now: dt.datetime,
    result: ApplyResult,
) -> None:
    """Move one `status_differs` row's conversion to the file's status, if it still is what
    the preview saw; record the outcome on the row (locked, and skipped when a concurrent
    apply took it)."""
    row = (
        ReconciliationRow.objects.select_for_update()
        .filter(pk=row_id, applied_at__isnull=True)
        .first()
    )
    if row is None:
        return
    outcome, message = Outcome.CONVERSION_GONE, ""
    revenue_moved = payout_moved = _ZERO
    conversion = (
        Conversion.objects.select_for_update(of=("self",)).filter(pk=row.conversion_id or 0).first()
    )
    if conversion is None:
        pass
    elif conversion.status == row.their_status:
        outcome = Outcome.ALREADY_THEIR_STATUS
    elif conversion.status != row.our_status:
        outcome = Outcome.CHANGED_SINCE_PREVIEW
        message = f"It is {conversion.status} now; upload the file again."
    else:
        before = booked_money(
            status=conversion.status, revenue=conversion.revenue, payout=conversion.payout
        )
        amount = row.their_amount
        try:
            changed = conversion_status_change(
                conversion_id=conversion.pk,
                status=row.their_status,
                actor=actor,
                reason=f"reconciliation #{reconciliation_id}",
                source=source,
                audit_source=audit_source,
                revenue=amount if amount is not None and amount != conversion.revenue else None,
            )
        except ApplicationError as exc:
            outcome, message = exc.code, exc.message
        else:
            outcome = Outcome.STATUS_CHANGED
            after = booked_money(
                status=changed.status, revenue=changed.revenue, payout=changed.payout
            )
            revenue_moved, payout_moved = after[0] - before[0], after[1] - before[1]
    row.outcome, row.outcome_message, row.applied_at = outcome, message[:255], now
    row.save(update_fields=["outcome", "outcome_message", "applied_at"])
    result.add(outcome, currency=row.currency, revenue=revenue_moved, payout=payout_moved)


# --- bulk approve / reject of pending conversions ----------------------------------------------

BULK_ACTIONS = {"approve": ConversionStatus.APPROVED, "reject": ConversionStatus.REJECTED}
BULK_MAX = 10_000


@dataclass
class BulkResult:
    """A bulk preview or its apply: the pending conversions it acts on, the ids it skips (not
    pending), and the booked money it moves per currency."""

    action: str
    dry_run: bool
    count: int = 0
    skipped: list[int] = field(default_factory=list)
    money: dict[str, dict[str, Decimal]] = field(default_factory=dict)

    def add(self, conversion: Conversion) -> None:
        self.count += 1
        money = self.money.setdefault(conversion.currency, {"revenue": _ZERO, "payout": _ZERO})
        if self.action == "approve":
            money["revenue"] += conversion.revenue
            money["payout"] += conversion.payout


def bulk_action_check(action: object) -> str:
    if action not in BULK_ACTIONS:
        raise ApplicationError(
            "action is approve or reject.",
            code="invalid_action",
            fields={"action": ["Choose approve or reject."]},
        )
    return str(action)


def conversions_bulk(
    *,
    selection: QuerySet[Conversion],
    ids: list[int] | None,
    action: str,
    dry_run: bool,
    actor: User | None,
    source: str,
    reason: str = "",
    audit_source: str = AuditSource.SYSTEM,
) -> BulkResult:
    """Approve or reject the pending conversions of `selection` (the viewer's, filtered by the
    caller; with `ids`, exactly those, each of which must be in it: 404 otherwise, like a
    missing conversion). `dry_run` writes nothing and answers what the apply would do; the apply
    changes each conversion in its own transaction through the status machine, after checking
    under its lock that it is still pending, so a repeat changes nothing (its count is 0).
    Refusals: 400 `invalid_action`, 400 `too_many_conversions` above `BULK_MAX`."""
    action = bulk_action_check(action)
    result = BulkResult(action=action, dry_run=dry_run)
    if ids is not None:
        wanted = set(ids)
        found = dict(selection.filter(pk__in=wanted).values_list("pk", "status"))
        if len(found) != len(wanted):
            raise NotFoundError("Conversion not found.")
        result.skipped = sorted(pk for pk, status in found.items() if status != "pending")
        selection = selection.filter(pk__in=wanted)
    pending = selection.filter(status=ConversionStatus.PENDING).select_related(None).order_by("pk")
    if pending.count() > BULK_MAX:
        raise ApplicationError(
            f"More than {BULK_MAX:,} pending conversions match: narrow the filters.",
            code="too_many_conversions",
        )
    if dry_run:
        for conversion in pending.only("pk", "currency", "revenue", "payout"):
            result.add(conversion)
        return result
    for conversion_id in list(pending.values_list("pk", flat=True)):
        changed = _bulk_one(
            conversion_id=conversion_id,
            status=BULK_ACTIONS[action],
            actor=actor,
            source=source,
            reason=reason or f"bulk {action}",
            audit_source=audit_source,
        )
        if changed is not None:
            result.add(changed)
    return result


@transaction.atomic
def _bulk_one(
    *,
    conversion_id: int,
    status: str,
    actor: User | None,
    source: str,
    reason: str,
    audit_source: str,
) -> Conversion | None:
    locked = (
        Conversion.objects.select_for_update(of=("self",))
        .filter(pk=conversion_id, status=ConversionStatus.PENDING)
        .first()
    )
    if locked is None:  # decided since it was selected
        return None
    return conversion_status_change(
        conversion_id=conversion_id,
        status=status,
        actor=actor,
        reason=reason,
        source=source,
        audit_source=audit_source,
    )
