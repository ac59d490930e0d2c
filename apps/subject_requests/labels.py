"""Readable, translated labels for the codes that requests store.

The timeline, the last search and the proof of erasure store machine codes
(``contacts_linked``, ``import_source_file``, ``{"kind": "access"}``) so that
they stay stable across languages. These helpers turn them into labels in the
active language, with localised dates, for the pages and messages.
"""

import re

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext

from apps.contacts.models import Contact
from apps.core.dates import format_date
from apps.core.dates import format_datetime
from apps.subject_requests.models import SubjectRequest

# Apps whose ``personal_data.py`` the search reads, labelled for the DPO.
SOURCE_LABELS = {
    "core": gettext_lazy("organisation profile and audit trail"),
    "contacts": gettext_lazy("contacts, provenance and consent records"),
    "imports": gettext_lazy("imports (staged rows and uploaded files)"),
    "subject_requests": gettext_lazy("subject-rights requests"),
    "breaches": gettext_lazy("breach communication lists"),
    "register": gettext_lazy("processing register"),
    "retention": gettext_lazy("retention runs"),
}

# Kinds of records that the finders return and the erasers count.
RECORD_KIND_LABELS = {
    "contact": gettext_lazy("contact"),
    "provenance": gettext_lazy("provenance (list the contact came from)"),
    "consent": gettext_lazy("consent record"),
    "consent_record": gettext_lazy("consent record"),
    "campaign_export_file": gettext_lazy("campaign export file"),
    "campaign_export_file_rewritten": gettext_lazy(
        "campaign export file rewritten without the person"
    ),
    "campaign_export_row": gettext_lazy("entry in a campaign export's list"),
    "import_staging_row": gettext_lazy("import staging row"),
    "import_source_file": gettext_lazy("uploaded import file"),
    "import_row_result_unlinked": gettext_lazy("import row result unlinked"),
    "subject_request": gettext_lazy("subject-rights request"),
    "subject_request_link": gettext_lazy("link to a subject-rights request"),
    "breach_recipient": gettext_lazy("breach communication recipient"),
}

IDENTIFIER_LABELS = {
    "email": gettext_lazy("e-mail"),
    "phone": gettext_lazy("phone"),
    "name": gettext_lazy("name"),
}

# Phrases the finders write in ``matched_on``.
MATCHED_ON_PHRASES = {
    "email or phone": gettext_lazy("e-mail or phone"),
    "email, phone or name": gettext_lazy("e-mail, phone or name"),
}

CONTACT_REFERENCE = re.compile(r"^contact #(\d+)$")


def source_label(code: str) -> str:
    return str(SOURCE_LABELS.get(code, code))


def record_kind_label(code: str) -> str:
    return str(RECORD_KIND_LABELS.get(code, code))


def identifier_label(code: str) -> str:
    return str(IDENTIFIER_LABELS.get(code, code))


def matched_on_label(text: str) -> str:
    """Translate a finder's ``matched_on`` text, such as ``email, name``."""
    if text in MATCHED_ON_PHRASES:
        return str(MATCHED_ON_PHRASES[text])
    reference = CONTACT_REFERENCE.match(text)
    if reference:
        return _("contact #%(id)s") % {"id": reference.group(1)}
    return ", ".join(identifier_label(part.strip()) for part in text.split(","))


