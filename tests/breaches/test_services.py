"""Rules of the breach services: notification phases, lateness, closing, purge."""

import importlib
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.breaches.models import Breach
from apps.breaches.models import BreachEvent
from apps.breaches.models import BreachNotification
from apps.breaches.models import BreachRecipient
from apps.breaches.services import BreachError
from apps.breaches.services import _local
from apps.breaches.services import _next_reference
from apps.breaches.services import breach_add_note
from apps.breaches.services import breach_close
from apps.breaches.services import breach_create
from apps.breaches.services import breach_notify_authority
from apps.breaches.services import breach_purge_closed
from apps.breaches.services import breach_record_communication
from apps.breaches.services import breach_require_editable
from apps.breaches.services import breach_update
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import Provenance
from apps.contacts.models import Vendor
from apps.core.models import AuditEvent

from .factories import ActivityFactory
from .factories import BreachFactory
from .factories import ContactFactory

pytestmark = pytest.mark.postgres

INITIAL = BreachNotification.Phase.INITIAL
COMPLEMENTARY = BreachNotification.Phase.COMPLEMENTARY


@pytest.fixture
def late_breach(db):
    return BreachFactory(aware_at=timezone.now() - timedelta(hours=80))


def test_late_notification_without_reasons_rejected(late_breach, dpo):
    with pytest.raises(BreachError, match="state the reasons for the delay"):
        breach_notify_authority(
            breach=late_breach, phase=INITIAL, submitted_at=timezone.now(), actor=dpo
        )

    late_breach.refresh_from_db()
    assert late_breach.status == Breach.Status.OPEN
    assert late_breach.notified_at is None
    assert not BreachNotification.objects.exists()


def test_late_notification_blank_reasons_rejected(late_breach):
    with pytest.raises(BreachError, match="after the deadline"):
        breach_notify_authority(
            breach=late_breach,
            phase=INITIAL,
            submitted_at=timezone.now(),
            delay_reasons="   ",
        )


def test_late_notification_with_reasons_accepted(late_breach, dpo):
    breach_notify_authority(
        breach=late_breach,
        phase=INITIAL,
        submitted_at=timezone.now(),
        delay_reasons="The processor told us only on day 3.",
        authority_reference="CNIL-2026-0042",
        actor=dpo,
    )

    late_breach.refresh_from_db()
    assert late_breach.status == Breach.Status.NOTIFIED
    assert late_breach.notified_late is True
    assert late_breach.delay_reasons == "The processor told us only on day 3."
    assert late_breach.authority_reference == "CNIL-2026-0042"
    assert AuditEvent.objects.filter(action="breaches.notification.initial").exists()


def test_notification_in_time_needs_no_reasons(db):
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=10))

    breach_notify_authority(breach=breach, phase=INITIAL, submitted_at=timezone.now())

    breach.refresh_from_db()
    assert breach.status == Breach.Status.NOTIFIED
    assert breach.notified_late is False


def test_complementary_before_initial_rejected(db):
    breach = BreachFactory()

    with pytest.raises(BreachError, match="record the initial notification first"):
        breach_notify_authority(
            breach=breach, phase=COMPLEMENTARY, submitted_at=timezone.now()
        )


def test_complementary_after_initial_accepted(db):
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=100))
    breach_notify_authority(
        breach=breach,
        phase=INITIAL,
        submitted_at=breach.aware_at + timedelta(hours=20),
    )

    breach_notify_authority(
        breach=breach,
        phase=COMPLEMENTARY,
        submitted_at=timezone.now(),
        content="Forensic report: 340 records were read.",
    )

    phases = list(breach.notifications.values_list("phase", flat=True))
    assert phases == [INITIAL, COMPLEMENTARY]
    breach.refresh_from_db()
    assert breach.notified_late is False


def test_second_initial_notification_rejected(db):
    breach = BreachFactory()
    breach_notify_authority(breach=breach, phase=INITIAL, submitted_at=timezone.now())

    with pytest.raises(BreachError, match="already has an initial notification"):
        breach_notify_authority(
            breach=breach, phase=INITIAL, submitted_at=timezone.now()
        )


