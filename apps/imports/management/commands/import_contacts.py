"""Import a vendor's contact file from the command line and print its summary."""

import datetime
import json
import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.contacts.models import Audience
from apps.contacts.models import ConsentClaim
from apps.contacts.models import ContactList
from apps.imports.mapping import duplicate_header_groups
from apps.imports.mapping import header_warnings
from apps.imports.selectors import job_summary
from apps.imports.services import ImportInputError
from apps.imports.services import import_job_cancel
from apps.imports.services import import_job_check
from apps.imports.services import import_job_create
from apps.imports.services import import_job_map
from apps.imports.services import import_job_run
from apps.imports.services import import_job_start
from apps.imports.services import job_headers
from apps.imports.services import other_contact_sheets_warning
from apps.imports.services import professional_details_warning
from apps.imports.services import unnamed_columns_warning
from apps.register.models import LawfulBasis
from apps.register.models import ProcessingActivity

CONSENT_CLAIMS = {"opt-in": ConsentClaim.OPT_IN, "opt-out": ConsentClaim.OPT_OUT}


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        if ISO_DATE.match(value.strip()):
            message = _(
                "Invalid date %(value)r: no such day exists (the format is "
                "YYYY-MM-DD). Check the day and the month."
            )
        else:
            message = _("Invalid date %(value)r: write it as YYYY-MM-DD (2025-01-31).")
        raise CommandError(message % {"value": value}) from error


PROFESSIONAL_USE_MESSAGE = gettext_lazy(
    "No column of this B2B list shows a company, a SIRET or SIREN, a job title "
    "or a job function. Give --professional-use-confirmed to state that every "
    "person in the file is reached in their profession, or do not import a file "
    "of private individuals as B2B."
)


