from django import forms
from django.contrib.auth import get_user_model
from django.forms import BaseInlineFormSet
from django.forms import inlineformset_factory
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.core.forms import LoadedVersionField
from apps.core.forms import LoadedVersionMixin
from apps.core.forms import model_form_field
from apps.register.models import DURATION_MIN_MESSAGE
from apps.register.models import DataSubjectCategory
from apps.register.models import LawfulBasis
from apps.register.models import PersonalDataCategory
from apps.register.models import ProcessingActivity
from apps.register.models import Processor
from apps.register.models import Recipient
from apps.register.models import ReferenceTerm
from apps.register.models import RetentionRule
from apps.register.models import Transfer
from apps.register.services import ACTIVITY_FIELDS
from apps.register.services import CHILD_FIELDS
from apps.register.services import stale_message

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_SHORT_TEXT = forms.Textarea(attrs={"rows": 2})


class ActivityFilterForm(forms.Form):
    search = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any"))] + ProcessingActivity.Status.choices,
    )
    role = forms.ChoiceField(
        label=_("Role"),
        required=False,
        choices=[("", _("Any"))] + ProcessingActivity.Role.choices,
    )
    lawful_basis = forms.ChoiceField(
        label=_("Lawful basis"),
        required=False,
        choices=[("", _("Any"))] + LawfulBasis.choices,
    )
    owner = forms.ModelChoiceField(
        label=_("Person in charge"),
        required=False,
        queryset=get_user_model().objects.filter(owned_activities__isnull=False),
    )
    needs_review = forms.BooleanField(label=_("Review due"), required=False)
    incomplete = forms.BooleanField(label=_("Incomplete"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = self.fields["owner"].queryset.distinct()


class ActivityForm(LoadedVersionMixin, forms.ModelForm):
    dpia_required = forms.NullBooleanField(
        label=_("DPIA required"),
        required=False,
        widget=forms.NullBooleanSelect,
        help_text=_("Leave unknown until the need for an impact assessment is known."),
    )
    # The form also compares the version with the saved one, so that a stale
    # page is reported together with the form's other errors.
    loaded_version = LoadedVersionField()
    version_missing_message = _(
        "The page does not say which version of the activity it shows, so "
        "saving it could undo a later change. Reload the page and enter your "
        "changes again."
    )

    def clean(self):
        cleaned_data = super().clean()
        loaded = cleaned_data.get("loaded_version")
        if not self.instance.pk or loaded is None:
            return cleaned_data
        saved = ProcessingActivity.objects.get(pk=self.instance.pk).updated_at
        if loaded != saved:
            self.add_error(
                None, forms.ValidationError(stale_message(saved), code="stale")
            )
        return cleaned_data

    class Meta:
        model = ProcessingActivity
        fields = ACTIVITY_FIELDS
        formfield_callback = model_form_field
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "purposes": forms.Textarea(attrs={"rows": 3}),
            "legitimate_interest": _SHORT_TEXT,
            "joint_controllers": _SHORT_TEXT,
            "controllers_served": _SHORT_TEXT,
            "special_category_condition": _SHORT_TEXT,
            "criminal_data_authority": _SHORT_TEXT,
            "data_sources": forms.Textarea(
                attrs={"rows": 2, "list": "terms-data_source"}
            ),
            "security_measures": forms.Textarea(attrs={"rows": 4}),
            "started_on": _DATE,
            "last_reviewed_on": _DATE,
            "next_review_on": _DATE,
        }


def _label_widget(kind: str) -> forms.TextInput:
    return forms.TextInput(attrs={"list": f"terms-{kind}"})


class PartFormSet(BaseInlineFormSet):
    """The rows of one part, with a clear error for a row deleted meanwhile.

    ``can_add`` False leaves out the empty row, and ``can_delete`` False the
    "Delete" boxes, for a user who lacks the permission. The service still
    rejects a row added or left out of the submitted data without it.
    """

    def __init__(self, *args, can_add: bool = True, can_delete: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.can_add = can_add
        self.can_delete = can_delete
        if not can_add:
            self.extra = 0

    def add_fields(self, form, index):
        super().add_fields(form, index)
        # The hidden id of a row that another user deleted after this page was
        # loaded is no longer a valid choice.
        form.fields[self.model._meta.pk.name].error_messages["invalid_choice"] = _(
            "This row was deleted after you opened the page, probably by another "
            "user. Reload the page and enter your changes again."
        )


class PartForm(forms.ModelForm):
    """One row of a part, as a line of the activity form's table."""

    def row_errors(self):
        """Return the row's own errors and those of its hidden fields.

        No visible field shows them. A row's own errors come from ``clean()`` and
        the model's constraints, and the hidden ``id`` fails when the row was
        deleted meanwhile.
        """
        errors = self.error_class(self.non_field_errors(), error_class="nonfield")
        for field in self.hidden_fields():
            errors.extend(field.errors)
        return errors


class RetentionRuleForm(PartForm):
    duration = forms.IntegerField(
        label=capfirst(RetentionRule._meta.get_field("duration").verbose_name),
        min_value=1,
        error_messages={"min_value": DURATION_MIN_MESSAGE},
    )


def _part_formset(model, part: str, widgets: dict | None = None, form=None):
    return inlineformset_factory(
        ProcessingActivity,
        model,
        form=form or PartForm,
        formset=PartFormSet,
        # A copy, because each inline formset appends the foreign key to its
        # form's field list, which would add "activity" to CHILD_FIELDS.
        fields=list(CHILD_FIELDS[part]),
        extra=1,
        can_delete=True,
        widgets=widgets or {},
        formfield_callback=model_form_field,
    )


PART_FORMSETS = {
    "data_subjects": _part_formset(
        DataSubjectCategory,
        "data_subjects",
        {"label": _label_widget("data_subject"), "details": _SHORT_TEXT},
    ),
    "data_categories": _part_formset(
        PersonalDataCategory,
        "data_categories",
        {"label": _label_widget("personal_data"), "details": _SHORT_TEXT},
    ),
    "recipients": _part_formset(
        Recipient,
        "recipients",
        {"label": _label_widget("recipient"), "details": _SHORT_TEXT},
    ),
    "processors": _part_formset(Processor, "processors", {"dpa_signed_on": _DATE}),
    "transfers": _part_formset(Transfer, "transfers", {"documentation": _SHORT_TEXT}),
    "retention_rules": _part_formset(
        RetentionRule,
        "retention_rules",
        {"notes": _SHORT_TEXT},
        form=RetentionRuleForm,
    ),
}

PART_TITLES = {
    "data_subjects": _("Categories of data subjects"),
    "data_categories": _("Categories of personal data"),
    "recipients": _("Recipients"),
    "processors": _("Processors"),
    "transfers": _("Transfers outside the EU"),
    "retention_rules": _("Retention rules"),
}


def reference_terms() -> dict[str, list[str]]:
    """Return the suggested labels of each reference list, for the datalists."""
    terms: dict[str, list[str]] = {kind: [] for kind in ReferenceTerm.Kind.values}
    for kind, label in ReferenceTerm.objects.values_list("kind", "label"):
        terms[kind].append(label)
    return terms


# An estimate with room to spare: bench/register.py exports 500 activities to
# about 1.1 MB of XLSX.
MAX_REGISTER_FILE_MB = 20
REGISTER_FILE_SUFFIXES = (".xlsx", ".ods", ".csv")


class RegisterImportForm(forms.Form):
    file = forms.FileField(
        label=_("Register spreadsheet"),
        help_text=_(
            "An XLSX, ODS or CSV export of this register, or the CNIL's "
            "register template filled in (ODS or XLSX)."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not name.endswith(REGISTER_FILE_SUFFIXES):
            raise forms.ValidationError(
                _(
                    "%(name)s is not an .xlsx, .ods or .csv file; export the "
                    "register in one of these formats."
                )
                % {"name": upload.name}
            )
        if upload.size > MAX_REGISTER_FILE_MB * 1024 * 1024:
            raise forms.ValidationError(
                ngettext(
                    "%(name)s is larger than %(limit)d MB; a register file is "
                    "smaller, so check that this is the right file.",
                    "%(name)s is larger than %(limit)d MB; a register file is "
                    "smaller, so check that this is the right file.",
                    MAX_REGISTER_FILE_MB,
                )
                % {"name": upload.name, "limit": MAX_REGISTER_FILE_MB}
            )
        return upload


class ReferenceTermForm(forms.ModelForm):
    class Meta:
        model = ReferenceTerm
        fields = ["kind", "label", "sensitivity"]
