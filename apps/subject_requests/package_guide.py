"""The guide to the access package's machine-readable files.

The CSV and JSON files keep stable English column names and codes, so that
the software receiving a portability export can read them. The guide
explains, in the package's language, what each file contains, what each column
means and what each code stands for.
"""

from django.utils.text import capfirst
from django.utils.translation import gettext as _

from apps.contacts.models import Audience
from apps.contacts.models import ConsentClaim
from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import SuppressionEntry
from apps.imports.models import Outcome
from apps.subject_requests.models import SubjectRequest


def _files(field_labels: dict[str, str]) -> list[tuple[str, str, dict]]:
    """Return each CSV file's name, description and column meanings."""
    return [
        (
            "contacts.csv",
            _("The data we hold about you, one line per contact record."),
            {
                "contact_id": _("Number of the contact record"),
                **{field: capfirst(label) for field, label in field_labels.items()},
            },
        ),
        (
            "sources.csv",
            _("Where each contact record comes from."),
            {
                "contact_id": _("Number of the contact record"),
                "vendor": _("Company that provided the list"),
                "list": _("Name of the list"),
                "acquisition": _("Whether the list was bought or rented"),
                "acquired_on": _("Date the list was acquired"),
                "collection_method": _("How the vendor collected the data"),
                "consent_claim": _("What the vendor says about consent"),
                "row_number": _("Row of the list that held your data"),
                "imported_at": _("Date and time of the import"),
            },
        ),
        (
            "consents.csv",
            _("Your consent or objection, per channel."),
            {
                "contact_id": _("Number of the contact record"),
                "channel": _("Channel (e-mail, phone, post)"),
                "state": _("What was recorded"),
                "recorded_at": _("Date and time it was recorded"),
                "evidence": _("How it was recorded"),
            },
        ),
        (
            "requests.csv",
            _("Your earlier requests about your data."),
            {
                "reference": _("Reference of the request"),
                "kind": _("Right exercised"),
                "channel": _("How the request reached us"),
                "requester_name": _("Name given in the request"),
                "requester_email": _("E-mail address given in the request"),
                "requester_phone": _("Phone number given in the request"),
                "requester_address": _("Postal address given in the request"),
                "received_on": _("Date received"),
                "due_on": _("Date the answer was due"),
                "extension_reason": _("Why the answer took longer, if it did"),
                "status": _("State of the request"),
                "refusal_reason": _("Why the request was refused, if it was"),
                "response_sent_at": _("Date and time the answer was sent"),
                "closed_at": _("Date and time the request was closed"),
                "notes": _("Our notes on the request"),
            },
        ),
        (
            "suppression.csv",
            _(
                "Your identifiers on our suppression list, which keeps them out "
                "of every later list."
            ),
            {
                "identifier": _("E-mail address or phone number"),
                "kind": _("Kind of identifier"),
                "reason": _("Why it is on the list"),
                "listed_at": _("Date and time it was added"),
            },
        ),
        (
            "imports.csv",
            _("The rows of vendor files that held your data."),
            {
                "import_id": _("Number of the import"),
                "vendor": _("Company that provided the list"),
                "list": _("Name of the list"),
                "acquired_on": _("Date the list was acquired"),
                "uploaded_at": _("Date and time the file was uploaded"),
                "row_number": _("Row of the file"),
                "outcome": _("What the import did with the row"),
                "file_kept": _("Whether the uploaded file is still kept"),
                "values_withheld": _(
                    "Whether the row's values are withheld because they also "
                    "concern another person"
                ),
                "values": _("The row's values, as one JSON object"),
            },
        ),
    ]


def _codes() -> dict[str, list]:
    """Return the codes of each coded column, with what they stand for."""
    return {
        "audience": Audience.choices,
        "status (contacts.csv)": Contact.Status.choices,
        "acquisition": ContactList.Acquisition.choices,
        "consent_claim": ConsentClaim.choices,
        "channel (consents.csv)": ConsentRecord.Channel.choices,
        "state": ConsentRecord.State.choices,
        "kind (requests.csv)": SubjectRequest.Kind.choices,
        "channel (requests.csv)": SubjectRequest.Channel.choices,
        "status (requests.csv)": SubjectRequest.Status.choices,
        "kind (suppression.csv)": SuppressionEntry.Kind.choices,
        "reason": SuppressionEntry.Reason.choices,
        "outcome": Outcome.choices,
    }


def package_guide(field_labels: dict[str, str], *, portability: bool) -> str:
    """Return the guide as plain text, in the active language."""
    lines = [_("Guide to the files of this package"), ""]
    if not portability:
        lines += [
            _("answer.html, answer.pdf: our answer to your request, for reading."),
        ]
    lines += [
        _("data.json: everything below in one JSON file."),
        _(
            "Dates and times follow ISO 8601: 2027-01-15 for a day, "
            "2027-01-15T09:30:00+00:00 for a time with its offset from UTC."
        ),
        _("A yes-or-no column holds True or False."),
        "",
    ]
    for name, description, columns in _files(field_labels):
        lines.append(_entry(name, description))
        lines += ["  " + _entry(column, meaning) for column, meaning in columns.items()]
        lines.append("")
    lines += [_("Codes used in the files"), ""]
    for column, choices in _codes().items():
        lines.append(_entry(column, ""))
        lines += ["  " + _entry(code, capfirst(label)) for code, label in choices]
        lines.append("")
    return "\n".join(lines)


def _entry(name: str, meaning: str) -> str:
    """Return one line of the guide: a file, column or code and its meaning."""
    return (_("%(name)s: %(meaning)s") % {"name": name, "meaning": meaning}).rstrip()
