"""Account services: registration and the approval flow of advertisers and affiliates."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Advertiser, Affiliate, ApprovalStatus, Role, User
from accounts.tasks import send_partner_status_email
from core.audit import audit_record, audit_snapshot
from core.exceptions import ApplicationError
from core.models import AuditSource
from core.operator_events import operator_event_partner_signed_up
from core.tasks import enqueue_on_commit

_ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    ApprovalStatus.PENDING: {ApprovalStatus.APPROVED, ApprovalStatus.REJECTED},
    ApprovalStatus.APPROVED: {ApprovalStatus.SUSPENDED, ApprovalStatus.REJECTED},
    ApprovalStatus.REJECTED: {ApprovalStatus.APPROVED},
    ApprovalStatus.SUSPENDED: {ApprovalStatus.APPROVED, ApprovalStatus.REJECTED},
}

_STATUS_VERBS: dict[str, str] = {
    ApprovalStatus.APPROVED: "approve",
    ApprovalStatus.REJECTED: "reject",
    ApprovalStatus.SUSPENDED: "suspend",
    ApprovalStatus.PENDING: "update",
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
    profile = profile_model.objects.create(
        user=user, company=company, contact_name=name, status=status
    )
    operator_event_partner_signed_up(
        user_id=user.pk, role=role, profile_id=profile.pk, status=status
    )
    return user


def partner_profile_of(user: User) -> Advertiser | Affiliate | None:
    if user.role == Role.ADVERTISER:
        return Advertiser.objects.filter(user=user).first()
    if user.role == Role.AFFILIATE:
        return Affiliate.objects.filter(user=user).first()
    return None


@transaction.atomic
def partner_status_set(
    *,
    profile: Advertiser | Affiliate,
    status: str,
    actor: User | None,
    reason: str = "",
    source: str = AuditSource.SYSTEM,
) -> Advertiser | Affiliate:
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
    before = audit_snapshot(locked, ["status", "status_reason"])
    locked.status = status
    locked.status_reason = reason
    locked.status_changed_at = timezone.now()
    locked.status_changed_by = actor
    locked.save(update_fields=["status", "status_reason", "status_changed_at", "status_changed_by"])
    audit_record(
        actor=actor,
        source=source,
        action=_STATUS_VERBS[status],
        obj_type=type(locked),
        obj_id=locked.pk,
        obj_repr=str(locked),
        before=before,
        after=audit_snapshot(locked, ["status", "status_reason"]),
    )
    enqueue_on_commit(send_partner_status_email, user_id=locked.user_id)
    return locked


def user_password_confirm(*, user: User, password: str) -> None:
    """Re-authentication before a sensitive change (where the money goes): the logged-in user
    types its current password again, so a stolen session or a key alone cannot redirect
    payouts. Raises `reauthentication_required` (403) when `password` is empty or wrong."""
    if not password or not user.check_password(password):
        raise ApplicationError(
            "Confirm this change with your current password.",
            code="reauthentication_required",
            status=403,
            fields={"password": ["Your current password is required, and must be correct."]},
        )
