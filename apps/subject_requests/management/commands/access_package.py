import json
from pathlib import Path

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from apps.core.management.output import command_output_open
from apps.subject_requests.management.request_option import REQUEST_HELP
from apps.subject_requests.management.request_option import request_from_option
from apps.subject_requests.package import DEFAULT_LANGUAGE
from apps.subject_requests.package import LANGUAGES
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
        parser.add_argument("--request", required=True, help=REQUEST_HELP)
        parser.add_argument(
            "--output", required=True, help="Path of the ZIP file to write."
        )
        parser.add_argument(
            "--language",
            choices=LANGUAGES,
            default=DEFAULT_LANGUAGE,
            help=(
                "Language of the labels, texts and dates the person reads "
                f"(default {DEFAULT_LANGUAGE}). JSON and CSV keys stay the same."
            ),
        )
        parser.add_argument(
            "--portability",
            action="store_true",
            help="Write only the machine-readable JSON and CSV (GDPR Art. 20).",
        )

    def handle(self, *args, request, output, portability, language, **options):
        subject_request = request_from_option(request)
        path = Path(output)
        stream = command_output_open(path, private=True)
        try:
            data = request_build_package(
                request=subject_request,
                actor=None,
                actor_label=ACTOR_LABEL,
                portability=portability,
                language=language,
            )
        except RequestError as error:
            stream.close()
            path.unlink()
            raise CommandError(str(error)) from error

        with stream:
            stream.write(data)
        summary = {
            "request": subject_request.pk,
            "reference": subject_request.reference,
            "output": str(path),
            "bytes": len(data),
            "contacts": subject_request.contacts.count(),
            "portability": portability,
            "language": language,
        }
        self.stdout.write(json.dumps(summary, indent=2))
