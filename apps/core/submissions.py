"""One create per form page: a token in the page, claimed when the form is saved.

The view claims the token in the transaction that creates the record, so a
failed save releases it and the user can post the corrected form again. Claimed
tokens are deleted after ``FORM_SUBMISSION_RETENTION_DAYS`` by a daily task.
"""

import datetime
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db import transaction
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.models import FormSubmission


class DuplicateSubmission(Exception):
    """The form's token was already claimed. ``created_url`` shows the record."""

    def __init__(self, created_url: str):
        super().__init__(created_url)
        self.created_url = created_url


class SubmissionTokenField(forms.UUIDField):
    """A hidden token field, where a damaged token counts as missing.

    Its error would be hidden with the field, so the form saves without the
    duplicate check instead of failing with no visible reason.
    """

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError:
            return None


def submission_token_field() -> forms.UUIDField:
    """Return the hidden field that carries a new token in each rendered form."""
    return SubmissionTokenField(
        required=False, widget=forms.HiddenInput, initial=uuid.uuid4
    )


def submission_claim(token: uuid.UUID | None, *, user) -> FormSubmission | None:
    """Claim ``token`` inside the caller's transaction.

    Raises ``DuplicateSubmission`` when another post claimed it first. A post
    made at the same time waits for that one's transaction, then raises. A
    form posted without a token (a script, an older page) claims nothing.
    """
    if token is None:
        return None
    try:
        with transaction.atomic():
            return FormSubmission.objects.create(
                token=token, user=user if user.is_authenticated else None
            )
    except IntegrityError:
        earlier = FormSubmission.objects.filter(token=token).first()
        raise DuplicateSubmission(earlier.created_url if earlier else "") from None


def submission_created(submission: FormSubmission | None, *, url: str) -> None:
    """Record the page of what the claimed submission created."""
    if submission is not None:
        FormSubmission.objects.filter(pk=submission.pk).update(created_url=url)


@contextmanager
def submitted_once(token: uuid.UUID | None, *, user) -> Iterator[Callable[[str], None]]:
    """Run the block that creates a record in one transaction with the token's claim.

    The block calls the function it receives with the page of what it
    created. ``DuplicateSubmission`` is raised before the block when the
    token was claimed already. An exception from the block rolls back the
    claim, so the corrected form can be posted again.
    """
    with transaction.atomic():
        submission = submission_claim(token, user=user)
        yield lambda url: submission_created(submission, url=url)


def duplicate_submission_redirect(request, duplicate: DuplicateSubmission, fallback):
    """Send a second post of a form to what the first one created."""
    messages.info(
        request,
        _("This form had already been sent, so nothing was recorded twice."),
    )
    return redirect(duplicate.created_url or fallback)


def form_submissions_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete tokens claimed more than ``FORM_SUBMISSION_RETENTION_DAYS`` ago.

    Returns the number deleted. A page kept open longer than that and then
    posted twice creates its record twice.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.FORM_SUBMISSION_RETENTION_DAYS)
    deleted, _counts = FormSubmission.objects.filter(created_at__lt=cutoff).delete()
    return deleted
