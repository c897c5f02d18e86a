import factory
from django.contrib.auth.models import Permission
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Advertiser, Affiliate, ApprovalStatus, Role, User
from accounts.two_factor import otp_enrolment_confirm, otp_enrolment_start

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    name = factory.Faker("name")
    role = Role.AFFILIATE
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AdminUserFactory(UserFactory):
    role = Role.ADMIN
    is_staff = True
    is_superuser = True


class StaffUserFactory(UserFactory):
    """A staff user that is not a superuser: the API lets it do what its Django permissions
    allow. `permissions=["payouts.change_payoutrequest", ...]` grants exactly those."""

    email = factory.Sequence(lambda n: f"staff{n}@example.test")
    role = Role.ADMIN
    is_staff = True

    @factory.post_generation
    def permissions(obj, create, extracted, **kwargs):
        for permission in extracted or ():
            app_label, codename = permission.split(".")
            obj.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


class AdvertiserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Advertiser

    user = factory.SubFactory(UserFactory, role=Role.ADVERTISER)
    company = factory.Faker("company")
    status = ApprovalStatus.APPROVED


class AffiliateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Affiliate

    user = factory.SubFactory(UserFactory, role=Role.AFFILIATE)
    company = factory.Faker("company")
    status = ApprovalStatus.APPROVED


# --- two-factor authentication ------------------------------------------------------------------


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the user's authenticator app shows now (or `steps_ahead` 30-second steps later),
    computed from the device's key as the app computes it."""
    return f"{totp(device.bin_key, step=device.step, digits=device.digits, drift=steps_ahead):06d}"


def two_factor_on(user: User) -> tuple[TOTPDevice, list[str]]:
    """Set two-factor authentication up for `user` as the enrolment page does; the confirmed
    device and the ten recovery codes. The code that confirmed it is spent: a login in the same
    30 seconds needs the next step's code (`totp_code(device, steps_ahead=1)`)."""
    enrolment = otp_enrolment_start(user=user)
    return otp_enrolment_confirm(user=user, token=totp_code(enrolment.device))
