import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.utils.translation import pgettext_lazy

from apps.contacts.models import Contact
from apps.core.dates import format_datetime
from apps.register.models import ProcessingActivity

from .text_identifiers import identifiers_in_text

# GDPR Art. 33(1): notify the supervisory authority within 72 hours of becoming
# aware of the breach. The hours are real elapsed hours, so the deadline is
# computed on aware UTC datetimes and a daylight-saving change does not move it.
NOTIFICATION_DELAY = timedelta(hours=72)


def breach_deadline(aware_at: datetime) -> datetime:
    """Return the notification deadline, in UTC, of a breach known at ``aware_at``.

    Python adds a timedelta to the wall-clock time when both operands share a
    zoneinfo time zone, so 01:30 Paris + 72 h would land at 01:30 Paris even
    when a daylight-saving change lies between. Converting to UTC first adds
    72 real hours.
    """
    return aware_at.astimezone(UTC) + NOTIFICATION_DELAY


def _field_label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


class Breach(models.Model):
    """One personal-data breach in the breach register (GDPR Art. 33(5)).

    Status transitions: open -> notified (the initial notification to the
    authority is recorded) -> closed; open -> closed when the assessment
    concludes that the authority need not be notified. ``late_at`` is set by
    the clock job when the deadline passes with no notification recorded.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        NOTIFIED = "notified", _("Notified to the authority")
        CLOSED = "closed", _("Closed")

    class RiskLevel(models.TextChoices):
        UNASSESSED = "unassessed", _("Not assessed yet")
        NONE = "none", _("Unlikely to result in a risk")
        RISK = "risk", _("Risk to people's rights and freedoms")
        HIGH = "high", _("High risk to people's rights and freedoms")

    class NotificationDecision(models.TextChoices):
        PENDING = "pending", _("Not decided yet")
        REQUIRED = "required", _("The authority must be notified")
        NOT_REQUIRED = "not_required", _("No notification to the authority")

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what happened"))
    detected_at = models.DateTimeField(_("detected at"))
    aware_at = models.DateTimeField(
        _("became aware at"),
        help_text=_(
            "When the organisation became reasonably certain that personal data "
            "was affected. The 72-hour notification period starts here."
        ),
    )
    deadline_at = models.DateTimeField(_("notification deadline"), editable=False)

    affects_confidentiality = models.BooleanField(
        _("confidentiality breach"),
        default=False,
        help_text=_("Unauthorised or accidental disclosure of, or access to, data."),
    )
    affects_integrity = models.BooleanField(
        _("integrity breach"),
        default=False,
        help_text=_("Unauthorised or accidental alteration of data."),
    )
    affects_availability = models.BooleanField(
        _("availability breach"),
        default=False,
        help_text=_(
            "Accidental or unauthorised loss of access to, or destruction of, data."
        ),
    )

    subject_categories = models.TextField(_("categories of data subjects"), blank=True)
    subjects_approx = models.PositiveIntegerField(
        _("approximate number of data subjects"), null=True, blank=True
    )
    data_categories = models.TextField(_("categories of personal data"), blank=True)
    records_approx = models.PositiveIntegerField(
        _("approximate number of records"), null=True, blank=True
    )
    activities = models.ManyToManyField(
        ProcessingActivity,
        verbose_name=_("processing activities concerned"),
        blank=True,
        related_name="breaches",
    )

    likely_consequences = models.TextField(_("likely consequences"), blank=True)
    measures_taken = models.TextField(_("measures taken"), blank=True)
    measures_proposed = models.TextField(_("measures proposed"), blank=True)

    risk_level = models.CharField(
        _("risk"),
        max_length=12,
        choices=RiskLevel.choices,
        default=RiskLevel.UNASSESSED,
    )
    risk_reasoning = models.TextField(_("reasoning of the risk assessment"), blank=True)
    notification_decision = models.CharField(
        _("notification to the authority"),
        max_length=12,
        choices=NotificationDecision.choices,
        default=NotificationDecision.PENDING,
    )
    no_notification_reason = models.TextField(
        _("why the authority is not notified"), blank=True
    )

    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    authority_reference = models.CharField(
        _("authority reference"), max_length=100, blank=True
    )
    delay_reasons = models.TextField(_("reasons for the delay"), blank=True)
    late_at = models.DateTimeField(
        _("marked late at"),
        null=True,
        blank=True,
        help_text=_("Set when the deadline passed with no notification recorded."),
    )

    subjects_must_be_informed = models.BooleanField(
        _("data subjects must be informed"), default=False
    )
    no_communication_reason = models.TextField(
        _("why data subjects are not informed"),
        blank=True,
        help_text=_(
            "For a high risk: the Art. 34(3) exception that applies (data "
            "unintelligible, risk removed, disproportionate effort with a public "
            "communication)."
        ),
    )
    # The earliest of ``communications``, kept here so that lists of breaches
    # can tell which still wait for one without a query per breach.
    communicated_at = models.DateTimeField(
        _("data subjects first informed at"), null=True, blank=True
    )

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("breach")
        verbose_name_plural = _("breaches")
        ordering = ["-aware_at"]
        permissions = [
            (
                "inform_subjects",
                _("Can list, export and inform the data subjects of a breach"),
            ),
        ]
        indexes = [models.Index(fields=["status", "deadline_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(aware_at__gte=models.F("detected_at")),
                name="breach_aware_not_before_detected",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="closed")
                | models.Q(closed_at__isnull=False),
                name="breach_closed_has_closed_at",
            ),
        ]

    def __str__(self):
        return f"{self.reference} · {self.title}"

    def save(self, *args, **kwargs):
        if self.aware_at is not None:
            self.deadline_at = breach_deadline(self.aware_at)
        super().save(*args, **kwargs)

    def clean(self):
        errors = {}
        title_identifiers = identifiers_in_text(self.title)
        if title_identifiers:
            errors["title"] = _(
                "The title contains an e-mail address or a phone number "
                "(%(found)s). Titles appear on the dashboard, in the breach list and "
                "in the notification draft, so describe the breach without "
                "identifying anyone, for example “Laptop of a sales employee "
                "lost”."
            ) % {"found": ", ".join(title_identifiers)}
        if self.detected_at and self.aware_at and self.aware_at < self.detected_at:
            errors["aware_at"] = _(
                "The awareness time is before the detection time; the organisation "
                "cannot become aware of a breach before it is detected."
            )
        not_required = self.NotificationDecision.NOT_REQUIRED
        if (
            self.notification_decision == not_required
            and not self.no_notification_reason.strip()
        ):
            errors["no_notification_reason"] = _(
                "State why the authority is not notified (the breach is unlikely to "
                "result in a risk to people, GDPR Art. 33(1))."
            )
        if self.notification_decision == not_required and self.risk_level in (
            self.RiskLevel.RISK,
            self.RiskLevel.HIGH,
        ):
            errors["notification_decision"] = _(
                "A breach assessed as a risk must be notified to the authority; "
                "change the risk assessment or the decision."
            )
        if (
            self.notification_decision == not_required
            and self.risk_level == self.RiskLevel.UNASSESSED
        ):
            errors["risk_level"] = _(
                "Assess the risk before deciding not to notify: only a breach "
                "unlikely to result in a risk to people may go unnotified (GDPR "
                "Art. 33(1))."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def natures(self) -> list[str]:
        labels = [
            (self.affects_confidentiality, _("confidentiality")),
            (self.affects_integrity, _("integrity")),
            (self.affects_availability, _("availability")),
        ]
        return [str(label) for flag, label in labels if flag]

    @property
    def clock_running(self) -> bool:
        """Whether the 72-hour clock applies: open, not notified, not waived."""
        return (
            self.status == self.Status.OPEN
            and self.notified_at is None
            and self.notification_decision != self.NotificationDecision.NOT_REQUIRED
        )

    def seconds_left(self, now=None) -> int:
        """Return the seconds until the deadline, negative once it has passed."""
        now = now or timezone.now()
        return int((self.deadline_at - now).total_seconds())

    @property
    def notified_late(self) -> bool:
        """Whether the initial notification came after the deadline.

        The services keep the awareness time fixed once the notification is
        recorded, so this stays what it was at that moment.
        """
        return self.notified_at is not None and self.notified_at > self.deadline_at

    @property
    def communication_pending(self) -> bool:
        """Whether the data subjects must still be informed (GDPR Art. 34).

        False once a communication is recorded or an Art. 34(3) exception is
        stated.
        """
        return (
            self.subjects_must_be_informed
            and self.communicated_at is None
            and not self.no_communication_reason.strip()
        )

    def is_late(self, now=None) -> bool:
        """Return whether the notification missed the deadline or is still due after it.

        A breach that needs no notification is never late.
        """
        if self.notified_at is not None:
            return self.notified_late
        now = now or timezone.now()
        return self.clock_running and now > self.deadline_at


# The text of a "communicated" event: the method, then the number of people.
COMMUNICATION_TEXT = re.compile(r"(?P<method>.*) \((?P<count>\d+)\)\Z", re.DOTALL)


def _communication_text(text: str) -> str:
    match = COMMUNICATION_TEXT.match(text)
    if match is None:
        return text
    count = int(match["count"])
    return ngettext(
        "%(method)s (%(count)s person)", "%(method)s (%(count)s people)", count
    ) % {
        "method": match["method"],
        "count": number_format(count, force_grouping=True),
    }


# One item of an "updated" event: a field name, followed for a time by its old
# and new values in UTC, as ``services.updated_event_text`` writes them.
UPDATED_ITEM = re.compile(r"(?P<field>\w+)(?: \((?P<old>\S+) -> (?P<new>\S+)\))?\Z")


def _local_time_text(value: str) -> str:
    """Return an aware ISO datetime in the reader's time zone and format.

    Any other value is returned unchanged.
    """
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone.is_naive(moment):
        return value
    return format_datetime(moment)


def _updated_text(text: str) -> str:
    items = []
    for item in (part.strip() for part in text.split(",")):
        match = UPDATED_ITEM.match(item)
        if match is None:
            if item:
                items.append(item)
            continue

        label = _field_label(Breach, match["field"])
        if match["old"] is None:
            items.append(label)
        else:
            items.append(
                _("%(field)s: %(old)s → %(new)s")
                % {
                    "field": label,
                    "old": _local_time_text(match["old"]),
                    "new": _local_time_text(match["new"]),
                }
            )
    return ", ".join(items)


# The text of a "notified" event: the phase, then the authority's reference
# when the notification has one.
NOTIFICATION_TEXT = re.compile(
    r"(?P<phase>[a-z]+)(?: \((?P<reference>.*)\))?\Z", re.DOTALL
)


def _notification_text(text: str) -> str:
    match = NOTIFICATION_TEXT.match(text)
    if match is None or match["phase"] not in BreachNotification.Phase:
        return text
    label = str(BreachNotification.Phase(match["phase"]).label)
    if match["reference"] is None:
        return label
    return f"{label} ({match['reference']})"


class BreachEvent(models.Model):
    """One entry of a breach's timeline, written by the services and the clock."""

    class Kind(models.TextChoices):
        RECORDED = "recorded", _("Recorded")
        UPDATED = "updated", pgettext_lazy("breach event", "Updated")
        ALERT = "alert", _("Deadline alert")
        LATE = "late", _("Deadline passed")
        NOTIFIED = "notified", _("Notification to the authority")
        COMMUNICATED = "communicated", _("Data subjects informed")
        CLOSED = "closed", _("Closed")
        NOTE = "note", _("Note")
        AWARENESS_REASON = "aware_reason", _("Why the awareness time changed")

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="events")
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    text = models.TextField(_("text"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        ordering = ["occurred_at", "pk"]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.kind}"

    @property
    def display_text(self) -> str:
        """Return ``text`` in the reader's language.

        The services store codes (field names, a notification phase, an alert
        threshold) rather than labels, so the timeline reads in the language
        of the reader.
        """
        if self.kind == self.Kind.UPDATED:
            return _updated_text(self.text)
        if self.kind == self.Kind.NOTIFIED:
            return _notification_text(self.text)
        if self.kind == self.Kind.ALERT and self.text in BreachAlert.Threshold:
            return str(BreachAlert.Threshold(self.text).label)
        if self.kind == self.Kind.COMMUNICATED:
            return _communication_text(self.text)
        return self.text


class BreachNotification(models.Model):
    """One notification to the authority, which GDPR Art. 33(4) allows in phases."""

    class Phase(models.TextChoices):
        INITIAL = "initial", _("Initial notification")
        COMPLEMENTARY = "complementary", _("Complementary notification")

    breach = models.ForeignKey(
        Breach, on_delete=models.CASCADE, related_name="notifications"
    )
    phase = models.CharField(_("phase"), max_length=15, choices=Phase.choices)
    submitted_at = models.DateTimeField(_("submitted at"))
    authority_reference = models.CharField(
        _("authority reference"), max_length=100, blank=True
    )
    content = models.TextField(_("what this notification says"), blank=True)
    delay_reasons = models.TextField(_("reasons for the delay"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification to the authority")
        verbose_name_plural = _("notifications to the authority")
        ordering = ["submitted_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["breach"],
                condition=models.Q(phase="initial"),
                name="breach_one_initial_notification",
            )
        ]

    def __str__(self):
        return f"{self.breach.reference} {self.phase} {self.submitted_at:%Y-%m-%d}"


class BreachAlert(models.Model):
    """One deadline alert of a breach, claimed once by a unique insert.

    A ``superseded`` alert was due during a missed run but a more urgent one
    was due too, so only the more urgent one was e-mailed.
    """

    class Threshold(models.TextChoices):
        HOURS_48 = "48h", _("48 hours left")
        HOURS_24 = "24h", _("24 hours left")
        HOURS_6 = "6h", _("6 hours left")
        PASSED = "passed", _("Deadline passed")

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="alerts")
    threshold = models.CharField(
        _("threshold"), max_length=10, choices=Threshold.choices
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    sent = models.BooleanField(_("e-mail sent"), default=False)
    superseded = models.BooleanField(
        _("superseded by a more urgent alert"), default=False
    )
    recipient_count = models.PositiveIntegerField(_("recipients"), default=0)

    class Meta:
        verbose_name = _("deadline alert")
        verbose_name_plural = _("deadline alerts")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["breach", "threshold"], name="breach_alert_once_per_threshold"
            )
        ]

    def __str__(self):
        return f"{self.breach.reference} {self.threshold}"


