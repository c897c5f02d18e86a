"""Macro injection (Hypothesis): whatever the click's sub ids and user id contain, the forwarded
URL keeps the template's scheme, host, port and path, and every value arrives unchanged."""

from urllib.parse import unquote, urlsplit

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forwarding.models import Delivery
from forwarding.services.delivery import delivery_attempt
from forwarding.tests.factories import PostbackEndpointFactory
from tests.support.http import Receiver
from tracker.tests.factories import postback_world

NASTY = "/?#@:&=%+;,{}[]\\ \t\r\n'\"<>.."
SUB_VALUE = st.text(
    alphabet=st.one_of(
        st.sampled_from(NASTY),
        # No NUL and no lone surrogates: neither can be stored in PostgreSQL text columns.
        st.characters(exclude_characters="\x00", exclude_categories=("Cs",)),
    ),
    max_size=40,
)
SUBS = ("sub1", "sub2", "sub3", "sub4", "sub5", "user_id")


@pytest.mark.django_db
def test_values_can_never_change_scheme_host_port_or_path_and_round_trip():
    with Receiver() as receiver:
        # given an endpoint template with macros in the path and the query
        world = postback_world()
        world.campaign()
        template = receiver.url("/in/{sub1}/tail?") + "&".join(f"{n}={{{n}}}" for n in SUBS)
        PostbackEndpointFactory(affiliate=world.affiliate, url=template)
        expected = urlsplit(template)
        client = Client()

        @settings(
            max_examples=60,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(values=st.fixed_dictionaries(dict.fromkeys(SUBS, SUB_VALUE)))
        def check(values):
            receiver.requests.clear()
            # when a click with those values converts and its delivery is sent
            click = world.click(**values)
            client.get(world.postback_path, {"click_id": click.click_id})
            delivery = Delivery.objects.get(payload__click_id=click.click_id)
            attempt = delivery_attempt(delivery_id=delivery.pk)

            # then the URL kept its shape and every value came through intact
            sent = urlsplit(attempt.request_url)
            assert (sent.scheme, sent.hostname, sent.port) == (
                expected.scheme,
                expected.hostname,
                expected.port,
            )
            assert sent.path.startswith("/in/")
            assert sent.path.endswith("/tail")
            assert unquote(sent.path[len("/in/") : -len("/tail")]) == values["sub1"]
            assert attempt.is_success
            (request,) = receiver.requests
            assert request.path.startswith("/in/")
            assert request.path.endswith("/tail")
            assert request.query == values

        check()
