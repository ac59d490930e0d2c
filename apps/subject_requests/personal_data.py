"""Requester data held by subject-rights requests, for the personal-data registry.

A request found here is another request by the same person. Erasing a contact
drops only the request's link to it: the request itself keeps the requester's
identity as the proof of the response until the retention job purges it.
"""

from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse

from apps.core.personal_data import ContactIdColumn
from apps.core.personal_data import PersonalDataMatch
from apps.subject_requests.models import SubjectRequest

CONTACT_ID_COLUMNS = [
    ContactIdColumn(SubjectRequest.contacts.through, "contact", "subject_request_link"),
]


def find(*, emails, phones, names) -> list[PersonalDataMatch]:
    lowered = {name.strip().lower() for name in names if name.strip()}
    condition = Q(pk__in=[])
    if emails:
        condition |= Q(requester_email__in=list(emails))
    if phones:
        condition |= Q(requester_phone__in=list(phones))
    requests = SubjectRequest.objects.annotate(name_lower=Lower("requester_name"))
    if lowered:
        condition |= Q(name_lower__in=lowered)

    matches = []
    for request in requests.filter(condition):
        reasons = [
            reason
            for reason, hit in (
                (
                    "email",
                    request.requester_email and request.requester_email in emails,
                ),
                (
                    "phone",
                    request.requester_phone and request.requester_phone in phones,
                ),
                ("name", request.name_lower in lowered),
            )
            if hit
        ]
        matches.append(
            PersonalDataMatch(
                kind="subject_request",
                record_id=request.pk,
                label=f"{request.reference} · {request.get_kind_display()}",
                matched_on=", ".join(reasons),
                url=reverse("subject_requests:request-detail", args=[request.pk]),
            )
        )
    return matches
