"""The access package (GDPR Art. 15) and its portability subset (Art. 20).

``package_content`` gathers the data and every item Art. 15(1) lists: the
purposes and lawful basis, the categories of data, the recipients, the
retention period, the source when the data was not collected from the person,
the transfers outside the EU with their safeguards (Art. 15(2)), the
statement on automated decision-making (Art. 15(1)(h)), and the person's rights
including the right to complain to the CNIL. Beside the contacts, it covers
the other sources the search looks in (``package_sources``): earlier requests,
the suppression list and the rows of vendor files.
``package_zip`` writes it as HTML and PDF for people, JSON and CSV for machines.
"""

import io
import json
import zipfile

from django.db import models
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import SimpleDocTemplate
from reportlab.platypus import Spacer

from apps.breaches.models import BreachRecipient
from apps.contacts.models import CampaignExport
from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import SuppressionEntry
from apps.core.dates import format_date
from apps.core.dates import format_datetime
from apps.core.exports import csv_bytes
from apps.core.models import Organisation
from apps.core.pdf import pdf_fonts
from apps.core.pdf import pdf_paragraph
from apps.imports.models import RowResult
from apps.register.models import LawfulBasis
from apps.register.models import RetentionRule
from apps.register.notice import CNIL_COMPLAINT
from apps.register.notice import activity_recipients
from apps.register.notice import activity_transfers
from apps.register.notice import rights_text
from apps.subject_requests import package_sources
from apps.subject_requests.labels import sentence_end
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.package_guide import package_guide

# Languages of the package's human-readable part. French is the default, as
# for the interface and every export of Registre.
LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"

CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "job_title",
    "job_function",
    "company",
    "company_domain",
    "company_registration",
    "postcode",
    "city",
    "country",
    "audience",
    "status",
    "collected_at",
    "last_contact_at",
    "art14_notice_sent_at",
    "last_messaged_at",
)

# Data categories, as the register names them, and the contact fields in each.
CATEGORY_FIELDS = {
    "identity": ("first_name", "last_name"),
    "contact_details": ("email", "phone"),
    "professional_life": (
        "job_title",
        "job_function",
        "company",
        "company_domain",
        "company_registration",
    ),
    "location": ("postcode", "city", "country"),
}


def _category_labels():
    return {
        "identity": _("Identity (first and last name)"),
        "contact_details": _("Contact details (e-mail, phone)"),
        "professional_life": _("Professional life (job, company)"),
        "location": _("Location (postcode, city, country)"),
    }


