from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.contacts.models import Audience
from apps.contacts.models import ConsentClaim
from apps.contacts.models import ContactList
from apps.imports.list_terms import PROSPECTING_BASES
from apps.imports.list_terms import list_terms_check
from apps.imports.mapping import FIELD_CHOICES
from apps.imports.mapping import IGNORE
from apps.imports.mapping import column_labels
from apps.imports.mapping import is_forbidden_header
from apps.imports.mapping import mapping_problems_with_columns
from apps.imports.models import phone_country_default
from apps.imports.phone_countries import phone_country_choices
from apps.imports.services import ImportInputError
from apps.imports.services import activity_in_force_check
from apps.register.models import LawfulBasis
from apps.register.models import ProcessingActivity

# Lawful bases of the activities that the upload form offers, which are the
# bases under which some audience may be prospected.
PROSPECTING_ACTIVITY_BASES = sorted(set().union(*PROSPECTING_BASES.values()))


class ActivityChoiceField(forms.ModelChoiceField):
    """A choice of the activities that can hold prospects.

    Any activity can be posted. One whose lawful basis cannot hold prospects
    gets the generic invalid-choice error, which does not name it, because
    the users of this form need not see activities such as the breach
    register. A draft or retired prospecting activity gets the service's
    message naming it.
    """

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            activity = ProcessingActivity.objects.get(
                pk=value, lawful_basis__in=PROSPECTING_ACTIVITY_BASES
            )
        except (ValueError, TypeError, ProcessingActivity.DoesNotExist):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            ) from None
        try:
            activity_in_force_check(activity)
        except ImportInputError as error:
            raise forms.ValidationError(str(error), code="not_in_force") from error
        return activity


# The upload form's fields that ``list_terms_check`` takes, under the same names.
LIST_TERM_FIELDS = [
    "acquisition",
    "acquired_on",
    "licence_ends_on",
    "consent_claim",
    "audience",
    "lawful_basis",
    "processing_activity",
]


