import json
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from apps.breaches.exports import FORMATS
from apps.breaches.exports import breach_register_export


class Command(BaseCommand):
    help = (
        "Export the whole breach register (GDPR Art. 33(5)) to a file, in the "
        "site's default language. Prints a JSON summary on stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", required=True, choices=sorted(FORMATS))
        parser.add_argument(
            "--output", required=True, help="Path of the file to write."
        )

    def handle(self, *args, format, output, **options):
        path = Path(output)
        # The file is opened before the export, so that an unwritable path
        # fails before the export is logged and audited. A write that fails
        # later rolls the audit event back.
        stream = _open_output(path)
        with (
            stream,
            transaction.atomic(),
            translation.override(settings.LANGUAGE_CODE),
        ):
            content, count = breach_register_export(
                file_format=format, actor_label="manage.py export_breaches"
            )
            stream.write(content)
        summary = {
            "output": str(path),
            "format": format,
            "breaches": count,
            "bytes": len(content),
        }
        self.stdout.write(json.dumps(summary))


def _open_output(path: Path) -> BinaryIO:
    """Open ``path`` for writing, or raise a CommandError in the active language.

    The operating system's reason (``strerror``) stays in English, because
    Python sets only the LC_CTYPE locale at start-up. So the common causes
    get a translated message of their own.
    """
    if not path.parent.is_dir():
        raise CommandError(
            _(
                "The folder %(folder)s does not exist; create it or choose "
                "another --output."
            )
            % {"folder": path.parent}
        )
    try:
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
