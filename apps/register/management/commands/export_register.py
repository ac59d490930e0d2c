import json
from pathlib import Path

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.core.management.output import command_output_open
from apps.register.exports import FORMATS
from apps.register.exports import ExportError
from apps.register.exports import register_export
from apps.register.models import ProcessingActivity
from apps.register.selectors import activities_for_export


class _SystemUser:
    """Reads the whole register, as an operator running the command may."""

    is_authenticated = False

    def has_perm(self, permission: str) -> bool:
        return True


class Command(BaseCommand):
    help = (
        "Export the whole processing register (or one activity) to a file. "
        "Prints a JSON summary on stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", required=True, choices=sorted(FORMATS))
        parser.add_argument(
            "--output", required=True, help="Path of the file to write."
        )
        parser.add_argument(
            "--activity",
            help="Reference of a single activity to export (default: all).",
        )
        parser.add_argument(
            "--processor-record",
            action="store_true",
            help=(
                "Export only the activities with the processor role, titled as "
                "the processor's record (GDPR Art. 30(2))."
            ),
        )

    def handle(
        self, *args, format, output, activity=None, processor_record=False, **options
    ):
        pk = None
        found = None
        if activity:
            found = ProcessingActivity.objects.filter(
                reference__iexact=activity
            ).first()
            if found is None:
                raise CommandError(
                    _(
                        "No processing activity has the reference %(reference)r; "
                        "check the reference on the register page."
                    )
                    % {"reference": activity}
                )
            pk = found.pk

        activities = activities_for_export(user=_SystemUser(), pk=pk)
        if processor_record:
            if found is not None and found.role != ProcessingActivity.Role.PROCESSOR:
                raise CommandError(
                    _(
                        "%(reference)s is not carried out as a processor, so it "
                        "has no place in the processor's record; leave out "
                        "--processor-record to export it."
                    )
                    % {"reference": found.reference}
                )
            activities = activities.filter(role=ProcessingActivity.Role.PROCESSOR)
        activities = list(activities)
        path = Path(output)
        # The file is opened before the export, so that an unwritable path
        # fails before the export is audited. A write that fails later rolls
        # the audit event back.
        stream = command_output_open(path)
        with stream, transaction.atomic():
            try:
                content = register_export(
                    activities=activities,
                    file_format=format,
                    actor_label="manage.py export_register",
                    processor_record=processor_record or None,
                )
            except ExportError as error:
                raise CommandError(str(error)) from error
            stream.write(content)

        summary = {
            "output": str(path),
            "format": format,
            "activities": len(activities),
            "bytes": len(content),
        }
        self.stdout.write(json.dumps(summary))