class Command(BaseCommand):
    help = (
        "Import a CSV, XLSX or ODS contact file into a vendor's list and print "
        "the job's JSON summary. The import runs in this process, not in Celery."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV, XLSX or ODS file.")
        parser.add_argument("--vendor", required=True, help="Vendor name.")
        parser.add_argument(
            "--list", required=True, dest="list_name", help="List name."
        )
        parser.add_argument(
            "--acquired-on",
            required=True,
            help="Date the list was received (YYYY-MM-DD).",
        )
        parser.add_argument(
            "--licence-until",
            help="Last day the list may be used (YYYY-MM-DD), today or later. Giving "
            "it makes the list a rental. Without it, the list is a purchase.",
        )
        parser.add_argument(
            "--collection-method", default="", help="How the vendor collected the data."
        )
        parser.add_argument(
            "--consent-claim",
            choices=sorted(CONSENT_CLAIMS),
            help="What the vendor states about consent (default: not stated).",
        )
        parser.add_argument(
            "--audience", choices=[value for value in Audience.values], default="b2b"
        )
        parser.add_argument(
            "--activity", help="Reference of the processing activity (register)."
        )
        parser.add_argument(
            "--lawful-basis",
            choices=LawfulBasis.values,
            default=LawfulBasis.LEGITIMATE_INTERESTS,
            help="Lawful basis under which the batch is held "
            "(default: legitimate_interests).",
        )
        parser.add_argument(
            "--phone-country",
            help="ISO 3166-1 alpha-2 code (BE, CH...) of the country in which "
            "phone numbers without a country code are read, unless the row's "
            "country column names another (default: PHONE_DEFAULT_REGION, now "
            f"{settings.PHONE_DEFAULT_REGION}).",
        )
        parser.add_argument(
            "--mapping",
            help="JSON object from header text or column number (0-based) to field, "
            'e.g. {"Courriel": "email", "3": "phone"}.',
        )
        parser.add_argument(
            "--sheet", default="", help="Sheet to read in an XLSX or ODS workbook."
        )
        parser.add_argument(
            "--professional-use-confirmed",
            action="store_true",
            help="State that every person in a B2B file is reached in their "
            "profession. Required when no column is mapped to a company, a "
            "SIRET or SIREN, a job title or a job function.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Apply every rule and print the counts without writing contacts.",
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("File not found: %(path)s.") % {"path": path})
        activity = None
        if options["activity"]:
            activity = ProcessingActivity.objects.filter(
                reference__iexact=options["activity"]
            ).first()
            if activity is None:
                raise CommandError(
                    _(
                        "No processing activity has the reference %(reference)r; "
                        "check the register."
                    )
                    % {"reference": options["activity"]}
                )
        licence = _date(options["licence_until"]) if options["licence_until"] else None
        job = None
        try:
            with path.open("rb") as upload:
                job = import_job_create(
                    upload=upload,
                    file_name=path.name,
                    vendor_name=options["vendor"],
                    list_name=options["list_name"],
                    acquired_on=_date(options["acquired_on"]),
                    acquisition=ContactList.Acquisition.RENTAL
                    if licence
                    else ContactList.Acquisition.PURCHASE,
                    licence_ends_on=licence,
                    collection_method=options["collection_method"],
                    consent_claim=CONSENT_CLAIMS.get(
                        options["consent_claim"], ConsentClaim.UNKNOWN
                    ),
                    audience=options["audience"],
                    processing_activity=activity,
                    lawful_basis=options["lawful_basis"],
                    phone_country=options["phone_country"],
                    sheet_name=options["sheet"],
                )
            if options["mapping"]:
                import_job_map(job=job, mapping=self._mapping(job, options["mapping"]))
            self._warn_about_mapping(job)
            if options["dry_run"]:
                import_job_check(job=job, enqueue=False)
            else:
                import_job_start(
                    job=job,
                    enqueue=False,
                    professional_use_confirmed=options["professional_use_confirmed"],
                )
        except ImportInputError as error:
            message = str(error)
            if error.field == "professional_use_confirmed":
                # The service's message asks for the web form's tick box.
                message = str(PROFESSIONAL_USE_MESSAGE)
            if job is not None:
                import_job_cancel(job=job, reason=message)
            raise CommandError(message) from error
        job = import_job_run(job_id=job.pk, dry_run=options["dry_run"])
        summary = job_summary(job)
        self.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False))
        if summary["status"] == "failed" or summary.get("dry_run", {}).get("error"):
            raise CommandError(summary["error"] or summary["dry_run"]["error"])

    def _warn_about_mapping(self, job) -> None:
        sheets_warning = other_contact_sheets_warning(job)
        if sheets_warning:
            self.stderr.write(_("Warning: %(warning)s") % {"warning": sheets_warning})
        unnamed_warning = unnamed_columns_warning(job)
        if unnamed_warning:
            self.stderr.write(_("Warning: %(warning)s") % {"warning": unnamed_warning})
        professional_warning = professional_details_warning(job)
        if professional_warning:
            self.stderr.write(
                _("Warning: %(warning)s") % {"warning": professional_warning}
            )
        warnings = header_warnings(job_headers(job), job.mapping)
        for warning in warnings:
            self.stderr.write(_("Warning: %(warning)s") % {"warning": warning})
        if warnings:
            self.stderr.write(
                _(
                    "Columns are counted from 1 above. To choose another column, "
                    'give --mapping with 0-based column numbers: {"0": "email", '
                    '"3": ""} imports column 1 as the e-mail address and ignores '
                    "column 4."
                )
            )

    def _mapping(self, job, text: str) -> dict[str, str]:
        try:
            requested = json.loads(text)
        except json.JSONDecodeError as error:
            raise ImportInputError(
                _("--mapping is not valid JSON: %(error)s.") % {"error": error}
            ) from error
        if not isinstance(requested, dict):
            raise ImportInputError(
                _('--mapping must be a JSON object: {"header": "field"}.')
            )
        headers = job_headers(job)
        groups = duplicate_header_groups(headers)
        shared = {headers[group[0]]: group for group in groups}
        mapping = dict(job.mapping)
        requested_columns: dict[str, str] = {}
        for key, field in requested.items():
            if str(key).isdigit():
                index = str(key)
            elif key in shared:
                raise ImportInputError(
                    _(
                        "--mapping names the header %(header)r, which several "
                        "columns have (0-based numbers %(numbers)s); give the "
                        "number of the column to map instead."
                    )
                    % {
                        "header": key,
                        "numbers": ", ".join(str(index) for index in shared[key]),
                    }
                )
            elif key in headers:
                index = str(headers.index(key))
            else:
                raise ImportInputError(
                    _(
                        "--mapping names the column %(header)r, which the file "
                        "does not have; its headers are: %(headers)s."
                    )
                    % {"header": key, "headers": ", ".join(headers)}
                )
            if field and requested_columns.setdefault(field, index) != index:
                raise ImportInputError(
                    _(
                        "--mapping maps the 0-based columns %(first)s and "
                        "%(second)s to %(field)r, but a field takes one column "
                        "only; keep one of them."
                    )
                    % {
                        "first": requested_columns[field],
                        "second": index,
                        "field": field,
                    }
                )
            # The given column replaces any guessed column for the same field.
            mapping = {i: f for i, f in mapping.items() if f != field or i == index}
            mapping[index] = field
        return mapping
