import factory
from django.contrib.auth.models import Permission

from accounts.models import Advertiser, Affiliate, ApprovalStatus, Role, User

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