def test_notification_before_awareness_rejected(db):
    breach = BreachFactory()

    with pytest.raises(BreachError, match="before the awareness time"):
        breach_notify_authority(
            breach=breach,
            phase=INITIAL,
            submitted_at=breach.aware_at - timedelta(hours=1),
        )


def test_unknown_phase_rejected(db):
    breach = BreachFactory()

    with pytest.raises(BreachError, match="'final'"):
        breach_notify_authority(
            breach=breach, phase="final", submitted_at=timezone.now()
        )


def test_references_follow_year(db):
    aware_at = timezone.now() - timedelta(hours=1)
    data = {
        "title": "Misdirected e-mail",
        "description": "A list was sent to a wrong recipient.",
        "detected_at": aware_at,
        "aware_at": aware_at,
        "affects_confidentiality": True,
    }

    first = breach_create(data=data)
    second = breach_create(data=data)

    assert first.reference == f"BRE-{aware_at.year}-001"
    assert second.reference == f"BRE-{aware_at.year}-002"
    assert first.events.filter(kind=BreachEvent.Kind.RECORDED).exists()


def test_high_risk_requires_informing_subjects(db):
    breach = BreachFactory()

    updated = breach_update(breach=breach, data={"risk_level": Breach.RiskLevel.HIGH})

    assert updated.subjects_must_be_informed is True


def test_not_required_needs_reason(db):
    breach = BreachFactory(risk_level=Breach.RiskLevel.NONE)

    with pytest.raises(ValidationError) as error:
        breach_update(
            breach=breach,
            data={"notification_decision": Breach.NotificationDecision.NOT_REQUIRED},
        )

    assert "no_notification_reason" in error.value.message_dict


def test_not_required_with_risk_rejected(db):
    breach = BreachFactory(risk_level=Breach.RiskLevel.RISK)

    with pytest.raises(ValidationError) as error:
        breach_update(
            breach=breach,
            data={
                "notification_decision": Breach.NotificationDecision.NOT_REQUIRED,
                "no_notification_reason": "Small file.",
            },
        )

    assert "notification_decision" in error.value.message_dict


def test_not_required_without_assessment_rejected(db):
    breach = BreachFactory(risk_level=Breach.RiskLevel.UNASSESSED)

    with pytest.raises(ValidationError) as error:
        breach_update(
            breach=breach,
            data={
                "notification_decision": Breach.NotificationDecision.NOT_REQUIRED,
                "no_notification_reason": "x",
            },
        )

    assert "risk_level" in error.value.message_dict
    breach.refresh_from_db()
    assert breach.notification_decision != Breach.NotificationDecision.NOT_REQUIRED


def test_update_records_changed_fields(db, dpo):
    breach = BreachFactory()

    breach_update(breach=breach, data={"title": "New title"}, actor=dpo)

    breach.refresh_from_db()
    assert breach.title == "New title"
    event = AuditEvent.objects.get(action="breaches.breach.changed")
    assert event.details == {"fields": ["title"]}


def test_close_unnotified_breach_rejected(db):
    breach = BreachFactory()

    with pytest.raises(BreachError, match="is not notified"):
        breach_close(breach=breach)


def test_close_waived_breach(db):
    breach = BreachFactory(
        risk_level=Breach.RiskLevel.NONE,
        notification_decision=Breach.NotificationDecision.NOT_REQUIRED,
        no_notification_reason="Encrypted laptop, key not compromised.",
    )

    breach_close(breach=breach)

    breach.refresh_from_db()
    assert breach.status == Breach.Status.CLOSED
    assert breach.closed_at is not None


def test_close_high_risk_uninformed_rejected(db):
    breach = BreachFactory(
        risk_level=Breach.RiskLevel.HIGH, subjects_must_be_informed=True
    )
    breach_notify_authority(breach=breach, phase=INITIAL, submitted_at=timezone.now())

    with pytest.raises(BreachError, match="must be informed"):
        breach_close(breach=breach)


