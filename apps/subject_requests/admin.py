from django.contrib import admin

from apps.subject_requests.models import ErasureProof
from apps.subject_requests.models import RequestEvent
from apps.subject_requests.models import SubjectRequest


class RequestEventInline(admin.TabularInline):
    model = RequestEvent
    extra = 0
    can_delete = False
    readonly_fields = ["occurred_at", "actor", "action", "details"]


@admin.register(SubjectRequest)
class SubjectRequestAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "received_on", "due_on", "handler"]
    list_filter = ["status", "kind", "channel"]
    # The request's state and dates change only through the services behind
    # the request page, which check each transition. A status saved here could
    # also break a database constraint (a refused request needs closed_at).
    readonly_fields = [
        "kind",
        "status",
        "identity_status",
        "identity_checked_at",
        "extension_months",
        "extended_at",
        "extension_informed_on",
        "extension_informed_by",
        "received_at",
        "received_on",
        "initial_due_on",
        "due_on",
        "response_sent_at",
        "overdue_flagged_at",
        "closed_at",
    ]
    raw_id_fields = ["contacts"]
    inlines = [RequestEventInline]

    def has_add_permission(self, request):
        # A request is recorded on the request page, which computes its dates.
        return False


@admin.register(ErasureProof)
class ErasureProofAdmin(admin.ModelAdmin):
    list_display = ["request", "erased_at", "erased_by", "suppression_added"]

    def has_change_permission(self, request, obj=None):
        return False
