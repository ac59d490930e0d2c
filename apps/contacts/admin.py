from django.contrib import admin

from apps.contacts.models import CampaignExport
from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import Provenance
from apps.contacts.models import SuppressionEntry
from apps.contacts.models import Vendor
from apps.core.admin_dates import PlausibleDatesMixin


@admin.register(Vendor)
class VendorAdmin(PlausibleDatesMixin, admin.ModelAdmin):
    list_display = ["name", "consent_claim", "dpa_signed_on", "contract_reference"]
    search_fields = ["name", "contract_reference"]


@admin.register(ContactList)
class ContactListAdmin(PlausibleDatesMixin, admin.ModelAdmin):
    list_display = ["name", "vendor", "acquisition", "acquired_on", "licence_ends_on"]
    list_filter = ["acquisition", "consent_claim", "vendor"]
    search_fields = ["name", "vendor__name"]


class ProvenanceInline(admin.TabularInline):
    model = Provenance
    extra = 0
    raw_id_fields = ["contact_list"]
    readonly_fields = ["imported_at"]


class ConsentInline(admin.TabularInline):
    model = ConsentRecord
    extra = 0


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["pk", "last_name", "first_name", "company", "status", "audience"]
    list_filter = ["status", "audience", "lawful_basis"]
    # Exact e-mail and indexed prefix lookups only: a contains search would scan
    # millions of rows.
    search_fields = ["=email", "last_name__startswith", "company__startswith"]
    show_full_result_count = False
    raw_id_fields = ["processing_activity"]
    readonly_fields = ["email_hash", "phone_hash", "created_at", "updated_at"]
    inlines = [ProvenanceInline, ConsentInline]


@admin.register(SuppressionEntry)
class SuppressionEntryAdmin(admin.ModelAdmin):
    list_display = ["identifier_hash", "kind", "reason", "created_at"]
    list_filter = ["kind", "reason"]
    search_fields = ["=identifier_hash"]
    readonly_fields = ["identifier_hash", "kind", "reason", "created_at", "created_by"]

    def has_delete_permission(self, request, obj=None):
        # An objection must be honoured for good, so entries are never removed
        # through the admin.
        return False


@admin.register(CampaignExport)
class CampaignExportAdmin(admin.ModelAdmin):
    list_display = ["pk", "created_at", "created_by", "row_count", "file_deleted_at"]
    readonly_fields = [field.name for field in CampaignExport._meta.fields]
