from django.utils.translation import gettext_lazy as _

from apps.core.navigation import NavItem

NAV_ITEMS = [
    NavItem(_("Imports"), "imports:job-list", "imports.view_importjob", order=40),
]