def test_closed_breach_cannot_change(db):
    breach = BreachFactory(status=Breach.Status.CLOSED, closed_at=timezone.now())

    with pytest.raises(BreachError, match="is closed"):
        breach_update(breach=breach, data={"title": "Changed"})


def test_purge_deletes_closed_before_cutoff(db):
    now = timezone.now()
    old = BreachFactory(
        status=Breach.Status.CLOSED, closed_at=now - timedelta(days=2000)
    )
    recent = BreachFactory(status=Breach.Status.CLOSED, closed_at=now)
    still_open = BreachFactory()

    purged = breach_purge_closed(closed_before=now - timedelta(days=1825))

    assert purged == 1
    assert not Breach.objects.filter(pk=old.pk).exists()
    assert Breach.objects.filter(pk__in=[recent.pk, still_open.pk]).count() == 2
    event = AuditEvent.objects.get(action="breaches.breach.purged")
    assert event.count == 1
    assert event.details["breach_ids"] == [old.pk]


def test_breach_keeps_earliest_communication(db, dpo):
    activity = ActivityFactory()
    ContactFactory(processing_activity=activity)
    breach = BreachFactory(aware_at=timezone.now() - timedelta(days=2))
    letter_at = timezone.now() - timedelta(hours=1)
    email_at = timezone.now() - timedelta(days=1)

    for communicated_at, method in ((letter_at, "Letter"), (email_at, "E-mail")):
        breach_record_communication(
            breach=breach,
            communicated_at=communicated_at,
            method=method,
            activity_ids=[activity.pk],
            actor=dpo,
        )

    breach.refresh_from_db()
    assert breach.communicated_at == email_at


def test_purge_with_nothing_to_do(db):
    assert breach_purge_closed(closed_before=timezone.now()) == 0
    assert not AuditEvent.objects.filter(action="breaches.breach.purged").exists()


def test_communication_records_matching_contacts(db, dpo):
    activity = ActivityFactory()
    other_activity = ActivityFactory()
    informed = ContactFactory.create_batch(3, processing_activity=activity)
    ContactFactory(processing_activity=activity, status=Contact.Status.ANONYMISED)
    ContactFactory(processing_activity=other_activity)
    breach = BreachFactory()

    communication = breach_record_communication(
        breach=breach,
        communicated_at=timezone.now(),
        method="E-mail from the DPO",
        activity_ids=[activity.pk],
        actor=dpo,
    )

    recipients = set(
        BreachRecipient.objects.filter(communication=communication).values_list(
            "contact_id", flat=True
        )
    )
    assert recipients == {contact.pk for contact in informed}
    assert communication.recipient_count == 3
    breach.refresh_from_db()
    assert breach.communicated_at == communication.communicated_at
    event = AuditEvent.objects.get(action="breaches.subjects.informed")
    assert event.count == 3
    assert event.details["activity_ids"] == [activity.pk]


def test_communication_with_no_contact_rejected(db):
    breach = BreachFactory()

    with pytest.raises(BreachError, match="No contact matches"):
        breach_record_communication(
            breach=breach,
            communicated_at=timezone.now(),
            method="Letter",
            activity_ids=[ActivityFactory().pk],
        )


def test_communication_on_closed_breach_rejected(db):
    breach = BreachFactory(status=Breach.Status.CLOSED, closed_at=timezone.now())

    with pytest.raises(BreachError, match="is closed"):
        breach_record_communication(
            breach=breach,
            communicated_at=timezone.now(),
            method="Letter",
            activity_ids=[ActivityFactory().pk],
        )


def test_note_added_to_timeline(db, dpo):
    breach = BreachFactory()

    event = breach_add_note(
        breach=breach, text="  Processor confirmed the leak.  ", actor=dpo
    )

    assert event.kind == BreachEvent.Kind.NOTE
    assert event.text == "Processor confirmed the leak."
    assert AuditEvent.objects.filter(action="breaches.timeline.noted").exists()


