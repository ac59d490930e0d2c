"""The admin site's date fields, checked like the application's forms."""

from django.db import models

from apps.core.forms import PlausibleDateField


class PlausibleDatesMixin:
    """Reject admin dates before 1900 or more than a century ahead.

    The application's forms reject them as typing mistakes (9999-12-31 for
    "no date"); without this mixin the admin site stored them.
    """

    formfield_overrides = {models.DateField: {"form_class": PlausibleDateField}}
