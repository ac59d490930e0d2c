from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.models import Organisation


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = [
            "name",
            "address",
            "country",
            "registration_number",
            "phone",
            "email",
            "legal_representative",
            "eu_representative",
            "dpo_name",
            "dpo_email",
            "dpo_phone",
            "dpo_address",
        ]
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "eu_representative": forms.Textarea(attrs={"rows": 3}),
            "dpo_address": forms.Textarea(attrs={"rows": 3}),
        }


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action starts with"), required=False)
    target_type = forms.CharField(label=_("Target type"), required=False)
    target_id = forms.CharField(label=_("Target id"), required=False)
    actor = forms.CharField(label=_("Actor (username)"), required=False)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
