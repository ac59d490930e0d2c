"""The admin site's dates are checked like the application's forms."""

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from apps.contacts.models import ContactList
from apps.contacts.models import Vendor
from apps.register.models import ProcessingActivity


@pytest.mark.parametrize(
    ("model", "field_name"),
    [
        (Vendor, "dpa_signed_on"),
        (ContactList, "licence_ends_on"),
        (ProcessingActivity, "next_review_on"),
    ],
)
@pytest.mark.parametrize("typed", ["9999-12-31", "1850-01-01"])
def test_admin_rejects_implausible_date(model, field_name, typed, admin_user):
    request = RequestFactory().get("/")
    request.user = admin_user
    form = admin.site._registry[model].get_form(request)

    with pytest.raises(ValidationError) as error:
        form.base_fields[field_name].clean(typed)

    assert error.value.code in ("too_late", "too_early")
