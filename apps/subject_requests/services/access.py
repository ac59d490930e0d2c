"""Service for the right of access (GDPR Art. 15) and to portability (Art. 20).

Both build a ZIP package of the requester's data. The portability package
contains only the machine-readable files (JSON and CSV).
"""

import hashlib

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from apps.core.audit import audit_record
from apps.subject_requests import package
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.services.common import RequestError
from apps.subject_requests.services.common import answered_contacts
from apps.subject_requests.services.common import event_add
from apps.subject_requests.services.common import require_kind
from apps.subject_requests.services.common import require_verified


def request_build_package(
    *,
    request: SubjectRequest,
    actor,
    portability: bool = False,
    actor_label: str = "",
    language: str = package.DEFAULT_LANGUAGE,
) -> bytes:
    """Build the access package (or the portability subset) as ZIP bytes.

    The package covers the linked contacts and those holding the requester's
    e-mail, or phone without an e-mail, so that a request answered before
    anyone linked a contact does not say that no data is held. It also covers
    the person's earlier requests, suppression entries and import rows (see
    ``package_sources``).
    ``language`` (``fr`` or ``en``) sets the language of the labels, texts
    and dates that people read. The JSON and CSV keys and their ISO dates do not
    change with it. The service returns the package and never stores it. Only
    the ``access_package`` command writes it, to the file its operator names.
    The timeline and the audit event record the package's SHA-256.
    """
    if language not in package.LANGUAGES:
        raise RequestError(
            _("Package language %(value)s is not available; use %(choices)s.")
            % {"value": language, "choices": ", ".join(package.LANGUAGES)}
        )
    require_verified(request)
    require_kind(request, "portability" if portability else "access_package")
    contacts = answered_contacts(request)
    with translation.override(language):
        content = package.package_content(request=request, contacts=contacts)
        data = package.package_zip(content, portability=portability)

    action = "portability" if portability else "access"
    # The package is not kept, because it contains the person's data. Its hash
    # identifies later the file that was sent, compared with the copy in the mail.
    disclosed = {
        **_package_disclosed(content),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    with transaction.atomic():
        event_add(
            request, f"{action}_package_built", actor, **disclosed, language=language
        )
        audit_record(
            action=f"subject_requests.{action}_package.built",
            actor=actor,
            actor_label=actor_label,
            target=request,
            count=len(content["contacts"]),
            details={**disclosed, "language": language},
        )
    return data


def _package_disclosed(content: dict) -> dict:
    """Return the ids and counts of what a package discloses, never the data."""
    return {
        "contact_ids": [item["id"] for item in content["contacts"]],
        "request_references": [
            item["reference"] for item in content["earlier_requests"]
        ],
        "suppression_entries": len(content["suppression_list"]),
        "import_rows": len(content["import_rows"]),
    }
