import datetime
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db import transaction
from django.utils import timezone
from django.utils import translation

from apps.breaches.models import Breach
from apps.contacts.models import Contact
from apps.core.models import AuditEvent
from apps.imports.models import ImportJob
from apps.register.deletion import activity_delete
from apps.register.models import MAX_DETAILS_LENGTH
from apps.register.models import MAX_TEXT_LENGTH
from apps.register.models import LawfulBasis
from apps.register.models import PersonalDataCategory
from apps.register.models import ProcessingActivity
from apps.register.models import Recipient
from apps.register.models import Sensitivity
from apps.register.models import Transfer
from apps.register.selectors import activity_history
from apps.register.selectors import deleted_activity
from apps.register.services import ActivityData
from apps.register.services import RegisterError
from apps.register.services import activity_missing_items
from apps.register.services import activity_save
from apps.register.services import activity_validate
from apps.register.services import activity_write
from tests.register.factories import ActivityFactory
from tests.register.factories import complete_activity
from tests.register.test_countries import EU_TERRITORY_NAMES

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

_DRAFT = ProcessingActivity.Status.DRAFT


def _missing_codes(activity) -> set[str]:
    return {item.code for item in activity_missing_items(activity=activity)}


def test_complete_activity_has_nothing_missing(compliance_officer):
    activity = complete_activity(compliance_officer)

    assert activity_missing_items(activity=activity) == []


def test_third_country_recipient_needs_transfer(compliance_officer):
    activity = complete_activity(compliance_officer)
    activity.transfers.all().delete()
    Recipient.objects.create(
        activity=activity, label="Hébergeur Exemple", third_country=True
    )

    assert "transfers" in _missing_codes(activity)


@pytest.mark.parametrize(
    "country",
    [
        "FR",
        "France",
        "allemagne",
        "Suède",
        " no ",
        *EU_TERRITORY_NAMES,
    ],
)
def test_transfer_to_eea_country_is_rejected(compliance_officer, country):
    transfer = Transfer(
        activity=complete_activity(compliance_officer),
        recipient="Routeur Exemple",
        country=country,
        safeguard=Transfer.Safeguard.SCC,
    )

    with pytest.raises(ValidationError) as raised:
        transfer.full_clean()

    assert "country" in raised.value.message_dict


@pytest.mark.parametrize("country", ["US", "États-Unis", "United Kingdom", "Inde"])
def test_transfer_outside_eea_is_accepted(compliance_officer, country):
    transfer = Transfer(
        activity=complete_activity(compliance_officer),
        recipient="Routeur Exemple",
        country=country,
        safeguard=Transfer.Safeguard.SCC,
    )

    transfer.full_clean()


@pytest.mark.parametrize(
    "country",
    [
        "Royaume-Uni",
        "GB",
        "U.K.",
        "Angleterre",
        "Royaume-Uni de Grande-Bretagne et d'Irlande du Nord",
        "Corée du Sud",
        "Korea, Republic of",
        "japon",
        "USA",
        "U.S.A.",
        "Îles Féroé",
    ],
)
def test_adequacy_accepted_for_a_country_with_a_decision(compliance_officer, country):
    transfer = Transfer(
        activity=complete_activity(compliance_officer),
        recipient="Hébergeur Exemple",
        country=country,
        safeguard=Transfer.Safeguard.ADEQUACY,
    )

    transfer.full_clean()


@pytest.mark.parametrize("country", ["Chine", "Inde", "Brazil"])
def test_adequacy_rejected_for_a_country_without_one(compliance_officer, country):
    transfer = Transfer(
        activity=complete_activity(compliance_officer),
        recipient="Hébergeur Exemple",
        country=country,
        safeguard=Transfer.Safeguard.ADEQUACY,
    )

    with pytest.raises(ValidationError) as raised:
        transfer.full_clean()

    message = raised.value.message_dict["safeguard"][0]
    assert f"{country} has no adequacy decision" in message
    assert "standard contractual clauses" in message
    assert "Switzerland" in message


