import re
import uuid

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.models import HistoricalRecords

from apps.core.text import newlines_unified
from apps.register.countries import adequacy_country_names
from apps.register.countries import has_adequacy_decision
from apps.register.countries import is_eea_country

# The maximum lengths of free text. An activity's texts are longer than the
# details of a part. Both stay below the 32,767 characters that an Excel cell
# can hold, so that the XLSX export keeps every text whole, and they keep the
# PDF export fast.
MAX_TEXT_LENGTH = 10_000
MAX_DETAILS_LENGTH = 2_000


@deconstructible
class TextLengthValidator(MaxLengthValidator):
    """Reject a text longer than ``limit_value`` characters, with both lengths.

    The length counts each line break as one character, as stored: a browser
    submits CRLF line breaks, which the register stores as LF.
    """

    def clean(self, x):
        return len(newlines_unified(x))

    message = _(
        "This text has %(show_value)d characters, above the maximum of "
        "%(limit_value)d. Shorten it, or keep the details in a document and "
        "refer to it here."
    )


def _long_text() -> list:
    return [TextLengthValidator(MAX_TEXT_LENGTH)]


def _details_text() -> list:
    return [TextLengthValidator(MAX_DETAILS_LENGTH)]


class LawfulBasis(models.TextChoices):
    """The lawful bases of GDPR Art. 6(1)."""

    CONSENT = "consent", _("Consent (Art. 6(1)(a))")
    CONTRACT = "contract", _("Contract (Art. 6(1)(b))")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation (Art. 6(1)(c))")
    VITAL_INTERESTS = "vital_interests", _("Vital interests (Art. 6(1)(d))")
    PUBLIC_TASK = "public_task", _("Public task (Art. 6(1)(e))")
    LEGITIMATE_INTERESTS = (
        "legitimate_interests",
        _("Legitimate interests (Art. 6(1)(f))"),
    )


class Sensitivity(models.TextChoices):
    """Whether a category of personal data needs an extra legal condition."""

    STANDARD = "standard", _("Standard data")
    SPECIAL = "special", _("Special category (Art. 9)")
    CRIMINAL = "criminal", _("Criminal convictions and offences (Art. 10)")


