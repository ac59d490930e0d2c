"""Invented demo data: one access request linked to a demo contact."""

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.contacts.models import Contact
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.services import request_create
from apps.subject_requests.services import request_link_contacts
from apps.subject_requests.services import request_search

DEMO_NOTE = "Demande de démonstration (données inventées)."
# The note of the demo request before it was written in French, so that a
# database seeded then gets no second demo request.
EARLIER_DEMO_NOTE = "Demo request (invented data)."


def seed_demo(*, password: str, stdout) -> None:
    if SubjectRequest.objects.filter(notes__in=[DEMO_NOTE, EARLIER_DEMO_NOTE]).exists():
        stdout.write("subject_requests: demo request already present")
        return

    handler = get_user_model().objects.filter(username="dpo").first()
    contact = Contact.objects.exclude(email="").order_by("pk").first()
    request = request_create(
        kind=SubjectRequest.Kind.ACCESS,
        channel=SubjectRequest.Channel.EMAIL,
        requester_name=contact.full_name if contact else "Alix Exemple",
        requester_email=contact.email if contact else "alix.exemple@example.com",
        received_at=timezone.now() - datetime.timedelta(days=20),
        notes=DEMO_NOTE,
        handler=handler,
    )
    if contact is None:
        stdout.write(f"subject_requests: request {request.reference}, no contact")
        return
    request_search(request=request, actor=handler)
    request_link_contacts(request=request, contact_ids=[contact.pk], actor=handler)
    stdout.write(
        f"subject_requests: request {request.reference} for contact #{contact.pk}"
    )
