"""Reads of the breach register: dashboard order, affected contacts, the draft."""

from collections.abc import Collection
from dataclasses import dataclass
from dataclasses import field

from django.db.models import BooleanField
from django.db.models import Case
from django.db.models import Prefetch
from django.db.models import QuerySet
from django.db.models import Sum
from django.db.models import Value
from django.db.models import When
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.utils.translation import pgettext

from apps.contacts.models import Audience
from apps.contacts.models import Contact
from apps.contacts.models import Provenance
from apps.core.dates import format_datetime
from apps.core.models import Organisation
from apps.register.models import ProcessingActivity

from .models import Breach
from .models import BreachCommunication
from .models import BreachEvent
from .models import BreachNotification

# Contacts informed of a breach by default: anonymised contacts have no
# identifier left to write to.
DEFAULT_CONTACT_STATUSES = (
    Contact.Status.ACTIVE,
    Contact.Status.RESTRICTED,
    Contact.Status.OBJECTED,
    Contact.Status.UNSUBSCRIBED,
)

# Columns of the exported list of people to inform. The rows show the
# translated label of the choice fields, not the stored code.
CONTACT_EXPORT_FIELDS = (
    "pk",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "postcode",
    "city",
    "country",
    "processing_activity__reference",
    "status",
    "audience",
)
CONTACT_EXPORT_CHOICES = {
    "status": Contact.Status,
    "audience": Audience,
}


def breach_list(*, status: str = "") -> QuerySet[Breach]:
    breaches = Breach.objects.prefetch_related("activities")
    if status:
        breaches = breaches.filter(status=status)
    return breaches


def breach_register_for_export() -> QuerySet[Breach]:
    """Return every breach, oldest awareness first, as the register export reads them.

    ``people_informed`` is the number of people that the communications
    informed, each counted once, None when there is none.
    """
    notes = BreachEvent.objects.filter(
        kind__in=[BreachEvent.Kind.NOTE, BreachEvent.Kind.AWARENESS_REASON]
    ).order_by("occurred_at", "pk")
    return (
        Breach.objects.annotate(
            people_informed=Sum("communications__newly_informed_count")
        )
        .prefetch_related(
            "activities",
            "communications",
            Prefetch(
                "notifications",
                queryset=BreachNotification.objects.order_by("submitted_at", "pk"),
            ),
            Prefetch("events", queryset=notes, to_attr="notes"),
        )
        .order_by("aware_at", "pk")
    )


