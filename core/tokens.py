import secrets


def token_urlsafe(nbytes: int) -> str:
    """A URL-safe random token of `nbytes` random bytes (8 bits each)."""
    return secrets.token_urlsafe(nbytes)


def new_click_id() -> str:
    """A click id: 128 random bits, 22 URL-safe characters."""
    return secrets.token_urlsafe(16)


def new_link_token() -> str:
    return secrets.token_urlsafe(12)


def new_partner_key() -> str:
    """At least 128 random bits; 24 bytes = 192 bits, 32 characters."""
    return secrets.token_urlsafe(24)


def new_signing_secret() -> str:
    return secrets.token_urlsafe(32)
