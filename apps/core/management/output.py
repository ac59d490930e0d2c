"""The output file of a management command, opened before any work is done."""

from pathlib import Path
from typing import BinaryIO

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from apps.core.files import private_open


def command_output_open(path: Path, *, private: bool = False) -> BinaryIO:
    """Open ``path`` for writing, or raise a CommandError in the active language.

    ``private`` gives the file ``PRIVATE_FILE_MODE``, for files that hold
    personal data. The operating system's reason (``strerror``) stays in
    English, because Python sets only the LC_CTYPE locale at start-up. So the
    common causes get a translated message of their own.
    """
    if path.parent.exists() and not path.parent.is_dir():
        raise CommandError(
            _("%(folder)s is a file, not a folder; choose another --output.")
            % {"folder": path.parent}
        )
    if not path.parent.is_dir():
        raise CommandError(
            _(
                "The folder %(folder)s does not exist; create it or choose "
                "another --output."
            )
            % {"folder": path.parent}
        )
    try:
        if private:
            return private_open(path, "wb")
        return path.open("wb")
    except IsADirectoryError as error:
        raise CommandError(
            _("%(path)s is a folder; give a file name in --output.") % {"path": path}
        ) from error
    except PermissionError as error:
        raise CommandError(
            _(
                "Cannot write %(path)s: permission denied. Choose a folder "
                "that this user can write to in --output."
            )
            % {"path": path}
        ) from error
    except OSError as error:
        raise CommandError(
            _(
                "Cannot write %(path)s: %(reason)s. Check that the folder is "
                "writable or choose another --output."
            )
            % {"path": path, "reason": error.strerror}
        ) from error