class BreachCommunication(models.Model):
    """The communication of a breach to the data subjects (GDPR Art. 34).

    ``filters`` keeps how the list was selected (activity ids, contact
    statuses, audience) and the recipients table keeps contact ids only.
    """

    breach = models.ForeignKey(
        Breach, on_delete=models.CASCADE, related_name="communications"
    )
    communicated_at = models.DateTimeField(_("informed at"))
    method = models.CharField(_("how"), max_length=200)
    filters = models.JSONField(_("selection"), default=dict, blank=True)
    recipient_count = models.PositiveIntegerField(_("people informed"), default=0)
    # The recipients that no earlier communication of the breach informed, so
    # that the breach's total counts each person once.
    newly_informed_count = models.PositiveIntegerField(
        _("people informed for the first time"), default=0
    )
    contacts = models.ManyToManyField(
        Contact, through="BreachRecipient", related_name="+", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("communication to data subjects")
        verbose_name_plural = _("communications to data subjects")
        ordering = ["communicated_at", "pk"]

    def __str__(self):
        return f"{self.breach.reference} {self.communicated_at:%Y-%m-%d}"


class BreachRecipient(models.Model):
    """One contact informed of a breach, erased with the contact."""

    communication = models.ForeignKey(
        BreachCommunication, on_delete=models.CASCADE, related_name="recipients"
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("informed person")
        verbose_name_plural = _("informed people")
        constraints = [
            models.UniqueConstraint(
                fields=["communication", "contact"], name="breach_recipient_once"
            )
        ]

    def __str__(self):
        return f"communication {self.communication_id} contact {self.contact_id}"
