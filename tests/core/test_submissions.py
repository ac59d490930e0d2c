"""One-time form tokens: the daily purge of old ones."""

import datetime
import uuid

import pytest
from django.test import override_settings
from django.utils import timezone

from apps.core.models import FormSubmission
from apps.core.submissions import form_submissions_purge
from apps.core.tasks import purge_form_submissions
from config.celery import app

pytestmark = pytest.mark.django_db


def _token_claimed(days_ago: float) -> FormSubmission:
    submission = FormSubmission.objects.create(token=uuid.uuid4())
    claimed_at = timezone.now() - datetime.timedelta(days=days_ago)
    FormSubmission.objects.filter(pk=submission.pk).update(created_at=claimed_at)
    return submission


@override_settings(FORM_SUBMISSION_RETENTION_DAYS=7)
def test_purge_deletes_only_expired_tokens():
    expired = _token_claimed(days_ago=7.01)
    recent = _token_claimed(days_ago=6.99)

    deleted = form_submissions_purge()

    assert deleted == 1
    assert not FormSubmission.objects.filter(pk=expired.pk).exists()
    assert FormSubmission.objects.filter(pk=recent.pk).exists()


@override_settings(FORM_SUBMISSION_RETENTION_DAYS=2)
def test_purge_task_follows_setting():
    _token_claimed(days_ago=3)
    _token_claimed(days_ago=1)

    assert purge_form_submissions() == 1
    assert FormSubmission.objects.count() == 1


def test_purge_task_is_scheduled():
    scheduled = app.conf.beat_schedule["purge-form-submissions"]["task"]

    assert scheduled == purge_form_submissions.name
