from django.utils.translation import gettext_lazy as _

from apps.core.navigation import NavItem

NAV_ITEMS = [
    NavItem(
        _("Subject requests"),
        "subject_requests:request-list",
        "subject_requests.view_subjectrequest",
        order=40,
    ),
]
