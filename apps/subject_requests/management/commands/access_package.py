import json
from pathlib import Path

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.services import RequestError
from apps.subject_requests.services import request_build_package

ACTOR_LABEL = "manage.py access_package"


class Command(BaseCommand):
    help = (
        "Write the access package (ZIP with HTML, PDF, JSON and CSV) of a request "
        "whose identity is verified, and print a JSON summary. The file holds "
        "personal data: hand it over, then delete it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--request", type=int, required=True, help="Request id.")
        parser.add_argument(
            "--output", required=True, help="Path of the ZIP file to write."
        )
        parser.add_argument(
            "--portability",
            action="store_true",
            help="Write only the machine-readable JSON and CSV (GDPR Art. 20).",
        )

    def handle(self, *args, request, output, portability, **options):
        subject_request = SubjectRequest.objects.filter(pk=request).first()
        if subject_request is None:
            raise CommandError(
                f"Subject request {request} was not found; check the id in the "
                "request list."
            )
        path = Path(output)
        if not path.parent.is_dir():
            raise CommandError(
                f"The folder {path.parent} does not exist; create it or choose "
                "another --output."
            )
        try:
            data = request_build_package(
                request=subject_request,
                actor=None,
                actor_label=ACTOR_LABEL,
                portability=portability,
            )
        except RequestError as error:
            raise CommandError(str(error)) from error

        path.write_bytes(data)
        summary = {
            "request": subject_request.pk,
            "output": str(path),
            "bytes": len(data),
            "contacts": subject_request.contacts.count(),
            "portability": portability,
        }
        self.stdout.write(json.dumps(summary, indent=2))
