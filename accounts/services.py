"""Account services: registration and the approval flow of advertisers and affiliates."""

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Advertiser, Affiliate, ApprovalStatus, PartnerProfile, Role, User
from core.exceptions import ApplicationError
from core.tasks import enqueue_on_commit

_ALLOWED_TRANSITIONS = {
    ApprovalStatus.PENDING: {ApprovalStatus.APPROVED, ApprovalStatus.REJECTED},
    ApprovalStatus.APPROVED: {ApprovalStatus.SUSPENDED, ApprovalStatus.REJECTED},
    ApprovalStatus.REJECTED: {ApprovalStatus.APPROVED},
    ApprovalStatus.SUSPENDED: {ApprovalStatus.APPROVED, ApprovalStatus.REJECTED},
}


@transaction.atomic
def user_register(
    *,
    email: str,
    password: str,
    role: str,
    name: str = "",
    company: str = "",
    status: str = ApprovalStatus.PENDING,
) -> User:
    """Create an advertiser or affiliate with its profile; new partners wait for an admin."""
    if role not in (Role.ADVERTISER, Role.AFFILIATE):
        raise ApplicationError(
            "Role must be affiliate or advertiser.",
            code="invalid_role",
            fields={"role": ["Choose affiliate or advertiser."]},
        )
    email = email.strip().lower()
    candidate = User(email=email, name=name, role=role)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise ApplicationError(
            "The password is too weak.", code="weak_password", fields={"password": exc.messages}
        ) from exc
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, name=name, role=role)
    except IntegrityError as exc:
        raise ApplicationError(
            "An account with this email already exists.",
            code="email_taken",
            status=409,
            fields={"email": ["Already registered."]},
        ) from exc
    profile_model = Advertiser if role == Role.ADVERTISER else Affiliate
    profile_model.objects.create(user=user, company=company, contact_name=name, status=status)
    return user


def partner_profile_of(user: User) -> PartnerProfile | None:
    if user.role == Role.ADVERTISER:
        return Advertiser.objects.filter(user=user).first()
    if user.role == Role.AFFILIATE:
        return Affiliate.objects.filter(user=user).first()
    return None


@transaction.atomic
def partner_status_set(
    *, profile: PartnerProfile, status: str, actor: User | None, reason: str = ""
) -> PartnerProfile:
    """Approve, reject or suspend an advertiser or affiliate, and email them after commit.

    Setting the status a profile already has changes nothing and sends nothing.
    """
    locked = type(profile).objects.select_for_update().get(pk=profile.pk)
    if locked.status == status:
        return locked
    if status not in _ALLOWED_TRANSITIONS.get(locked.status, set()):
        raise ApplicationError(
            f"Cannot move from {locked.status} to {status}.", code="invalid_transition", status=409
        )
    locked.status = status
    locked.status_reason = reason
    locked.status_changed_at = timezone.now()
    locked.status_changed_by = actor
    locked.save(update_fields=["status", "status_reason", "status_changed_at", "status_changed_by"])
    from accounts.tasks import send_partner_status_email

    enqueue_on_commit(send_partner_status_email, user_id=locked.user_id)
    return locked


_STATUS_TEXT = {
    ApprovalStatus.APPROVED: "has been approved. You can now log in and start working.",
    ApprovalStatus.REJECTED: "has been rejected.",
    ApprovalStatus.SUSPENDED: "has been suspended. Tracking and payouts are on hold.",
    ApprovalStatus.PENDING: "is waiting for review.",
}


def partner_status_email_send(*, user_id: int) -> None:
    user = User.objects.get(pk=user_id)
    profile = partner_profile_of(user)
    if profile is None:
        return
    role = "advertiser" if user.role == Role.ADVERTISER else "affiliate"
    lines = [
        f"Hello {user.name or user.email},",
        "",
        f"Your ClickLedger {role} account {_STATUS_TEXT[ApprovalStatus(profile.status)]}",
    ]
    if profile.status_reason:
        lines += ["", f"Reason: {profile.status_reason}"]
    if profile.status == ApprovalStatus.APPROVED:
        lines += ["", f"Log in at {settings.PUBLIC_BASE_URL}/portal/"]
    send_mail(
        subject=f"Your ClickLedger account: {profile.status}",
        message="\n".join(lines),
        from_email=None,
        recipient_list=[user.email],
    )
