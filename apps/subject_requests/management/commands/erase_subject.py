import json

from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from apps.contacts.models import Contact
from apps.core.identifiers import InvalidIdentifier
from apps.core.identifiers import normalize_email
from apps.core.identifiers import normalize_phone
from apps.subject_requests.management.request_option import REQUEST_HELP
from apps.subject_requests.management.request_option import request_from_option
from apps.subject_requests.services import RequestError
from apps.subject_requests.services import request_erase

ACTOR_LABEL = "manage.py erase_subject"


class Command(BaseCommand):
    help = (
        "Erase a person for an erasure request whose identity is verified: find "
        "the contacts with this e-mail, or with this phone, no e-mail and the "
        "requester's name, delete them and everything derived from them, add "
        "the identifiers to the suppression list and print the proof of "
        "erasure as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", default="", help="The person's e-mail.")
        parser.add_argument(
            "--phone",
            default="",
            help="The person's phone number. Give it, --email or both.",
        )
        parser.add_argument(
            "--request", required=True, help=f"The erasure request: {REQUEST_HELP}"
        )

    def handle(self, *args, email, phone, request, **options):
        if not email.strip() and not phone.strip():
            raise CommandError(
                _("Give the person's --email, --phone or both: both are empty.")
            )
        subject_request = request_from_option(request)
        try:
            email = normalize_email(email) if email.strip() else ""
            phone = normalize_phone(phone) if phone.strip() else ""
        except InvalidIdentifier as error:
            raise CommandError(str(error)) from error

        _identifiers_of_request_check(subject_request, email=email, phone=phone)

        # The erasure finds the contacts of the phone itself, among those
        # without an e-mail and named like the requester: colleagues often
        # share a switchboard number.
        contact_ids = (
            list(Contact.objects.filter(email=email).values_list("pk", flat=True))
            if email
            else []
        )
        try:
            proof = request_erase(
                request=subject_request,
                actor_label=ACTOR_LABEL,
                extra_emails=[email] if email else [],
                extra_phones=[phone] if phone else [],
                extra_contact_ids=contact_ids,
            )
        except RequestError as error:
            raise CommandError(str(error)) from error

        summary = {
            "request": subject_request.pk,
            "reference": subject_request.reference,
            "proof": proof.pk,
            "erased_at": proof.erased_at.isoformat(),
            "record_counts": proof.record_counts,
            "suppression_kinds": proof.suppression_kinds,
            "suppression_counts": proof.suppression_counts,
            "suppression_added": proof.suppression_added,
        }
        self.stdout.write(json.dumps(summary, indent=2))


def _normalized(normalize, value: str) -> str:
    try:
        return normalize(value) if value.strip() else ""
    except InvalidIdentifier:
        return ""


def _identifiers_of_request_check(subject_request, *, email: str, phone: str) -> None:
    """Refuse an identifier that is neither the requester's nor a linked contact's.

    A mistyped address would otherwise erase another person, with the proof
    filed under this request.
    """
    contacts = list(subject_request.contacts.values_list("email", "phone"))
    known = {
        "email": {_normalized(normalize_email, subject_request.requester_email)}
        | {contact_email for contact_email, _phone in contacts},
        "phone": {_normalized(normalize_phone, subject_request.requester_phone)}
        | {contact_phone for _email, contact_phone in contacts},
    }
    for option, value in (("email", email), ("phone", phone)):
        if value and value not in known[option]:
            raise CommandError(
                _(
                    "--%(option)s %(value)s is neither the requester's nor that "
                    "of a contact linked to request %(ref)s, so it may be another "
                    "person's. Check it, or link the person's contacts to the "
                    "request on its page, then run the command again."
                )
                % {
                    "option": option,
                    "value": value,
                    "ref": subject_request.reference,
                }
            )
