import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import translation

from apps.breaches.exports import FORMATS
from apps.breaches.exports import breach_register_export
from apps.core.management.output import command_output_open


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
        stream = command_output_open(path)
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
