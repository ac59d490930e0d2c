"""List terms that the import rules reject: dates, licence end, consent claims.

``list_terms_check`` serves the upload form, ``import_job_create`` and the
``import_contacts`` command alike.
"""

import datetime
import functools
import operator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone
from django.utils import translation

from apps.contacts.models import Contact
from apps.imports.errors import ImportInputError
from apps.imports.list_terms import ACQUIRED_ON_EARLIEST
from apps.imports.list_terms import list_terms_check
from apps.imports.models import ImportJob
from apps.register.models import ProcessingActivity
from apps.register.models import RetentionRule
from apps.retention.policy import local_today
from apps.retention.selectors import StepKind
from apps.retention.selectors import retention_plan
from tests.imports.conftest import import_file
from tests.imports.conftest import import_file_created
from tests.imports.conftest import prospecting_activity

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

PARIS = ZoneInfo("Europe/Paris")


def _terms(**changes) -> dict:
    if "processing_activity" not in changes:
        basis = changes.get("lawful_basis", "legitimate_interests")
        changes["processing_activity"] = prospecting_activity(basis)
    terms = {
        "acquisition": "purchase",
        "acquired_on": local_today() - timedelta(days=60),
        "licence_ends_on": None,
        "consent_claim": "opt_out",
        "audience": "b2b",
        "lawful_basis": "legitimate_interests",
    }
    return terms | changes


def _rejection(**changes) -> ImportInputError:
    with pytest.raises(ImportInputError) as caught:
        list_terms_check(**_terms(**changes))
    return caught.value


def _activity(*rules) -> ProcessingActivity:
    """Create an activity in force with contact rules.

    Each rule is a tuple (duration, unit, start event, action).
    """
    activity = ProcessingActivity.objects.create(
        reference="TRT-950",
        name="Prospection B2B",
        status=ProcessingActivity.Status.IN_FORCE,
        lawful_basis="legitimate_interests",
        concerns_recipients_profession=True,
    )
    for duration, unit, start_event, action in rules:
        RetentionRule.objects.create(
            activity=activity,
            data_category="Prospects",
            record_type=RetentionRule.RecordType.CONTACT,
            duration=duration,
            unit=unit,
            start_event=start_event,
            action=action,
        )
    return activity


def test_usual_terms_accepted():
    list_terms_check(**_terms())


def test_expired_licence_rejected():
    today = local_today()
    ended = today - timedelta(days=1)

    error = _rejection(acquisition="rental", licence_ends_on=ended)

    assert error.field == "licence_ends_on"
    assert f"{ended:%d/%m/%Y}" in str(error)
    assert f"{today:%d/%m/%Y}" in str(error)
    assert "next retention run would remove its contacts" in str(error)


def test_licence_ending_today_accepted():
    list_terms_check(**_terms(acquisition="rental", licence_ends_on=local_today()))


def test_licence_end_on_purchase_rejected():
    licence_end = local_today() + timedelta(days=90)

    error = _rejection(acquisition="purchase", licence_ends_on=licence_end)

    assert error.field == "licence_ends_on"
    assert f"{licence_end:%d/%m/%Y}" in str(error)
    assert "“purchase”" in str(error)
    assert "Choose “rental”" in str(error)


def test_rental_without_licence_end_rejected():
    error = _rejection(acquisition="rental")

    assert error.field == "licence_ends_on"
    assert str(error) == "A rented list needs the date its licence ends."


def test_unknown_acquisition_rejected():
    error = _rejection(acquisition="lease")

    assert error.field == "acquisition"
    assert "lease" in str(error)


def test_acquisition_before_2000_rejected():
    error = _rejection(acquired_on=datetime.date(1, 1, 1))

    assert error.field == "acquired_on"
    assert "01/01/0001" in str(error)
    assert "01/01/2000" in str(error)
    assert datetime.date(2000, 1, 1) == ACQUIRED_ON_EARLIEST


def test_acquisition_past_default_rule_rejected():
    last_due_day = local_today() - relativedelta(years=3)

    error = _rejection(acquired_on=last_due_day)

    assert error.field == "acquired_on"
    assert f"{last_due_day:%d/%m/%Y}" in str(error)
    assert f"{(last_due_day + timedelta(days=1)):%d/%m/%Y}" in str(error)
    assert "Prospects without an applicable rule: 3 years" in str(error)


def test_acquisition_day_after_default_limit_accepted():
    earliest = local_today() - relativedelta(years=3) + timedelta(days=1)

    list_terms_check(**_terms(acquired_on=earliest))


