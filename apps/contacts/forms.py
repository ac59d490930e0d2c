from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from apps.contacts.models import Audience
from apps.contacts.models import CampaignExport
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import Vendor
from apps.core.submissions import submission_token_field
from apps.imports.normalizers import InvalidValue
from apps.imports.normalizers import country_normalize
from apps.register.models import LawfulBasis


def _blank(choices):
    return [("", _("any"))] + list(choices)


class ContactFilterForm(forms.Form):
    """The contact list's search and filters; a campaign export reuses them."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        help_text=_(
            "A whole e-mail or phone, or 3+ letters of a name, a company or "
            "the part of an e-mail before the @. Case and accents are ignored."
        ),
    )
    vendor = forms.ModelChoiceField(
        label=_("Vendor"),
        queryset=Vendor.objects.order_by("name"),
        required=False,
        error_messages={
            "invalid_choice": _(
                "No vendor has the id “%(value)s”: choose a vendor in the menu, "
                "or reset the filters."
            )
        },
    )
    contact_list = forms.ModelChoiceField(
        label=_("List"),
        queryset=ContactList.objects.select_related("vendor"),
        required=False,
        error_messages={
            "invalid_choice": _(
                "No list has the id “%(value)s”: choose a list in the menu, or "
                "reset the filters."
            )
        },
    )
    audience = forms.ChoiceField(
        label=_("Audience"), choices=_blank(Audience.choices), required=False
    )
    lawful_basis = forms.ChoiceField(
        label=_("Lawful basis"), choices=_blank(LawfulBasis.choices), required=False
    )
    # No ``max_length``: its generic error would not name the value, so
    # ``clean_country`` checks the length.
    country = forms.CharField(
        label=_("Country"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 2}),
        help_text=_("Two-letter ISO code, e.g. FR."),
    )
    job_function = forms.CharField(label=_("Job function"), required=False)
    postcode = forms.CharField(
        label=_("Postcode"),
        required=False,
        help_text=_("Its first characters: 69 for the Rhône, 69003 for one area."),
    )
    city = forms.CharField(
        label=_("City"),
        required=False,
        help_text=_("The whole name. Case, accents and hyphens are ignored."),
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=_blank(Contact.Status.choices), required=False
    )
    contactable = forms.ChoiceField(
        label=_("Contactable by e-mail"),
        choices=[("", _("any")), ("yes", _("yes")), ("no", _("no"))],
        required=False,
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        choices=[
            ("newest", _("newest first")),
            ("name", _("last name")),
            ("company", _("company")),
        ],
        required=False,
        help_text=_(
            "By last name or company, the contacts without one come after all "
            "the others."
        ),
    )

    def clean_country(self):
        country = self.cleaned_data["country"].strip().upper()
        if not country or (len(country) == 2 and country.isalpha()):
            return country

        try:
            suggestion = country_normalize(country)
        except InvalidValue:
            raise forms.ValidationError(
                _("%(value)r is not a country code: use two letters such as FR."),
                params={"value": country},
            ) from None
        raise forms.ValidationError(
            _("“%(value)s” is not a two-letter country code: use %(code)s."),
            params={"value": country, "code": suggestion},
        )

    def clean_job_function(self):
        return self.cleaned_data["job_function"].strip()

    def clean_postcode(self):
        postcode = self.cleaned_data["postcode"].strip()
        return self._within_field_length(postcode, "postcode")

    def clean_city(self):
        return self._within_field_length(self.cleaned_data["city"].strip(), "city")

    @staticmethod
    def _within_field_length(value: str, name: str) -> str:
        limit = Contact._meta.get_field(name).max_length
        if len(value) > limit:
            raise forms.ValidationError(
                _(
                    "“%(value)s…” is %(length)d characters long, more than a "
                    "%(field)s can hold: type at most %(limit)d."
                ),
                params={
                    "value": value[:20],
                    "length": len(value),
                    "field": Contact._meta.get_field(name).verbose_name,
                    "limit": limit,
                },
            )
        return value

    def clean_sort(self):
        return self.cleaned_data["sort"] or "newest"


class CampaignExportForm(forms.Form):
    """The campaign export's options; the file's language starts as the page's."""

    submission_token = submission_token_field()
    file_format = forms.ChoiceField(
        label=_("Format"),
        choices=CampaignExport.Format.choices,
        initial=CampaignExport.Format.CSV,
    )
    language = forms.ChoiceField(
        label=_("Language of the file"),
        choices=settings.LANGUAGES,
        required=False,
        help_text=_(
            "The headers and each row's source statement are written in it, and "
            "its dates follow that language's format. Choose the recipients' "
            "language."
        ),
    )
    records_notice = forms.BooleanField(
        label=_("Record the Art. 14 notice as sent"),
        required=False,
        help_text=_(
            "Tick when the first message will include the source statement of "
            "each row. Contacts without a recorded notice get it dated today."
        ),
    )
    records_message_date = forms.BooleanField(
        label=_("Record today as the last campaign message date"),
        required=False,
        help_text=_(
            "Sets the last campaign message date of every exported contact. "
            "It does not extend the retention period."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        page_language = (translation.get_language() or "").split("-")[0]
        if page_language in dict(settings.LANGUAGES):
            self.fields["language"].initial = page_language
