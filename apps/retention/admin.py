from django.contrib import admin

from apps.retention.models import RetentionRun


@admin.register(RetentionRun)
class RetentionRunAdmin(admin.ModelAdmin):
    """Runs are written by the job only: the admin shows them read-only."""

    list_display = ["pk", "created_at", "dry_run", "status", "trigger", "as_of"]
    list_filter = ["dry_run", "status", "trigger"]
    readonly_fields = [field.name for field in RetentionRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
