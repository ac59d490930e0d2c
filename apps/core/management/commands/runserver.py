"""Django's development server, which returns 404 for a static file path
leading out of the static folders.

``django.contrib.staticfiles`` lets ``SuspiciousFileOperation`` escape its
handler for a path such as ``/static/../x`` (Django 5.2), which then returns
500 with a traceback in the log. The file is rejected either way.
"""

from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.contrib.staticfiles.management.commands.runserver import (
    Command as StaticFilesRunserverCommand,
)
from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404


class OutsidePathRejectingStaticFilesHandler(StaticFilesHandler):
    def serve(self, request):
        try:
            return super().serve(request)
        except SuspiciousFileOperation as error:
            raise Http404("Static file not found.") from error


class Command(StaticFilesRunserverCommand):
    def get_handler(self, *args, **options):
        handler = super().get_handler(*args, **options)
        if isinstance(handler, StaticFilesHandler):
            return OutsidePathRejectingStaticFilesHandler(handler.application)
        return handler
