from django.utils.translation import gettext_lazy as _

from apps.core.dashboard import Panel
from apps.subject_requests.selectors import request_deadline_summary


def dashboard_panels(user) -> list[Panel]:
    if not user.has_perm("subject_requests.view_subjectrequest"):
        return []
    return [
        Panel(
            title=_("Subject requests"),
            template="subject_requests/dashboard_panel.html",
            context=request_deadline_summary(limit=5),
            order=30,
        )
    ]
