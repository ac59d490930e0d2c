"""Resume or roll back an import job from the command line, as its page does."""

import json

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from apps.imports.models import ImportJob
from apps.imports.selectors import job_summary
from apps.imports.services import ImportInputError
from apps.imports.services import import_job_cancel
from apps.imports.services import import_job_resume
from apps.imports.services import import_job_run

RESUME = "resume"
ROLL_BACK = "roll-back"


class Command(BaseCommand):
    help = (
        "Resume a failed or stalled import job in this process, or roll back "
        "one that has not finished (its staged rows and file are deleted), and "
        "print the job's JSON summary."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=[RESUME, ROLL_BACK])
        parser.add_argument("job", type=int, help="Number of the import job.")

    def handle(self, *args, **options):
        job = ImportJob.objects.filter(pk=options["job"]).first()
        if job is None:
            raise CommandError(
                f"No import job has the number {options['job']}; the import list "
                "gives the numbers."
            )
        try:
            if options["action"] == RESUME:
                import_job_resume(job=job, enqueue=False)
                job = import_job_run(job_id=job.pk)
            else:
                job = import_job_cancel(job=job)
        except ImportInputError as error:
            raise CommandError(str(error)) from error
        summary = job_summary(job)
        self.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False))
        if summary["status"] == "failed":
            raise CommandError(summary["error"])
