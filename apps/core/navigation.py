"""The menu: each domain app declares its entries in ``navigation.py``.

An entry is shown only to users who hold its permission; the views check the
same permission on the server.
"""

from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.urls import NoReverseMatch
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str
    order: int = 50


NAV_ITEMS = [
    NavItem(_("Dashboard"), "core:dashboard", "", order=0),
    NavItem(_("Audit trail"), "core:audit-list", "core.view_audit_trail", order=90),
    NavItem(_("Organisation"), "core:organisation", "core.view_organisation", 95),
]


def navigation_for(user) -> list[dict]:
    """Return the menu entries ``user`` may open, in display order."""
    items: list[NavItem] = []
    for app_config in apps.get_app_configs():
        if not app_config.name.startswith("apps."):
            continue
        try:
            module = import_module(f"{app_config.name}.navigation")
        except ModuleNotFoundError:
            continue
        items.extend(getattr(module, "NAV_ITEMS", []))

    entries = []
    for item in sorted(items, key=lambda item: item.order):
        if item.permission and not user.has_perm(item.permission):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        entries.append({"label": item.label, "url": url, "url_name": item.url_name})
    return entries
