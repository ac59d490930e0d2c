"""The WSGI entry point that gunicorn serves.

A server started on this module is a production server unless REGISTRE_ENV
(in the environment or in .env) sets otherwise, so that the production checks
of ``config.settings`` reject the repository's development keys there.
``runserver`` imports this module after loading the settings, which it leaves
as they were.
"""

import os
from pathlib import Path

import environ
from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if not settings.configured:
    environ.Env.read_env(Path(__file__).resolve().parent.parent / ".env")
    if not os.environ.get("REGISTRE_ENV"):
        os.environ["REGISTRE_ENV"] = "production"

application = get_wsgi_application()
