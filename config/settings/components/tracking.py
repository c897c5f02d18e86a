"""Clicks, postbacks and their forwarding: client addresses, partner keys, limits, retention."""

from config.env import env

# How many reverse proxies in front of us append to X-Forwarded-For; 0 = ignore the header.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Request header carrying the visitor's ISO country (e.g. "CF-IPCountry"); empty = not recorded.
COUNTRY_HEADER = env.str("COUNTRY_HEADER", default="")
# Where a blocked click goes when its campaign has no fallback URL; empty = a plain 404 page.
DEFAULT_FALLBACK_URL = env.str("DEFAULT_FALLBACK_URL", default="")
# Public base URL used to print tracking links and partner postback URLs.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# How long a rotated-out partner key keeps working.
PARTNER_KEY_ROTATION_GRACE_HOURS = env.int("PARTNER_KEY_ROTATION_GRACE_HOURS", default=24)
# Accepted clock skew for signed postbacks.
POSTBACK_SIGNATURE_MAX_AGE_SECONDS = env.int("POSTBACK_SIGNATURE_MAX_AGE_SECONDS", default=300)
# The keyless `GET /postback?affiliate_id=&click_id=&amount=` of the first integrations. Off unless
# turned on; when on, it is accepted only from LEGACY_POSTBACK_ALLOWED_IPS (addresses or CIDR
# ranges) or with a partner key (`key` parameter or X-Postback-Key header), and then only for
# that key's advertiser, with its allowlist and signature rules. Anything else is 403.
LEGACY_POSTBACK_ENABLED = env.bool("LEGACY_POSTBACK_ENABLED", default=False)
LEGACY_POSTBACK_ALLOWED_IPS = env.list("LEGACY_POSTBACK_ALLOWED_IPS", default=[])
# Postback bodies larger than this are refused (400 `invalid_body`) before they are read whole.
POSTBACK_MAX_BODY_BYTES = env.int("POSTBACK_MAX_BODY_BYTES", default=65536)
# The postback log keeps at most this much of each request's query string and of its body.
POSTBACK_LOG_MAX_BYTES = env.int("POSTBACK_LOG_MAX_BYTES", default=8192)
# Days the postback log keeps accepted requests, and refused ones (0 keeps them forever); a
# daily job prunes the rest.
POSTBACK_LOG_RETENTION_DAYS = env.int("POSTBACK_LOG_RETENTION_DAYS", default=365)
POSTBACK_LOG_REFUSED_RETENTION_DAYS = env.int("POSTBACK_LOG_REFUSED_RETENTION_DAYS", default=14)

# Forwarding may reach loopback/private receivers only when this is on (tests, local demos).
POSTBACK_ALLOW_PRIVATE_DESTINATIONS = env.bool("POSTBACK_ALLOW_PRIVATE_DESTINATIONS", default=False)
# How long a worker holds a claimed delivery before another worker may retry it.
FORWARDING_CLAIM_SECONDS = env.int("FORWARDING_CLAIM_SECONDS", default=60)
