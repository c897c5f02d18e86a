"""People on the network. A profile's primary key is its user's id, so an affiliate or advertiser
has one id everywhere: in the API paths, in reports and in the `{affiliate_id}` macro."""

from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    ADVERTISER = "advertiser", "Advertiser"
    AFFILIATE = "affiliate", "Affiliate"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SUSPENDED = "suspended", "Suspended"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("role", Role.ADMIN)
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AFFILIATE)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.email

    @property
    def is_network_admin(self) -> bool:
        """Django superusers and staff are admins, whatever their role field says."""
        return self.is_superuser or self.is_staff or self.role == Role.ADMIN

    @property
    def is_advertiser(self) -> bool:
        return self.role == Role.ADVERTISER and not self.is_network_admin

    @property
    def is_affiliate(self) -> bool:
        return self.role == Role.AFFILIATE and not self.is_network_admin


class PartnerProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True)
    company = models.CharField(max_length=200, blank=True)
    contact_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    website = models.URLField(blank=True)
    status = models.CharField(
        max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    status_reason = models.CharField(max_length=500, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["user_id"]

    def __str__(self) -> str:
        return self.company or self.user.name or self.user.email

    @property
    def id(self) -> int:
        return self.user_id

    @property
    def is_approved(self) -> bool:
        return self.status == ApprovalStatus.APPROVED


class Advertiser(PartnerProfile):
    class Meta(PartnerProfile.Meta):
        indexes = [models.Index(fields=["status"])]


class PayoutMethod(models.TextChoices):
    PAYPAL = "paypal", "PayPal"
    BANK = "bank", "Bank transfer (IBAN)"
    WIRE = "wire", "Bank wire"
    PAYONEER = "payoneer", "Payoneer"
    CRYPTO = "crypto", "Crypto (USDT)"
    OTHER = "other", "Other"


class Affiliate(PartnerProfile):
    traffic_sources = models.TextField(blank=True)
    payout_method = models.CharField(
        max_length=16, choices=PayoutMethod.choices, default=PayoutMethod.PAYPAL
    )
    payout_details = models.TextField(blank=True, help_text="Account, IBAN or wallet to pay to.")

    class Meta(PartnerProfile.Meta):
        indexes = [models.Index(fields=["status"])]


class ApiKeyScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Read and write"


class ApiKeyManager(APIKeyManager):
    def assign_key(self, obj: AbstractAPIKey) -> str:
        """The library's key (`<prefix>.<secret>`, stored as prefix + SHA-512 hash), with our
        own integer id instead of the library's `<prefix>.<hash>` primary key."""
        key = super().assign_key(obj)
        obj.pk = None
        return key


class ApiKey(AbstractAPIKey):
    """A user's key for scripts and servers (`Authorization: Api-Key <key>`).

    Only `prefix` and `hashed_key` are stored; the key itself is shown once, when it is made
    (accounts.api_keys). It authenticates as `user`, with that user's rights, narrowed to
    `scope`, `ip_allowlist` and `expiry_date`.
    """

    id = models.BigAutoField(primary_key=True)  # type: ignore[assignment]
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    scope = models.CharField(max_length=8, choices=ApiKeyScope.choices, default=ApiKeyScope.READ)
    ip_allowlist = models.JSONField(
        default=list, blank=True, help_text="IP addresses or CIDR ranges; empty allows any."
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[ApiKeyManager] = ApiKeyManager()

    class Meta(AbstractAPIKey.Meta):
        ordering = ("-created", "-id")  # type: ignore[assignment]
        verbose_name = "API key"
        verbose_name_plural = "API keys"
        indexes = [models.Index(fields=["user", "-created"])]
