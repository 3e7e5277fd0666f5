"""The WSGI application (gunicorn in production): it refuses to start when a system check fails."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatcher.settings")
application = get_wsgi_application()

from dispatcher.checks import enforce_startup_checks  # noqa: E402  (needs the apps loaded)

enforce_startup_checks()
