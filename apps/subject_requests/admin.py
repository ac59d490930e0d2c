from django.contrib import admin

from apps.core.audit import audit_record
from apps.subject_requests.models import ErasureProof
from apps.subject_requests.models import IdentityCheck
from apps.subject_requests.models import RequestEvent
from apps.subject_requests.models import SubjectRequest
from apps.subject_requests.services.common import event_add

# The fields that the admin may change: who handles the request, and the notes.
# Everything else is evidence of how the request was answered, which changes
# only through the request page's services.
EDITABLE_FIELDS = ("handler", "notes")


class RequestEventInline(admin.TabularInline):
    model = RequestEvent
    extra = 0
    can_delete = False
    readonly_fields = ["occurred_at", "actor", "action", "details"]

    def has_add_permission(self, request, obj=None):
        return False


class IdentityCheckInline(admin.TabularInline):
    model = IdentityCheck
    extra = 0
    can_delete = False
    readonly_fields = ["checked_at", "verified", "method", "checked_by"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SubjectRequest)
class SubjectRequestAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "received_on", "due_on", "handler"]
    list_filter = ["status", "kind", "channel"]
    inlines = [IdentityCheckInline, RequestEventInline]

    def get_readonly_fields(self, request, obj=None):
        fields = [field.name for field in self.model._meta.get_fields()]
        return [
            name
            for name in fields
            if name not in EDITABLE_FIELDS
            and not self.model._meta.get_field(name).auto_created
        ]

    def has_add_permission(self, request):
        # A request is recorded on the request page, which computes its dates.
        return False

    def has_delete_permission(self, request, obj=None):
        # The retention job deletes closed requests once their period ends.
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changed = sorted(set(form.changed_data) & set(EDITABLE_FIELDS))
        if not changed:
            return
        event_add(obj, "changed_in_admin", request.user, request_fields=changed)
        audit_record(
            action="subject_requests.request.changed_in_admin",
            actor=request.user,
            target=obj,
            details={"fields": changed},
        )


@admin.register(ErasureProof)
class ErasureProofAdmin(admin.ModelAdmin):
    """Proofs of erasure, read-only: only an erasure writes one."""

    list_display = ["request", "erased_at", "erased_by", "suppression_added"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
