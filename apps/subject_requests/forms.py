from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.forms import LocalDateTimeField
from apps.core.submissions import submission_token_field
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.package import DEFAULT_LANGUAGE
from apps.subject_requests.package import LANGUAGES
from apps.subject_requests.services import RECTIFIABLE_FIELDS
from apps.subject_requests.services import RequestError
from apps.subject_requests.services import receipt_time_check

# Maximum lengths of the postal address and of free text: room for any real
# address or note, while a pasted file is rejected instead of stored.
MAX_ADDRESS_LENGTH = 1000
MAX_TEXT_LENGTH = 10_000


def _status_choices():
    return [
        ("open", _("open")),
        ("all", _("all")),
        *SubjectRequest.Status.choices,
    ]


class RequestFilterForm(forms.Form):
    """The request list's filters, read from the query string."""

    status = forms.ChoiceField(
        label=_("Status"), choices=_status_choices, required=False
    )
    q = forms.CharField(
        label=_("Reference, name or e-mail"),
        required=False,
        max_length=254,
        error_messages={
            # PostgreSQL rejects text with a NUL (0x00) character.
            "null_characters_not_allowed": _(
                "The search contains a NUL character (\\x00), which no request "
                "holds. Remove it and search again."
            ),
        },
    )

    def clean_status(self):
        return self.cleaned_data["status"] or "open"


class RequestCreateForm(forms.Form):
    submission_token = submission_token_field()
    kind = forms.ChoiceField(label=_("Kind"), choices=SubjectRequest.Kind.choices)
    channel = forms.ChoiceField(
        label=_("Received by"), choices=SubjectRequest.Channel.choices
    )
    requester_name = forms.CharField(label=_("Requester's name"), max_length=200)
    requester_email = forms.CharField(
        label=_("Requester's e-mail"), max_length=254, required=False
    )
    requester_phone = forms.CharField(
        label=_("Requester's phone"), max_length=40, required=False
    )
    requester_address = forms.CharField(
        label=_("Requester's postal address"),
        required=False,
        max_length=MAX_ADDRESS_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    received_at = LocalDateTimeField(
        label=_("Received at"),
        help_text=_("Date and time the request arrived (Paris time)."),
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
    )
    notes = forms.CharField(
        label=_("Notes"),
        help_text=_(
            "The person receives these notes in the answer to a later access "
            "request, so write nothing about anyone else."
        ),
        required=False,
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_at"].initial = timezone.localtime().strftime(
            "%Y-%m-%dT%H:%M"
        )

    def clean_received_at(self):
        # The field has already rejected a time that does not exist or is
        # ambiguous when the clocks change.
        received_at = self.cleaned_data["received_at"]
        try:
            receipt_time_check(received_at)
        except RequestError as error:
            raise forms.ValidationError(str(error), code="invalid") from error
        return received_at


class IdentityForm(forms.Form):
    verified = forms.TypedChoiceField(
        label=_("Result"),
        choices=[("1", _("identity verified")), ("0", _("identity not proven"))],
        coerce=lambda value: value == "1",
    )
    method = forms.CharField(
        label=_("How it was checked"),
        max_length=200,
        help_text=_("For example: reply from the address on file, ID card copy."),
    )


def _informed_on_field(help_text) -> forms.DateField:
    """Return the field of the day the person was informed of a decision."""
    return forms.DateField(
        label=_("Person informed on"),
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def _informed_by_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Informed by"), choices=SubjectRequest.Channel.choices
    )


class ExtendForm(forms.Form):
    months = forms.TypedChoiceField(
        label=_("Extend by"),
        choices=[(1, _("1 month")), (2, _("2 months"))],
        coerce=int,
    )
    reason = forms.CharField(
        label=_("Reason told to the person"),
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    informed_on = _informed_on_field(
        _(
            "The day the person was informed of the extension and its reasons, "
            "within the first month (GDPR Art. 12(3))."
        )
    )
    informed_by = _informed_by_field()


class LiftRestrictionForm(forms.Form):
    informed_on = _informed_on_field(
        _(
            "The day the person was informed that the restriction would be "
            "lifted, which must come first (GDPR Art. 18(3))."
        )
    )
    informed_by = _informed_by_field()


class LinkForm(forms.Form):
    contact_ids = forms.TypedMultipleChoiceField(
        label=_("Contacts found"), coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, contact_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_ids"].choices = contact_choices


class PackageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language of the package"),
        choices=[
            (code, name) for code, name in settings.LANGUAGES if code in LANGUAGES
        ],
        initial=DEFAULT_LANGUAGE,
        required=False,
        help_text=_("Labels, texts and dates the person reads are in this language."),
    )

    def clean_language(self):
        return self.cleaned_data["language"] or DEFAULT_LANGUAGE


def _response_sent_at_field() -> LocalDateTimeField:
    # The later of a repeated hour, as for a notification sent: the stricter
    # reading of whether the answer met its deadline.
    return LocalDateTimeField(
        label=_("Answer sent at"),
        help_text=_(
            "Date and time the answer was sent to the person (Paris time); "
            "now if left empty."
        ),
        required=False,
        repeated_hour="last",
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
    )


class CloseForm(forms.Form):
    response_sent_at = _response_sent_at_field()


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for refusal"),
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    response_sent_at = _response_sent_at_field()


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I confirm: delete the linked contacts and all derived records."),
    )


class RectifyForm(forms.Form):
    def __init__(self, *args, contact, **kwargs):
        super().__init__(*args, **kwargs)
        for name in RECTIFIABLE_FIELDS:
            model_field = contact._meta.get_field(name)
            self.fields[name] = forms.CharField(
                label=model_field.verbose_name,
                max_length=model_field.max_length,
                required=False,
                initial=getattr(contact, name),
            )
