"""Secret key, debug, hosts, CSRF and the browser security headers (CSP, Permissions-Policy)."""

from config.env import env

SECRET_KEY = env.str("SECRET_KEY", default="insecure-local-development-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Outside the HTML pages a failed CSRF check answers the API's JSON error shape.
CSRF_FAILURE_VIEW = "core.api.csrf_failure"

# Every answer carries a Content-Security-Policy (django-csp) and a Permissions-Policy
# (django-permissions-policy). Pages load scripts, styles, images and fonts from this server
# only: no inline script or style anywhere (the portal, the console and the Swagger UI at
# /api/docs/ keep theirs in static files). `data:` images are the Swagger UI's and the admin's
# inline SVG icons in their style sheets.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Powerful browser features no page here uses are switched off. The clipboard keeps the
# browsers' default (this origin only): the portal's copy buttons write to it.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "browsing-topics": [],
    "camera": [],
    "display-capture": [],
    "geolocation": [],
    "gyroscope": [],
    "hid": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "serial": [],
    "usb": [],
}
