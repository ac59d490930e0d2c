from django.contrib import admin

from .models import Breach
from .models import BreachAlert
from .models import BreachCommunication
from .models import BreachEvent
from .models import BreachNotification


class BreachEventInline(admin.TabularInline):
    model = BreachEvent
    extra = 0
    readonly_fields = ["occurred_at", "kind", "text", "actor"]
    can_delete = False


class BreachNotificationInline(admin.TabularInline):
    model = BreachNotification
    extra = 0
    readonly_fields = ["phase", "submitted_at", "authority_reference", "created_by"]
    fields = readonly_fields
    can_delete = False


class BreachAlertInline(admin.TabularInline):
    model = BreachAlert
    extra = 0
    readonly_fields = [
        "threshold",
        "created_at",
        "sent",
        "superseded",
        "recipient_count",
    ]
    can_delete = False


@admin.register(Breach)
class BreachAdmin(admin.ModelAdmin):
    """Read-mostly view for superusers.

    Changes belong on the breach pages, whose services keep the timeline and
    the audit trail, reject times in the future and keep the facts of a
    notified breach as the authority received them. So the admin cannot
    change the status, any date or the reasons for the delay.
    """

    list_display = [
        "reference",
        "title",
        "status",
        "aware_at",
        "deadline_at",
        "notified_at",
    ]
    list_filter = ["status", "risk_level", "notification_decision"]
    search_fields = ["reference", "title"]
    readonly_fields = [
        "reference",
        "status",
        "detected_at",
        "aware_at",
        "deadline_at",
        "notified_at",
        "late_at",
        "closed_at",
        "delay_reasons",
    ]
    inlines = [BreachNotificationInline, BreachAlertInline, BreachEventInline]

    def get_readonly_fields(self, request, obj=None):
        """Show a notified or closed breach without any editable field.

        Its decision, risk and facts are what the authority received, and the
        admin would change them without the services' checks and timeline.
        """
        if obj is not None and (obj.notified_at or obj.status == obj.Status.CLOSED):
            return [field.name for field in obj._meta.fields] + ["activities"]
        return super().get_readonly_fields(request, obj)


@admin.register(BreachCommunication)
class BreachCommunicationAdmin(admin.ModelAdmin):
    list_display = ["breach", "communicated_at", "method", "recipient_count"]
    readonly_fields = ["filters", "recipient_count"]
    exclude = ["contacts"]
