"""Outgoing email: the backend, the sender, and who receives operational alerts."""

from config.env import env

# EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, ... from one URL (django-environ's email_url).
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="ClickLedger <noreply@clickledger.local>"
)
# Who receives operational alerts (ledger reconciliation): "Name <email>,Name2 <email2>".
ADMINS = [
    (address.split("<")[0].strip(), address.split("<")[-1].rstrip(">").strip())
    for address in env.list("ADMINS", default=[])
]
