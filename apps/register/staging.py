"""Private storage of uploaded register files between preview and confirmation.

A register file names the people in charge and the organisation's processors,
so it stays out of MEDIA_ROOT, which ``config/urls.py`` serves without login
when DEBUG is on. The folder is ``REGISTER_IMPORT_ROOT`` (by default
``DATA_DIR/private/register_imports``). Files are readable by
the application's user only. A file whose preview is neither confirmed nor
cancelled is deleted once it is older than ``STAGED_FILE_MAX_AGE``, on the
next upload or by ``staged_files_purge``.
"""

import datetime
import logging
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

logger = logging.getLogger(__name__)

STAGED_FILE_MAX_AGE = datetime.timedelta(days=1)
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
# Name of the MEDIA_ROOT folder that earlier versions staged files in.
LEGACY_DIR_NAME = "register_imports"


def staging_root() -> Path:
    """Return the private folder of staged files (read on each use, for tests)."""
    return Path(settings.REGISTER_IMPORT_ROOT)


def staged_file_write(*, upload: UploadedFile, suffix: str) -> Path:
    """Write ``upload`` to a new file named by a random token, mode 0600."""
    root = staging_root()
    root.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    path = root / f"{secrets.token_hex(16)}{suffix}"
    # O_EXCL refuses to follow a link or reuse a file planted under the name.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "wb") as destination:
        for chunk in upload.chunks():
            destination.write(chunk)
    return path


def staged_file_path(stored_name: str) -> Path | None:
    """Return the staged file called ``stored_name``, or None for a name that
    is not a plain file name, such as one with a folder in it."""
    if not stored_name or Path(stored_name).name != stored_name:
        return None
    return staging_root() / stored_name


def staged_files_purge(*, older_than: datetime.datetime | None = None) -> int:
    """Delete staged files last written before ``older_than``; return the count.

    ``older_than`` defaults to ``STAGED_FILE_MAX_AGE`` ago. Files left in
    MEDIA_ROOT by earlier versions are deleted whatever their age, because
    MEDIA_ROOT may be served without login.
    """
    if older_than is None:
        older_than = timezone.now() - STAGED_FILE_MAX_AGE
    cutoff = older_than.timestamp()
    deleted = 0
    for path in _files(staging_root()):
        try:
            modified = path.stat().st_mtime
        except FileNotFoundError:
            continue  # Confirmed, cancelled or purged meanwhile.
        if modified < cutoff:
            path.unlink(missing_ok=True)
            deleted += 1
    for path in _files(Path(settings.MEDIA_ROOT) / LEGACY_DIR_NAME):
        path.unlink(missing_ok=True)
        deleted += 1
    if deleted:
        logger.info("register staged files purged: count=%d", deleted)
    return deleted


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [path for path in folder.iterdir() if path.is_file()]