class ProcessingActivity(models.Model):
    """One entry of the record of processing activities (GDPR Art. 30).

    The same model is also the processor's record (Art. 30(2)) when ``role`` is
    ``processor``: ``controllers_served`` then names the controllers.

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
    description = models.TextField(
        _("description"), blank=True, validators=_long_text()
    )
    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.CONTROLLER
    )
    purposes = models.TextField(_("purposes"), blank=True, validators=_long_text())
    lawful_basis = models.CharField(
        _("lawful basis"), max_length=30, choices=LawfulBasis.choices, blank=True
    )
    legitimate_interest = models.TextField(
        _("legitimate interest pursued"),
        blank=True,
        help_text=_("Required when the lawful basis is legitimate interests."),
        validators=_long_text(),
    )
    concerns_recipients_profession = models.BooleanField(
        _("messages concern the recipient's profession"),
        default=False,
        help_text=_(
            "For B2B prospecting on an opt-out basis (CPCE L.34-5): the messages "
            "relate to the recipient's professional activity."
        ),
    )
    security_measures = models.TextField(
        _("security measures"), blank=True, validators=_long_text()
    )
    joint_controllers = models.TextField(
        _("joint controllers"),
        blank=True,
        help_text=_("Name and contact details of each joint controller (Art. 26)."),
        validators=_long_text(),
    )
    controllers_served = models.TextField(
        _("controllers we act for"),
        blank=True,
        help_text=_(
            "When the organisation is a processor: name and contact details of "
            "each controller it acts for (Art. 30(2)(a))."
        ),
        validators=_long_text(),
    )
    special_category_condition = models.TextField(
        _("condition for special-category data"),
        blank=True,
        help_text=_(
            "The Art. 9(2) exception relied on, required when special-category "
            "data (health, opinions, biometrics...) is processed."
        ),
        validators=_long_text(),
    )
    criminal_data_authority = models.TextField(
        _("authority for criminal-offence data"),
        blank=True,
        help_text=_(
            "The legal provision allowing criminal-offence data (Art. 10), "
            "required when such data is processed."
        ),
        validators=_long_text(),
    )
    data_sources = models.TextField(
        _("data sources"),
        blank=True,
        help_text=_("Where the data comes from: the person, a list vendor, ..."),
        validators=_long_text(),
    )
    dpia_required = models.BooleanField(
        _("DPIA required"),
        null=True,
        blank=True,
        help_text=_("Leave empty until the need for an impact assessment is decided."),
    )
    dpia_done = models.BooleanField(_("DPIA done"), default=False)
    dpia_reference = models.CharField(
        _("DPIA reference or location"), max_length=200, blank=True
    )
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
    started_on = models.DateField(
        _("processing started on"),
        null=True,
        blank=True,
        help_text=_(
            "The day the processing began, which the CNIL's register model calls "
            "its creation date. Leave it empty if nobody knows."
        ),
    )
    last_reviewed_on = models.DateField(_("last reviewed"), null=True, blank=True)
    next_review_on = models.DateField(_("next review"), null=True, blank=True)
    # The public notice's URL carries this token instead of the id, so that a
    # visitor cannot list the notices by counting ids.
    notice_token = models.UUIDField(
        _("notice token"), default=uuid.uuid4, unique=True, editable=False
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("processing activity")
        verbose_name_plural = _("processing activities")
        ordering = ["reference"]
        permissions = [
            ("view_whole_register", _("Can view every processing activity")),
            ("export_register", _("Can export the register")),
            ("import_register", _("Can import a register spreadsheet")),
        ]

    def __str__(self):
        return f"{self.reference} · {self.name}"

    @property
    def is_in_force(self) -> bool:
        return self.status == self.Status.IN_FORCE

    @property
    def retired_on(self):
        """The local day the activity was retired, read from its history.

        None unless the activity is retired. For an activity retired, put back
        in force and retired again, it is the day of the last retirement.
        """
        if self.status != self.Status.RETIRED or self.pk is None:
            return None
        versions = ProcessingActivity.history.filter(id=self.pk).order_by(
            "-history_date", "-history_id"
        )
        retired_at = None
        for status, history_date in versions.values_list("status", "history_date"):
            if status != self.Status.RETIRED:
                break
            retired_at = history_date
        return timezone.localdate(retired_at) if retired_at else None

    @property
    def has_public_notice(self) -> bool:
        """Whether the activity has a public notice (GDPR Art. 13 and 14).

        A draft processes nothing yet, and a processor's controller informs
        the people. A retired activity keeps its notice for the links sent.
        """
        return self.status != self.Status.DRAFT and self.role != self.Role.PROCESSOR

    @property
    def rejects_b2b_opt_out_lists(self) -> bool:
        """Tell whether an import rejects B2B lists on legitimate interests here.

        Under French CPCE L.34-5, professionals may be prospected without
        their consent only about their profession, so such an import needs
        ``concerns_recipients_profession``.
        """
        return (
            self.lawful_basis == LawfulBasis.LEGITIMATE_INTERESTS
            and not self.concerns_recipients_profession
        )

    def has_left_draft(self) -> bool:
        """Tell whether the stored activity or a version in its history is not
        a draft.

        Such an activity was in force or retired at some point, so it belongs
        to the record of processing activities (GDPR Art. 30). It may be
        retired, but not deleted or made a draft again. Returns False for an
        unsaved activity.
        """
        if self.pk is None:
            return False
        draft = self.Status.DRAFT
        stored = ProcessingActivity.objects.filter(pk=self.pk).exclude(status=draft)
        if stored.exists():
            return True
        versions = ProcessingActivity.history.filter(id=self.pk)
        return versions.exclude(status=draft).exists()

    def _draft_return_check(self) -> None:
        if self.status != self.Status.DRAFT or not self.has_left_draft():
            return
        raise ValidationError(
            {
                "status": _(
                    "Activity %(reference)s has been in force, so it cannot go "
                    "back to “%(draft)s”: the register keeps every activity "
                    "that was in force (GDPR Art. 30). Choose “%(in_force)s” or "
                    "“%(retired)s” instead."
                )
                % {
                    "reference": self.reference,
                    "draft": self.Status.DRAFT.label,
                    "in_force": self.Status.IN_FORCE.label,
                    "retired": self.Status.RETIRED.label,
                }
            }
        )

    def _review_dates_check(self) -> None:
        """Reject every date out of place at once, each on its own field."""
        today = timezone.localdate()
        errors = {}
        if self.started_on and self.started_on > today:
            errors["started_on"] = _(
                "The processing start %(date)s is in the future. Enter the "
                "day it began, or leave it empty until then."
            ) % {"date": date_format(self.started_on, "SHORT_DATE_FORMAT")}
        if self.last_reviewed_on and self.last_reviewed_on > today:
            errors["last_reviewed_on"] = _(
                "The last review %(date)s is in the future. Enter the day "
                "the activity was last reviewed."
            ) % {"date": date_format(self.last_reviewed_on, "SHORT_DATE_FORMAT")}
        if (
            self.last_reviewed_on
            and self.next_review_on
            and self.next_review_on < self.last_reviewed_on
        ):
            errors["next_review_on"] = _(
                "The next review %(next)s is before the last one "
                "%(last)s. Enter a later day."
            ) % {
                "next": date_format(self.next_review_on, "SHORT_DATE_FORMAT"),
                "last": date_format(self.last_reviewed_on, "SHORT_DATE_FORMAT"),
            }
        if errors:
            raise ValidationError(errors)

    def clean(self):
        """Reject a return to draft, review dates out of order, and a reference
        that another activity uses in another letter case.

        Commands and imports find activities by reference, and "TRT-001" and
        "trt-001" would be two activities to a reader.
        """
        super().clean()
        errors = {}
        checks = (
            self._draft_return_check,
            self._review_dates_check,
            self._reference_case_check,
        )
        for check in checks:
            try:
                check()
            except ValidationError as error:
                errors.update(error.error_dict)
        if errors:
            raise ValidationError(errors)

    def _reference_case_check(self) -> None:
        if not self.reference:
            return
        same_reference = ProcessingActivity.objects.filter(
            reference__iexact=self.reference
        )
        other = same_reference.exclude(pk=self.pk).first()
        if other is not None:
            raise ValidationError(
                {
                    "reference": _(
                        "The reference %(reference)s is already used by activity "
                        "%(other)s (letter case is ignored). Choose another."
                    )
                    % {"reference": self.reference, "other": other.reference}
                }
            )


DURATION_MIN_MESSAGE = _(
    "The duration must be at least 1, because a rule of 0 keeps nothing. Enter "
    "a whole number of days, months or years."
)


class RetentionRule(models.Model):
    """How long one category of data is kept, from which event, and what then.

    ``record_type`` is the kind of record the retention job applies the rule to.
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
        COLLECTION_OR_LAST_CONTACT = (
            "collection_or_last_contact",
            _("collection or last contact from the person, whichever is later"),
        )
        END_OF_CONTRACT = "end_of_contract", _("end of the contract")
        REQUEST_CLOSED = "request_closed", _("request closed")
        BREACH_CLOSED = "breach_closed", _("breach closed")
        OTHER = "other", _("another event, described in words")

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
    start_event_other = models.CharField(
        _("event described"),
        max_length=200,
        blank=True,
        help_text=_(
            "The starting event in words, when it is none of the listed ones, "
            "such as “payment of the salary”."
        ),
    )
    action = models.CharField(
        _("at the end"), max_length=20, choices=Action.choices, default=Action.DELETE
    )
    notes = models.TextField(_("notes"), blank=True, validators=_details_text())

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

    def clean(self):
        """Reject a duration below 1 or above ``MAX_RETENTION_DURATION``, and an
        "other event" start that is not described.
        """
        if (
            self.start_event == self.StartEvent.OTHER
            and not (self.start_event_other or "").strip()
        ):
            raise ValidationError(
                {
                    "start_event_other": _(
                        "Describe the event the period runs from, since it is none "
                        "of the listed ones."
                    )
                }
            )
        maximum = MAX_RETENTION_DURATION.get(self.unit)
        if self.duration is None or maximum is None:
            return

        if self.duration < 1:
            raise ValidationError(
                {"duration": ValidationError(DURATION_MIN_MESSAGE, code="min_value")}
            )
        if self.duration > maximum:
            message = _(
                "A duration of %(duration)d %(unit)s is above the maximum of "
                "%(maximum)d %(unit)s. Enter a shorter period."
            ) % {
                "duration": self.duration,
                "unit": self.get_unit_display(),
                "maximum": maximum,
            }
            raise ValidationError(
                {"duration": ValidationError(message, code="max_value")}
            )

    def describe(self) -> str:
        """Return the rule as a sentence, e.g. "Contacts: 3 years from collection,
        then delete"."""
        values = {
            "category": self.data_category,
            "duration": self.duration,
            "unit": self.unit_label(),
            "event": self.start_event_label(),
            "action": self.get_action_display(),
        }
        if self.start_event == self.StartEvent.OTHER and self.start_event_other:
            # The event is quoted, because the words typed may or may not
            # start with the preposition that the listed events carry in
            # French ("du", "de la").
            return (
                _(
                    "%(category)s: %(duration)s %(unit)s from the event “%(event)s”, "
                    "then %(action)s"
                )
                % values
            )
        return (
            _("%(category)s: %(duration)s %(unit)s from %(event)s, then %(action)s")
            % values
        )

    def unit_label(self) -> str:
        """Return the unit in the singular or plural form that ``duration`` needs."""
        count = self.duration or 0
        if self.unit == self.Unit.DAYS:
            return ngettext("day", "days", count)
        if self.unit == self.Unit.MONTHS:
            return ngettext("month", "months", count)
        if self.unit == self.Unit.YEARS:
            return ngettext("year", "years", count)
        return str(self.get_unit_display())

    def start_event_label(self) -> str:
        """Return the starting event in words, using the free text for ``other``."""
        if self.start_event == self.StartEvent.OTHER and self.start_event_other:
            return self.start_event_other
        return str(self.get_start_event_display())

    def duration_as_relativedelta(self) -> relativedelta:
        """Return the retention period, to add to the date of the starting event."""
        return relativedelta(**{self.unit: self.duration})


