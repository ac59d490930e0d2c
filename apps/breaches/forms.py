"""Forms of the breach pages. Times are typed in local time (Europe/Paris).

Django reads a naive form datetime in the current time zone. It raises a
validation error for a local time that does not exist or is ambiguous, such as
the hour skipped or repeated by a daylight-saving change. So the stored value
is always one UTC instant.
"""

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.contacts.models import Audience
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.core.dates import format_datetime
from apps.core.forms import LoadedVersionField
from apps.core.forms import LoadedVersionMixin
from apps.core.forms import LocalDateTimeField
from apps.core.submissions import submission_token_field
from apps.register.models import ProcessingActivity

from .models import Breach
from .models import BreachNotification
from .selectors import DEFAULT_CONTACT_STATUSES
from .services import EDITABLE_FIELDS
from .services import FACTS_FIXED_BY_NOTIFICATION
from .text_identifiers import identifiers_in_text

LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=LOCAL_INPUT_FORMAT)


def local_datetime_field(label, **kwargs) -> LocalDateTimeField:
    return LocalDateTimeField(
        label=label,
        widget=LocalDateTimeInput(),
        input_formats=[LOCAL_INPUT_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        help_text=kwargs.pop("help_text", _("Local time (Europe/Paris).")),
        **kwargs,
    )


# Free-text fields shown as text areas on the breach form.
LONG_TEXT_FIELDS = (
    "description",
    "subject_categories",
    "data_categories",
    "likely_consequences",
    "measures_taken",
    "measures_proposed",
    "risk_reasoning",
    "no_notification_reason",
    "no_communication_reason",
)


# A breach's free texts go to CSV, XLSX and PDF exports, and a spreadsheet
# cell can contain at most 32,767 characters. The register's texts have the
# same limit.
MAX_BREACH_TEXT_LENGTH = 10_000


def _text_limited(field: forms.Field) -> None:
    """Give ``field`` the maximum length of a breach's free text."""
    field.max_length = MAX_BREACH_TEXT_LENGTH
    field.validators.append(MaxLengthValidator(MAX_BREACH_TEXT_LENGTH))
    field.widget.attrs["maxlength"] = str(MAX_BREACH_TEXT_LENGTH)


def keep_identifiers_field() -> forms.BooleanField:
    """Return the tick box that keeps the identifiers a warning quoted."""
    return forms.BooleanField(
        label=_("Keep these identifiers in the text"),
        required=False,
    )


class IdentifierWarningMixin:
    """Warn about e-mail addresses and phone numbers in a form's free text.

    The form declares ``keep_identifiers = keep_identifiers_field()`` and
    names the checked fields in ``CHECKED_TEXT_FIELDS``, which ``clean``
    checks after the form's own cleaning. A checked field that contains
    an identifier gets an error unless the user ticks the box, because the
    identifier may matter, such as the address an attacker used.
    """

    CHECKED_TEXT_FIELDS: tuple[str, ...] = ()

    # The identifiers that clean() found in each checked field and that the
    # saved field does not contain yet.
    new_identifiers: dict[str, tuple[str, ...]] = {}

    def saved_text(self, name: str) -> str:
        """Return the saved text of field ``name``: "" for a new record."""
        return ""

    def identifiers_warning(self, name: str, found: tuple[str, ...]) -> str:
        raise NotImplementedError

    def _new_identifiers(self, name: str, text: str) -> list[str]:
        """Return the e-mail addresses and phone numbers new to field ``name``.

        Those already in the saved field were accepted when it was saved, so
        editing another field does not warn about them again.
        """
        saved = set(identifiers_in_text(self.saved_text(name)))
        return [value for value in identifiers_in_text(text) if value not in saved]

    def clean(self):
        cleaned = super().clean()
        self.warn_about_identifiers(cleaned)
        return cleaned

    def warn_about_identifiers(self, cleaned: dict) -> None:
        """Add a warning to each checked field with new identifiers, unless kept."""
        self.new_identifiers = {}
        for name in self.CHECKED_TEXT_FIELDS:
            if name not in self.fields:
                continue
            found = self._new_identifiers(name, cleaned.get(name) or "")
            if found:
                self.new_identifiers[name] = tuple(found)
        if cleaned.get("keep_identifiers"):
            return
        for name, found in self.new_identifiers.items():
            self.add_error(name, self.identifiers_warning(name, found))

    def keep_box_after(self) -> str:
        """Return the name of the field that the keep box follows, or "".

        The box appears under the first field that warned. Once ticked, it
        stays under the first checked field, and it is hidden otherwise.
        """
        if not self.is_bound:
            return ""
        if self.new_identifiers:
            return next(iter(self.new_identifiers))
        if self["keep_identifiers"].data:
            return next(
                name for name in self.CHECKED_TEXT_FIELDS if name in self.fields
            )
        return ""

    def shown_fields(self) -> list:
        """Return the bound fields in form order, the keep box where it belongs."""
        keep_after = self.keep_box_after()
        fields = []
        for bound_field in self:
            if bound_field.name == "keep_identifiers":
                continue
            fields.append(bound_field)
            if bound_field.name == keep_after:
                fields.append(self["keep_identifiers"])
        return fields


class BreachForm(LoadedVersionMixin, IdentifierWarningMixin, forms.ModelForm):
    detected_at = local_datetime_field(_("Detected at"))
    aware_at = local_datetime_field(
        _("Became aware at"),
        help_text=_(
            "Local time (Europe/Paris). When the organisation became reasonably "
            "certain that personal data was affected: the 72-hour clock starts here."
        ),
    )
    activities = forms.ModelMultipleChoiceField(
        label=_("Processing activities concerned"),
        queryset=ProcessingActivity.objects.order_by("reference"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    loaded_version = LoadedVersionField()
    version_missing_message = _(
        "The page does not say which version of the breach it shows, so saving "
        "it could undo a later change. Reload the page and enter your changes "
        "again."
    )
    submission_token = submission_token_field()
    # Edit form only: the 72-hour deadline follows the awareness time.
    aware_at_change_reason = forms.CharField(
        label=_("Why the awareness time changes"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Needed when you change the awareness time of a recorded breach, "
            "because the 72-hour deadline moves with it. The timeline keeps it."
        ),
    )
    # Offered under the first field that warned, once a warning appears.
    keep_identifiers = keep_identifiers_field()

    # Free-text fields checked for e-mail addresses and phone numbers: those
    # that the notification draft copies, and the reason for a new awareness
    # time, which the register exports print. The title is left out because
    # the model rejects identifiers in it.
    CHECKED_TEXT_FIELDS = (*LONG_TEXT_FIELDS, "delay_reasons", "aware_at_change_reason")

    class Meta:
        model = Breach
        fields = [*EDITABLE_FIELDS, "activities"]
        widgets = {
            field: forms.Textarea(attrs={"rows": 3}) for field in LONG_TEXT_FIELDS
        }

    FIELDSETS = (
        (
            _("What happened"),
            (
                "title",
                "description",
                "detected_at",
                "aware_at",
                "aware_at_change_reason",
                "affects_confidentiality",
                "affects_integrity",
                "affects_availability",
            ),
        ),
        (
            _("Scale"),
            (
                "subject_categories",
                "subjects_approx",
                "data_categories",
                "records_approx",
                "activities",
            ),
        ),
        (
            _("Consequences and measures"),
            ("likely_consequences", "measures_taken", "measures_proposed"),
        ),
        (
            _("Risk assessment and decisions"),
            (
                "risk_level",
                "risk_reasoning",
                "notification_decision",
                "no_notification_reason",
                "subjects_must_be_informed",
                "no_communication_reason",
            ),
        ),
        (_("Notification"), ("delay_reasons",)),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in (*LONG_TEXT_FIELDS, "delay_reasons"):
            if name in self.fields:
                _text_limited(self.fields[name])
        for name in ("detected_at", "aware_at"):
            self.fields[name].stored_value = getattr(self.instance, name)
        if self.instance.pk is None or self.instance.notified_at is not None:
            del self.fields["aware_at_change_reason"]
        if self.instance.notified_at is not None:
            self._disable_notified_facts()

    def _disable_notified_facts(self) -> None:
        """Show the facts of the initial notification as fixed, and why.

        A disabled field ignores the posted value and keeps the saved one, so
        the service finds no change to reject. The service rejects a change
        from any other caller.
        """
        help_text = _(
            "Fixed since the notification to the authority on %(when)s, because "
            "the record must match what the authority received. To correct it, "
            "add a note to the timeline or record a complementary notification."
        ) % {"when": format_datetime(self.instance.notified_at)}
        for name in FACTS_FIXED_BY_NOTIFICATION:
            self.fields[name].disabled = True
            self.fields[name].help_text = help_text

    def fieldsets(self) -> list[tuple[str, list]]:
        """Return (legend, bound fields) pairs in the order the page shows them.

        The tick box that keeps identifiers follows the first field that
        warned, or the description once the box was ticked.
        """
        keep_after = self.keep_box_after()
        fieldsets = []
        for legend, names in self.FIELDSETS:
            fields = []
            for name in names:
                if name not in self.fields:
                    continue
                fields.append(self[name])
                if name == keep_after:
                    fields.append(self["keep_identifiers"])
            fieldsets.append((legend, fields))
        return fieldsets

    def saved_text(self, name: str) -> str:
        return getattr(self.instance, name, "") or ""

    def _keep_saved_seconds(self, name: str):
        """Return the typed time, or the saved one if it is the same minute.

        The field shows minutes only, so an untouched time saved with seconds
        (by the API or a command) would otherwise lose them on every edit and
        move the 72-hour deadline. A disabled field returns the saved time,
        because Django drops the microseconds of its initial value.
        """
        typed = self.cleaned_data.get(name)
        saved = getattr(self.instance, name, None)
        if self.fields[name].disabled:
            return saved
        if typed and saved and typed == saved.replace(second=0, microsecond=0):
            return saved
        return typed

    def clean_detected_at(self):
        return self._keep_saved_seconds("detected_at")

    def clean_aware_at(self):
        return self._keep_saved_seconds("aware_at")

    def _require_aware_at_change_reason(self, cleaned: dict) -> None:
        """Ask for the reason of a new awareness time on the edit form."""
        if "aware_at_change_reason" not in self.fields:
            return
        reason = cleaned.get("aware_at_change_reason", "").strip()
        cleaned["aware_at_change_reason"] = reason
        aware_at = cleaned.get("aware_at")
        if not aware_at or aware_at == self.instance.aware_at or reason:
            return
        self.add_error(
            "aware_at_change_reason",
            _(
                "Say why the awareness time changes from %(old)s to %(new)s: "
                "the 72-hour deadline moves with it."
            )
            % {
                "old": format_datetime(self.instance.aware_at),
                "new": format_datetime(aware_at),
            },
        )

    def clean(self):
        cleaned = super().clean()
        self._require_aware_at_change_reason(cleaned)

        natures = (
            "affects_confidentiality",
            "affects_integrity",
            "affects_availability",
        )
        if not any(cleaned.get(name) for name in natures):
            raise forms.ValidationError(
                _(
                    "Tick at least one type of breach: confidentiality, integrity "
                    "or availability."
                )
            )
        return cleaned

    def identifiers_warning(self, name: str, found: tuple[str, ...]) -> str:
        if name == "description":
            message = _(
                "The description contains an e-mail address or a phone number "
                "(%(found)s). It is copied into the notification draft for the "
                "authority, so describe the people by category (a sales "
                "employee, 120 prospects) unless the identifier itself matters, "
                "such as the address an attacker used. To keep it, tick the box "
                "below and save again."
            )
        elif name == "aware_at_change_reason":
            message = _(
                "This reason contains an e-mail address or a phone number "
                "(%(found)s). The timeline keeps it and the breach register "
                "exports print it, so name people by their role unless the "
                "identifier itself matters. To keep it, tick the box below the "
                "first field that warns and save again."
            )
        else:
            message = _(
                "This field contains an e-mail address or a phone number "
                "(%(found)s). It is copied into the notification draft for the "
                "authority, so describe the people by category unless the "
                "identifier itself matters. To keep it, tick the box below the "
                "first field that warns and save again."
            )
        return message % {"found": ", ".join(found)}

    def service_data(self) -> dict:
        return {field: self.cleaned_data[field] for field in EDITABLE_FIELDS}


class NoteForm(IdentifierWarningMixin, forms.Form):
    text = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        error_messages={"required": _("The note is empty; write what happened.")},
    )
    keep_identifiers = keep_identifiers_field()

    CHECKED_TEXT_FIELDS = ("text",)

    def identifiers_warning(self, name: str, found: tuple[str, ...]) -> str:
        return _(
            "This note contains an e-mail address or a phone number "
            "(%(found)s). The timeline and the breach register exports print "
            "it, so name people by their role unless the identifier itself "
            "matters. To keep it, tick the box below the note and add it again."
        ) % {"found": ", ".join(found)}


class NotificationForm(IdentifierWarningMixin, forms.Form):
    phase = forms.ChoiceField(
        label=_("Phase"),
        choices=BreachNotification.Phase.choices,
        initial=BreachNotification.Phase.INITIAL,
    )
    # In the hour repeated in autumn, the later reading, which counts a late
    # notification as late.
    submitted_at = local_datetime_field(_("Submitted at"), repeated_hour="last")
    authority_reference = forms.CharField(
        label=_("Authority reference"),
        max_length=100,
        required=False,
        help_text=_("The number the CNIL's online service gives to the notification."),
    )
    content = forms.CharField(
        label=_("What this notification says"),
        required=False,
        max_length=MAX_BREACH_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    delay_reasons = forms.CharField(
        label=_("Reasons for the delay"),
        required=False,
        max_length=MAX_BREACH_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Required when the initial notification is made after the deadline."
        ),
    )
    keep_identifiers = keep_identifiers_field()

    CHECKED_TEXT_FIELDS = ("content", "delay_reasons")

    def __init__(self, *args, breach: Breach, **kwargs):
        super().__init__(*args, **kwargs)
        self.breach = breach

    def saved_text(self, name: str) -> str:
        # The form starts with the breach's reasons for the delay, whose
        # identifiers the breach form already let the user keep.
        if name == "delay_reasons":
            return self.breach.delay_reasons
        return ""

    def identifiers_warning(self, name: str, found: tuple[str, ...]) -> str:
        if name == "delay_reasons":
            message = _(
                "These reasons contain an e-mail address or a phone number "
                "(%(found)s). The breach page, the notification draft and the "
                "breach register exports print them, so name people by their "
                "role unless the identifier itself matters. To keep it, tick "
                "the box below the first field that warns and record the "
                "notification again."
            )
        else:
            message = _(
                "This field contains an e-mail address or a phone number "
                "(%(found)s). The breach page and the breach register exports "
                "print it, so describe the people by category unless the "
                "identifier itself matters. To keep it, tick the box below the "
                "first field that warns and record the notification again."
            )
        return message % {"found": ", ".join(found)}

    def service_data(self) -> dict:
        """Return the arguments of ``services.breach_notify_authority``."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "keep_identifiers"
        }


class ContactSelectionForm(forms.Form):
    """The DPO's choice of which contacts a breach affects."""

    activities = forms.ModelMultipleChoiceField(
        label=_("Processing activities"),
        queryset=ProcessingActivity.objects.order_by("reference"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one processing activity."),
        },
    )
    statuses = forms.MultipleChoiceField(
        label=_("Contact statuses"),
        choices=[
            (status, Contact.Status(status).label)
            for status in DEFAULT_CONTACT_STATUSES
        ],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every status except anonymised."),
    )
    audience = forms.ChoiceField(
        label=_("Audience"),
        choices=[("", pgettext_lazy("every audience", "All")), *Audience.choices],
        required=False,
    )
    lists = forms.ModelMultipleChoiceField(
        label=_("Contact lists"),
        queryset=ContactList.objects.select_related("vendor"),
        required=False,
        help_text=_("None selected: contacts from any list or from none."),
    )

    def selection(self) -> dict:
        return {
            "list_ids": [
                contact_list.pk for contact_list in self.cleaned_data["lists"]
            ],
            "activity_ids": [
                activity.pk for activity in self.cleaned_data["activities"]
            ],
            "statuses": self.cleaned_data["statuses"],
            "audience": self.cleaned_data["audience"],
        }


class CommunicationForm(IdentifierWarningMixin, ContactSelectionForm):
    communicated_at = local_datetime_field(_("Informed at"), repeated_hour="last")
    method = forms.CharField(
        label=_("How"),
        max_length=200,
        help_text=_("For example: e-mail from the DPO, letter, phone call."),
    )
    keep_identifiers = keep_identifiers_field()

    CHECKED_TEXT_FIELDS = ("method",)

    def identifiers_warning(self, name: str, found: tuple[str, ...]) -> str:
        return _(
            "The means contains an e-mail address or a phone number "
            "(%(found)s). The timeline, the breach register exports and the "
            "access package of every person informed print it, so name the "
            "sender by their role (e-mail from the DPO) unless the identifier "
            "itself matters. To keep it, tick the box below the means and "
            "record the communication again."
        ) % {"found": ", ".join(found)}
