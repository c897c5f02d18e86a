from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import PermissionDenied
from rest_framework.test import APIRequestFactory

from accounts.models import ApprovalStatus, Role
from accounts.permissions import (
    IsAdminOrApprovedAdvertiser,
    IsAdminOrApprovedAffiliate,
    IsApprovedAdvertiser,
    IsApprovedAffiliate,
    IsNetworkAdmin,
    staff_permissions,
    staff_permissions_missing,
)
from accounts.tests.factories import (
    AdminUserFactory,
    AdvertiserFactory,
    AffiliateFactory,
    StaffUserFactory,
)

pytestmark = pytest.mark.django_db


def staff_user(*permissions: str, **fields):
    return StaffUserFactory(permissions=permissions, **fields)


# A view on payout requests: staff read them with view_, act on them with change_.
PAYOUT_VIEW = SimpleNamespace(
    admin_permissions=staff_permissions("payouts.payoutrequest", POST="change")
)


def _people():
    return {
        "anonymous": AnonymousUser(),
        "admin": AdminUserFactory(),
        "staff": staff_user("payouts.view_payoutrequest", role=Role.AFFILIATE),
        "staff_without_permissions": staff_user(),
        "advertiser": AdvertiserFactory().user,
        "pending_advertiser": AdvertiserFactory(status=ApprovalStatus.PENDING).user,
        "affiliate": AffiliateFactory().user,
        "suspended_affiliate": AffiliateFactory(status=ApprovalStatus.SUSPENDED).user,
    }


EXPECTED = {
    IsNetworkAdmin: {"admin", "staff"},
    IsApprovedAdvertiser: {"advertiser"},
    IsApprovedAffiliate: {"affiliate"},
    IsAdminOrApprovedAdvertiser: {"admin", "staff", "advertiser"},
    IsAdminOrApprovedAffiliate: {"admin", "staff", "affiliate"},
}


@pytest.mark.parametrize("permission_class", list(EXPECTED))
def test_each_permission_admits_exactly_its_roles(permission_class):
    people = _people()
    allowed = set()
    for name, user in people.items():
        request = APIRequestFactory().get("/")
        request.user = user
        try:
            if permission_class().has_permission(request, view=PAYOUT_VIEW):
                allowed.add(name)
        except PermissionDenied:
            pass

    assert allowed == EXPECTED[permission_class]


def test_me_endpoint_needs_login_and_reports_the_role(api_client):
    affiliate = AffiliateFactory(user__email="me@x.test", user__name="Me")

    anonymous = api_client.get("/api/auth/me")
    api_client.force_authenticate(affiliate.user)
    me = api_client.get("/api/auth/me")

    assert anonymous.status_code == 401
    assert anonymous.json() == {
        "status": "error",
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
    }
    assert me.status_code == 200
    assert me.json() == {
        "id": affiliate.user_id,
        "email": "me@x.test",
        "name": "Me",
        "role": "affiliate",
        "status": "approved",
    }


def test_staff_permissions_name_view_for_reads_and_the_given_actions():
    assert staff_permissions("payouts.payoutrequest", POST="change", DELETE="delete") == {
        "GET": ("payouts.view_payoutrequest",),
        "HEAD": ("payouts.view_payoutrequest",),
        "OPTIONS": ("payouts.view_payoutrequest",),
        "POST": ("payouts.change_payoutrequest",),
        "DELETE": ("payouts.delete_payoutrequest",),
    }
    assert staff_permissions("tracker.click", POST=("tracker.change_click", "x.y"))["POST"] == (
        "tracker.change_click",
        "x.y",
    )


def test_missing_permissions_superuser_none_staff_each_and_undeclared_methods():
    viewer = staff_user("payouts.view_payoutrequest")
    approver = staff_user("payouts.view_payoutrequest", "payouts.change_payoutrequest")

    assert staff_permissions_missing(AdminUserFactory(), PAYOUT_VIEW, "DELETE") == []
    assert staff_permissions_missing(viewer, PAYOUT_VIEW, "GET") == []
    assert staff_permissions_missing(viewer, PAYOUT_VIEW, "HEAD") == []
    assert staff_permissions_missing(viewer, PAYOUT_VIEW, "POST") == [
        "payouts.change_payoutrequest"
    ]
    assert staff_permissions_missing(approver, PAYOUT_VIEW, "POST") == []
    # A method the view names nothing for, or a view without the attribute: superusers only.
    assert staff_permissions_missing(approver, PAYOUT_VIEW, "DELETE") is None
    assert staff_permissions_missing(approver, SimpleNamespace(), "GET") is None


def test_staff_refusal_names_the_missing_permission():
    request = APIRequestFactory().post("/")
    request.user = staff_user("payouts.view_payoutrequest")

    with pytest.raises(PermissionDenied) as refused:
        IsNetworkAdmin().has_permission(request, view=PAYOUT_VIEW)

    assert str(refused.value.detail) == (
        "Your staff account lacks the permission payouts.change_payoutrequest."
    )
    assert refused.value.detail.code == "permission_denied"
