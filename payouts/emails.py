"""The emails of payout decisions and payout method changes: what they say and to whom.

Each email is a function returning the `EmailMessage` (tests read it without a mail server)
and a `_send` that hands it to `core.emails.email_message_send`; `payouts.tasks` loads the rows
and calls the `_send`. Amounts are written by `core.formatting` in the default locale, whoever's
request caused the email.
"""

from datetime import datetime

from django.core.mail import EmailMessage

from accounts.models import User
from core.emails import email_message_send
from core.formatting import DEFAULT_LOCALE, format_money
from payouts.models import PayoutEvent, PayoutStatus

_DECISION_TEXT = {
    PayoutStatus.APPROVED: "has been approved and will be paid soon.",
    PayoutStatus.REJECTED: "has been rejected; the amount is back in your available balance.",
    PayoutStatus.PAID: "has been paid.",
}
# The events that get an email: an affiliate is not told about its own request.
PAYOUT_DECISIONS = frozenset(_DECISION_TEXT)


def payout_decision_email(*, event: PayoutEvent) -> EmailMessage:
    """Tell the affiliate one decision on its payout request: the recorded `event` (one of
    `PAYOUT_DECISIONS`), whatever the payout's status is now."""
    payout = event.payout
    user = payout.affiliate.user
    lines = [
        f"Hello {user.name or user.email},",
        "",
        f"Your payout request #{payout.pk} of "
        f"{format_money(payout.amount, payout.currency, locale=DEFAULT_LOCALE)} "
        f"{_DECISION_TEXT[PayoutStatus(event.to_status)]}",
    ]
    if event.to_status == PayoutStatus.PAID and payout.reference:
        lines += ["", f"Payment reference: {payout.reference}"]
    if event.to_status == PayoutStatus.REJECTED and event.note:
        lines += ["", f"Reason: {event.note}"]
    return EmailMessage(
        subject=f"Your ClickLedger payout #{payout.pk}: {event.to_status}",
        body="\n".join(lines),
        to=[user.email],
    )


def payout_decision_email_send(*, event: PayoutEvent) -> None:
    email_message_send(payout_decision_email(event=event))


def payout_method_changed_email(
    *, user: User, action: str, summary: str, changed_at: str
) -> EmailMessage:
    """Tell an affiliate that its payout details changed, so that a change it did not make (a
    stolen session redirecting its money) is noticed. `summary` is already masked."""
    when = datetime.fromisoformat(changed_at).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Hello {user.name or user.email},",
        "",
        f"A payout method of your ClickLedger account was {action} on {when}:",
        "",
        f"    {summary}",
        "",
        "If you did not make this change, change your password now and contact the network: "
        "payouts go where your payout methods say.",
    ]
    return EmailMessage(
        subject=f"Your ClickLedger payout method was {action}",
        body="\n".join(lines),
        to=[user.email],
    )


def payout_method_changed_email_send(
    *, user: User, action: str, summary: str, changed_at: str
) -> None:
    email_message_send(
        payout_method_changed_email(
            user=user, action=action, summary=summary, changed_at=changed_at
        )
    )