def test_processor_outside_the_eea_needs_a_transfer(compliance_officer):
    """GIVEN a complete activity whose processor is established in the US,
    WHEN no transfer names it or its country, THEN the record is incomplete,
    AND a transfer to that country, however it is spelt, completes it."""
    activity = complete_activity(compliance_officer)
    activity.transfers.all().delete()
    processor = activity.processors.get()
    processor.name, processor.country = "AWS Inc.", "États-Unis"
    processor.save()

    assert _missing_codes(activity) == {f"processor_transfer_{processor.pk}"}
    label = str(activity_missing_items(activity=activity)[0].label)
    assert label == "transfer to AWS Inc. in “États-Unis”"

    Transfer.objects.create(
        activity=activity,
        recipient="Hébergement",
        country="USA",
        safeguard=Transfer.Safeguard.SCC,
    )
    assert _missing_codes(activity) == set()


@pytest.mark.parametrize(
    "country", ["", "Allemagne", "FR", "La Réunion", "Madère", "Canary Islands"]
)
def test_processor_in_the_eea_needs_no_transfer(compliance_officer, country):
    activity = complete_activity(compliance_officer)
    activity.transfers.all().delete()
    activity.processors.update(country=country)

    assert _missing_codes(activity) == set()


def test_missing_retention_lawful_basis_security(compliance_officer):
    activity = complete_activity(
        compliance_officer, lawful_basis="", security_measures=""
    )
    activity.retention_rules.all().delete()

    labels = {str(item.label) for item in activity_missing_items(activity=activity)}

    assert "retention rule" in labels
    assert "lawful basis" in labels
    assert "security measures" in labels


def test_special_category_needs_condition(compliance_officer):
    activity = complete_activity(compliance_officer)
    PersonalDataCategory.objects.create(
        activity=activity, label="Santé", sensitivity=Sensitivity.SPECIAL
    )

    assert "special_category_condition" in _missing_codes(activity)


def test_transfer_without_safeguard_is_named(compliance_officer):
    activity = complete_activity(compliance_officer)
    activity.transfers.update(safeguard="")

    labels = [str(item.label) for item in activity_missing_items(activity=activity)]

    assert "safeguard of the transfer to Hébergeur Inc." in labels


def test_processor_record_needs_controllers(compliance_officer):
    activity = complete_activity(
        compliance_officer, role=ProcessingActivity.Role.PROCESSOR, lawful_basis=""
    )

    codes = _missing_codes(activity)

    assert codes == {"controllers_served"}


def test_processor_record_is_art_30_2(compliance_officer):
    activity = complete_activity(
        compliance_officer,
        role=ProcessingActivity.Role.PROCESSOR,
        controllers_served="Client SA, 1 rue Exemple, Paris",
        lawful_basis="",
        data_sources="",
        dpia_required=None,
    )
    activity.retention_rules.all().delete()
    activity.data_subjects.all().delete()

    assert activity_missing_items(activity=activity) == []


def _data(**fields) -> ActivityData:
    values = {
        "reference": "NEW-001",
        "name": "Nouveau traitement",
        "purposes": "Tester",
        "lawful_basis": LawfulBasis.CONSENT,
        "status": ProcessingActivity.Status.DRAFT,
    }
    values.update(fields)
    return ActivityData(
        fields=values,
        parts={
            "retention_rules": [
                {
                    "data_category": "Coordonnées",
                    "record_type": "contact",
                    "duration": 3,
                    "unit": "years",
                    "start_event": "collection",
                    "action": "delete",
                }
            ]
        },
    )


def test_activity_save_creates_and_audits(compliance_officer):
    activity = activity_save(data=_data(), actor=compliance_officer)

    assert activity.retention_rules.count() == 1
    event = AuditEvent.objects.get(action="register.activity.created")
    assert event.target_id == str(activity.pk)
    assert event.actor == compliance_officer


