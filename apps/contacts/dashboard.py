from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.contacts.models import CampaignExport
from apps.contacts.models import ContactList
from apps.contacts.selectors import contact_count_estimate
from apps.contacts.selectors import suppression_count
from apps.core.dashboard import Panel

LICENCE_WARNING_DAYS = 30


def dashboard_panels(user) -> list[Panel]:
    if not user.has_perm("contacts.view_contactlist"):
        return []
    today = timezone.localdate()
    ending = ContactList.objects.filter(
        licence_ends_on__gte=today,
        licence_ends_on__lte=today + timedelta(days=LICENCE_WARNING_DAYS),
    ).select_related("vendor")
    context = {
        "can_view_contacts": user.has_perm("contacts.view_contact"),
        "contact_estimate": contact_count_estimate(),
        "suppression_total": suppression_count(),
        "ended_lists": ContactList.objects.filter(licence_ends_on__lt=today).count(),
        "ending_lists": list(ending[:5]),
        "warning_days": LICENCE_WARNING_DAYS,
        "recent_exports": list(CampaignExport.objects.all()[:3])
        if user.has_perm("contacts.view_campaignexport")
        else [],
    }
    return [
        Panel(
            title=_("Prospect database"),
            template="contacts/dashboard_panel.html",
            context=context,
            order=30,
        )
    ]