def test_empty_note_rejected(db):
    with pytest.raises(BreachError, match="The note is empty"):
        breach_add_note(breach=BreachFactory(), text="   ")


def test_reference_after_999(db):
    BreachFactory(reference="BRE-2026-999")
    BreachFactory(reference="BRE-2026-1000")

    assert _next_reference(2026) == "BRE-2026-1001"


def test_timeline_shows_field_labels(db, dpo):
    breach = BreachFactory()

    breach_update(breach=breach, data={"records_approx": 12}, actor=dpo)

    event = breach.events.get(kind=BreachEvent.Kind.UPDATED)
    assert event.text == "records_approx"
    assert event.display_text == "approximate number of records"


def test_communication_in_future_rejected(db):
    activity = ActivityFactory()
    ContactFactory(processing_activity=activity)

    with pytest.raises(BreachError, match="is in the future"):
        breach_record_communication(
            breach=BreachFactory(),
            communicated_at=timezone.now() + timedelta(days=1),
            method="Letter",
            activity_ids=[activity.pk],
        )


@pytest.fixture
def notified_late_breach(db):
    """A breach notified 80 hours after awareness, with the reasons for the delay."""
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=90))
    breach_notify_authority(
        breach=breach,
        phase=INITIAL,
        submitted_at=breach.aware_at + timedelta(hours=80),
        delay_reasons="The processor told us only on day 3.",
    )
    breach.refresh_from_db()
    return breach


def test_notified_awareness_cannot_move_later(notified_late_breach, dpo):
    breach = notified_late_breach
    aware_at = breach.aware_at

    with pytest.raises(BreachError, match="as the authority received them") as error:
        breach_update(
            breach=breach,
            data={
                "aware_at": breach.notified_at - timedelta(hours=1),
                "delay_reasons": "",
            },
            actor=dpo,
        )

    assert error.value.field == "aware_at"
    assert "Became aware at" in str(error.value)
    assert "Reasons for the delay" in str(error.value)
    assert "add a note to the timeline" in str(error.value)
    assert "complementary notification" in str(error.value)
    breach.refresh_from_db()
    assert breach.aware_at == aware_at
    assert breach.delay_reasons == "The processor told us only on day 3."
    assert breach.notified_late is True
    assert not breach.events.filter(kind=BreachEvent.Kind.UPDATED).exists()


def test_notified_awareness_cannot_move_earlier(notified_breach):
    earlier = notified_breach.aware_at - timedelta(hours=70)

    with pytest.raises(BreachError, match="as the authority received them") as error:
        breach_update(
            breach=notified_breach,
            data={
                "aware_at": earlier,
                "detected_at": earlier,
                "delay_reasons": "The processor's report reached us late.",
            },
        )

    assert error.value.field == "detected_at"
    notified_breach.refresh_from_db()
    assert notified_breach.aware_at != earlier
    assert notified_breach.notified_late is False


def test_notified_detection_cannot_move(notified_breach):
    earlier = notified_breach.detected_at - timedelta(hours=1)

    with pytest.raises(BreachError, match="as the authority received them") as error:
        breach_update(breach=notified_breach, data={"detected_at": earlier})

    assert error.value.field == "detected_at"
    assert "Detected at" in str(error.value)
    notified_breach.refresh_from_db()
    assert notified_breach.detected_at != earlier


def test_notified_delay_reasons_cannot_change(notified_late_breach):
    with pytest.raises(BreachError, match="as the authority received them") as error:
        breach_update(
            breach=notified_late_breach, data={"delay_reasons": "Rewritten later."}
        )

    assert error.value.field == "delay_reasons"
    notified_late_breach.refresh_from_db()
    assert notified_late_breach.delay_reasons == "The processor told us only on day 3."


