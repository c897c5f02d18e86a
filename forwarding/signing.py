"""Signing forwarded events per Standard Webhooks, and the endpoints' signing secrets.

Headers: `webhook-id` (the delivery's event id), `webhook-timestamp` (unix seconds of the attempt)
and `webhook-signature: v1,<base64 HMAC-SHA256(key, signed)>` with signed =
f"{id}.{ts}.{body}", where key is the base64-decoded part of the `whsec_` secret; GET requests
sign the empty body. During 24 h after a rotation both the new and the previous secret sign
(space-separated signatures).
"""

import base64
import datetime as dt
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret
SECRET_BYTES = 32
SECRET_ROTATION_GRACE = dt.timedelta(hours=24)


def endpoint_secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def webhook_signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256>` of `f"{msg_id}.{timestamp}.{body}"` (Standard Webhooks)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")