def test_activity_change_audit_names_fields(compliance_officer):
    activity = activity_save(data=_data(), actor=compliance_officer)
    data = _data(name="Nouveau nom", purposes="Prospecter")

    activity_save(data=data, actor=compliance_officer, activity=activity)

    event = AuditEvent.objects.get(action="register.activity.changed")
    assert event.details["fields_changed"] == ["name", "purposes"]


def test_legitimate_interest_must_be_described():
    data = _data(lawful_basis=LawfulBasis.LEGITIMATE_INTERESTS)

    with pytest.raises(ValidationError) as caught:
        activity_save(data=data)

    assert "legitimate_interest" in caught.value.message_dict
    assert not ProcessingActivity.objects.filter(reference="NEW-001").exists()


def test_draft_cannot_jump_to_retired():
    activity = ActivityFactory(status=ProcessingActivity.Status.DRAFT)
    data = ActivityData(fields={"status": ProcessingActivity.Status.RETIRED})

    with pytest.raises(ValidationError) as caught:
        activity_save(data=data, activity=activity)

    assert "status" in caught.value.message_dict
    activity.refresh_from_db()
    assert activity.status == ProcessingActivity.Status.DRAFT


def test_status_error_shows_labels(compliance_officer):
    activity = complete_activity(compliance_officer)
    data = ActivityData(fields={"status": ProcessingActivity.Status.DRAFT})

    with pytest.raises(ValidationError) as caught:
        activity_save(data=data, activity=activity)

    message = caught.value.message_dict["status"][0]
    assert "cannot go back to “Draft”" in message
    assert "Choose “In force” or “Retired” instead" in message
    assert "in_force" not in message


def test_status_error_in_french(compliance_officer):
    activity = complete_activity(compliance_officer)
    data = ActivityData(fields={"status": ProcessingActivity.Status.DRAFT})

    with translation.override("fr"), pytest.raises(ValidationError) as caught:
        activity_save(data=data, activity=activity)

    message = caught.value.message_dict["status"][0]
    assert "En vigueur" in message
    assert "Brouillon" in message
    assert "Archivé" in message


def test_rule_above_maximum_is_rejected():
    data = _data()
    data.parts["retention_rules"][0]["duration"] = 10000

    with pytest.raises(ValidationError) as caught:
        activity_save(data=data)

    message = caught.value.message_dict["retention_rules"][0]
    assert "Row 1" in message
    assert "10000 years" in message
    assert "maximum of 100 years" in message
    assert not ProcessingActivity.objects.exists()


def test_invalid_part_names_the_row():
    data = _data()
    data.parts["retention_rules"][0]["duration"] = 0

    with pytest.raises(ValidationError) as caught:
        activity_save(data=data)

    assert "Row 1" in caught.value.message_dict["retention_rules"][0]


def test_unchanged_save_adds_no_history(compliance_officer):
    activity = activity_save(data=_data(), actor=compliance_officer)
    versions = activity.history.count()
    rule_versions = activity.retention_rules.get().history.count()

    activity_save(data=_data(), activity=activity)

    assert activity.history.count() == versions
    assert activity.retention_rules.get().history.count() == rule_versions


def test_parts_without_ids_update_in_order():
    activity = activity_save(data=_data())
    rule_id = activity.retention_rules.get().pk
    data = _data()
    data.parts["retention_rules"][0]["duration"] = 5

    activity_save(data=data, activity=activity)

    rule = activity.retention_rules.get()
    assert rule.pk == rule_id
    assert rule.duration == 5


def test_in_force_rejected_while_incomplete():
    data = _data(status=ProcessingActivity.Status.IN_FORCE)

    with pytest.raises(ValidationError) as caught:
        activity_save(data=data)

    message = caught.value.message_dict["status"][0]
    assert "categories of data subjects" in message
    assert "person in charge" in message
    assert "draft" in message
    assert not ProcessingActivity.objects.filter(reference="NEW-001").exists()


def test_draft_saves_while_incomplete():
    activity = activity_save(data=_data())

    assert activity.status == ProcessingActivity.Status.DRAFT
    assert activity_missing_items(activity=activity)


