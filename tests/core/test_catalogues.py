"""Every French catalogue matches the text the site displays.

Django merges the project's catalogue and every app's into one: the project's
wins, then the app listed first. When two catalogues translate the same English
message differently, all but one of them is silently ignored. A message that
needs another wording in one place takes a message context there.
"""

import gettext
from pathlib import Path

import pytest
from django.apps import apps as app_registry
from django.conf import settings
from django.utils import translation


def _catalogue_dirs():
    for config in app_registry.get_app_configs():
        if config.name.startswith("apps."):
            yield pytest.param(Path(config.path) / "locale", id=config.label)
    for path in settings.LOCALE_PATHS:
        yield pytest.param(Path(path), id="project")


def _overridden(locale_dir):
    catalogue_path = locale_dir / "fr" / "LC_MESSAGES" / "django.mo"
    if not catalogue_path.exists():
        return []
    with catalogue_path.open("rb") as catalogue_file:
        catalogue = gettext.GNUTranslations(catalogue_file)
    overridden = []
    with translation.override("fr"):
        for key, ours in catalogue._catalog.items():
            if not key or isinstance(key, tuple):
                continue
            context, _separator, message = key.rpartition("\x04")
            if context:
                displayed = translation.pgettext(context, message)
            else:
                displayed = translation.gettext(message)
            if displayed != ours:
                overridden.append((context, message, ours, displayed))
    return overridden


@pytest.mark.parametrize("locale_dir", list(_catalogue_dirs()))
def test_french_catalogue_displayed(locale_dir):
    assert _overridden(locale_dir) == []
