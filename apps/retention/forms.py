from django import forms
from django.utils.translation import gettext_lazy as _


class RunRequestForm(forms.Form):
    """The run that the compliance officer requests from the retention page."""

    PREVIEW = "preview"
    APPLY = "apply"

    kind = forms.ChoiceField(
        label=_("What to run"),
        choices=[
            (PREVIEW, _("Refresh the preview of the next run (changes nothing)")),
            (APPLY, _("Apply the retention rules now")),
        ],
        error_messages={
            "invalid_choice": _(
                "“%(value)s” is not a valid choice: choose “preview” or “apply”."
            ),
            "required": _("Choose “preview” or “apply”."),
        },
    )