def test_draft_to_in_force_needs_complete_record(compliance_officer):
    activity = complete_activity(
        compliance_officer,
        status=ProcessingActivity.Status.DRAFT,
        security_measures="",
    )
    data = ActivityData(fields={"status": ProcessingActivity.Status.IN_FORCE})

    with pytest.raises(ValidationError) as caught:
        activity_save(data=data, activity=activity)

    assert "security measures" in caught.value.message_dict["status"][0]
    activity.refresh_from_db()
    assert activity.status == ProcessingActivity.Status.DRAFT


def test_draft_to_in_force_when_complete(compliance_officer):
    activity = complete_activity(
        compliance_officer, status=ProcessingActivity.Status.DRAFT
    )
    data = ActivityData(fields={"status": ProcessingActivity.Status.IN_FORCE})

    activity_save(data=data, activity=activity)

    activity.refresh_from_db()
    assert activity.status == ProcessingActivity.Status.IN_FORCE


def test_in_force_edit_cannot_drop_item(compliance_officer):
    activity = complete_activity(compliance_officer)
    data = ActivityData(fields={}, parts={"recipients": []})

    with pytest.raises(ValidationError) as caught:
        activity_save(data=data, activity=activity)

    message = caught.value.message_dict["status"][0]
    assert "1 item is missing: recipients" in message
    assert "Fill it in before saving" in message
    assert activity.recipients.count() == 1


def test_in_force_message_in_french(compliance_officer):
    activity = complete_activity(
        compliance_officer, status=ProcessingActivity.Status.DRAFT
    )
    activity.recipients.all().delete()
    data = ActivityData(fields={"status": ProcessingActivity.Status.IN_FORCE})

    with translation.override("fr"), pytest.raises(ValidationError) as caught:
        activity_save(data=data, activity=activity)

    message = caught.value.message_dict["status"][0]
    assert "1 élément manque : destinataires" in message
    assert "brouillon" in message


def test_unchanged_incomplete_in_force_is_kept():
    activity = ActivityFactory()
    updated_at = activity.updated_at

    activity_save(data=ActivityData(fields={}), activity=activity)

    activity.refresh_from_db()
    assert activity.status == ProcessingActivity.Status.IN_FORCE
    assert activity.updated_at == updated_at


def test_edit_of_incomplete_in_force_rejected():
    activity = ActivityFactory()
    data = ActivityData(fields={"name": "Nouveau nom"})

    with pytest.raises(ValidationError) as caught:
        activity_save(data=data, activity=activity)

    assert "categories of data subjects" in caught.value.message_dict["status"][0]
    activity.refresh_from_db()
    assert activity.name != "Nouveau nom"


def test_text_stored_with_lf_line_breaks():
    data = _data(purposes="Recrutement\r\nSuivi des candidatures\rArchives")
    data.parts["retention_rules"][0]["notes"] = "Ligne 1\r\nLigne 2"

    activity = activity_save(data=data)

    activity.refresh_from_db()
    assert activity.purposes == "Recrutement\nSuivi des candidatures\nArchives"
    assert activity.retention_rules.get().notes == "Ligne 1\nLigne 2"


def test_crlf_resave_adds_no_history(compliance_officer):
    activity = activity_save(data=_data(purposes="Un\nDeux"), actor=compliance_officer)
    versions = activity.history.count()

    outcome = activity_write(data=_data(purposes="Un\r\nDeux"), activity=activity)

    assert not outcome.changed
    assert activity.history.count() == versions


def test_every_part_error_is_reported():
    data = _data(name="")
    data.parts["retention_rules"][0]["duration"] = 0
    data.parts["transfers"] = [
        {"recipient": "Filiale", "country": "Allemagne", "safeguard": "scc"}
    ]

    with pytest.raises(RegisterError) as caught:
        activity_save(data=data)

    places = {(e.part, e.row, e.field) for e in caught.value.field_errors}
    assert places == {
        (None, None, "name"),
        ("retention_rules", 0, "duration"),
        ("transfers", 0, "country"),
    }
    assert not ProcessingActivity.objects.exists()


