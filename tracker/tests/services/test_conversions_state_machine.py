"""Property tests: random status sequences, from partners' postbacks and from admins, agree with a
reference model of the conversion status machine."""

import uuid
from decimal import Decimal

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import AdminUserFactory
from core.exceptions import ApplicationError
from tracker.models import Conversion, ConversionHistory, EndUserPoints
from tracker.services.conversions import conversion_status_change
from tracker.tests.factories import postback_world

pytestmark = pytest.mark.django_db

STATUSES = ["pending", "approved", "rejected", "reversed"]
REFERENCE = {
    "pending": {"approved", "rejected"},
    "approved": {"reversed", "rejected"},
    "rejected": {"approved"},
    "reversed": set(),
}
PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@PROPERTY_SETTINGS
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["postback", "admin"]), st.sampled_from(STATUSES)),
        min_size=1,
        max_size=8,
    )
)
def test_random_status_sequences_agree_with_the_reference_machine(steps):
    # given a fresh click of end user U with a 5.00 revenue at 80 %: 4.0000 per approval
    world = postback_world(key=uuid.uuid4().hex)
    world.campaign()
    user_id = f"U-{world.affiliate.pk}"
    click = world.click(user_id=user_id)
    admin = AdminUserFactory()
    client = Client()
    expected_status: str | None = None
    expected_changes: list[tuple[str, str]] = []

    for source, status in steps:
        # when a partner or an admin asks for `status`
        if source == "postback" or expected_status is None:
            response = client.get(
                f"{world.postback_path}?click_id={click.click_id}&status={status}"
                "&payout=5.00&reason=because"
            )
            code = response.status_code
            result = response.json().get("result")
        else:
            conversion = Conversion.objects.get(click=click)
            try:
                conversion_status_change(
                    conversion_id=conversion.pk,
                    status=status,
                    actor=admin,
                    reason="because",
                    source="admin",
                )
                code = 200
            except ApplicationError as error:
                code = error.status
            result = None

        # then the answer is what the reference machine says
        if expected_status is None:
            if status == "reversed":
                assert code == 409
            else:
                assert (code, result) == (200, "rejected" if status == "rejected" else "created")
                expected_changes.append(("", status))
                expected_status = status
        elif status == expected_status:
            assert code == 200
            assert result in (None, "duplicate")
        elif status in REFERENCE[expected_status]:
            assert code == 200
            assert result in (None, "updated")
            expected_changes.append((expected_status, status))
            expected_status = status
        else:
            assert code == 409

    conversion = Conversion.objects.filter(click=click).first()
    if expected_status is None:
        assert conversion is None
        return
    assert conversion.status == expected_status
    history = ConversionHistory.objects.filter(conversion=conversion).order_by("id")
    assert list(history.values_list("from_status", "to_status")) == expected_changes
    points = EndUserPoints.objects.filter(user_id=user_id).values_list("points", flat=True)
    expected_points = Decimal("4.0000") if expected_status == "approved" else Decimal("0.0000")
    assert (points.first() or Decimal("0.0000")) == expected_points
    assert conversion.points_awarded == expected_points
