"""The register's data migrations, run on rows written the old way."""

import importlib

import pytest
from django.apps import apps

from apps.register.models import ProcessingActivity
from apps.register.models import Recipient
from tests.register.factories import complete_activity

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

newlines_migration = importlib.import_module(
    "apps.register.migrations.0004_text_newlines_unified"
)
notice_token_migration = importlib.import_module(
    "apps.register.migrations.0008_activity_notice_token"
)


def test_stored_crlf_becomes_lf(compliance_officer):
    activity = complete_activity(compliance_officer, reference="TRT-100")
    # update() writes CRLF as the forms stored it, without the service.
    ProcessingActivity.objects.filter(pk=activity.pk).update(
        purposes="Recrutement\r\nVivier\rArchives"
    )
    Recipient.objects.filter(activity=activity).update(details="Siège\r\nFiliale")
    activity.history.update(purposes="Recrutement\r\nVivier")
    updated_at = ProcessingActivity.objects.get(pk=activity.pk).updated_at

    newlines_migration.newlines_unify(apps, None)

    activity.refresh_from_db()
    assert activity.purposes == "Recrutement\nVivier\nArchives"
    assert activity.recipients.get().details == "Siège\nFiliale"
    assert set(activity.history.values_list("purposes", flat=True)) == {
        "Recrutement\nVivier"
    }
    assert activity.updated_at == updated_at


def test_text_without_cr_is_left_alone(compliance_officer):
    activity = complete_activity(compliance_officer, reference="TRT-101")
    versions = activity.history.count()

    newlines_migration.newlines_unify(apps, None)

    activity.refresh_from_db()
    assert activity.purposes == "Prospection commerciale"
    assert activity.history.count() == versions


def test_notice_tokens_filled_per_activity(compliance_officer):
    first = complete_activity(compliance_officer, reference="TRT-102")
    second = complete_activity(compliance_officer, reference="TRT-103")
    updated_at = ProcessingActivity.objects.get(pk=first.pk).updated_at

    notice_token_migration.notice_tokens_fill(apps, None)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.notice_token != second.notice_token
    for activity in (first, second):
        assert set(activity.history.values_list("notice_token", flat=True)) == {
            activity.notice_token
        }
    assert first.updated_at == updated_at
