from django.utils.translation import gettext_lazy as _

from apps.core.navigation import NavItem

NAV_ITEMS = [
    NavItem(_("Breaches"), "breaches:breach-list", "breaches.view_breach", order=60),
]