def test_notified_facts_posted_unchanged_accepted(notified_late_breach):
    breach = notified_late_breach

    breach_update(
        breach=breach,
        data={
            "detected_at": breach.detected_at,
            "aware_at": breach.aware_at,
            "delay_reasons": breach.delay_reasons,
            "measures_taken": "Passwords reset.",
        },
    )

    breach.refresh_from_db()
    assert breach.measures_taken == "Passwords reset."
    assert breach.notified_late is True


def test_unnotified_delay_reasons_can_change(db):
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=80))

    breach_update(breach=breach, data={"delay_reasons": "Found on a weekend."})

    breach.refresh_from_db()
    assert breach.delay_reasons == "Found on a weekend."


def test_update_rejects_unknown_field(db):
    with pytest.raises(BreachError, match="status"):
        breach_update(breach=BreachFactory(), data={"status": "closed"})


def test_stale_copy_keeps_notification(db):
    breach = BreachFactory()
    breach_notify_authority(breach=breach, phase=INITIAL, submitted_at=timezone.now())

    breach_update(breach=breach, data={"title": "Renamed"})

    breach.refresh_from_db()
    assert breach.title == "Renamed"
    assert breach.notified_at is not None
    assert breach.status == Breach.Status.NOTIFIED


def test_communication_limited_to_lists(db):
    activity = ActivityFactory()
    vendor = Vendor.objects.create(name="Fichiers Exemple SA")
    leaked_list = ContactList.objects.create(
        vendor=vendor, name="Salon 2026", acquired_on=timezone.localdate()
    )
    from_list = ContactFactory(processing_activity=activity)
    Provenance.objects.create(contact=from_list, contact_list=leaked_list)
    ContactFactory(processing_activity=activity)

    communication = breach_record_communication(
        breach=BreachFactory(),
        communicated_at=timezone.now(),
        method="E-mail",
        activity_ids=[activity.pk],
        list_ids=[leaked_list.pk],
    )

    assert communication.recipient_count == 1
    assert communication.filters["list_ids"] == [leaked_list.pk]
    assert communication.recipients.get().contact_id == from_list.pk


def _new_breach_data(*, detected_at, aware_at) -> dict:
    return {
        "title": "Misdirected e-mail",
        "description": "A list was sent to a wrong recipient.",
        "detected_at": detected_at,
        "aware_at": aware_at,
        "affects_confidentiality": True,
    }


def test_create_rejects_future_awareness(db):
    now = timezone.now()
    data = _new_breach_data(detected_at=now, aware_at=now + timedelta(days=6))

    with pytest.raises(BreachError, match="is in the future") as error:
        breach_create(data=data)

    assert error.value.field == "aware_at"
    assert "Became aware at" in str(error.value)
    assert "when the organisation became aware" in str(error.value)
    assert not Breach.objects.exists()


def test_create_rejects_future_detection(db):
    now = timezone.now()
    data = _new_breach_data(
        detected_at=now + timedelta(hours=2), aware_at=now + timedelta(hours=3)
    )

    with pytest.raises(BreachError, match="is in the future") as error:
        breach_create(data=data)

    assert error.value.field == "detected_at"
    assert "Detected at" in str(error.value)
    assert "when the breach was detected" in str(error.value)
    assert "happened" not in str(error.value)
    assert not Breach.objects.exists()


def test_create_accepts_small_clock_skew(db):
    # The browser's clock may run a little ahead of the server's.
    ahead = timezone.now() + timedelta(minutes=2)

    breach = breach_create(data=_new_breach_data(detected_at=ahead, aware_at=ahead))

    assert breach.aware_at == ahead


def test_update_rejects_future_awareness(db):
    breach = BreachFactory()
    original_deadline = breach.deadline_at

    with pytest.raises(BreachError, match="is in the future") as error:
        breach_update(
            breach=breach,
            data={"aware_at": timezone.now() + timedelta(days=6)},
        )

    assert error.value.field == "aware_at"
    breach.refresh_from_db()
    assert breach.deadline_at == original_deadline
    assert not breach.events.filter(kind=BreachEvent.Kind.UPDATED).exists()


