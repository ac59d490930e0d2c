"""The ``--request`` option that both subject-request commands share."""

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.selectors import request_by_reference
from apps.subject_requests.selectors import request_id_from_reference

REQUEST_HELP = (
    "The request's reference as the pages show it (for example DSR-00002) "
    "or its numeric id (2)."
)


def request_from_option(value: str) -> SubjectRequest:
    """Return the request that ``--request`` names, or raise CommandError."""
    if request_id_from_reference(value) is None:
        raise CommandError(
            _(
                "--request “%(value)s” is invalid: pass a reference such as "
                "DSR-00002 or a numeric id such as 2."
            )
            % {"value": value}
        )
    subject_request = request_by_reference(value)
    if subject_request is None:
        raise CommandError(
            _(
                "Subject request %(value)s was not found; check the reference in "
                "the request list."
            )
            % {"value": value}
        )
    return subject_request