@pytest.mark.parametrize(
    ("label", "sensitivity_label"),
    [
        ("Données concernant la santé", "Special category (Art. 9)"),
        (
            "données relatives aux condamnations pénales ou infractions ",
            "Criminal convictions and offences (Art. 10)",
        ),
        (
            "Données révélant l’origine  raciale ou ethnique",
            "Special category (Art. 9)",
        ),
        (
            "Données révélant l‘ origine raciale ou ethnique.",
            "Special category (Art. 9)",
        ),
        ("Données révélant l`origine raciale ou ethnique", "Special category (Art. 9)"),
    ],
)
def test_listed_special_category_needs_its_sensitivity(label, sensitivity_label):
    """GIVEN a category picked from the reference lists, where it is Art. 9 or
    Art. 10 data, WHEN it is saved as standard data, THEN the row's
    sensitivity is rejected with the listed one."""
    data = _data()
    data.parts["data_categories"] = [
        {"label": label, "details": "", "sensitivity": Sensitivity.STANDARD}
    ]

    with translation.override("en"), pytest.raises(RegisterError) as caught:
        activity_save(data=data)

    places = {(e.part, e.row, e.field) for e in caught.value.field_errors}
    message = caught.value.message_dict["data_categories"][0]
    assert places == {("data_categories", 0, "sensitivity")}
    assert f"mark “{label.strip()}” as “{sensitivity_label}”" in message
    assert not ProcessingActivity.objects.exists()


def test_listed_special_category_saved_as_special():
    data = _data()
    data.parts["data_categories"] = [
        {
            "label": "Données concernant la santé",
            "details": "",
            "sensitivity": Sensitivity.SPECIAL,
        }
    ]

    activity = activity_save(data=data)

    assert activity.data_categories.get().sensitivity == Sensitivity.SPECIAL


def test_part_error_names_field_label():
    data = _data()
    data.parts["retention_rules"][0]["start_event"] = "other"

    with pytest.raises(RegisterError) as caught:
        activity_save(data=data)

    message = caught.value.message_dict["retention_rules"][0]
    assert message.startswith("Row 1, event described: Describe the event")
    assert "start_event_other" not in message


def test_part_error_label_in_french():
    data = _data()
    data.parts["retention_rules"][0]["duration"] = 0

    with translation.override("fr"):
        with pytest.raises(RegisterError) as caught:
            activity_save(data=data)
        label = caught.value.field_errors[0].label

    assert label == "durée"
    assert "duration" not in caught.value.message_dict["retention_rules"][0]


def test_nul_character_is_rejected():
    data = _data(name="Trait\x00ement")
    data.parts["retention_rules"][0]["notes"] = "\x00"

    with pytest.raises(RegisterError) as caught:
        activity_save(data=data)

    places = {(e.part, e.row, e.field) for e in caught.value.field_errors}
    assert places == {(None, None, "name"), ("retention_rules", 0, "notes")}
    assert (
        "'Trait\\x00ement' contains a NUL character"
        in (caught.value.message_dict["name"][0])
    )
    assert not ProcessingActivity.objects.exists()


def test_nul_in_reference_is_rejected():
    with pytest.raises(RegisterError) as caught:
        activity_save(data=_data(reference="NUL\x00-1"))

    assert [error.field for error in caught.value.field_errors] == ["reference"]


def test_activity_validate_writes_nothing():
    data = _data()
    data.parts["retention_rules"][0]["duration"] = 0

    errors = activity_validate(data=data)

    assert [(e.part, e.field) for e in errors] == [("retention_rules", "duration")]
    assert not ProcessingActivity.objects.exists()


