from django.contrib import admin
from django.utils.translation import gettext_lazy as _

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
    # The uploaded file has no URL, so the page shows whether it is kept
    # instead of linking to it.
    exclude = ("source_file",)
    readonly_fields = [
        field.name for field in ImportJob._meta.fields if field.name != "source_file"
    ] + ["uploaded_file"]

    @admin.display(description=_("uploaded file"))
    def uploaded_file(self, job: ImportJob) -> str:
        if job.source_file:
            return _("kept until the upload purge")
        return _("deleted")

    def has_add_permission(self, request):
        # Jobs are created by the upload page or the import_contacts command,
        # which detect the file's layout; a bare admin row could not run.
        return False


@admin.register(VendorMapping)
class VendorMappingAdmin(admin.ModelAdmin):
    list_display = ("vendor", "updated_at")
