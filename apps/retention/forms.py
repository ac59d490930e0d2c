from django import forms
from django.utils.translation import gettext_lazy as _

from apps.retention.selectors import run_is_real


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


class ApplyConfirmForm(forms.Form):
    """The confirmation of a real run: a tick box and the preview it confirms.

    ``preview`` is the preview shown next to the tick box, or None when no
    current preview exists. The form is invalid in that case, and when the
    preview posted is no longer the current one, because the user then
    confirmed counts that the page no longer shows. ``plan_changed`` is True
    when the latest preview exists but the register changed after it.
    """

    confirm = forms.BooleanField(
        label=_("I confirm: apply the retention rules now, as of today."),
        error_messages={
            "required": _(
                "Tick the confirmation box to apply the rules: the run deletes or "
                "anonymises the records counted in the preview."
            ),
        },
    )
    preview = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, preview=None, plan_changed=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.current_preview = preview
        self.plan_changed = plan_changed
        if preview is not None:
            self.fields["preview"].initial = preview.pk

    def clean(self):
        cleaned = super().clean()
        if "preview" in self.errors or (
            self.current_preview is not None and cleaned.get("preview") is None
        ):
            # A tampered or missing preview id: the page that sent it is not
            # the one the server shows now.
            self.errors.pop("preview", None)
            raise forms.ValidationError(
                _(
                    "The confirmation does not name the preview it confirms. "
                    "Reload the page, check the counts and confirm again."
                )
            )
        if self.current_preview is None and self.plan_changed:
            raise forms.ValidationError(
                _(
                    "The register changed after the preview was counted (a "
                    "retention rule, an activity's status or a list's licence), "
                    "so the preview may not count what a run removes now. Refresh "
                    "the preview, check its counts, then apply the rules."
                )
            )
        if self.current_preview is None:
            raise forms.ValidationError(
                _(
                    "No current preview of the run exists, so its counts cannot be "
                    "confirmed. Refresh the preview, check its counts, then apply "
                    "the rules."
                )
            )
        confirmed = cleaned.get("preview")
        if confirmed != self.current_preview.pk and run_is_real(confirmed):
            raise forms.ValidationError(
                _(
                    "Run #%(confirmed)s is a real run, not a preview. Reload the "
                    "page, check the counts of preview #%(current)s and confirm "
                    "again."
                )
                % {"confirmed": confirmed, "current": self.current_preview.pk}
            )
        if confirmed != self.current_preview.pk:
            raise forms.ValidationError(
                _(
                    "The preview changed after the page was shown (preview "
                    "#%(confirmed)s, now #%(current)s). Check the new counts and "
                    "confirm again."
                )
                % {
                    "confirmed": confirmed if confirmed is not None else "-",
                    "current": self.current_preview.pk,
                }
            )
        return cleaned
