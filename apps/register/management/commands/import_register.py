import json
from pathlib import Path

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.utils.translation import ngettext

from apps.register.cells import ERROR
from apps.register.imports import ImportConfirmation
from apps.register.imports import register_import


class Command(BaseCommand):
    help = (
        "Import a register spreadsheet (this register's XLSX, ODS or CSV export, "
        "or the CNIL template filled in). Prints the report as JSON on stdout; "
        "problems go to stderr and any error makes the exit code non-zero."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the .xlsx, .ods or .csv file.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and report what would change, writing nothing.",
        )
        parser.add_argument(
            "--allow-removals",
            action="store_true",
            help=(
                "Delete the rows of an activity's parts (processors, recipients, "
                "transfers, retention rules...) that the file lacks. Without it "
                "they are kept and listed with outcome 'kept'."
            ),
        )
        parser.add_argument(
            "--overwrite-newer",
            action="store_true",
            help=(
                "Import the activities changed in Registre after the file's "
                "export date, undoing those changes. When the file has no "
                "readable export date, this applies to every existing activity "
                "that the file changes. Without it they are skipped with "
                "outcome 'skipped'."
            ),
        )

    def handle(self, *args, file, dry_run, allow_removals, overwrite_newer, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{path} does not exist or is not a file.")

        report = register_import(
            path=path,
            actor_label="manage.py import_register",
            dry_run=dry_run,
            confirmation=ImportConfirmation(
                overwrite_all=overwrite_newer, remove_missing_all=allow_removals
            ),
        )
        self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        for problem in report.problems:
            place = ", ".join(
                part
                for part in (
                    problem.sheet,
                    f"row {problem.row}" if problem.row else "",
                    f"column {problem.column}" if problem.column else "",
                )
                if part
            )
            prefix = f"{problem.level}: {place}" if place else problem.level
            self.stderr.write(f"{prefix}: {problem.message}")
        if report.has_errors:
            errors = sum(1 for problem in report.problems if problem.level == ERROR)
            raise CommandError(
                ngettext(
                    "%(file)s was rejected with %(count)d error; nothing was written.",
                    "%(file)s was rejected with %(count)d errors; nothing was written.",
                    errors,
                )
                % {"file": path.name, "count": errors}
            )