# The maximum duration of a retention rule in each unit: 100 years, counting a
# year as 365.25 days. GDPR Art. 5(1)(e) allows keeping personal data no longer
# than necessary. The limit also keeps the retention job's cutoff date (the run
# date minus the period) after year 1, where Python's dates begin.
MAX_RETENTION_DURATION = {
    RetentionRule.Unit.DAYS: 36525,
    RetentionRule.Unit.MONTHS: 1200,
    RetentionRule.Unit.YEARS: 100,
}


class ReferenceTerm(models.Model):
    """One entry of an editable reference list offered when filling the register.

    The forms suggest these labels but accept free text, because the register
    must be able to describe categories the lists do not foresee.
    """

    class Kind(models.TextChoices):
        DATA_SUBJECT = "data_subject", _("category of data subjects")
        PERSONAL_DATA = "personal_data", _("category of personal data")
        RECIPIENT = "recipient", _("category of recipients")
        SECURITY_MEASURE = "security_measure", _("security measure")
        DATA_SOURCE = "data_source", _("data source")

    kind = models.CharField(_("list"), max_length=20, choices=Kind.choices)
    label = models.CharField(_("label"), max_length=200)
    sensitivity = models.CharField(
        _("sensitivity"),
        max_length=20,
        choices=Sensitivity.choices,
        default=Sensitivity.STANDARD,
        help_text=_("Only meaningful for categories of personal data."),
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("reference term")
        verbose_name_plural = _("reference terms")
        ordering = ["kind", "position", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "label"], name="reference_term_unique_label"
            )
        ]

    def __str__(self):
        return self.label