def test_delete_names_every_referring_kind(compliance_officer):
    activity = ActivityFactory(reference="TRT-001", status=_DRAFT)
    for number in range(2):
        Contact.objects.create(
            email=f"contact{number}@example.com",
            collected_at=timezone.now(),
            processing_activity=activity,
        )
    ImportJob.objects.create(
        file_name="fichier.csv",
        file_sha256="0" * 64,
        list_name="Salon 2026",
        acquired_on=datetime.date(2026, 1, 5),
        processing_activity=activity,
    )
    now = timezone.now()
    breach = Breach.objects.create(
        reference="BRE-2026-001",
        title="Envoi au mauvais destinataire",
        aware_at=now,
        detected_at=now,
    )
    breach.activities.add(activity)

    with pytest.raises(ValidationError) as caught:
        activity_delete(activity=activity, actor=compliance_officer)

    message = caught.value.messages[0]
    assert "TRT-001 cannot be deleted" in message
    assert "2 contacts" in message
    assert "1 import job" in message
    assert "1 breach" in message
    assert ProcessingActivity.objects.filter(pk=activity.pk).exists()
    assert not AuditEvent.objects.filter(action="register.activity.deleted").exists()


def test_delete_names_kinds_in_french(compliance_officer):
    activity = ActivityFactory(reference="TRT-002", status=_DRAFT)
    Contact.objects.create(
        email="contact@example.com",
        collected_at=timezone.now(),
        processing_activity=activity,
    )

    with translation.override("fr"), pytest.raises(ValidationError) as caught:
        activity_delete(activity=activity, actor=compliance_officer)

    assert "1 contact" in caught.value.messages[0]


def test_delete_unused_activity_with_parts(compliance_officer):
    activity = complete_activity(compliance_officer, reference="TRT-003", status=_DRAFT)

    activity_delete(activity=activity, actor=compliance_officer)

    assert not ProcessingActivity.objects.filter(pk=activity.pk).exists()


@pytest.mark.parametrize("status", ["in_force", "retired"])
def test_delete_rejects_activity_past_draft(compliance_officer, status):
    activity = complete_activity(compliance_officer, reference="TRT-004", status=status)

    with pytest.raises(ValidationError) as caught:
        activity_delete(activity=activity, actor=compliance_officer)

    assert "so it cannot be deleted" in caught.value.messages[0]
    assert ProcessingActivity.objects.filter(pk=activity.pk).exists()
    assert not AuditEvent.objects.filter(action="register.activity.deleted").exists()


def test_deleted_draft_keeps_history(compliance_officer):
    activity = complete_activity(compliance_officer, reference="TRT-005", status=_DRAFT)
    pk = activity.pk

    activity_delete(activity=activity, actor=compliance_officer)
    found = deleted_activity(user=compliance_officer, pk=pk)
    entries = activity_history(activity=found[0])

    assert found[0].reference == "TRT-005"
    assert entries[0].action == "deleted"
    assert any(entry.kind == "processor" for entry in entries)


def _rule_row(**values) -> dict:
    row = {
        "data_category": "Coordonnées",
        "record_type": "contact",
        "duration": 3,
        "unit": "years",
        "start_event": "collection",
        "start_event_other": "",
        "action": "delete",
        "notes": "",
    }
    row.update(values)
    return row


def test_parts_only_change_moves_updated_at():
    data = _data()
    data.parts["retention_rules"] = [_rule_row()]
    activity = activity_save(data=data)
    before = ProcessingActivity.objects.get(pk=activity.pk).updated_at
    data.parts["retention_rules"] = [_rule_row(duration=2)]

    activity_save(data=data, activity=ProcessingActivity.objects.get(pk=activity.pk))

    stored = ProcessingActivity.objects.get(pk=activity.pk)
    assert stored.updated_at > before
    assert stored.history.count() == 1


def test_unchanged_save_keeps_updated_at():
    data = _data()
    data.parts["retention_rules"] = [_rule_row()]
    activity = activity_save(data=data)
    before = ProcessingActivity.objects.get(pk=activity.pk).updated_at

    activity_save(data=data, activity=ProcessingActivity.objects.get(pk=activity.pk))

    assert ProcessingActivity.objects.get(pk=activity.pk).updated_at == before


