import json
from pathlib import Path

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

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
            raise CommandError(
                f"{path.name} was rejected with "
                f"{sum(1 for p in report.problems if p.level == 'error')} error(s); "
                "nothing was written."
            )
