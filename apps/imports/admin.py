from django.contrib import admin

from apps.imports.models import ImportJob
from apps.imports.models import VendorMapping


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "file_name",
        "vendor_name",
        "list_name",
        "status",
        "row_count",
        "created_count",
        "merged_count",
        "rejected_count",
        "created_at",
    )
    list_filter = ("status", "file_format")
    search_fields = ("file_name", "list_name", "vendor_name")
    readonly_fields = [field.name for field in ImportJob._meta.fields]

    def has_add_permission(self, request):
        # Jobs are created by the upload page or the import_contacts command,
        # which detect the file's layout; a bare admin row could not run.
        return False


@admin.register(VendorMapping)
class VendorMappingAdmin(admin.ModelAdmin):
    list_display = ("vendor", "updated_at")
