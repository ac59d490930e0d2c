from django.utils.translation import gettext_lazy as _

from apps.core.dashboard import Panel
from apps.register.selectors import register_summary


def dashboard_panels(user) -> list[Panel]:
    if not user.has_perm("register.view_processingactivity"):
        return []
    return [
        Panel(
            title=_("Processing register"),
            template="register/panel.html",
            context=register_summary(user=user),
            order=10,
        )
    ]
