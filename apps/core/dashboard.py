"""The dashboard is built from panels that each domain app provides.

An app's ``dashboard.py`` defines ``dashboard_panels(user)`` returning a list of
``Panel``; an app returns nothing for a user without the permission.
"""

from dataclasses import dataclass
from dataclasses import field
from importlib import import_module

from django.apps import apps


@dataclass
class Panel:
    title: str
    template: str
    context: dict = field(default_factory=dict)
    order: int = 50


def dashboard_panels_for(user) -> list[Panel]:
    panels: list[Panel] = []
    for app_config in apps.get_app_configs():
        if not app_config.name.startswith("apps."):
            continue
        try:
            module = import_module(f"{app_config.name}.dashboard")
        except ModuleNotFoundError:
            continue
        provider = getattr(module, "dashboard_panels", None)
        if provider is not None:
            panels.extend(provider(user))
    return sorted(panels, key=lambda panel: panel.order)


def dashboard_panels(user) -> list[Panel]:
    from django.utils.translation import gettext as _

    from apps.core.models import AuditEvent
    from apps.core.models import Organisation

    panels = []
    if user.has_perm("core.change_organisation"):
        missing = Organisation.current().missing_items()
        if missing:
            panels.append(
                Panel(
                    title=_("Organisation profile"),
                    template="core/panels/organisation.html",
                    context={"missing": missing},
                    order=5,
                )
            )
    if user.has_perm("core.view_audit_trail"):
        panels.append(
            Panel(
                title=_("Latest audit events"),
                template="core/panels/audit.html",
                context={"events": AuditEvent.objects.select_related("actor")[:8]},
                order=90,
            )
        )
    return panels
