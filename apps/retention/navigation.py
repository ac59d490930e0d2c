from django.utils.translation import gettext_lazy as _

from apps.core.navigation import NavItem

NAV_ITEMS = [
    NavItem(_("Retention"), "retention:overview", "retention.view_retentionrun", 70),
]