def test_rule_removal_needs_delete_permission(dpo):
    data = _data()
    data.parts["retention_rules"] = [_rule_row()]
    activity = activity_save(data=data)
    data.parts["retention_rules"] = []

    with pytest.raises(RegisterError) as caught:
        activity_save(data=data, activity=activity, actor=dpo)

    assert list(caught.value.message_dict) == ["retention_rules"]
    assert "not allowed to delete retention rules" in str(caught.value)
    assert activity.retention_rules.count() == 1


def test_rule_removal_by_officer_or_command(compliance_officer):
    data = _data()
    data.parts["retention_rules"] = [_rule_row(), _rule_row(duration=5)]
    activity = activity_save(data=data)

    data.parts["retention_rules"] = [_rule_row()]
    activity_save(data=data, activity=activity, actor=compliance_officer)
    data.parts["retention_rules"] = []
    activity_save(data=data, activity=activity)

    assert not activity.retention_rules.exists()


def test_rule_addition_needs_add_permission(django_user_model):
    user = django_user_model.objects.create_user(username="noa")
    data = _data()
    data.parts["retention_rules"] = []
    activity = activity_save(data=data)
    data.parts["retention_rules"] = [_rule_row()]

    with pytest.raises(RegisterError) as caught:
        activity_save(data=data, activity=activity, actor=user)

    assert "not allowed to add retention rules" in str(caught.value)
    assert not activity.retention_rules.exists()


def _lock_waiters() -> int:
    """Count the connections waiting for a lock, as of now.

    Inside a transaction, PostgreSQL keeps the first reading of its activity
    view until the snapshot is cleared.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_concurrent_stale_save_rejected(compliance_officer):
    """GIVEN two editors who opened an activity at the same version
    WHEN the second one saves while the first one's save is still committing
    THEN the second save waits for the first and is refused.
    """
    activity = activity_save(data=_data(), actor=compliance_officer)
    loaded_version = activity.updated_at
    outcome = {}

    def second_save():
        try:
            activity_save(
                data=_data(name="Second editor"),
                activity=ProcessingActivity.objects.get(pk=activity.pk),
                loaded_version=loaded_version,
            )
            outcome["saved"] = True
        except RegisterError as error:
            outcome["error"] = error.messages
        finally:
            connection.close()

    with transaction.atomic():
        first = ProcessingActivity.objects.select_for_update().get(pk=activity.pk)
        first.name = "First editor"
        first.save()
        thread = threading.Thread(target=second_save)
        thread.start()
        deadline = time.monotonic() + 10
        while not _lock_waiters() and time.monotonic() < deadline:
            time.sleep(0.02)

    thread.join(timeout=10)

    activity.refresh_from_db()
    assert activity.name == "First editor"
    assert "saved" not in outcome
    assert "after you opened the page" in outcome["error"][0]


def test_text_above_limit_is_rejected():
    data = _data(description="x" * (MAX_TEXT_LENGTH + 1))
    data.parts["retention_rules"][0]["notes"] = "n" * (MAX_DETAILS_LENGTH + 1)

    with pytest.raises(RegisterError) as caught:
        activity_save(data=data)

    errors = {(e.part, e.field): e.messages for e in caught.value.field_errors}
    assert errors[(None, "description")] == (
        "This text has 10001 characters, above the maximum of 10000. Shorten "
        "it, or keep the details in a document and refer to it here.",
    )
    assert "2001 characters" in errors[("retention_rules", "notes")][0]
    assert not ProcessingActivity.objects.exists()


def test_text_at_limit_is_accepted():
    activity = activity_save(data=_data(description="x" * MAX_TEXT_LENGTH))

    assert len(activity.description) == MAX_TEXT_LENGTH


def test_transfer_naming_the_processor_in_short_counts(compliance_officer):
    activity = complete_activity(compliance_officer)
    activity.transfers.update(recipient="Cloud Asia", country="China")
    activity.processors.update(name="Cloud Asia Ltd", country="Chine")

    assert _missing_codes(activity) == set()
