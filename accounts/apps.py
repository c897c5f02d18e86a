from django.apps import AppConfig
from django_otp.plugins.otp_static import apps as otp_static_apps
from django_otp.plugins.otp_totp import apps as otp_totp_apps


class AccountsConfig(AppConfig):
    # The one "accounts" loads: this module holds other apps' configurations too.
    default = True
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import checks  # noqa: F401 - registers the system checks


# django-otp's device apps, under names an operator reads in the console's sidebar.
class TwoFactorAppsConfig(otp_totp_apps.DefaultConfig):
    verbose_name = "Two-factor: authenticator apps"


class TwoFactorRecoveryCodesConfig(otp_static_apps.DefaultConfig):
    verbose_name = "Two-factor: recovery codes"