def contact_field_label(name: str) -> str:
    try:
        return str(Contact._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def sentence_end(text: str) -> str:
    """Return ``text`` with one full stop when an abbreviation ends the sentence.

    English times end with "a.m." or "p.m.", so a sentence that ends with one
    would otherwise read "4:48 a.m..".
    """
    return text[:-1] if text.endswith("..") else text


def search_summary(search: dict) -> dict:
    """Return the last search's sources, criteria and time as readable text."""
    summary = {
        "sources": " · ".join(source_label(code) for code in search["sources"]),
        "criteria": ", ".join(
            identifier_label(code) for code in search.get("criteria", [])
        ),
        "searched_at": format_datetime(search.get("searched_at")),
    }
    summary["sentence"] = sentence_end(
        _("Searched %(sources)s by %(criteria)s on %(when)s.")
        % {
            "sources": summary["sources"],
            "criteria": summary["criteria"],
            "when": summary["searched_at"],
        }
    )
    return summary


def _ids(values) -> str:
    return ", ".join(f"#{value}" for value in values) or "-"


def label_value(label: str, value) -> str:
    """Return "label: value" with the active language's punctuation."""
    return _("%(label)s: %(value)s") % {"label": label, "value": value}


def record_counts_text(counts: dict) -> str:
    parts = [
        label_value(record_kind_label(kind), count) for kind, count in counts.items()
    ]
    return ", ".join(parts) or "-"


def _new_entries(count: int) -> str:
    return ngettext("%(count)s new entry", "%(count)s new entries", count) % {
        "count": count
    }


def suppression_text(*, kinds: list[str], counts: dict, added: int) -> str:
    """Return a proof's suppression-list line: each identifier kind, new or not.

    A proof written before the counts by kind were kept gives only the total.
    """
    if not counts:
        listed = ", ".join(identifier_label(kind) for kind in kinds) or "-"
        return f"{listed} ({_new_entries(added)})"
    parts = []
    for kind in kinds:
        count = counts.get(kind, 0)
        detail = _new_entries(count) if count else _("already listed")
        parts.append(f"{identifier_label(kind)} ({detail})")
    return ", ".join(parts) or "-"


def _choice(choices, value) -> str:
    return str(dict(choices).get(value, value))


def _identity_result(value) -> str:
    return _("identity verified") if value else _("identity not proven")


# Each key that services write in an event's details: its label and how to
# show its value.
DETAIL_FORMATS = {
    "kind": (
        gettext_lazy("kind"),
        lambda value: _choice(SubjectRequest.Kind.choices, value),
    ),
    "channel": (
        gettext_lazy("received by"),
        lambda value: _choice(SubjectRequest.Channel.choices, value),
    ),
    "verified": (gettext_lazy("result"), _identity_result),
    "months": (gettext_lazy("months added"), str),
    "due_on": (gettext_lazy("new due date"), format_date),
    "informed_on": (gettext_lazy("person informed on"), format_date),
    "informed_by": (
        gettext_lazy("informed by"),
        lambda value: _choice(SubjectRequest.Channel.choices, value),
    ),
    "matches": (gettext_lazy("records matched"), str),
    "contact_ids": (gettext_lazy("contacts"), _ids),
    "contact_id": (gettext_lazy("contact"), lambda value: f"#{value}"),
    "fields": (
        gettext_lazy("fields"),
        lambda values: ", ".join(contact_field_label(name) for name in values) or "-",
    ),
    "request_fields": (
        gettext_lazy("request fields"),
        lambda names: ", ".join(
            str(SubjectRequest._meta.get_field(name).verbose_name) for name in names
        ),
    ),
    "suppression_added": (gettext_lazy("new suppression entries"), str),
    "suppression_objected": (
        gettext_lazy("suppression entries changed to objected"),
        str,
    ),
    "request_reference": (gettext_lazy("erasure request"), str),
    "request_references": (
        gettext_lazy("earlier requests"),
        lambda values: ", ".join(values) or "-",
    ),
    "suppression_entries": (gettext_lazy("suppression entries"), str),
    "import_rows": (gettext_lazy("import rows"), str),
    "proof_id": (gettext_lazy("proof of erasure"), lambda value: f"#{value}"),
    "counts": (gettext_lazy("records removed"), record_counts_text),
    "language": (
        gettext_lazy("language"),
        lambda value: _choice(settings.LANGUAGES, value),
    ),
    "sha256": (gettext_lazy("SHA-256 of the package"), str),
}


# Details that the job reads but a reader cannot use: keyed hashes.
HIDDEN_DETAILS = {"replaced_hashes"}


def event_details(details: dict) -> list[tuple[str, str]]:
    """Return an event's details as (label, value) pairs in the active language."""
    pairs = []
    for key, value in details.items():
        if key in HIDDEN_DETAILS:
            continue
        label, render = DETAIL_FORMATS.get(key, (key, str))
        pairs.append((str(label), render(value)))
    return pairs


def event_details_text(details: dict) -> str:
    """Return an event's details as one line of "label: value" parts."""
    parts = [label_value(label, value) for label, value in event_details(details)]
    return " · ".join(parts) or "-"
