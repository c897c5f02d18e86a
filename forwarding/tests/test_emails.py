"""`forwarding.emails`: the exact text of the endpoint-disabled email."""

import pytest

from forwarding.emails import endpoint_disabled_email
from forwarding.tests.factories import PostbackEndpointFactory

pytestmark = pytest.mark.django_db


def test_the_disabled_email_names_the_endpoint_the_reason_and_what_to_do(settings):
    endpoint = PostbackEndpointFactory(
        affiliate__user__email="pub@x.test",
        affiliate__user__name="Pat",
        url="https://receiver.example/pb?cid={click_id}",
        is_active=False,
        disabled_reason="the receiver answered 410 Gone",
    )

    email = endpoint_disabled_email(endpoint=endpoint)

    assert (email.subject, email.to, email.cc, email.bcc, email.from_email) == (
        f"Postback endpoint #{endpoint.pk} disabled",
        ["pub@x.test"],
        [],
        [],
        settings.DEFAULT_FROM_EMAIL,
    )
    assert email.body == (
        "Hello Pat,\n"
        "\n"
        f"Your postback endpoint #{endpoint.pk} (GET https://receiver.example/pb?cid={{click_id}})"
        " has been disabled: the receiver answered 410 Gone.\n"
        "\n"
        "Conversions are no longer forwarded to it. Fix the receiver, re-enable the endpoint in "
        "the portal, then replay the deliveries you missed.\n"
        "\n"
        "http://testserver/portal/"
    )
