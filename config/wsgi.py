"""The WSGI entry point (gunicorn `config.wsgi`).

Production settings unless DJANGO_SETTINGS_MODULE says otherwise: a server started without it
must never serve debug pages or forward to private addresses. The quickstart sets the local
settings explicitly.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()

# Compile the user-agent rules in each web process now, not on its first click (about 0.5 s).
from tracker.devices import device_parser_warm  # noqa: E402 - needs the apps loaded above

device_parser_warm()
