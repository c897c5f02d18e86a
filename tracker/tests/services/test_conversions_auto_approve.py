"""Auto-approval: a pending conversion is approved by the system once its campaign's delay has
passed (and forwarded once); campaigns without the setting never auto-approve."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from forwarding.models import Delivery
from forwarding.tests.factories import PostbackEndpointFactory
from tracker.models import ChangeSource, Conversion
from tracker.services.conversions import conversions_auto_approve_due
from tracker.tasks import auto_approve_conversions
from tracker.tests.factories import postback_world


def _postback(world, click, **params):
    response = Client().get(world.postback_path, {"click_id": click.click_id, **params})
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.mark.django_db
def test_pending_conversions_auto_approve_after_their_campaigns_delay_once():
    # given a campaign approving after 24 h, and an endpoint for approvals
    world = postback_world()
    world.campaign(auto_approve_after_hours=24)
    PostbackEndpointFactory(affiliate=world.affiliate, events=["approved"])
    now = dt.datetime.now(dt.UTC)
    old, young, rejected = world.click(), world.click(), world.click()
    with time_machine.travel(now - dt.timedelta(hours=25), tick=False):
        _postback(world, old, status="pending")
        _postback(world, rejected, status="pending")
        _postback(world, rejected, status="rejected")
    with time_machine.travel(now - dt.timedelta(hours=23), tick=False):
        _postback(world, young, status="pending")

    # when the job runs twice
    first = conversions_auto_approve_due(now=now)
    second = auto_approve_conversions()

    # then only the old pending conversion is approved, by the system, and forwarded once
    assert (first, second) == (1, 0)
    statuses = dict(Conversion.objects.values_list("click_id", "status"))
    assert statuses == {old.pk: "approved", young.pk: "pending", rejected.pk: "rejected"}
    approved = Conversion.objects.get(click=old)
    last = approved.history.order_by("id").last()
    assert (last.from_status, last.to_status, last.source, last.reason, last.actor) == (
        "pending",
        "approved",
        ChangeSource.SYSTEM,
        "auto_approved",
        None,
    )
    assert approved.payout == Decimal("0.0000")
    assert list(Delivery.objects.values_list("conversion_id", "event")) == [
        (approved.pk, "approved")
    ]


@pytest.mark.django_db
def test_campaigns_without_the_setting_never_auto_approve():
    world = postback_world()
    world.campaign()
    click = world.click()
    with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(days=90), tick=False):
        _postback(world, click, status="pending")

    assert conversions_auto_approve_due() == 0
    assert Conversion.objects.get().status == "pending"
