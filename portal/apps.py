from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    """Server-rendered advertiser and affiliate portals. Depends on every other app; nothing
    depends on it."""

    default = True  # portal.apps also holds the admin's config (below)
    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = "Portals"


class ConsoleAdminConfig(admin_apps.AdminConfig):
    """`django.contrib.admin` with the operator console as its default site: listed in
    INSTALLED_APPS instead of "django.contrib.admin"."""

    default = False
    default_site = "portal.admin_site.ConsoleAdminSite"
