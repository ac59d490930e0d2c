"""Private storage of uploaded vendor files, outside MEDIA_ROOT.

MEDIA_ROOT may be served as-is (``config/urls.py`` does so when DEBUG is on,
and reverse proxies often do), and an uploaded list is full of personal data.
The folder is ``IMPORT_UPLOAD_ROOT`` when the setting exists, otherwise
``DATA_DIR/private/imports``. It is read on each use, so tests can move it.
"""

import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible


def upload_root() -> Path:
    configured = getattr(settings, "IMPORT_UPLOAD_ROOT", None)
    if configured:
        return Path(configured)
    return Path(settings.DATA_DIR) / "private" / "imports"


@deconstructible(path="apps.imports.storage.PrivateUploadStorage")
class PrivateUploadStorage(FileSystemStorage):
    """File storage in ``upload_root()``, with no public URL.

    Files and folders are readable by the application's user only.
    """

    def __init__(self):
        super().__init__(
            base_url=None, file_permissions_mode=0o600, directory_permissions_mode=0o700
        )

    @property
    def base_location(self):
        return str(upload_root())

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Uploaded import files have no public URL.")
