import json
from pathlib import Path

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.utils.translation import ngettext

from apps.register.cells import ERROR
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

    def handle(self, *args, file, dry_run, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{path} does not exist or is not a file.")

        report = register_import(
            path=path, actor_label="manage.py import_register", dry_run=dry_run
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
            self.stderr.write(f"{problem.level}: {place}: {problem.message}")
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
