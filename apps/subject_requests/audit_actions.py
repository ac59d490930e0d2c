"""Readable labels of the audit actions that this app records."""

from django.utils.translation import gettext_lazy as _

from apps.core.audit import TargetPage
from apps.subject_requests.labels import RECORD_KIND_LABELS
from apps.subject_requests.models import SubjectRequest

ACTION_LABELS = {
    "subject_requests.access_package.built": _("Access package built"),
    "subject_requests.contact.rectified": _("Contact rectified"),
    "subject_requests.contact.rectification_not_needed": _(
        "Contact found accurate, no rectification needed"
    ),
    "subject_requests.contacts.linked": _("Contacts linked to a request"),
    "subject_requests.contacts.set_aside": _(
        "Contacts set aside from a request as someone else's"
    ),
    "subject_requests.contacts.objected": _("Objection applied to contacts"),
    "subject_requests.contacts.restricted": _("Processing of contacts restricted"),
    "subject_requests.contacts.restriction_lifted": _("Restriction lifted"),
    "subject_requests.contacts.unlinked": _("Contacts unlinked from a request"),
    "subject_requests.identity.checked": _("Requester's identity checked"),
    "subject_requests.person.erased": _("Person erased"),
    "subject_requests.person.searched": _("Person searched for"),
    "subject_requests.portability_package.built": _("Portability package built"),
    "subject_requests.record.downloaded": _("Request record downloaded"),
    "subject_requests.request.changed_in_admin": _("Request changed in the admin"),
    "subject_requests.request.closed": _("Request closed"),
    "subject_requests.request.created": _("Request recorded"),
    "subject_requests.request.extended": _("Request deadline extended"),
    "subject_requests.request.overdue": _("Request overdue"),
    "subject_requests.request.purged": _("Closed requests purged"),
    "subject_requests.request.refused": _("Request refused"),
}

# The page of each target type, for the audit list's links.
TARGET_PAGES = {
    "subject_requests.subjectrequest": TargetPage(
        "subject_requests:request-detail", "subject_requests.view_subjectrequest"
    ),
}

# Labels of the detail keys that this app's audit events record.
DETAIL_LABELS = {
    "channel": _("channel"),
    "contact_id": _("contact"),
    "due_on": _("due on"),
    "request_fields": _("request fields"),
    "request_references": _("earlier requests"),
    "suppression_entries": _("suppression entries"),
    "import_rows": _("import rows"),
    "informed_by": _("person informed by"),
    "informed_on": _("person informed on"),
    "language": _("language"),
    "months": _("months"),
    "proof_id": _("erasure proof"),
    "replaced_address_suppressed": _("replaced address put on the suppression list"),
    "request_id": _("request"),
    "request_ids": _("requests"),
    "sources": _("sources searched"),
    "verified": _("identity verified"),
    # The kinds of records that an erasure counts.
    **RECORD_KIND_LABELS,
}

# Choices of the coded values that this app's audit events record.
DETAIL_VALUE_LABELS = {
    "kind": SubjectRequest.Kind.choices,
    "channel": SubjectRequest.Channel.choices,
}
