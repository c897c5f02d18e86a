from django.apps import AppConfig


class PortalConfig(AppConfig):
    """Server-rendered advertiser and affiliate portals. Depends on every other app; nothing
    depends on it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = "Portals"