def test_acquisition_past_activity_rule_rejected():
    activity = _activity((2, "years", "collection", "delete"))
    acquired_on = local_today() - relativedelta(months=30)

    error = _rejection(acquired_on=acquired_on, processing_activity=activity)

    assert f"{acquired_on:%d/%m/%Y}" in str(error)
    assert "“Prospects: 2 years from collection, then delete”" in str(error)


def test_shortest_removing_rule_sets_limit():
    activity = _activity(
        (5, "years", "collection", "delete"),
        (6, "months", "last_contact", "anonymise"),
        (1, "months", "collection", "archive"),
    )

    error = _rejection(
        acquired_on=local_today() - relativedelta(months=8),
        processing_activity=activity,
    )
    list_terms_check(
        **_terms(
            acquired_on=local_today() - relativedelta(months=5),
            processing_activity=activity,
        )
    )

    assert "6 months from last contact from the person, then anonymise" in str(error)


def test_archiving_rules_keep_old_lists():
    activity = _activity((1, "years", "collection", "archive"))

    list_terms_check(
        **_terms(acquired_on=datetime.date(2005, 1, 1), processing_activity=activity)
    )
    error = _rejection(
        acquired_on=datetime.date(1999, 12, 31), processing_activity=activity
    )

    assert "01/01/2000, the earliest date accepted" in str(error)


def test_rule_from_other_event_leaves_default():
    # The retention job cannot count from the end of a contract on a contact,
    # so the default prospect rule governs the batch.
    activity = _activity((10, "years", "end_of_contract", "delete"))

    error = _rejection(
        acquired_on=local_today() - relativedelta(years=4),
        processing_activity=activity,
    )

    assert "Prospects without an applicable rule" in str(error)


def test_earliest_day_matches_retention_plan(upload_root, write_file):
    """GIVEN a list acquired on the earliest day accepted under a 2-year rule
    WHEN the retention plan for today is computed
    THEN its contact is not due, and a contact collected a day earlier is."""
    activity = _activity((2, "years", "collection_or_last_contact", "delete"))
    earliest = local_today() - relativedelta(years=2) + timedelta(days=1)
    with pytest.raises(ImportInputError):
        list_terms_check(
            **_terms(
                acquired_on=earliest - timedelta(days=1), processing_activity=activity
            )
        )
    import_file(
        write_file("liste.csv", "Courriel\njean.dupont@example.com\n"),
        acquired_on=earliest,
        processing_activity=activity,
    )
    Contact.objects.create(
        email="plus.ancien@example.com",
        processing_activity=activity,
        collected_at=datetime.datetime.combine(
            earliest - timedelta(days=1), datetime.time(12), tzinfo=PARIS
        ),
    )

    plan = retention_plan(as_of=local_today(), now=timezone.now())
    due = functools.reduce(
        operator.or_,
        [
            step.due
            for step in plan
            if step.kind == StepKind.CONTACTS and step.due is not None
        ],
    )

    assert Contact.objects.count() == 2
    assert list(Contact.objects.filter(due).values_list("email", flat=True)) == [
        "plus.ancien@example.com"
    ]


@pytest.mark.parametrize(
    ("claim", "label"),
    [("opt_out", "opt-out (informed, able to object)"), ("unknown", "not stated")],
)
def test_consent_basis_needs_opt_in_claim(claim, label):
    error = _rejection(lawful_basis="consent", consent_claim=claim)

    assert error.field == "lawful_basis"
    assert "“Consent (Art. 6(1)(a))”" in str(error)
    assert f"“{label}”" in str(error)
    assert claim not in str(error)


def test_consent_basis_with_opt_in_accepted():
    list_terms_check(**_terms(lawful_basis="consent", consent_claim="opt_in"))


def test_consent_basis_message_in_french():
    with translation.override("fr"):
        error = _rejection(lawful_basis="consent", consent_claim="opt_out")

    assert "« Consentement (art. 6.1.a) »" in str(error)
    assert "« opt-out (personne informée, pouvant s'opposer) »" in str(error)
    assert "opt_out" not in str(error)


def test_b2c_message_names_claim_label():
    error = _rejection(audience="b2c", consent_claim="unknown")

    assert error.field == "consent_claim"
    assert "“not stated”" in str(error)
    assert "unknown" not in str(error)


def test_b2c_message_in_french():
    with translation.override("fr"):
        error = _rejection(audience="b2c", consent_claim="opt_out")

    assert "« opt-out (personne informée, pouvant s'opposer) »" in str(error)
    assert "opt_out" not in str(error)


