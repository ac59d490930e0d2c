import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from apps.core.models import AuditEvent
from apps.register.models import LawfulBasis
from apps.register.models import PersonalDataCategory
from apps.register.models import ProcessingActivity
from apps.register.models import Recipient
from apps.register.models import Sensitivity
from apps.register.models import Transfer
from apps.register.services import ActivityData
from apps.register.services import activity_missing_items
from apps.register.services import activity_save
from tests.register.factories import ActivityFactory
from tests.register.factories import complete_activity

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


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


@pytest.mark.parametrize("country", ["FR", "France", "allemagne", "Suède", " no "])
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
    assert "from “In force” to “Draft”" in message
    assert "the allowed status is: Retired" in message
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