def breach_open_by_time_left() -> QuerySet[Breach]:
    """Return the breaches not closed, those whose clock runs first, by deadline.

    A notified or waived breach has no deadline left to meet, so it comes after
    every breach whose clock still runs.
    """
    return (
        Breach.objects.exclude(status=Breach.Status.CLOSED)
        .annotate(
            clock_stopped=Case(
                When(status=Breach.Status.NOTIFIED, then=Value(True)),
                When(
                    notification_decision=Breach.NotificationDecision.NOT_REQUIRED,
                    then=Value(True),
                ),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("clock_stopped", "deadline_at", "pk")
    )


def breach_affected_contacts(
    *,
    activity_ids: Collection[int],
    statuses: Collection[str] = (),
    audience: str = "",
    list_ids: Collection[int] = (),
) -> QuerySet[Contact]:
    """Return the contacts of the chosen processing activities and filters.

    ``list_ids`` keeps the contacts that came from one of those purchased or
    rented lists, for a breach that concerns a given file.
    """
    contacts = Contact.objects.filter(
        processing_activity_id__in=list(activity_ids),
        status__in=list(statuses or DEFAULT_CONTACT_STATUSES),
    )
    if audience:
        contacts = contacts.filter(audience=audience)
    if list_ids:
        contacts = contacts.filter(
            pk__in=Provenance.objects.filter(contact_list_id__in=list(list_ids)).values(
                "contact_id"
            )
        )
    return contacts.order_by("pk")


def breach_affected_rows(contacts: QuerySet[Contact]):
    """Yield export rows of ``contacts``, reading the table in chunks.

    Status and audience come out as labels in the active language.
    """
    labels_by_column = {
        CONTACT_EXPORT_FIELDS.index(name): {
            value: str(label) for value, label in choices.choices
        }
        for name, choices in CONTACT_EXPORT_CHOICES.items()
    }
    rows = contacts.values_list(*CONTACT_EXPORT_FIELDS).iterator(chunk_size=2000)
    for row in rows:
        row = list(row)
        for column, labels in labels_by_column.items():
            row[column] = labels.get(row[column], row[column])
        yield row


def contact_export_headers() -> list[str]:
    return [
        _("Contact id"),
        _("First name"),
        _("Last name"),
        _("E-mail"),
        _("Phone"),
        _("Company"),
        _("Postcode"),
        _("City"),
        _("Country"),
        _("Processing activity"),
        _("Status"),
        _("Audience"),
    ]


@dataclass
class DraftSection:
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)


def _when(value) -> str:
    if value is None:
        return _("not recorded")
    return format_datetime(value)


def _number(value) -> str:
    if value is None:
        return _("unknown")
    return number_format(value, force_grouping=True)


def _text(value: str) -> str:
    return value.strip() or _("not stated yet")


def communication_text(communication: BreachCommunication, *, when: str) -> str:
    """Return a communication to the people as "when · means · N people informed".

    ``when`` is the communication's time, formatted by the caller.
    """
    count = communication.recipient_count
    people = ngettext(
        "%(shown)s person informed", "%(shown)s people informed", count
    ) % {"shown": number_format(count, force_grouping=True)}
    return " · ".join([when, communication.method, people])


def breach_controllers_served(breach: Breach) -> list[str]:
    """Return the controllers to notify when the organisation is only a processor.

    That is when every activity linked to the breach is one the organisation
    runs as a processor: GDPR Art. 33(2) then requires it to notify those
    controllers without undue delay, and they notify the authority. Returns
    an empty list otherwise, including for a breach without activities.
    """
    activities = list(breach.activities.all())
    if not activities or any(
        activity.role != ProcessingActivity.Role.PROCESSOR for activity in activities
    ):
        return []
    served = []
    for activity in activities:
        for line in activity.controllers_served.splitlines():
            if line.strip() and line.strip() not in served:
                served.append(line.strip())
    return served or [_("the controllers named in the register")]


def breach_notification_draft(*, breach: Breach) -> list[DraftSection]:
    """Return the notification's content, section by section, from the breach.

    The sections cover GDPR Art. 33(3) (a) to (d): the nature and scale, the
    DPO contact, the consequences and the measures. They add the controller,
    the timeline with any reasons for delay, and the information of the data
    subjects (Art. 34).
    """
    organisation = Organisation.current()
    activities = ", ".join(str(activity) for activity in breach.activities.all())
    notifications = [
        _("%(phase)s: %(when)s")
        % {
            "phase": notification.get_phase_display(),
            "when": _when(notification.submitted_at),
        }
        + (
            f" ({notification.authority_reference})"
            if notification.authority_reference
            else ""
        )
        # Initial first on a tie: it is recorded before any complementary one.
        for notification in breach.notifications.order_by("submitted_at", "pk")
    ]

    organisation_rows = [
        (_("Organisation"), _text(organisation.name)),
        (_("Registration number"), _text(organisation.registration_number)),
        (_("Address"), _text(organisation.address)),
        (_("Legal representative"), _text(organisation.legal_representative)),
    ]
    controllers_served = breach_controllers_served(breach)
    if controllers_served:
        controller = DraftSection(
            _("Controller, to notify (GDPR Art. 33(2))"),
            [(_("Controller"), name) for name in controllers_served]
            + [(_("Processor"), _text(organisation.name))],
        )
    else:
        controller = DraftSection(_("Controller"), organisation_rows)
    dpo = DraftSection(
        _("Data protection officer or other contact point (Art. 33(3)(b))"),
        [
            (_("Name"), _text(organisation.dpo_name)),
            (_("E-mail"), _text(organisation.dpo_email)),
            (_("Phone"), _text(organisation.dpo_phone)),
            (_("Postal address"), _text(organisation.dpo_address)),
        ],
    )
    # Django merges the catalogues of every app, and the first app in
    # INSTALLED_APPS wins on a shared msgid, so short words shared with other
    # apps ("Timeline", "none") carry a context to keep this app's French.
    timeline = DraftSection(
        pgettext("breach events", "Timeline"),
        [
            (_("Breach reference"), breach.reference),
            (_("Detected at"), _when(breach.detected_at)),
            (_("Became aware at"), _when(breach.aware_at)),
            (_("Notification deadline (72 hours)"), _when(breach.deadline_at)),
            (
                _("Notifications already made"),
                "; ".join(notifications) or pgettext("no notification", "none"),
            ),
        ],
    )
    if breach.notified_late or (
        breach.notified_at is None and timezone.now() > breach.deadline_at
    ):
        timeline.rows.append(
            (_("Reasons for the delay (Art. 33(1))"), _text(breach.delay_reasons))
        )
    nature = DraftSection(
        _("Nature of the breach (Art. 33(3)(a))"),
        [
            (_("What happened"), _text(breach.description)),
            (_("Type of breach"), ", ".join(breach.natures) or _("not stated yet")),
            (_("Processing activities concerned"), activities or _("none selected")),
            (_("Categories of data subjects"), _text(breach.subject_categories)),
            (_("Approximate number of data subjects"), _number(breach.subjects_approx)),
            (_("Categories of personal data"), _text(breach.data_categories)),
            (_("Approximate number of records"), _number(breach.records_approx)),
        ],
    )
    consequences = DraftSection(
        _("Likely consequences (Art. 33(3)(c))"),
        [
            (_("Likely consequences"), _text(breach.likely_consequences)),
            (_("Risk assessment"), breach.get_risk_level_display()),
            (_("Reasoning"), _text(breach.risk_reasoning)),
        ],
    )
    measures = DraftSection(
        _("Measures taken or proposed (Art. 33(3)(d))"),
        [
            (_("Measures taken"), _text(breach.measures_taken)),
            (
                _("Measures proposed, including mitigation"),
                _text(breach.measures_proposed),
            ),
        ],
    )
    subjects = DraftSection(
        _("Information of the data subjects (Art. 34)"),
        [
            (
                _("Data subjects must be informed"),
                _("yes") if breach.subjects_must_be_informed else _("no"),
            ),
            (
                _("Communications to data subjects"),
                "\n".join(
                    communication_text(
                        communication, when=_when(communication.communicated_at)
                    )
                    for communication in breach.communications.all()
                )
                or _("not recorded"),
            ),
        ],
    )
    if breach.no_communication_reason.strip():
        subjects.rows.append(
            (_("Why they are not informed"), breach.no_communication_reason.strip())
        )
    return [controller, dpo, timeline, nature, consequences, measures, subjects]
