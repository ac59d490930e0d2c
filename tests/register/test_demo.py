import io

import pytest

from apps.core.demo import seed_demo as core_seed_demo
from apps.register.demo import seed_demo
from apps.register.models import LawfulBasis
from apps.register.models import ProcessingActivity
from apps.register.models import RetentionRule
from apps.register.services import activity_missing_items

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def core_demo():
    """Create the demo users first, as manage.py seed_demo does."""
    core_seed_demo(password="x", stdout=io.StringIO())


def test_seed_demo_is_idempotent():
    first_output = io.StringIO()
    second_output = io.StringIO()

    seed_demo(password="x", stdout=first_output)
    seed_demo(password="x", stdout=second_output)

    assert first_output.getvalue() == "register: 6 processing activities created"
    assert second_output.getvalue() == "register: 0 processing activities created"

    assert ProcessingActivity.objects.count() == 6
    assert RetentionRule.objects.filter(activity__reference="TRT-001").count() == 1


@pytest.mark.parametrize(
    ("reference", "basis", "record_type", "years", "event", "action"),
    [
        (
            "TRT-001",
            LawfulBasis.LEGITIMATE_INTERESTS,
            "contact",
            3,
            "collection_or_last_contact",
            "delete",
        ),
        (
            "TRT-002",
            LawfulBasis.LEGAL_OBLIGATION,
            "subject_request",
            5,
            "request_closed",
            "delete",
        ),
        (
            "TRT-003",
            LawfulBasis.LEGAL_OBLIGATION,
            "breach",
            5,
            "breach_closed",
            "delete",
        ),
        ("TRT-004", LawfulBasis.CONSENT, "contact", 3, "last_contact", "anonymise"),
    ],
)
def test_demo_activities_other_apps_use(
    reference, basis, record_type, years, event, action
):
    seed_demo(password="x", stdout=io.StringIO())

    activity = ProcessingActivity.objects.get(reference=reference)
    rule = activity.retention_rules.get()

    assert activity.status == ProcessingActivity.Status.IN_FORCE
    assert activity.lawful_basis == basis
    assert (rule.record_type, rule.duration, rule.unit) == (record_type, years, "years")
    assert (rule.start_event, rule.action) == (event, action)


def test_demo_prospecting_is_b2b_legitimate_interest():
    seed_demo(password="x", stdout=io.StringIO())

    activity = ProcessingActivity.objects.get(reference="TRT-001")

    assert activity.concerns_recipients_profession
    assert activity.legitimate_interest
    assert activity.transfers.get().safeguard == "scc"
    assert activity.processors.exists()


def test_demo_draft_shows_missing_items():
    seed_demo(password="x", stdout=io.StringIO())

    draft = ProcessingActivity.objects.get(reference="TRT-005")
    codes = {item.code for item in activity_missing_items(activity=draft)}

    assert draft.status == ProcessingActivity.Status.DRAFT
    assert {"lawful_basis", "retention_rules", "security_measures"} <= codes
    for reference in ("TRT-001", "TRT-006"):
        activity = ProcessingActivity.objects.get(reference=reference)
        assert activity_missing_items(activity=activity) == []


@pytest.mark.parametrize("reference", ["TRT-001", "TRT-002", "TRT-003", "TRT-004"])
def test_demo_activity_in_force_is_complete(reference):
    seed_demo(password="x", stdout=io.StringIO())

    activity = ProcessingActivity.objects.get(reference=reference)

    assert activity.status == ProcessingActivity.Status.IN_FORCE
    assert activity_missing_items(activity=activity) == []
