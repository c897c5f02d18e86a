"""`conversion_status_change`: the admin's and advertiser's side of the status machine."""

from decimal import Decimal

import pytest
from django.test import Client

from accounts.tests.factories import AdminUserFactory
from campaigns.models import Cap, CapMetric, CapPeriod, CapScope
from core.exceptions import ApplicationError
from tracker.models import Conversion, ConversionHistory, EndUserPoints
from tracker.services.conversions import conversion_status_change
from tracker.tests.factories import postback_world

pytestmark = pytest.mark.django_db


def _approved_conversion(world, *, user_id: str = "U1", payout: str = "5.00") -> Conversion:
    click = world.click(user_id=user_id)
    Client().get(f"{world.postback_path}?click_id={click.click_id}&payout={payout}")
    return Conversion.objects.get(click=click)


def test_admin_reverses_with_reason_and_points_are_taken_back():
    world = postback_world()
    world.campaign()
    conversion = _approved_conversion(world)
    admin = AdminUserFactory()

    changed = conversion_status_change(
        conversion_id=conversion.pk,
        status="reversed",
        actor=admin,
        reason="chargeback",
        source="admin",
    )

    assert (changed.status, changed.reason, changed.points_awarded) == (
        "reversed",
        "chargeback",
        Decimal("0.0000"),
    )
    assert EndUserPoints.objects.get(user_id="U1").points == Decimal("0.0000")
    last = ConversionHistory.objects.filter(conversion=conversion).order_by("id").last()
    assert (last.from_status, last.to_status, last.actor, last.source, last.reason) == (
        "approved",
        "reversed",
        admin,
        "admin",
        "chargeback",
    )


def test_same_status_changes_nothing_and_refused_transitions_are_409():
    world = postback_world()
    world.campaign()
    conversion = _approved_conversion(world)

    same = conversion_status_change(
        conversion_id=conversion.pk, status="approved", actor=None, reason="", source="admin"
    )
    with pytest.raises(ApplicationError) as to_pending:
        conversion_status_change(
            conversion_id=conversion.pk, status="pending", actor=None, reason="", source="admin"
        )
    with pytest.raises(ApplicationError) as unknown_status:
        conversion_status_change(
            conversion_id=conversion.pk, status="paid", actor=None, reason="", source="admin"
        )
    with pytest.raises(ApplicationError) as missing:
        conversion_status_change(
            conversion_id=conversion.pk + 1000,
            status="rejected",
            actor=None,
            reason="",
            source="admin",
        )

    assert same.status == "approved"
    assert (to_pending.value.status, to_pending.value.code) == (409, "invalid_transition")
    assert (unknown_status.value.status, unknown_status.value.code) == (400, "invalid_status")
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    assert ConversionHistory.objects.filter(conversion=conversion).count() == 1


def test_override_reapproves_a_capped_conversion_with_a_reason_bypassing_the_cap():
    # given a total cap of 1: the second conversion was recorded rejected, cap_reached
    world = postback_world()
    campaign = world.campaign()
    Cap.objects.create(
        campaign=campaign,
        scope=CapScope.CAMPAIGN,
        period=CapPeriod.TOTAL,
        metric=CapMetric.CONVERSIONS,
        limit=Decimal("1"),
    )
    _approved_conversion(world, user_id="U1")
    capped = _approved_conversion(world, user_id="U2")
    assert (capped.status, capped.reason) == ("rejected", "cap_reached")

    with pytest.raises(ApplicationError) as without_reason:
        conversion_status_change(
            conversion_id=capped.pk, status="approved", actor=None, reason=" ", source="advertiser"
        )
    approved = conversion_status_change(
        conversion_id=capped.pk,
        status="approved",
        actor=None,
        reason="extra budget agreed",
        source="advertiser",
    )

    assert without_reason.value.code == "reason_required"
    assert (approved.status, approved.reason) == ("approved", "extra budget agreed")
    assert approved.approved_at is not None
    assert EndUserPoints.objects.get(user_id="U2").points == Decimal("4.0000")
