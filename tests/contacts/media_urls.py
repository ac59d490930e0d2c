"""The project's URLs plus MEDIA_ROOT served without login.

``config/urls.py`` adds the same route when DEBUG is on. Tests run with DEBUG
off, so they use this URLconf to request files by their media URL.
"""

from django.conf import settings
from django.urls import re_path
from django.views.static import serve

from config.urls import urlpatterns as project_urlpatterns


def media_serve(request, path):
    # MEDIA_ROOT is read on each request, because tests move it.
    return serve(request, path, document_root=settings.MEDIA_ROOT)


urlpatterns = [
    *project_urlpatterns,
    re_path(r"^media/(?P<path>.*)$", media_serve),
]