def _text(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def automated_decisions_text(purposes: str) -> str:
    """Return the statement on automated decision-making (GDPR Art. 15(1)(h)).

    Registre takes no decision about a person by automated means: staff choose
    the segments and act on every request, so the statement is the same for
    every activity.
    """
    statement = _(
        "No decision based solely on automated processing, including profiling, "
        "is made about you (GDPR Art. 22): your data is used only by our staff."
    )
    if not purposes:
        return statement
    return statement + " " + _("It is used for: %(purposes)s") % {"purposes": purposes}


def _processing(contact) -> dict:
    activity = contact.processing_activity
    lawful_basis = contact.lawful_basis or (activity.lawful_basis if activity else "")
    if activity is None:
        return {
            "activity": "",
            "purposes": "",
            "lawful_basis": lawful_basis,
            "lawful_basis_label": contact.get_lawful_basis_display()
            if lawful_basis
            else "",
            "legitimate_interest": "",
            "recipients": [],
            "transfers": [],
            "retention": [],
            "automated_decisions": automated_decisions_text(""),
        }
    rules = list(activity.retention_rules.all())
    contact_rules = [
        r for r in rules if r.record_type == RetentionRule.RecordType.CONTACT
    ]
    return {
        "activity": str(activity),
        "purposes": activity.purposes,
        "lawful_basis": lawful_basis,
        "lawful_basis_label": str(LawfulBasis(lawful_basis).label)
        if lawful_basis
        else "",
        "legitimate_interest": activity.legitimate_interest,
        "recipients": activity_recipients(activity),
        "transfers": activity_transfers(activity),
        "retention": [rule.describe() for rule in (contact_rules or rules)],
        "automated_decisions": automated_decisions_text(activity.purposes),
    }


def _contact_content(contact) -> dict:
    labels = _category_labels()
    data = {field: _text(getattr(contact, field)) for field in CONTACT_FIELDS}
    activity = contact.processing_activity
    categories = (
        [category.label for category in activity.data_categories.all()]
        if activity
        else []
    )
    if not categories:
        # The register lists no category for the activity, so the categories
        # are read from the fields that hold data.
        categories = [
            labels[category]
            for category, fields in CATEGORY_FIELDS.items()
            if any(data[field] for field in fields)
        ]
    sources = [
        {
            "vendor": provenance.contact_list.vendor.name,
            "list": provenance.contact_list.name,
            "acquisition": provenance.contact_list.acquisition,
            "acquired_on": _text(provenance.contact_list.acquired_on),
            "collection_method": provenance.contact_list.collection_method
            or provenance.contact_list.vendor.collection_method,
            "consent_claim": provenance.contact_list.consent_claim,
            "row_number": provenance.row_number,
            "imported_at": _text(provenance.imported_at),
        }
        for provenance in contact.provenances.select_related("contact_list__vendor")
    ]
    consents = [
        {
            "channel": consent.channel,
            "state": consent.state,
            "recorded_at": _text(consent.recorded_at),
            "evidence": consent.evidence,
        }
        for consent in contact.consents.all()
    ]
    campaign_exports = [
        {
            "id": export.pk,
            "written_at": _text(export.finished_at or export.created_at),
            "file_kept": export.file_deleted_at is None,
        }
        for export in CampaignExport.objects.filter(
            contact_rows__contact_id=contact.pk, status=CampaignExport.Status.DONE
        ).order_by("created_at", "pk")
    ]
    return {
        "id": contact.pk,
        "data": data,
        "categories": categories,
        "processing": _processing(contact),
        "sources": sources,
        "consents": consents,
        "campaign_exports": campaign_exports,
        "breach_communications": _breach_communications(contact),
    }


def _breach_communications(contact) -> list[dict]:
    """Return each communication of a breach (GDPR Art. 34) sent to ``contact``."""
    recipients = (
        BreachRecipient.objects.filter(contact_id=contact.pk)
        .select_related("communication__breach")
        .order_by("communication__communicated_at", "communication_id")
    )
    return [
        {
            "breach": recipient.communication.breach.reference,
            "informed_at": _text(recipient.communication.communicated_at),
            "method": recipient.communication.method,
        }
        for recipient in recipients
    ]


def _person_identifiers(request, contacts) -> tuple[list[str], list[str]]:
    """Return the e-mails and phones of the requester and of their contacts."""
    emails = {contact.email for contact in contacts if contact.email}
    phones = {contact.phone for contact in contacts if contact.phone}
    if request.requester_email:
        emails.add(request.requester_email)
    if request.requester_phone:
        phones.add(request.requester_phone)
    return sorted(emails), sorted(phones)


def package_content(*, request, contacts) -> dict:
    """Gather everything the package shows, as plain JSON-ready values."""
    organisation = Organisation.current()
    contacts = list(
        contacts.select_related("processing_activity").prefetch_related(
            "processing_activity__retention_rules",
            "processing_activity__recipients",
            "processing_activity__data_categories",
            "processing_activity__transfers",
        )
    )
    emails, phones = _person_identifiers(request, contacts)
    return {
        "generated_at": timezone.now().isoformat(),
        "request": {
            "reference": request.reference,
            "kind": request.kind,
            "received_on": request.received_on.isoformat(),
        },
        "controller": {
            "name": organisation.name,
            "address": organisation.address,
            "registration_number": organisation.registration_number,
            "email": organisation.email,
            "phone": organisation.phone,
            "eu_representative": organisation.eu_representative,
            "dpo_name": organisation.dpo_name,
            "dpo_email": organisation.dpo_email,
            "dpo_phone": organisation.dpo_phone,
            "dpo_address": organisation.dpo_address,
        },
        "contacts": [_contact_content(contact) for contact in contacts],
        "earlier_requests": package_sources.earlier_requests(
            request=request, emails=emails, phones=phones
        ),
        "suppression_list": package_sources.suppression_entries(
            emails=emails, phones=phones
        ),
        "import_rows": package_sources.import_rows(
            emails=emails,
            phones=phones,
            contact_ids=[contact.pk for contact in contacts],
            requester_name=request.requester_name,
        ),
        "rights": rights_text(),
        "complaint": CNIL_COMPLAINT,
    }


def _contacts_csv(content) -> bytes:
    rows = [
        [item["id"]] + [item["data"][field] for field in CONTACT_FIELDS]
        for item in content["contacts"]
    ]
    return csv_bytes(["contact_id", *CONTACT_FIELDS], rows)


def _sources_csv(content) -> bytes:
    headers = [
        "contact_id",
        "vendor",
        "list",
        "acquisition",
        "acquired_on",
        "collection_method",
        "consent_claim",
        "row_number",
        "imported_at",
    ]
    rows = [
        [item["id"]] + [source[key] for key in headers[1:]]
        for item in content["contacts"]
        for source in item["sources"]
    ]
    return csv_bytes(headers, rows)


def _consents_csv(content) -> bytes:
    headers = ["contact_id", "channel", "state", "recorded_at", "evidence"]
    rows = [
        [item["id"]] + [consent[key] for key in headers[1:]]
        for item in content["contacts"]
        for consent in item["consents"]
    ]
    return csv_bytes(headers, rows)


# The parts of the package that contain the person's data, one per source.
PERSON_DATA_KEYS = ("contacts", "earlier_requests", "suppression_list", "import_rows")

REQUEST_COLUMNS = (
    "reference",
    "kind",
    "channel",
    "requester_name",
    "requester_email",
    "requester_phone",
    "requester_address",
    "received_on",
    "due_on",
    "extension_reason",
    "status",
    "refusal_reason",
    "response_sent_at",
    "closed_at",
    "notes",
)
SUPPRESSION_COLUMNS = ("identifier", "kind", "reason", "listed_at")
IMPORT_COLUMNS = (
    "import_id",
    "vendor",
    "list",
    "acquired_on",
    "uploaded_at",
    "row_number",
    "outcome",
    "file_kept",
    "values_withheld",
)


def _requests_csv(content) -> bytes:
    rows = [
        [item[key] for key in REQUEST_COLUMNS] for item in content["earlier_requests"]
    ]
    return csv_bytes(REQUEST_COLUMNS, rows)


def _suppression_csv(content) -> bytes:
    rows = [
        [item[key] for key in SUPPRESSION_COLUMNS]
        for item in content["suppression_list"]
    ]
    return csv_bytes(SUPPRESSION_COLUMNS, rows)


def _imports_csv(content) -> bytes:
    """Return one line per import row, its values as one JSON object."""
    rows = [
        [item[key] for key in IMPORT_COLUMNS]
        + [json.dumps(item["values"], ensure_ascii=False)]
        for item in content["import_rows"]
    ]
    return csv_bytes([*IMPORT_COLUMNS, "values"], rows)


def field_labels() -> dict[str, str]:
    """Return the translated label of each contact field, for people to read."""
    return {
        field: str(Contact._meta.get_field(field).verbose_name)
        for field in CONTACT_FIELDS
    }


def _display(model, field_name: str, value) -> str:
    """Return a stored value as people read it: a choice's label or a local date."""
    if value in ("", None):
        return ""
    field = model._meta.get_field(field_name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.DateTimeField):
        return format_datetime(value)
    if isinstance(field, models.DateField):
        return format_date(value)
    return str(value)


def _readable_rows(item) -> list[tuple[str, str]]:
    labels = field_labels()
    return [
        (labels[field], _display(Contact, field, value))
        for field, value in item["data"].items()
        if value
    ]


def _readable_item(item) -> dict:
    """Return one contact's part of the package with labels and local dates."""
    sources = [
        {
            **source,
            "acquisition_label": _display(
                ContactList, "acquisition", source["acquisition"]
            ),
            "acquired_on_label": format_date(source["acquired_on"]),
        }
        for source in item["sources"]
    ]
    consents = [
        {
            "channel_label": _display(ConsentRecord, "channel", consent["channel"]),
            "state_label": _display(ConsentRecord, "state", consent["state"]),
            "recorded_at_label": format_datetime(consent["recorded_at"]),
        }
        for consent in item["consents"]
    ]
    campaign_exports = [
        {**export, "written_at_label": format_datetime(export["written_at"])}
        for export in item.get("campaign_exports", [])
    ]
    breach_communications = [
        {
            **communication,
            "informed_at_label": format_datetime(communication["informed_at"]),
        }
        for communication in item.get("breach_communications", [])
    ]
    return {
        **item,
        "rows": _readable_rows(item),
        "sources": sources,
        "consents": consents,
        "campaign_exports": campaign_exports,
        "breach_communications": breach_communications,
    }


def _campaign_export_text(export: dict) -> str:
    """Return the sentence of one campaign file that listed the person."""
    return _("Written to campaign file #%(id)s on %(when)s, to send you a message.") % {
        "id": export["id"],
        "when": export["written_at_label"],
    }


def _breach_communication_text(communication: dict) -> str:
    """Return the sentence of one breach communication sent to the person."""
    return _(
        "Informed on %(when)s of the personal data breach %(breach)s (%(method)s)."
    ) % {
        "when": communication["informed_at_label"],
        "breach": communication["breach"],
        "method": communication["method"],
    }


# The details of an earlier request shown under its summary line, in order.
REQUEST_DETAIL_FIELDS = (
    "requester_name",
    "requester_email",
    "requester_phone",
    "requester_address",
    "channel",
    "due_on",
    "extension_reason",
    "refusal_reason",
    "response_sent_at",
    "notes",
)


def _readable_request(item) -> dict:
    details = [
        (
            capfirst(SubjectRequest._meta.get_field(name).verbose_name),
            _display(SubjectRequest, name, item[name]),
        )
        for name in REQUEST_DETAIL_FIELDS
        if item[name]
    ]
    return {
        **item,
        "kind_label": _display(SubjectRequest, "kind", item["kind"]),
        "status_label": _display(SubjectRequest, "status", item["status"]),
        "received_on_label": format_date(item["received_on"]),
        "closed_at_label": format_datetime(item["closed_at"]),
        "details": details,
    }


def _readable_suppression(item) -> dict:
    return {
        **item,
        "kind_label": _display(SuppressionEntry, "kind", item["kind"]),
        "reason_label": _display(SuppressionEntry, "reason", item["reason"]),
        "listed_at_label": format_datetime(item["listed_at"]),
    }


def _readable_import_row(item) -> dict:
    if item["values_withheld"]:
        note = _(
            "This row holds your e-mail address or phone number next to another "
            "person's e-mail address, so its other values are not shown."
        )
    elif not item["values"]:
        note = _("The file was deleted, so only the row's number is kept.")
    else:
        note = ""
    return {
        **item,
        "acquired_on_label": format_date(item["acquired_on"]),
        "outcome_label": _display(RowResult, "outcome", item["outcome"]),
        "rows": list(item["values"].items()),
        "note": note,
    }


def _readable(content) -> dict:
    generated = format_datetime(content["generated_at"])
    received = format_date(content["request"]["received_on"])
    return {
        **content,
        "generated_at_label": generated,
        "received_on_label": received,
        "dates_sentence": sentence_end(
            _("Request received on %(received)s; answer generated on %(generated)s.")
            % {"received": received, "generated": generated}
        ),
        "contacts": [_readable_item(item) for item in content["contacts"]],
        "earlier_requests": [
            _readable_request(item) for item in content["earlier_requests"]
        ],
        "suppression_list": [
            _readable_suppression(item) for item in content["suppression_list"]
        ],
        "import_rows": [_readable_import_row(item) for item in content["import_rows"]],
        "holds_nothing": not any(content[key] for key in PERSON_DATA_KEYS),
    }


def package_html(content) -> str:
    return render_to_string(
        "subject_requests/package/access.html", {"p": _readable(content)}
    )


def _pdf_story(content, styles) -> list:
    story = []

    def heading(text):
        story.append(pdf_paragraph(text, styles["Heading2"]))

    def line(text):
        story.append(pdf_paragraph(text, styles["BodyText"]))

    controller = content["controller"]
    story.append(
        pdf_paragraph(
            _("Answer to your access request %(ref)s")
            % {"ref": content["request"]["reference"]},
            styles["Title"],
        )
    )
    story.append(Spacer(1, 6))
    line(content["dates_sentence"])
    heading(_("Controller"))
    line(controller["name"])
    line(controller["address"])
    dpo = [
        controller[key]
        for key in ("dpo_name", "dpo_email", "dpo_phone", "dpo_address")
        if controller[key]
    ]
    if dpo:
        line(_("Data protection officer: %(dpo)s") % {"dpo": ", ".join(dpo)})

    for item in content["contacts"]:
        heading(_("Record #%(id)s") % {"id": item["id"]})
        for label, value in item["rows"]:
            line(_("%(label)s: %(value)s") % {"label": label, "value": value})
        processing = item["processing"]
        line(_("Purposes: %(value)s") % {"value": processing["purposes"] or "-"})
        line(
            _("Lawful basis: %(value)s")
            % {"value": processing["lawful_basis_label"] or "-"}
        )
        if processing["legitimate_interest"]:
            line(
                _("Legitimate interest: %(value)s")
                % {"value": processing["legitimate_interest"]}
            )
        line(
            _("Categories of data: %(value)s")
            % {"value": ", ".join(item["categories"]) or "-"}
        )
        line(
            _("Recipients: %(value)s")
            % {"value": ", ".join(processing["recipients"]) or _("none")}
        )
        if not processing["transfers"]:
            line(_("No transfer outside the EU is recorded in the register."))
        for transfer in processing["transfers"]:
            line(
                _(
                    "Transfer outside the EU: %(recipient)s in %(country)s, "
                    "safeguard: %(safeguard)s"
                )
                % {
                    "recipient": transfer["recipient"],
                    "country": transfer["country"],
                    "safeguard": transfer["safeguard_label"],
                }
            )
        for rule in processing["retention"]:
            line(_("Retention period: %(value)s") % {"value": rule})
        line(processing["automated_decisions"])
        for source in item["sources"]:
            _pdf_source(source, line)
        for consent in item["consents"]:
            line(
                _("Consent (%(channel)s): %(state)s on %(date)s")
                % {
                    "channel": consent["channel_label"],
                    "state": consent["state_label"],
                    "date": consent["recorded_at_label"],
                }
            )
        for export in item["campaign_exports"]:
            line(_campaign_export_text(export))
        for communication in item["breach_communications"]:
            line(_breach_communication_text(communication))

    if content["holds_nothing"]:
        line(
            _(
                "Apart from this request, with the identity details you gave us, "
                "we hold no personal data about you."
            )
        )
    _pdf_other_sources(content, heading, line)

    heading(_("Your rights"))
    for right in content["rights"]:
        line(right)
    complaint = content["complaint"]
    line(f"{complaint['authority']}, {complaint['address']}, {complaint['website']}")
    return story


def _pdf_source(source: dict, line) -> None:
    """Add where a record came from: the list, its vendor and how it collected it."""
    if source["acquisition"] == ContactList.Acquisition.RENTAL:
        text = _("Source: list %(list)s rented from %(vendor)s on %(date)s")
    else:
        text = _("Source: list %(list)s bought from %(vendor)s on %(date)s")
    line(
        text
        % {
            "list": source["list"],
            "vendor": source["vendor"],
            "date": source["acquired_on_label"],
        }
    )
    if source["collection_method"]:
        line(
            _("How the vendor collected your data: %(method)s")
            % {"method": source["collection_method"]}
        )


def _pdf_other_sources(content, heading, line) -> None:
    """Add the earlier requests, the suppression list and the import rows."""
    heading(_("Your earlier requests"))
    if not content["earlier_requests"]:
        line(_("No other request from you is recorded."))
    for item in content["earlier_requests"]:
        line(
            _("%(ref)s, %(kind)s, received on %(received)s: %(status)s")
            % {
                "ref": item["reference"],
                "kind": item["kind_label"],
                "received": item["received_on_label"],
                "status": item["status_label"],
            }
        )
        for label, value in item["details"]:
            line(_("%(label)s: %(value)s") % {"label": label, "value": value})

    heading(_("Suppression list"))
    if not content["suppression_list"]:
        line(_("None of your e-mail addresses or phone numbers is on it."))
    for item in content["suppression_list"]:
        line(
            _("%(identifier)s (%(kind)s): %(reason)s, listed on %(date)s")
            % {
                "identifier": item["identifier"],
                "kind": item["kind_label"],
                "reason": item["reason_label"],
                "date": item["listed_at_label"],
            }
        )

    heading(_("Vendor files and import rows"))
    if not content["import_rows"]:
        line(_("No uploaded vendor file or staged import row holds your data."))
    for item in content["import_rows"]:
        line(
            _("List %(list)s from %(vendor)s, acquired on %(date)s, row %(row)s")
            % {
                "list": item["list"],
                "vendor": item["vendor"],
                "date": item["acquired_on_label"],
                "row": item["row_number"],
            }
        )
        for label, value in item["rows"]:
            line(_("%(label)s: %(value)s") % {"label": label, "value": value})
        if item["note"]:
            line(item["note"])


def _pdf_styles():
    """Return the sample styles in DejaVu Sans, which prints European names."""
    regular, bold = pdf_fonts()
    styles = getSampleStyleSheet()
    styles["Title"].fontName = bold
    styles["Heading2"].fontName = bold
    styles["BodyText"].fontName = regular
    return styles


def package_pdf(content) -> bytes:
    """Render the person's copy as a PDF with reportlab's platypus."""
    story = _pdf_story(_readable(content), _pdf_styles())
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=content["request"]["reference"]).build(
        story
    )
    return buffer.getvalue()


def package_zip(content, *, portability: bool = False) -> bytes:
    """Return the ZIP: JSON, CSV and their guide, plus HTML and PDF unless for
    portability."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(content, ensure_ascii=False, indent=2))
        archive.writestr("contacts.csv", _contacts_csv(content))
        archive.writestr("sources.csv", _sources_csv(content))
        archive.writestr("consents.csv", _consents_csv(content))
        archive.writestr("requests.csv", _requests_csv(content))
        archive.writestr("suppression.csv", _suppression_csv(content))
        archive.writestr("imports.csv", _imports_csv(content))
        archive.writestr(
            _("README.txt"), package_guide(field_labels(), portability=portability)
        )
        if not portability:
            archive.writestr("answer.html", package_html(content))
            archive.writestr("answer.pdf", package_pdf(content))
    return buffer.getvalue()
