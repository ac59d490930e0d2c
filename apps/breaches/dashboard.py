from django.utils.translation import gettext_lazy as _

from apps.core.dashboard import Panel

from .selectors import breach_open_by_time_left

# The panel lists at most this many breaches. The breach list shows the rest.
PANEL_LIMIT = 10


def dashboard_panels(user) -> list[Panel]:
    if not user.has_perm("breaches.view_breach"):
        return []
    breaches = list(breach_open_by_time_left()[: PANEL_LIMIT + 1])
    return [
        Panel(
            title=_("Open breaches"),
            template="breaches/dashboard_panel.html",
            context={
                "breaches": breaches[:PANEL_LIMIT],
                "more": len(breaches) > PANEL_LIMIT,
            },
            order=10,
        )
    ]
