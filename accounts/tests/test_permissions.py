import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.test import APIRequestFactory

from accounts.models import ApprovalStatus, Role
from accounts.permissions import (
    IsAdminOrApprovedAdvertiser,
    IsAdminOrApprovedAffiliate,
    IsApprovedAdvertiser,
    IsApprovedAffiliate,
    IsNetworkAdmin,
)
from accounts.tests.factories import (
    AdminUserFactory,
    AdvertiserFactory,
    AffiliateFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _people():
    return {
        "anonymous": AnonymousUser(),
        "admin": AdminUserFactory(),
        "staff": UserFactory(role=Role.AFFILIATE, is_staff=True),
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
        if permission_class().has_permission(request, view=None):
            allowed.add(name)

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
