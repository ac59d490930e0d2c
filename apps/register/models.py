from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class LawfulBasis(models.TextChoices):
    """The lawful bases of GDPR Art. 6(1)."""

    CONSENT = "consent", _("Consent (Art. 6(1)(a))")
    CONTRACT = "contract", _("Contract (Art. 6(1)(b))")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation (Art. 6(1)(c))")
    VITAL_INTERESTS = "vital_interests", _("Vital interests (Art. 6(1)(d))")
    PUBLIC_TASK = "public_task", _("Public task (Art. 6(1)(e))")
    LEGITIMATE_INTERESTS = "legitimate_interests", _(
        "Legitimate interests (Art. 6(1)(f))"
    )


class ProcessingActivity(models.Model):
    """One entry of the record of processing activities (GDPR Art. 30).

    Status transitions: draft -> in_force -> retired, and retired -> in_force
    when an activity is reinstated. Only an activity in force covers contacts.
    """

    class Role(models.TextChoices):
        CONTROLLER = "controller", _("Controller")
        JOINT_CONTROLLER = "joint_controller", _("Joint controller")
        PROCESSOR = "processor", _("Processor")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_FORCE = "in_force", _("In force")
        RETIRED = "retired", _("Retired")

    reference = models.CharField(_("reference"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.CONTROLLER
    )
    purposes = models.TextField(_("purposes"), blank=True)
    lawful_basis = models.CharField(
        _("lawful basis"), max_length=30, choices=LawfulBasis.choices, blank=True
    )
    legitimate_interest = models.TextField(
        _("legitimate interest pursued"),
        blank=True,
        help_text=_("Required when the lawful basis is legitimate interests."),
    )
    concerns_recipients_profession = models.BooleanField(
        _("messages concern the recipient's profession"),
        default=False,
        help_text=_(
            "For B2B prospecting on an opt-out basis (CPCE L.34-5): the messages "
            "relate to the recipient's professional activity."
        ),
    )
    security_measures = models.TextField(_("security measures"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person in charge"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_activities",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    last_reviewed_on = models.DateField(_("last reviewed"), null=True, blank=True)
    next_review_on = models.DateField(_("next review"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("processing activity")
        verbose_name_plural = _("processing activities")
        ordering = ["reference"]

    def __str__(self):
        return f"{self.reference} · {self.name}"

    @property
    def is_in_force(self) -> bool:
        return self.status == self.Status.IN_FORCE


class RetentionRule(models.Model):
    """How long one category of data is kept, from which event, and what then.

    ``record_type`` tells the retention job which records the rule governs;
    ``other`` rules are documented in the register but not applied by a job.
    """

    class RecordType(models.TextChoices):
        CONTACT = "contact", _("Prospect contacts")
        SUBJECT_REQUEST = "subject_request", _("Closed subject-rights requests")
        BREACH = "breach", _("Breach records")
        OTHER = "other", _("Other data (not applied automatically)")

    class Unit(models.TextChoices):
        DAYS = "days", _("days")
        MONTHS = "months", _("months")
        YEARS = "years", _("years")

    class StartEvent(models.TextChoices):
        COLLECTION = "collection", _("collection")
        LAST_CONTACT = "last_contact", _("last contact from the person")
        COLLECTION_OR_LAST_CONTACT = "collection_or_last_contact", _(
            "collection or last contact from the person, whichever is later"
        )
        END_OF_CONTRACT = "end_of_contract", _("end of the contract")
        REQUEST_CLOSED = "request_closed", _("request closed")
        BREACH_CLOSED = "breach_closed", _("breach closed")

    class Action(models.TextChoices):
        DELETE = "delete", _("delete")
        ANONYMISE = "anonymise", _("anonymise")
        ARCHIVE = "archive", _("archive (intermediate storage)")

    activity = models.ForeignKey(
        ProcessingActivity,
        verbose_name=_("processing activity"),
        on_delete=models.CASCADE,
        related_name="retention_rules",
    )
    data_category = models.CharField(_("category of data"), max_length=200)
    record_type = models.CharField(
        _("records governed"),
        max_length=20,
        choices=RecordType.choices,
        default=RecordType.OTHER,
    )
    duration = models.PositiveIntegerField(_("duration"))
    unit = models.CharField(
        _("unit"), max_length=10, choices=Unit.choices, default=Unit.YEARS
    )
    start_event = models.CharField(
        _("runs from"), max_length=40, choices=StartEvent.choices
    )
    action = models.CharField(
        _("at the end"), max_length=20, choices=Action.choices, default=Action.DELETE
    )
    notes = models.TextField(_("notes"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        ordering = ["activity", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration__gt=0), name="retention_duration_positive"
            )
        ]

    def __str__(self):
        return self.describe()

    def describe(self) -> str:
        """Return the rule as a sentence, e.g. "Contacts: 3 years from collection,
        then delete"."""
        return _("%(category)s: %(duration)s %(unit)s from %(event)s, then %(action)s") % {
            "category": self.data_category,
            "duration": self.duration,
            "unit": self.get_unit_display(),
            "event": self.get_start_event_display(),
            "action": self.get_action_display(),
        }
