from django.utils.translation import gettext_lazy as _

from apps.core.dashboard import Panel
from apps.imports.selectors import job_recent


def dashboard_panels(user) -> list[Panel]:
    if not user.has_perm("imports.view_importjob"):
        return []
    return [
        Panel(
            title=_("Recent imports"),
            template="imports/panel_recent.html",
            context={
                "jobs": job_recent(limit=5),
                "can_import": user.has_perm("imports.add_importjob"),
            },
            order=40,
        )
    ]
