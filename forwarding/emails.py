"""What forwarding tells people by email. Each function composes one message; tasks send them."""

from django.conf import settings
from django.core.mail import EmailMessage

from core.emails import email_message_send
from forwarding.models import PostbackEndpoint


def endpoint_disabled_email(*, endpoint: PostbackEndpoint) -> EmailMessage:
    """Tell the endpoint's owner it is disabled, why, and what to do."""
    user = endpoint.affiliate.user
    lines = [
        f"Hello {user.name or user.email},",
        "",
        f"Your postback endpoint #{endpoint.pk} ({endpoint.method} {endpoint.url}) has been "
        f"disabled: {endpoint.disabled_reason}.",
        "",
        "Conversions are no longer forwarded to it. Fix the receiver, re-enable the endpoint in "
        "the portal, then replay the deliveries you missed.",
        "",
        f"{settings.PUBLIC_BASE_URL}/portal/",
    ]
    return EmailMessage(
        subject=f"Postback endpoint #{endpoint.pk} disabled",
        body="\n".join(lines),
        to=[user.email],
    )


def endpoint_disabled_email_send(*, endpoint: PostbackEndpoint) -> None:
    email_message_send(endpoint_disabled_email(endpoint=endpoint))