def test_notification_in_future_rejected(db):
    breach = BreachFactory()

    with pytest.raises(BreachError, match="is in the future") as error:
        breach_notify_authority(
            breach=breach,
            phase=INITIAL,
            submitted_at=timezone.now() + timedelta(days=1),
        )

    assert error.value.field == "submitted_at"
    breach.refresh_from_db()
    assert breach.notified_at is None
    assert not BreachNotification.objects.exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Letter (1)", "Letter (1 person)"),
        ("Phone call (DPO) (1200)", "Phone call (DPO) (1,200 people)"),
        ("Written before counts were stored", "Written before counts were stored"),
    ],
)
def test_communication_event_shows_count(db, text, expected):
    event = BreachEvent(
        breach=BreachFactory(), kind=BreachEvent.Kind.COMMUNICATED, text=text
    )

    assert event.display_text == expected


@pytest.fixture
def notified_breach(db):
    """A breach aware 30 hours ago whose initial notification came 2 hours later."""
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=30))
    breach_notify_authority(
        breach=breach,
        phase=INITIAL,
        submitted_at=breach.aware_at + timedelta(hours=2),
        authority_reference="CNIL-REF-1",
    )
    breach.refresh_from_db()
    return breach


def test_complementary_dated_before_initial_rejected(notified_breach):
    initial_at = notified_breach.notified_at

    with pytest.raises(BreachError, match="before the initial notification") as error:
        breach_notify_authority(
            breach=notified_breach,
            phase=COMPLEMENTARY,
            submitted_at=initial_at - timedelta(hours=1),
            authority_reference="R2",
        )

    assert error.value.field == "submitted_at"
    assert _local(initial_at) in str(error.value)
    assert _local(initial_at - timedelta(hours=1)) in str(error.value)
    assert notified_breach.notifications.count() == 1


def test_complementary_at_initial_time_accepted(notified_breach):
    breach_notify_authority(
        breach=notified_breach,
        phase=COMPLEMENTARY,
        submitted_at=notified_breach.notified_at,
    )

    assert notified_breach.notifications.count() == 2


def test_complementary_keeps_initial_reference(notified_breach):
    initial_at = notified_breach.notified_at

    complementary = breach_notify_authority(
        breach=notified_breach,
        phase=COMPLEMENTARY,
        submitted_at=initial_at + timedelta(hours=3),
        authority_reference="CNIL-REF-1b",
    )

    notified_breach.refresh_from_db()
    assert notified_breach.authority_reference == "CNIL-REF-1"
    assert notified_breach.notified_at == initial_at
    assert complementary.authority_reference == "CNIL-REF-1b"


def test_notification_events_show_own_reference(notified_breach):
    breach_notify_authority(
        breach=notified_breach,
        phase=COMPLEMENTARY,
        submitted_at=notified_breach.notified_at + timedelta(hours=3),
        authority_reference="CNIL-REF-1b",
    )
    breach_notify_authority(
        breach=notified_breach,
        phase=COMPLEMENTARY,
        submitted_at=notified_breach.notified_at + timedelta(hours=4),
    )

    events = notified_breach.events.filter(kind=BreachEvent.Kind.NOTIFIED)
    assert [event.display_text for event in events] == [
        "Initial notification (CNIL-REF-1)",
        "Complementary notification (CNIL-REF-1b)",
        "Complementary notification",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("initial", "Initial notification"),
        ("complementary (A (2))", "Complementary notification (A (2))"),
        ("written by hand", "written by hand"),
    ],
)
def test_notification_event_text(db, text, expected):
    event = BreachEvent(
        breach=BreachFactory(), kind=BreachEvent.Kind.NOTIFIED, text=text
    )

    assert event.display_text == expected


