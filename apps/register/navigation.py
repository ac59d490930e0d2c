from django.utils.translation import gettext_lazy as _

from apps.core.navigation import NavItem

NAV_ITEMS = [
    NavItem(
        _("Register"),
        "register:activity-list",
        "register.view_processingactivity",
        order=10,
    ),
]
