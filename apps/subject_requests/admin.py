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
    readonly_fields = ["received_on", "initial_due_on", "due_on", "closed_at"]
    raw_id_fields = ["contacts"]
    inlines = [RequestEventInline]


@admin.register(ErasureProof)
class ErasureProofAdmin(admin.ModelAdmin):
    list_display = ["request", "erased_at", "erased_by", "suppression_added"]

    def has_change_permission(self, request, obj=None):
        return False
