import logging

from django.conf import settings
from django.db import OperationalError
from django.shortcuts import render

logger = logging.getLogger(__name__)


class ContentSecurityPolicyMiddleware:
    """Add Content-Security-Policy and Permissions-Policy headers to responses.

    Pages load scripts and style sheets only from this site, so injected
    markup cannot run a script or send a form elsewhere. Inline ``style``
    attributes stay allowed; inline scripts do not.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY
        self.permissions = settings.PERMISSIONS_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault("Permissions-Policy", self.permissions)
        return response


class DatabaseBusyMiddleware:
    """Return a 503 page that explains a write lock SQLite kept too long.

    SQLite runs one write at a time, so a login or a save made while a large
    import writes waits ``SQLITE_TIMEOUT`` seconds and then fails with
    "database is locked". The page explains the cause and the next step,
    instead of a bare server error.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError):
            return None
        if "database is locked" not in str(exception):
            return None
        logger.warning(
            "database busy: %s %s got a 503 response", request.method, request.path
        )
        response = render(request, "503_database_busy.html", status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


# How long a browser or client should wait before sending the request again.
RETRY_AFTER_SECONDS = 60