class UploadForm(forms.Form):
    source_file = forms.FileField(
        label=_("File"),
        help_text=_("CSV, XLSX or ODS, as the vendor delivered it."),
    )
    vendor_name = forms.CharField(
        label=_("Vendor"),
        max_length=200,
        help_text=_("The company that sold or rented the list."),
    )
    list_name = forms.CharField(
        label=_("List name"),
        max_length=200,
        help_text=_("Importing again into the same list creates nothing twice."),
    )
    acquisition = forms.ChoiceField(
        label=_("Acquisition"),
        choices=ContactList.Acquisition.choices,
        initial=ContactList.Acquisition.PURCHASE,
    )
    acquired_on = forms.DateField(
        label=_("Acquired on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "The day the vendor delivered the list. Rows without a collection "
            "date take it as theirs, and their retention period starts from it."
        ),
    )
    licence_ends_on = forms.DateField(
        label=_("Licence ends on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "The last day the contacts of a rented list may be used. Required for "
            "a rented list, and left empty for a purchased one."
        ),
    )
    collection_method = forms.CharField(
        label=_("Collection method stated by the vendor"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    consent_claim = forms.ChoiceField(
        label=_("Consent claim"),
        choices=ConsentClaim.choices,
        initial=ConsentClaim.UNKNOWN,
    )
    audience = forms.ChoiceField(
        label=_("Audience"), choices=Audience.choices, initial=Audience.B2B
    )
    processing_activity = ActivityChoiceField(
        label=_("Processing activity"),
        queryset=ProcessingActivity.objects.filter(
            status=ProcessingActivity.Status.IN_FORCE,
            lawful_basis__in=PROSPECTING_ACTIVITY_BASES,
        ).order_by("reference"),
        # Not required here, so that ``list_terms_check`` explains the choice.
        required=False,
        help_text=_(
            "The register's activity that covers this prospecting. Only activities "
            "in force whose lawful basis is legitimate interests or consent can "
            "receive contacts."
        ),
    )
    # Only the bases under which a prospect may ever be contacted; the
    # import's own check explains the audience each one allows.
    lawful_basis = forms.ChoiceField(
        label=_("Lawful basis for the batch"),
        choices=[
            (basis.value, basis.label)
            for basis in LawfulBasis
            if basis in PROSPECTING_ACTIVITY_BASES
        ],
        initial=LawfulBasis.LEGITIMATE_INTERESTS,
    )
    phone_country = forms.ChoiceField(
        label=_("Default country for phone numbers"),
        # A callable, so that the names follow the language of each request.
        choices=phone_country_choices,
        initial=phone_country_default,
        help_text=_(
            "Phone numbers written without a country code, such as 02 512 34 56, "
            "are read as numbers of this country, unless the row's country column "
            "names another."
        ),
    )

    def clean_source_file(self):
        upload = self.cleaned_data["source_file"]
        if upload.size > settings.MAX_UPLOAD_SIZE:
            raise forms.ValidationError(
                _(
                    "The file is %(size)s MB, above the %(limit)s MB limit; split "
                    "it or ask an administrator to raise MAX_UPLOAD_SIZE_MB."
                ),
                params={
                    "size": f"{upload.size / 1048576:.1f}",
                    "limit": f"{settings.MAX_UPLOAD_SIZE / 1048576:.0f}",
                },
            )
        return upload

    def clean(self):
        cleaned_data = super().clean()
        if any(name in self.errors for name in LIST_TERM_FIELDS):
            return cleaned_data

        try:
            list_terms_check(**{name: cleaned_data[name] for name in LIST_TERM_FIELDS})
        except ImportInputError as error:
            self.add_error(error.field, str(error))
        return cleaned_data


class MappingForm(forms.Form):
    """One field choice per column of the file, plus the sheet of a workbook.

    ``headers`` are the file's header cells. A mapping that the import rules
    reject gets each problem beside the columns at fault, or above the table
    when the problem concerns no single column.
    """

    save_for_vendor = forms.BooleanField(
        label=_("Save this mapping for the vendor's next files"), required=False
    )

    def __init__(self, *args, headers: list[str], mapping: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        # Columns that share a header get their position in their label, so
        # that the user can tell them apart when choosing their fields.
        labels = column_labels(headers)
        for index, header in enumerate(headers):
            # A column of social-security numbers can only be ignored.
            choices = FIELD_CHOICES
            if is_forbidden_header(header):
                choices = [choice for choice in FIELD_CHOICES if choice[0] == IGNORE]
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=labels[index]
                if header
                else _("Column %(number)d") % {"number": index + 1},
                choices=choices,
                required=False,
                initial=mapping.get(str(index), ""),
            )

    def clean(self):
        cleaned_data = super().clean()
        # A column with an invalid choice would count as ignored below.
        if self.errors:
            return cleaned_data

        problems = mapping_problems_with_columns(
            self.mapping(), len(self.headers), headers=self.headers
        )
        for problem in problems:
            names = [f"column_{index}" for index in problem.columns] or [None]
            for name in names:
                self.add_error(name, problem.message)
        return cleaned_data

    def column_fields(self):
        return [self[f"column_{index}"] for index in range(len(self.headers))]

    def mapping(self) -> dict[str, str]:
        return {
            str(index): self.cleaned_data.get(f"column_{index}") or ""
            for index in range(len(self.headers))
        }

    def submitted_mapping(self) -> dict[str, str]:
        """Return the field posted for each column, valid or not."""
        return {
            str(index): self[f"column_{index}"].value() or ""
            for index in range(len(self.headers))
        }


class SheetForm(forms.Form):
    sheet = forms.ChoiceField(label=_("Sheet"))

    def __init__(self, *args, sheets: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sheet"].choices = [(name, name) for name in sheets]
