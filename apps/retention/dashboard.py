from django.utils.translation import gettext_lazy as _

from apps.core.dashboard import Panel
from apps.retention.schedule import next_scheduled_run
from apps.retention.selectors import run_latest


def dashboard_panels(user) -> list[Panel]:
    if not user.has_perm("retention.view_retentionrun"):
        return []
    return [
        Panel(
            title=_("Retention"),
            template="retention/panel.html",
            context={
                "next_run": next_scheduled_run(),
                "last_run": run_latest(dry_run=False),
                "preview": run_latest(dry_run=True),
            },
            order=60,
        )
    ]