def test_notified_breach_cannot_become_not_required(notified_breach, dpo):
    with pytest.raises(BreachError, match="was notified to the authority") as error:
        breach_update(
            breach=notified_breach,
            data={
                "risk_level": Breach.RiskLevel.NONE,
                "notification_decision": Breach.NotificationDecision.NOT_REQUIRED,
                "no_notification_reason": "No risk.",
            },
            actor=dpo,
        )

    assert error.value.field == "notification_decision"
    assert "Record a complementary notification" in str(error.value)
    notified_breach.refresh_from_db()
    assert notified_breach.notification_decision == (
        Breach.NotificationDecision.REQUIRED
    )
    assert notified_breach.no_notification_reason == ""
    assert not notified_breach.events.filter(kind=BreachEvent.Kind.UPDATED).exists()


def test_notified_breach_cannot_become_undecided(notified_breach, dpo):
    with pytest.raises(BreachError, match="was notified to the authority"):
        breach_update(
            breach=notified_breach,
            data={"notification_decision": Breach.NotificationDecision.PENDING},
            actor=dpo,
        )

    notified_breach.refresh_from_db()
    assert notified_breach.notification_decision == (
        Breach.NotificationDecision.REQUIRED
    )


def test_awareness_after_notification_rejected(notified_breach, dpo):
    later = notified_breach.notified_at + timedelta(hours=1)

    with pytest.raises(BreachError, match="as the authority received them") as error:
        breach_update(breach=notified_breach, data={"aware_at": later}, actor=dpo)

    assert error.value.field == "aware_at"
    notified_breach.refresh_from_db()
    assert notified_breach.aware_at < later


def test_notified_breach_other_changes_accepted(notified_breach):
    breach_update(breach=notified_breach, data={"measures_taken": "Passwords reset."})

    notified_breach.refresh_from_db()
    assert notified_breach.measures_taken == "Passwords reset."


def test_unnotified_breach_can_become_not_required(db):
    breach = BreachFactory(risk_level=Breach.RiskLevel.NONE)

    breach_update(
        breach=breach,
        data={
            "notification_decision": Breach.NotificationDecision.NOT_REQUIRED,
            "no_notification_reason": "Encrypted laptop, key not exposed.",
        },
    )

    breach.refresh_from_db()
    assert breach.notification_decision == Breach.NotificationDecision.NOT_REQUIRED


PARIS = ZoneInfo("Europe/Paris")


def test_create_rejects_awareness_in_2010(db):
    aware_at = datetime(2010, 3, 1, 10, 0, tzinfo=PARIS)
    data = _new_breach_data(detected_at=aware_at, aware_at=aware_at)

    with pytest.raises(BreachError, match="when the GDPR began to apply") as error:
        breach_create(data=data)

    assert error.value.field == "aware_at"
    assert "Became aware at" in str(error.value)
    assert _local(aware_at) in str(error.value)
    assert not Breach.objects.exists()


def test_create_rejects_detection_before_gdpr(db):
    data = _new_breach_data(
        detected_at=datetime(2018, 5, 24, 23, 59, tzinfo=PARIS),
        aware_at=datetime(2018, 5, 25, 9, 0, tzinfo=PARIS),
    )

    with pytest.raises(BreachError, match="when the GDPR began to apply") as error:
        breach_create(data=data)

    assert error.value.field == "detected_at"
    assert "Detected at" in str(error.value)
    assert "when the breach was detected" in str(error.value)
    assert "happened" not in str(error.value)
    assert not Breach.objects.exists()


def test_create_accepts_first_gdpr_day(db):
    start = datetime(2018, 5, 25, 0, 0, tzinfo=PARIS)

    breach = breach_create(data=_new_breach_data(detected_at=start, aware_at=start))

    assert breach.reference == "BRE-2018-001"


def test_update_rejects_awareness_before_gdpr(db):
    breach = BreachFactory()
    original_deadline = breach.deadline_at
    old = datetime(2010, 3, 1, 10, 0, tzinfo=PARIS)

    with pytest.raises(BreachError, match="when the GDPR began to apply") as error:
        breach_update(breach=breach, data={"detected_at": old, "aware_at": old})

    assert error.value.field == "aware_at"
    breach.refresh_from_db()
    assert breach.deadline_at == original_deadline


