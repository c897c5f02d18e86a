"""The WSGI entry point (gunicorn `config.wsgi`).

Production settings unless DJANGO_SETTINGS_MODULE says otherwise: a server started without it
must never serve debug pages or forward to private addresses. The quickstart sets the local
settings explicitly.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
