"""The access package (GDPR Art. 15) and its portability subset (Art. 20).

``package_content`` gathers the data and every item Art. 15(1) lists: the
purposes and lawful basis, the categories of data, the recipients, the
retention period, the source when the data was not collected from the person,
and the person's rights including the right to complain to the CNIL.
``package_zip`` writes it as HTML and PDF for people, JSON and CSV for machines.
"""

import io
import json
import zipfile
from xml.sax.saxutils import escape

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph
from reportlab.platypus import SimpleDocTemplate
from reportlab.platypus import Spacer

from apps.contacts.models import Contact
from apps.core.exports import csv_bytes
from apps.core.models import Organisation
from apps.register.models import LawfulBasis
from apps.register.models import RetentionRule

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

CNIL_COMPLAINT = {
    "authority": "Commission nationale de l'informatique et des libertés (CNIL)",
    "address": "3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07, France",
    "website": "https://www.cnil.fr/fr/plaintes",
}


def _category_labels():
    return {
        "identity": _("Identity (first and last name)"),
        "contact_details": _("Contact details (e-mail, phone)"),
        "professional_life": _("Professional life (job, company)"),
        "location": _("Location (postcode, city, country)"),
    }


def rights_text() -> list[str]:
    return [
        _("Right of access to your data (GDPR Art. 15)."),
        _("Right to rectification of inaccurate data (GDPR Art. 16)."),
        _("Right to erasure (GDPR Art. 17)."),
        _("Right to restriction of processing (GDPR Art. 18)."),
        _("Right to data portability (GDPR Art. 20)."),
        _(
            "Right to object at any time to processing for prospecting, which is "
            "always granted (GDPR Art. 21)."
        ),
        _(
            "Right to withdraw consent at any time, where processing is based on "
            "consent (GDPR Art. 7(3))."
        ),
        _(
            "Right to lodge a complaint with the supervisory authority, the CNIL "
            "(GDPR Art. 77)."
        ),
    ]


def _text(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _activity_recipients(activity) -> list[str]:
    """Return the register's recipient categories, marking third countries."""
    recipients = []
    for recipient in activity.recipients.all():
        label = recipient.label
        if recipient.third_country:
            label = _("%(label)s (outside the EU)") % {"label": label}
        recipients.append(label)
    return recipients


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
            "retention": [],
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
        "recipients": _activity_recipients(activity),
        "retention": [rule.describe() for rule in (contact_rules or rules)],
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
    return {
        "id": contact.pk,
        "data": data,
        "categories": categories,
        "processing": _processing(contact),
        "sources": sources,
        "consents": consents,
    }


def package_content(*, request, contacts) -> dict:
    """Gather everything the package shows, as plain JSON-ready values."""
    organisation = Organisation.current()
    contacts = contacts.select_related("processing_activity").prefetch_related(
        "processing_activity__retention_rules",
        "processing_activity__recipients",
        "processing_activity__data_categories",
    )
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


def field_labels() -> dict[str, str]:
    """Return the translated label of each contact field, for people to read."""
    return {
        field: str(Contact._meta.get_field(field).verbose_name)
        for field in CONTACT_FIELDS
    }


def _readable_rows(item) -> list[tuple[str, str]]:
    labels = field_labels()
    return [(labels[field], value) for field, value in item["data"].items() if value]


def package_html(content) -> str:
    contacts = [{**item, "rows": _readable_rows(item)} for item in content["contacts"]]
    return render_to_string(
        "subject_requests/package/access.html",
        {"p": {**content, "contacts": contacts}},
    )


def package_pdf(content) -> bytes:
    """Render the person's copy as a PDF with reportlab's platypus."""
    styles = getSampleStyleSheet()
    story = []

    def heading(text):
        story.append(Paragraph(escape(text), styles["Heading2"]))

    def line(text):
        story.append(Paragraph(escape(text), styles["BodyText"]))

    controller = content["controller"]
    story.append(
        Paragraph(
            escape(
                _("Answer to your access request %(ref)s")
                % {"ref": content["request"]["reference"]}
            ),
            styles["Title"],
        )
    )
    heading(_("Controller"))
    line(controller["name"])
    line(controller["address"])
    line(
        _("Data protection officer: %(name)s %(email)s")
        % {"name": controller["dpo_name"], "email": controller["dpo_email"]}
    )

    for item in content["contacts"]:
        heading(_("Record #%(id)s") % {"id": item["id"]})
        for label, value in _readable_rows(item):
            line(f"{label}: {value}")
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
        for rule in processing["retention"]:
            line(_("Retention period: %(value)s") % {"value": rule})
        for source in item["sources"]:
            line(
                _("Source: list %(list)s bought from %(vendor)s on %(date)s")
                % {
                    "list": source["list"],
                    "vendor": source["vendor"],
                    "date": source["acquired_on"],
                }
            )
        for consent in item["consents"]:
            line(
                _("Consent (%(channel)s): %(state)s on %(date)s")
                % {
                    "channel": consent["channel"],
                    "state": consent["state"],
                    "date": consent["recorded_at"],
                }
            )

    heading(_("Your rights"))
    for right in content["rights"]:
        line(right)
    complaint = content["complaint"]
    line(f"{complaint['authority']}, {complaint['address']}, {complaint['website']}")

    buffer = io.BytesIO()
    story.insert(1, Spacer(1, 6))
    SimpleDocTemplate(buffer, pagesize=A4, title=content["request"]["reference"]).build(
        story
    )
    return buffer.getvalue()


def package_zip(content, *, portability: bool = False) -> bytes:
    """Return the ZIP: JSON and CSV, plus HTML and PDF unless for portability."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(content, ensure_ascii=False, indent=2))
        archive.writestr("contacts.csv", _contacts_csv(content))
        archive.writestr("sources.csv", _sources_csv(content))
        archive.writestr("consents.csv", _consents_csv(content))
        if not portability:
            archive.writestr("answer.html", package_html(content))
            archive.writestr("answer.pdf", package_pdf(content))
    return buffer.getvalue()