def test_migration_restores_initial_reference(notified_breach):
    # Before migration 0002, every notification overwrote the breach's reference.
    migration = importlib.import_module(
        "apps.breaches.migrations.0002_authority_reference_from_initial"
    )
    breach_notify_authority(
        breach=notified_breach,
        phase=COMPLEMENTARY,
        submitted_at=notified_breach.notified_at,
        authority_reference="CNIL-REF-1b",
    )
    Breach.objects.filter(pk=notified_breach.pk).update(
        authority_reference="CNIL-REF-1b"
    )
    unnotified = BreachFactory(authority_reference="typed in the admin")

    migration.restore_initial_reference(django_apps, None)

    notified_breach.refresh_from_db()
    unnotified.refresh_from_db()
    assert notified_breach.authority_reference == "CNIL-REF-1"
    assert unnotified.authority_reference == "typed in the admin"


def test_awareness_change_records_both_times(db, dpo):
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=10))
    before = breach.aware_at
    after = before - timedelta(hours=3)

    breach_update(
        breach=breach,
        data={"aware_at": after, "detected_at": after},
        actor=dpo,
        aware_at_change_reason="The log review dated the theft later.",
    )

    event = breach.events.get(kind=BreachEvent.Kind.UPDATED)
    assert f"aware_at ({before.isoformat()} -> {after.isoformat()})" in event.text
    assert f"became aware at: {_local(before)} → {_local(after)}" in (
        event.display_text
    )
    audit = AuditEvent.objects.get(action="breaches.breach.changed")
    assert audit.details["times"]["aware_at"] == [
        before.isoformat(),
        after.isoformat(),
    ]


def test_awareness_change_needs_reason(db, dpo):
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=10))
    before = breach.aware_at
    later = before + timedelta(hours=5)

    with pytest.raises(BreachError, match="Say why the awareness time changes"):
        breach_update(breach=breach, data={"aware_at": later}, actor=dpo)

    breach.refresh_from_db()
    assert breach.aware_at == before
    assert not breach.events.exists()


def test_awareness_change_reason_noted(db, dpo):
    breach = BreachFactory(aware_at=timezone.now() - timedelta(hours=10))
    later = breach.aware_at + timedelta(hours=5)

    breach_update(
        breach=breach,
        data={"aware_at": later},
        actor=dpo,
        aware_at_change_reason="  The alert was a false positive.  ",
    )

    reason = breach.events.get(kind=BreachEvent.Kind.AWARENESS_REASON)
    assert reason.text == "The alert was a false positive."
    assert reason.actor == dpo


def test_awareness_change_shown_in_local_time(db, dpo, settings):
    settings.TIME_ZONE = "Europe/Paris"
    utc = ZoneInfo("UTC")
    breach = BreachFactory(
        aware_at=datetime(2026, 12, 2, 7, 0, tzinfo=utc),
        detected_at=datetime(2026, 12, 2, 6, 0, tzinfo=utc),
    )
    event = BreachEvent(
        breach=breach,
        kind=BreachEvent.Kind.UPDATED,
        text=(
            "aware_at (2026-12-02T07:00:00+00:00 -> 2026-12-02T09:30:00+00:00), title"
        ),
    )

    with timezone.override("Europe/Paris"):
        text = event.display_text

    assert text.startswith("became aware at: ")
    assert "2 December 2026, 08:00" in text
    assert "2 December 2026, 10:30" in text
    assert text.endswith(", title")


def test_text_change_records_name_only(db, dpo):
    breach = BreachFactory()

    breach_update(breach=breach, data={"title": "Laptop lost"}, actor=dpo)

    event = breach.events.get(kind=BreachEvent.Kind.UPDATED)
    assert event.text == "title"
    assert "Laptop lost" not in event.display_text


def test_closed_breach_not_editable(db):
    breach = BreachFactory(status=Breach.Status.CLOSED, closed_at=timezone.now())

    with pytest.raises(BreachError, match="is closed and can no longer be changed"):
        breach_require_editable(breach=breach)