class DataSubjectCategory(models.Model):
    """A category of people whose data the activity processes (Art. 30(1)(c))."""

    activity = models.ForeignKey(
        ProcessingActivity,
        verbose_name=_("processing activity"),
        on_delete=models.CASCADE,
        related_name="data_subjects",
    )
    label = models.CharField(_("category of data subjects"), max_length=200)
    details = models.TextField(_("details"), blank=True, validators=_details_text())

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("category of data subjects")
        verbose_name_plural = _("categories of data subjects")
        ordering = ["activity", "pk"]

    def __str__(self):
        return self.label


class PersonalDataCategory(models.Model):
    """A category of personal data processed, flagged when Art. 9 or 10 applies."""

    activity = models.ForeignKey(
        ProcessingActivity,
        verbose_name=_("processing activity"),
        on_delete=models.CASCADE,
        related_name="data_categories",
    )
    label = models.CharField(_("category of personal data"), max_length=200)
    details = models.TextField(_("details"), blank=True, validators=_details_text())
    sensitivity = models.CharField(
        _("sensitivity"),
        max_length=20,
        choices=Sensitivity.choices,
        default=Sensitivity.STANDARD,
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("category of personal data")
        verbose_name_plural = _("categories of personal data")
        ordering = ["activity", "pk"]

    def __str__(self):
        return self.label

    def clean(self):
        """Reject standard sensitivity for a category that the reference lists
        mark as Art. 9 or Art. 10 data, such as health data picked from the
        suggestions without changing the sensitivity."""
        if self.sensitivity != Sensitivity.STANDARD or not self.label.strip():
            return
        label = _category_key(self.label)
        terms = (
            ReferenceTerm.objects.filter(kind=ReferenceTerm.Kind.PERSONAL_DATA)
            .exclude(sensitivity=Sensitivity.STANDARD)
            .values_list("label", "sensitivity")
        )
        listed = next(
            (kind for text, kind in terms if _category_key(text) == label), None
        )
        if listed is None:
            return
        raise ValidationError(
            {
                "sensitivity": _(
                    "The reference lists mark “%(label)s” as “%(sensitivity)s”. "
                    "Choose that sensitivity, or correct the reference list if "
                    "the category is not such data."
                )
                % {
                    "label": self.label.strip(),
                    "sensitivity": Sensitivity(listed).label,
                }
            }
        )


def _category_key(label: str) -> str:
    """Return the form in which two category labels compare: whatever the
    case, the apostrophe and the spacing around it, and a final full stop."""
    from apps.register.layout import normalize_label

    text = re.sub(r"\s*['‘ʼ´`]\s*", "'", normalize_label(label))
    return text.rstrip(" .")


class Recipient(models.Model):
    """A category of recipients of the data (Art. 30(1)(d))."""

    activity = models.ForeignKey(
        ProcessingActivity,
        verbose_name=_("processing activity"),
        on_delete=models.CASCADE,
        related_name="recipients",
    )
    label = models.CharField(_("category of recipients"), max_length=200)
    details = models.TextField(_("details"), blank=True, validators=_details_text())
    third_country = models.BooleanField(
        _("in a third country or international organisation"), default=False
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["activity", "pk"]

    def __str__(self):
        return self.label


class Processor(models.Model):
    """A processor (sous-traitant) used by the activity, with its Art. 28 contract."""

    activity = models.ForeignKey(
        ProcessingActivity,
        verbose_name=_("processing activity"),
        on_delete=models.CASCADE,
        related_name="processors",
    )
    name = models.CharField(_("processor"), max_length=200)
    service = models.CharField(_("service provided"), max_length=200, blank=True)
    country = models.CharField(_("country"), max_length=100, blank=True)
    dpa_signed_on = models.DateField(
        _("data-processing agreement signed on"), null=True, blank=True
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("processor")
        verbose_name_plural = _("processors")
        ordering = ["activity", "pk"]

    def __str__(self):
        return self.name

    def clean(self):
        """Reject a processing agreement signed in the future."""
        if self.dpa_signed_on and self.dpa_signed_on > timezone.localdate():
            raise ValidationError(
                {
                    "dpa_signed_on": _(
                        "The agreement's signature date %(date)s is in the future. "
                        "Enter the day it was signed, or leave it empty until then."
                    )
                    % {"date": date_format(self.dpa_signed_on, "SHORT_DATE_FORMAT")}
                }
            )


class Transfer(models.Model):
    """A transfer outside the EU with the safeguard that frames it (Art. 44-49)."""

    class Safeguard(models.TextChoices):
        ADEQUACY = "adequacy", _("Adequacy decision (Art. 45)")
        SCC = "scc", _("Standard contractual clauses (Art. 46)")
        BCR = "bcr", _("Binding corporate rules (Art. 47)")
        CODE_OF_CONDUCT = "code_of_conduct", _("Code of conduct (Art. 46(2)(e))")
        CERTIFICATION = "certification", _("Certification (Art. 46(2)(f))")
        DEROGATION = "derogation", _("Derogation for a specific situation (Art. 49)")

    activity = models.ForeignKey(
        ProcessingActivity,
        verbose_name=_("processing activity"),
        on_delete=models.CASCADE,
        related_name="transfers",
    )
    recipient = models.CharField(_("recipient organisation"), max_length=200)
    country = models.CharField(_("country"), max_length=100)
    safeguard = models.CharField(
        _("safeguard"), max_length=20, choices=Safeguard.choices, blank=True
    )
    documentation = models.TextField(
        _("documentation"),
        blank=True,
        help_text=_("Where the safeguard is documented: contract date, link..."),
        validators=_details_text(),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("transfer outside the EU")
        verbose_name_plural = _("transfers outside the EU")
        ordering = ["activity", "pk"]

    def __str__(self):
        return f"{self.recipient} ({self.country})"

    def clean(self):
        """Reject a country of the EEA, where sending data is not a transfer, and
        an adequacy decision for a country that has none."""
        if self.country and is_eea_country(self.country):
            raise ValidationError(
                {
                    "country": _(
                        "%(country)s is in the European Economic Area, so sending "
                        "data there is not a transfer. Record the recipient without "
                        "a transfer, or enter the country outside the EEA."
                    )
                    % {"country": self.country}
                }
            )
        if (
            self.country
            and self.safeguard == self.Safeguard.ADEQUACY
            and not has_adequacy_decision(self.country)
        ):
            raise ValidationError(
                {
                    "safeguard": _(
                        "%(country)s has no adequacy decision of the European "
                        "Commission (Art. 45). Choose the safeguard that frames "
                        "this transfer, such as standard contractual clauses, or "
                        "check the country's name. The countries with a decision "
                        "are: %(countries)s."
                    )
                    % {"country": self.country, "countries": adequacy_country_names()}
                }
            )
