"""Files that hold personal data, written for the application's user only."""

import os
from pathlib import Path

# Readable and writable by the application's user only, whatever the umask.
PRIVATE_FILE_MODE = 0o600


def private_open(path: Path, mode: str):
    """Open ``path`` for writing with ``PRIVATE_FILE_MODE``, creating or
    truncating it. ``mode`` is "w" (UTF-8 text, for CSV) or "wb"."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    # os.open applies the mode only to a new file.
    os.fchmod(descriptor, PRIVATE_FILE_MODE)
    if "b" in mode:
        return os.fdopen(descriptor, mode)
    return os.fdopen(descriptor, mode, encoding="utf-8", newline="")
