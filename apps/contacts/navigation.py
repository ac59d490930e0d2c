from django.utils.translation import gettext_lazy as _

from apps.core.navigation import NavItem

NAV_ITEMS = [
    NavItem(_("Contacts"), "contacts:contact-list", "contacts.view_contact", order=30),
    NavItem(_("Vendors"), "contacts:vendor-list", "contacts.view_vendor", order=31),
    NavItem(_("Lists"), "contacts:contactlist-list", "contacts.view_contactlist", 32),
    NavItem(
        _("Campaign exports"),
        "contacts:campaign-list",
        "contacts.view_campaignexport",
        order=33,
    ),
]