def test_rejected_terms_store_nothing(upload_root, write_file):
    path = write_file("liste.csv", "Courriel\njean.dupont@example.com\n")

    with pytest.raises(ImportInputError, match="01/01/0001"):
        import_file_created(path, acquired_on=datetime.date(1, 1, 1))

    assert not ImportJob.objects.exists()
    assert not list(upload_root.rglob("*.upload"))


def _prospecting(reference="TRT-960", **fields) -> ProcessingActivity:
    defaults = {
        "name": "Prospection",
        "status": ProcessingActivity.Status.IN_FORCE,
        "lawful_basis": "legitimate_interests",
        "concerns_recipients_profession": True,
    }
    return ProcessingActivity.objects.create(reference=reference, **(defaults | fields))


def test_missing_activity_rejected():
    error = _rejection(processing_activity=None)

    assert error.field == "processing_activity"
    assert "No processing activity is chosen" in str(error)
    assert "“Legitimate interests (Art. 6(1)(f))”" in str(error)


def test_activity_with_other_basis_rejected():
    activity = _prospecting(lawful_basis="consent")

    error = _rejection(processing_activity=activity)

    assert error.field == "lawful_basis"
    assert "TRT-960 (Prospection)" in str(error)
    assert "relies on the lawful basis “Consent (Art. 6(1)(a))”" in str(error)
    assert "is “Legitimate interests (Art. 6(1)(f))”" in str(error)


def test_consumer_batch_under_other_basis_names_activity():
    activity = _prospecting(lawful_basis="legitimate_interests")

    error = _rejection(
        processing_activity=activity,
        audience="b2c",
        lawful_basis="consent",
        consent_claim="opt_in",
    )

    assert error.field == "processing_activity"
    assert "consumers (B2C) can only be prospected on “Consent" in str(error)
    assert "for the batch" not in str(error)


def test_activity_outside_prospecting_names_activity_only():
    """The advice never leads to a basis that the audience check rejects."""
    activity = _prospecting(lawful_basis="legal_obligation")

    error = _rejection(processing_activity=activity)

    assert error.field == "processing_activity"
    assert "does not allow e-mail prospecting of professionals" in str(error)
    assert "for the batch" not in str(error)


def test_activity_without_basis_rejected():
    activity = _prospecting(lawful_basis="")

    error = _rejection(processing_activity=activity)

    assert error.field == "processing_activity"
    assert "TRT-960 (Prospection) has no lawful basis" in str(error)


@pytest.mark.parametrize(
    "basis", ["contract", "legal_obligation", "vital_interests", "public_task"]
)
def test_b2b_basis_outside_prospecting_rejected(basis):
    activity = _prospecting(lawful_basis=basis)

    error = _rejection(lawful_basis=basis, processing_activity=activity)

    assert error.field == "lawful_basis"
    assert "professionals (B2B)" in str(error)
    assert "Choose “Legitimate interests (Art. 6(1)(f))” or “Consent" in str(error)


@pytest.mark.parametrize("basis", ["legitimate_interests", "contract"])
def test_b2c_basis_other_than_consent_rejected(basis):
    error = _rejection(audience="b2c", consent_claim="opt_in", lawful_basis=basis)

    assert error.field == "lawful_basis"
    assert "consumers (B2C)" in str(error)
    assert "Choose “Consent (Art. 6(1)(a))”" in str(error)


def test_b2c_consent_with_opt_in_accepted():
    list_terms_check(
        **_terms(audience="b2c", consent_claim="opt_in", lawful_basis="consent")
    )


def test_b2b_interests_outside_profession_rejected():
    activity = _prospecting(concerns_recipients_profession=False)

    error = _rejection(processing_activity=activity)

    assert error.field == "processing_activity"
    assert "TRT-960 (Prospection)" in str(error)
    assert "tick “messages concern the recipient's profession”" in str(error)


def test_b2b_consent_outside_profession_accepted():
    activity = _prospecting(
        lawful_basis="consent", concerns_recipients_profession=False
    )

    list_terms_check(
        **_terms(
            lawful_basis="consent", consent_claim="opt_in", processing_activity=activity
        )
    )


def test_french_messages_show_french_dates():
    ended = local_today() - timedelta(days=1)

    with translation.override("fr"):
        error = _rejection(acquisition="rental", licence_ends_on=ended)

    assert f"{ended:%d/%m/%Y}" in str(error)
    assert f"{local_today():%d/%m/%Y}" in str(error)
    assert ended.isoformat() not in str(error)


def test_too_old_message_in_french_dates():
    with translation.override("fr"):
        error = _rejection(acquired_on=datetime.date(1999, 12, 5))

    assert "05/12/1999" in str(error)
    assert "01/01/2000" in str(error)
