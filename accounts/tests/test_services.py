import pytest
from django.core import mail

from accounts import services, tasks
from accounts.models import Advertiser, Affiliate, ApprovalStatus, Role, User
from accounts.tests.factories import AdminUserFactory, AffiliateFactory
from core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db


def test_user_register_creates_a_pending_affiliate_profile_with_the_same_id():
    user = services.user_register(
        email="Pub@Example.test",
        password="a-long-enough-passphrase",
        role=Role.AFFILIATE,
        name="Pub One",
    )

    affiliate = Affiliate.objects.get()
    assert user.email == "pub@example.test"
    assert affiliate.pk == user.pk
    assert affiliate.id == user.id
    assert affiliate.status == ApprovalStatus.PENDING
    assert Advertiser.objects.count() == 0


def test_user_register_refuses_admin_role_weak_password_and_duplicate_email():
    with pytest.raises(ApplicationError) as role_error:
        services.user_register(email="a@x.test", password="long-passphrase-1", role="admin")
    with pytest.raises(ApplicationError) as weak_error:
        services.user_register(email="a@x.test", password="123", role=Role.ADVERTISER)
    services.user_register(email="a@x.test", password="long-passphrase-1", role=Role.ADVERTISER)
    with pytest.raises(ApplicationError) as taken_error:
        services.user_register(email="A@x.test", password="long-passphrase-1", role=Role.AFFILIATE)

    assert role_error.value.code == "invalid_role"
    assert weak_error.value.code == "weak_password"
    assert taken_error.value.code == "email_taken"
    assert taken_error.value.status == 409
    assert User.objects.count() == 1


def test_partner_status_set_approves_and_emails_after_commit(django_capture_on_commit_callbacks):
    admin = AdminUserFactory()
    affiliate = AffiliateFactory(status=ApprovalStatus.PENDING, user__email="pub@x.test")

    with django_capture_on_commit_callbacks() as callbacks:
        services.partner_status_set(profile=affiliate, status=ApprovalStatus.APPROVED, actor=admin)
        assert mail.outbox == []  # nothing leaves before the commit
    # the one callback enqueues the email task; run its body as the worker would
    assert len(callbacks) == 1
    tasks.send_partner_status_email(user_id=affiliate.pk)

    affiliate.refresh_from_db()
    assert affiliate.status == ApprovalStatus.APPROVED
    assert affiliate.status_changed_by == admin
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["pub@x.test"]
    assert mail.outbox[0].subject == "Your ClickLedger account: approved"
    assert "has been approved" in mail.outbox[0].body


def test_partner_status_set_same_status_is_a_no_op_and_bad_transition_is_refused(
    django_capture_on_commit_callbacks,
):
    affiliate = AffiliateFactory(status=ApprovalStatus.APPROVED)

    with django_capture_on_commit_callbacks() as callbacks:
        services.partner_status_set(profile=affiliate, status=ApprovalStatus.APPROVED, actor=None)
    with pytest.raises(ApplicationError) as error:
        services.partner_status_set(profile=affiliate, status=ApprovalStatus.PENDING, actor=None)

    assert callbacks == []
    assert error.value.code == "invalid_transition"
    assert error.value.status == 409
