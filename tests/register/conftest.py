import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english(settings):
    """Run the register tests in English; the exports switch to French themselves."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
