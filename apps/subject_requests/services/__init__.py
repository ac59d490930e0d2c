"""Business rules of subject-rights requests: every action of the DPO.

Each service validates its input, writes the change, adds a step to the
request's timeline and an audit event (ids and counts, never personal data).
The services are grouped by concern:

- ``lifecycle``: receipt, identity check, extension, closing, refusal, purge.
- ``linking``: search of the personal-data sources, linking of contacts.
- ``access``: the access package and its portability subset.
- ``rights``: rectification, restriction and its lifting, objection.
- ``erasure``: erasure of the person and the proof of erasure.
- ``common``: ``RequestError`` and the helpers that the modules share.

This package re-exports every public name, so callers import from
``apps.subject_requests.services``.
"""

from apps.subject_requests.services.access import request_build_package
from apps.subject_requests.services.common import ANSWER_KINDS
from apps.subject_requests.services.common import RequestError
from apps.subject_requests.services.common import request_answers
from apps.subject_requests.services.common import set_aside_contact_ids
from apps.subject_requests.services.erasure import erasure_contacts
from apps.subject_requests.services.erasure import erasure_shared_holders
from apps.subject_requests.services.erasure import request_erase
from apps.subject_requests.services.lifecycle import receipt_time_check
from apps.subject_requests.services.lifecycle import request_close
from apps.subject_requests.services.lifecycle import request_create
from apps.subject_requests.services.lifecycle import request_extend
from apps.subject_requests.services.lifecycle import request_purge_closed
from apps.subject_requests.services.lifecycle import request_refuse
from apps.subject_requests.services.lifecycle import request_verify_identity
from apps.subject_requests.services.linking import anonymised_contact_ids
from apps.subject_requests.services.linking import request_link_contacts
from apps.subject_requests.services.linking import request_search
from apps.subject_requests.services.linking import request_set_aside_contacts
from apps.subject_requests.services.linking import request_unlink_contact
from apps.subject_requests.services.rights import RECTIFIABLE_FIELDS
from apps.subject_requests.services.rights import objection_shared_holders
from apps.subject_requests.services.rights import request_lift_restriction
from apps.subject_requests.services.rights import request_object
from apps.subject_requests.services.rights import request_rectify
from apps.subject_requests.services.rights import request_rectify_not_needed
from apps.subject_requests.services.rights import request_restrict

__all__ = [
    "ANSWER_KINDS",
    "RECTIFIABLE_FIELDS",
    "RequestError",
    "anonymised_contact_ids",
    "erasure_contacts",
    "erasure_shared_holders",
    "objection_shared_holders",
    "receipt_time_check",
    "request_answers",
    "request_build_package",
    "request_close",
    "request_create",
    "request_erase",
    "request_extend",
    "request_lift_restriction",
    "request_link_contacts",
    "request_object",
    "request_purge_closed",
    "request_rectify",
    "request_rectify_not_needed",
    "request_refuse",
    "request_restrict",
    "request_search",
    "request_set_aside_contacts",
    "request_unlink_contact",
    "set_aside_contact_ids",
    "request_verify_identity",
]
